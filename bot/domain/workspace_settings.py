"""Each workspace's own settings, as its L&D admins set them in Slack.

The environment's settings are every workspace's defaults: a setting a workspace stored wins,
one it never stored is the environment's. Every change is logged with who made it. Only the
workspace's L&D admins change them; the person who installed guildbot is the first.

Requests read the settings from memory (`of`), never from the database: loaded at start,
updated at once in the process that saved a change, and reloaded by the other processes when
the database tick finds a change newer than their copy (`reload_if_changed`).

The rules for values are the environment's too (bot/config.py reads them from here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.cron import cron_schedule
from bot.domain.refused import FieldsRefused
from bot.domain.skill_names import AliasFileProblem, read_alias_lines
from bot.domain.workspace import LndAdmins, WorkspaceSettings
from storage.database import Database
from storage.repositories import workspace_settings as settings_repo

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
EMOJI = re.compile(r"^[a-z0-9_+\-']+$")
TAKEN_EMOJI = "white_check_mark"
"""Askers accept answers with it."""
_DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$")
_MINUTES = {"d": 1440, "h": 60, "m": 1}

EDITABLE = tuple(f.name for f in fields(WorkspaceSettings))
"""Every setting of a workspace, by the name it is stored and shown under."""
CHANGES_SHOWN = 5


def emoji_name(raw: str) -> str:
    """`:Tada:` → `tada`: how an emoji is typed to how Slack names it."""
    return raw.strip().strip(":").lower()


def reminder_minutes(raw: str) -> tuple[int, ...]:
    """`24h,2h30m,15m` → (1440, 150, 15), largest first; ValueError for anything else.
    An offset is days, hours and minutes, in that order, each at most once (`1d12h`)."""
    minutes: set[int] = set()
    for part in (p.strip().lower() for p in raw.split(",") if p.strip()):
        match = _DURATION.match(part)
        total = match and sum(int(n) * _MINUTES[u] for u, n in match.groupdict().items() if n)
        if not total:
            raise ValueError(part)
        minutes.add(total)
    return tuple(sorted(minutes, reverse=True))


def reminder_text(minutes: Iterable[int]) -> str:
    """(1440, 150, 15) → `24h, 2h30m, 15m`: offsets as they are typed."""

    def offset(m: int) -> str:
        if m % 60:
            return f"{m // 60}h{m % 60}m" if m > 60 else f"{m}m"
        # A day stays 24h, as the default says it.
        return f"{m // 60}h" if m % 1440 or m == 1440 else f"{m // 1440}d"

    return ", ".join(offset(m) for m in minutes)


@dataclass(frozen=True)
class SettingsForm:
    """The settings as an admin filled them in, unchecked."""

    qa_channel: str | None
    digest_channel: str | None
    digest_cron: str
    lnd_admins: tuple[str, ...]
    kudos_managers: tuple[str, ...]
    kudos_emoji: str
    kudos_daily_limit: str
    kudos_manager_daily_limit: str
    lunchlearn_reminders: str
    lunchlearn_checkin_code: bool
    skill_aliases: str = ""


class SettingsRefused(FieldsRefused):
    """Values that are not settings, per field (the field is the setting's name)."""


@dataclass(frozen=True)
class SettingChange:
    """One change in a workspace's log; values as stored (ids, lists, numbers, yes/no)."""

    name: str
    old: Any
    new: Any
    by: str
    at: datetime


@dataclass(frozen=True)
class SettingsSaved:
    settings: WorkspaceSettings
    changed: tuple[str, ...]
    """The names of the settings that changed (none: the admin saved what was there)."""


NOT_ADMIN = "Only L&D admins change guildbot's settings here. Ask {who}."


def read_form(form: SettingsForm) -> WorkspaceSettings:
    """The settings the form asks for; `SettingsRefused` names each bad field."""
    errors: dict[str, str] = {}

    def check(name: str, read: Any, raw: Any) -> Any:
        try:
            return read(raw)
        except ValueError as problem:
            errors[name] = str(problem)
            return None

    settings = WorkspaceSettings(
        qa_channel=check("qa_channel", _channel, form.qa_channel),
        digest_channel=check("digest_channel", _channel, form.digest_channel),
        digest_cron=check("digest_cron", _schedule, form.digest_cron),
        lnd_admins=LndAdmins(check("lnd_admins", _admins, form.lnd_admins) or frozenset()),
        kudos_managers=check("kudos_managers", _users, form.kudos_managers),
        kudos_emoji=check("kudos_emoji", _emoji, form.kudos_emoji),
        kudos_daily_limit=check("kudos_daily_limit", _limit, form.kudos_daily_limit),
        kudos_manager_daily_limit=check(
            "kudos_manager_daily_limit", _limit, form.kudos_manager_daily_limit
        ),
        lunchlearn_reminders=check("lunchlearn_reminders", _reminders, form.lunchlearn_reminders),
        lunchlearn_checkin_code=bool(form.lunchlearn_checkin_code),
        skill_aliases=check("skill_aliases", _aliases, form.skill_aliases),
    )
    if errors:
        raise SettingsRefused(errors)
    return settings


def _channel(raw: str | None) -> str | None:
    if raw and not CHANNEL_ID.match(raw):
        raise ValueError("That isn't a channel: pick one from the list.")
    return raw or None


def _schedule(raw: str) -> str:
    expression = " ".join((raw or "").split())
    try:
        # Only the fields matter here: the time zone is the process's, whichever it is.
        cron_schedule(expression, "UTC")
    except ValueError as problem:
        # The form first: Slack cuts a field error short at 150 characters.
        raise ValueError(
            f"Type minute hour day month weekday, e.g. 0 9 * * 1 for Mondays 09:00 ({problem})."
        ) from None
    return expression


def _users(raw: Iterable[str]) -> frozenset[str]:
    ids = frozenset(raw)
    if any(not USER_ID.match(user_id) for user_id in ids):
        raise ValueError("That isn't a person: pick people from the list.")
    return ids


def _admins(raw: Iterable[str]) -> frozenset[str]:
    ids = _users(raw)
    if not ids:
        raise ValueError("Keep at least one L&D admin: only they can change these settings.")
    return ids


def _emoji(raw: str) -> str:
    name = emoji_name(raw or "")
    if not EMOJI.match(name):
        raise ValueError("That isn't an emoji name: type one such as trophy or :tada:.")
    if name == TAKEN_EMOJI:
        raise ValueError("That one is taken: askers accept answers with it. Try trophy or clap.")
    return name


def _limit(raw: str) -> int:
    text = (raw or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError("Type a whole number, 1 or more.")
    return int(text)


def _reminders(raw: str) -> tuple[int, ...]:
    try:
        return reminder_minutes(raw or "")
    except ValueError:
        raise ValueError(
            "Type offsets such as 24h, 2h30m, 15m (d, h, m; comma-separated), or nothing for none."
        ) from None


def _aliases(raw: str) -> str:
    lines = (raw or "").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            read_alias_lines([line])
        except AliasFileProblem:
            # Numbered as the admin sees the field, blank lines counted.
            raise ValueError(
                f"Line {number} isn't skill: alias, alias (e.g. kubernetes: k8s, kube)."
            ) from None
    return "\n".join(line.strip() for line in lines if line.strip())


def stored_value(settings: WorkspaceSettings, name: str) -> Any:
    """A setting as it is stored: ids sorted in a list, offsets in a list."""
    value = getattr(settings, name)
    if isinstance(value, LndAdmins):
        value = value.user_ids
    if isinstance(value, frozenset):
        return sorted(value)
    return list(value) if isinstance(value, tuple) else value


def over(defaults: WorkspaceSettings, stored: dict[str, Any]) -> WorkspaceSettings:
    """A workspace's settings: what it stored, over the defaults."""
    own: dict[str, Any] = {}
    for name, value in stored.items():
        if name not in EDITABLE:
            continue  # stored by a later version of guildbot: not this one's to read
        if name == "lnd_admins":
            value = LndAdmins(frozenset(value))
        elif name == "kudos_managers":
            value = frozenset(value)
        elif name == "lunchlearn_reminders":
            value = tuple(value)
        own[name] = value
    return replace(defaults, **own)


class WorkspaceSettingsService:
    def __init__(self, database: Database, clock: Clock, defaults: WorkspaceSettings) -> None:
        self._database = database
        self._clock = clock
        self.defaults = defaults
        self._settings: dict[str, WorkspaceSettings] = {}
        self._seen: tuple[Any, ...] | None = None

    def of(self, team_id: str) -> WorkspaceSettings:
        """The workspace's settings in force, from memory."""
        return self._settings.get(team_id, self.defaults)

    def load(self) -> None:
        """Every workspace's stored settings, into memory."""
        with self._database.reading() as session:
            # Read first: a change saved while the rest is read makes the next tick reload.
            version = settings_repo.version(session)
            stored = settings_repo.every(session)
        self._settings = {team: over(self.defaults, values) for team, values in stored.items()}
        self._seen = version

    def reload_if_changed(self) -> bool:
        """Reloads when some process saved a change (or erased a person) since the last load
        (the tick's job)."""
        with self._database.reading() as session:
            version = settings_repo.version(session)
        if version == self._seen:
            return False
        self.load()
        return True

    def change(self, team_id: str, by: str, form: SettingsForm) -> SettingsSaved:
        """An L&D admin's changes: checked, stored, each logged as theirs, and in force in
        this process at once. Refuses anyone else, and bad values (changing nothing)."""
        with self._database.transaction() as session:
            current = over(self.defaults, settings_repo.of(session, team_id, lock=True))
            current.lnd_admins.check(by, NOT_ADMIN)
            wanted = read_form(form)
            changes = [
                (name, stored_value(current, name), stored_value(wanted, name))
                for name in EDITABLE
                if stored_value(current, name) != stored_value(wanted, name)
            ]
            settings_repo.save(session, team_id, changes, by, self._clock())
            stored = settings_repo.of(session, team_id)
        self._settings[team_id] = settings = over(self.defaults, stored)
        return SettingsSaved(settings, tuple(name for name, _, _ in changes))

    def installed(self, team_id: str, installer_id: str) -> bool:
        """The installer becomes the workspace's first L&D admin when it has none yet
        (logged as their change); True when they did."""
        with self._database.transaction() as session:
            current = over(self.defaults, settings_repo.of(session, team_id, lock=True))
            if current.lnd_admins.user_ids or not USER_ID.match(installer_id):
                return False
            change = ("lnd_admins", [], [installer_id])
            settings_repo.save(session, team_id, [change], installer_id, self._clock())
            stored = settings_repo.of(session, team_id)
        self._settings[team_id] = over(self.defaults, stored)
        return True

    def changes(self, team_id: str, limit: int = CHANGES_SHOWN) -> tuple[SettingChange, ...]:
        """The workspace's latest changes, newest first."""
        with self._database.reading() as session:
            rows = settings_repo.recent_changes(session, team_id, limit)
        return tuple(
            SettingChange(row.name, old, new, row.changed_by, row.changed_at)
            for row, old, new in rows
        )
