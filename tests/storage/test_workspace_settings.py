"""Workspace settings: the environment's as defaults, a workspace's stored ones over them,
checked and logged, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.refused import Refused
from bot.domain.workspace import LndAdmins, WorkspaceSettings
from bot.domain.workspace_settings import (
    SettingsForm,
    SettingsRefused,
    WorkspaceSettingsService,
    reminder_text,
)
from storage.database import Database
from tests.support.clock import SettableClock

ACME, GLOBEX = "T0ACME", "T0GLOBEX"
DEFAULTS = WorkspaceSettings(
    qa_channel="C0QA",
    digest_channel=None,
    digest_cron="0 9 * * 1",
    lnd_admins=LndAdmins(frozenset({"U0ANN"})),
    kudos_emoji="trophy",
    kudos_managers=frozenset(),
    kudos_daily_limit=5,
    kudos_manager_daily_limit=15,
    lunchlearn_reminders=(1440, 15),
    lunchlearn_checkin_code=False,
)


def form_of(settings: WorkspaceSettings, **changes: object) -> SettingsForm:
    """The form as the modal shows `settings`, with `changes` typed over it."""
    form = SettingsForm(
        qa_channel=settings.qa_channel,
        digest_channel=settings.digest_channel,
        digest_cron=settings.digest_cron,
        lnd_admins=tuple(sorted(settings.lnd_admins.user_ids)),
        kudos_managers=tuple(sorted(settings.kudos_managers)),
        kudos_emoji=settings.kudos_emoji,
        kudos_daily_limit=str(settings.kudos_daily_limit),
        kudos_manager_daily_limit=str(settings.kudos_manager_daily_limit),
        lunchlearn_reminders=reminder_text(settings.lunchlearn_reminders),
        lunchlearn_checkin_code=settings.lunchlearn_checkin_code,
    )
    return replace(form, **changes)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def book(database: Database, clock: SettableClock) -> WorkspaceSettingsService:
    service = WorkspaceSettingsService(database, clock, DEFAULTS)
    service.load()
    return service


def test_a_workspace_with_nothing_stored_has_the_environments_settings(
    book: WorkspaceSettingsService,
) -> None:
    assert book.of(ACME) == DEFAULTS
    assert book.changes(ACME) == ()


def test_a_stored_setting_wins_and_the_rest_stay_the_environments(
    book: WorkspaceSettingsService, database: Database, clock: SettableClock
) -> None:
    saved = book.change(
        ACME, "U0ANN", form_of(DEFAULTS, qa_channel="C0NEWQA", kudos_daily_limit=" 8 ")
    )

    assert saved.changed == ("qa_channel", "kudos_daily_limit")
    expected = replace(DEFAULTS, qa_channel="C0NEWQA", kudos_daily_limit=8)
    assert book.of(ACME) == expected
    # Another workspace keeps the defaults; a new process reads the same from the database.
    assert book.of(GLOBEX) == DEFAULTS
    fresh = WorkspaceSettingsService(database, clock, DEFAULTS)
    fresh.load()
    assert fresh.of(ACME) == expected
    # New defaults (the environment changed) reach what the workspace never stored.
    moved = WorkspaceSettingsService(database, clock, replace(DEFAULTS, kudos_emoji="clap"))
    moved.load()
    assert moved.of(ACME) == replace(expected, kudos_emoji="clap")


def test_each_change_is_logged_with_who_made_it_newest_first(
    book: WorkspaceSettingsService, clock: SettableClock
) -> None:
    book.change(ACME, "U0ANN", form_of(DEFAULTS, lnd_admins=("U0ANN", "U0BOB")))
    first_at = clock.now
    clock.now += timedelta(minutes=5)
    book.change(
        ACME,
        "U0BOB",
        form_of(
            book.of(ACME),
            kudos_emoji=":Clap:",
            lunchlearn_reminders="2d, 30m",
            lunchlearn_checkin_code=True,
        ),
    )
    # Saving what is already there logs nothing.
    book.change(ACME, "U0BOB", form_of(book.of(ACME)))

    assert [(c.name, c.old, c.new, c.by, c.at) for c in book.changes(ACME)] == [
        ("lunchlearn_checkin_code", False, True, "U0BOB", clock.now),
        ("lunchlearn_reminders", [1440, 15], [2880, 30], "U0BOB", clock.now),
        ("kudos_emoji", "trophy", "clap", "U0BOB", clock.now),
        ("lnd_admins", ["U0ANN"], ["U0ANN", "U0BOB"], "U0ANN", first_at),
    ]
    assert book.changes(GLOBEX) == ()
    assert len(book.changes(ACME, limit=2)) == 2


def test_bad_values_are_field_errors_and_change_nothing(book: WorkspaceSettingsService) -> None:
    bad = form_of(
        DEFAULTS,
        qa_channel="#questions",
        lnd_admins=(),
        kudos_managers=("U0BOB", "bob"),
        kudos_emoji="white_check_mark",
        kudos_daily_limit="0",
        kudos_manager_daily_limit="lots",
        lunchlearn_reminders="tomorrow",
    )

    with pytest.raises(SettingsRefused) as refused:
        book.change(ACME, "U0ANN", bad)

    assert set(refused.value.field_errors("")) == {
        "qa_channel",
        "lnd_admins",
        "kudos_managers",
        "kudos_emoji",
        "kudos_daily_limit",
        "kudos_manager_daily_limit",
        "lunchlearn_reminders",
    }
    assert refused.value.errors["kudos_daily_limit"] == "Type a whole number, 1 or more."
    assert "taken" in refused.value.errors["kudos_emoji"]
    assert book.of(ACME) == DEFAULTS and book.changes(ACME) == ()


def test_only_the_workspaces_lnd_admins_change_its_settings(
    book: WorkspaceSettingsService,
) -> None:
    with pytest.raises(Refused) as refused:
        book.change(ACME, "U0BOB", form_of(DEFAULTS, qa_channel="C0NEWQA"))

    assert refused.value.message == "Only L&D admins change guildbot's settings here. Ask <@U0ANN>."
    assert book.of(ACME) == DEFAULTS and book.changes(ACME) == ()
    # Ann makes Bob an admin of Acme: he is one there, not in Globex.
    book.change(ACME, "U0ANN", form_of(DEFAULTS, lnd_admins=("U0BOB",)))
    book.change(ACME, "U0BOB", form_of(book.of(ACME), qa_channel="C0NEWQA"))
    with pytest.raises(Refused):
        book.change(GLOBEX, "U0BOB", form_of(DEFAULTS, qa_channel="C0NEWQA"))
    with pytest.raises(Refused):
        book.change(ACME, "U0ANN", form_of(book.of(ACME), qa_channel="C0OTHER"))
    assert book.of(ACME).qa_channel == "C0NEWQA"


def test_the_installer_is_the_first_admin_only_where_there_is_none(
    database: Database, clock: SettableClock
) -> None:
    book = WorkspaceSettingsService(database, clock, replace(DEFAULTS, lnd_admins=LndAdmins()))
    book.load()

    assert book.installed(ACME, "U0INSTALLER") is True
    assert book.installed(ACME, "U0SECOND") is False

    assert book.of(ACME).lnd_admins.user_ids == {"U0INSTALLER"}
    [change] = book.changes(ACME)
    assert (change.name, change.old, change.new, change.by) == (
        "lnd_admins",
        [],
        ["U0INSTALLER"],
        "U0INSTALLER",
    )
    # With LND_ADMINS set, they are the admins: an install adds no one.
    with_admins = WorkspaceSettingsService(database, clock, DEFAULTS)
    assert with_admins.installed(GLOBEX, "U0INSTALLER") is False


def test_another_process_picks_a_change_up_on_its_next_reload(
    book: WorkspaceSettingsService, database: Database, clock: SettableClock
) -> None:
    other = WorkspaceSettingsService(database, clock, DEFAULTS)
    other.load()
    assert other.reload_if_changed() is False

    book.change(ACME, "U0ANN", form_of(DEFAULTS, kudos_emoji="clap"))

    assert other.of(ACME).kudos_emoji == "trophy"  # memory only, until the tick
    assert other.reload_if_changed() is True
    assert other.of(ACME).kudos_emoji == "clap"
    assert other.reload_if_changed() is False
