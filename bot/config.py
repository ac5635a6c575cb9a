"""Settings read from the environment (and a `.env` file), validated once at start-up.

Every problem becomes a `ConfigError` whose message is one line naming the variable and what it
should look like, so an operator can fix it without reading code. Secrets never appear in
messages or in `repr(settings)`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.domain.skill_names import AliasFileProblem, read_alias_lines
from bot.domain.workspace import LndAdmins, WorkspaceSettings
from bot.domain.workspace_settings import (
    CHANNEL_ID,
    EMOJI,
    TAKEN_EMOJI,
    USER_ID,
    emoji_name,
    reminder_minutes,
)
from bot.logs import FORMATS, LEVELS

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///guildbot.db"

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
_HOST_NAME = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    """Empty in settings loaded with `slack=False` (the operator's commands, which never call
    Slack), and when guildbot is distributed with OAuth (each workspace has its own token)."""
    slack_client_id: str | None
    slack_client_secret: str | None = field(repr=False)
    slack_signing_secret: str | None = field(repr=False)
    slack_app_token: str | None = field(repr=False)
    slack_api_url: str
    port: int
    host: str | None
    shutdown_grace: float
    """The address to listen on; None: every interface."""
    database_url: str = field(repr=False)
    lrs_endpoint: str | None
    lrs_key: str | None = field(repr=False)
    lrs_secret: str | None = field(repr=False)
    xapi_version: str
    xapi_actor: str
    xapi_homepage: str | None
    xapi_activity_base: str | None
    xapi_include_text: bool
    timezone: str
    qa_channel: str | None
    qa_nudge_hours: float
    qa_max_routed_per_day: int
    digest_channel: str | None
    digest_cron: str
    lnd_admins: frozenset[str]
    lunchlearn_reminders: tuple[int, ...]
    lunchlearn_checkin_code: bool
    """Reminder offsets before a session starts, in minutes, largest first."""
    kudos_emoji: str
    kudos_daily_limit: int
    kudos_managers: frozenset[str]
    kudos_manager_daily_limit: int
    skill_aliases_file: Path | None
    log_level: str
    log_format: str

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth(self) -> bool:
        """Distributed with Slack's OAuth flow: installs give each workspace its own token."""
        return not self.slack_bot_token and self.slack_client_id is not None

    @property
    def lrs_configured(self) -> bool:
        return self.lrs_endpoint is not None

    @cached_property
    def workspace_defaults(self) -> WorkspaceSettings:
        """A workspace's own settings, as the environment sets them for every workspace."""
        return WorkspaceSettings(
            qa_channel=self.qa_channel,
            digest_channel=self.digest_channel,
            digest_cron=self.digest_cron,
            lnd_admins=LndAdmins(self.lnd_admins),
            kudos_emoji=self.kudos_emoji,
            kudos_managers=self.kudos_managers,
            kudos_daily_limit=self.kudos_daily_limit,
            kudos_manager_daily_limit=self.kudos_manager_daily_limit,
            lunchlearn_reminders=self.lunchlearn_reminders,
            lunchlearn_checkin_code=self.lunchlearn_checkin_code,
        )


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | None = ".env", *, slack: bool = True
) -> Settings:
    """Settings from `environ` (default: the process environment) over the `.env` file.

    Real environment variables win over the file, as operators expect from twelve-factor apps.
    `slack=False` is for the commands that only touch the database (report, export, status…):
    Slack settings are then neither read nor checked, so they run where Slack is not set up.
    """
    return _parse(_Reader(_values(environ, env_file)), slack)


def _values(environ: Mapping[str, str] | None, env_file: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


class _Reader:
    """Reads raw strings; blank counts as unset so `FOO=` in a .env file means "default"."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        raw = self._values.get(name)
        if raw is None or not raw.strip():
            return None
        return raw.strip()

    def required(self, name: str, hint: str) -> str:
        value = self.get(name)
        if value is None:
            raise ConfigError(f"{name} is not set: expected {hint}")
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"≥ {minimum}"
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(
                f"{name}={raw!r} is not a whole number: expected one {bound}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ConfigError(f"{name}={raw!r} is out of range: expected a whole number {bound}")
        return value

    def url(self, name: str, default: str | None = None, credentials_go: str = "") -> str | None:
        """An http(s) URL. One holding credentials (`user:secret@host`) is refused, and never
        echoed: it would be logged and shown wherever the URL is."""
        raw = self.get(name)
        if raw is None:
            return default
        if "@" in raw:
            raise ConfigError(
                f"{name} holds credentials (a name or password before the host): leave them out of it"
                + (f" and put them in {credentials_go}" if credentials_go else "")
            )
        parsed = urlparse(raw)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"{name}: {raw!r} is not a URL: expected e.g. https://example.com/path/"
            )
        return raw

    def user_ids(self, name: str) -> frozenset[str]:
        raw = self.get(name)
        if raw is None:
            return frozenset()
        ids = [part for part in re.split(r"[\s,]+", raw) if part]
        for user_id in ids:
            if not USER_ID.match(user_id):
                raise ConfigError(
                    f"{name}: {user_id!r} is not a Slack user id: expected ids such as U012AB3CD, "
                    "separated by commas"
                )
        return frozenset(ids)


def _parse(env: _Reader, slack: bool) -> Settings:
    bot_token, signing_secret, app_token, api_url = (
        _slack(env) if slack else ("", None, None, DEFAULT_SLACK_API_URL)
    )
    client_id, client_secret = _oauth_client(env)
    lrs_endpoint = env.url("LRS_ENDPOINT", credentials_go="LRS_KEY and LRS_SECRET")
    lrs_key, lrs_secret = env.get("LRS_KEY"), env.get("LRS_SECRET")
    if lrs_endpoint is not None:
        for name, value in (("LRS_KEY", lrs_key), ("LRS_SECRET", lrs_secret)):
            if value is None:
                raise ConfigError(
                    f"{name} is not set: expected the LRS client's Basic-auth "
                    f"{'key' if name == 'LRS_KEY' else 'secret'} (required when LRS_ENDPOINT is set)"
                )

    return Settings(
        slack_bot_token=bot_token,
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=_with_slash(api_url),
        port=env.integer("PORT", 3000, 1, 65535),
        host=_host(env.get("HOST")),
        shutdown_grace=_positive_float(env, "SHUTDOWN_GRACE", 25.0),
        database_url=_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        lrs_endpoint=_with_slash(lrs_endpoint) if lrs_endpoint else None,
        lrs_key=lrs_key,
        lrs_secret=lrs_secret,
        xapi_version=_xapi_version(env.get("XAPI_VERSION") or "1.0.3"),
        xapi_actor=_choice(env, "XAPI_ACTOR", ("account", "email"), "account"),
        xapi_homepage=env.url("XAPI_HOMEPAGE"),
        xapi_activity_base=_strip_slash(env.url("XAPI_ACTIVITY_BASE")),
        xapi_include_text=_boolean(env, "XAPI_INCLUDE_TEXT", False),
        timezone=_timezone(env.get("TIMEZONE") or "UTC"),
        qa_channel=_channel(env, "QA_CHANNEL"),
        qa_nudge_hours=_positive_float(env, "QA_NUDGE_HOURS", 24.0),
        qa_max_routed_per_day=env.integer("QA_MAX_ROUTED_PER_DAY", 3, 0),
        digest_channel=_channel(env, "DIGEST_CHANNEL"),
        digest_cron=_cron(env.get("DIGEST_CRON") or "0 9 * * 1"),
        lnd_admins=env.user_ids("LND_ADMINS"),
        lunchlearn_reminders=_reminders(env.get("LUNCHLEARN_REMINDERS") or "24h,15m"),
        lunchlearn_checkin_code=_boolean(env, "LUNCHLEARN_CHECKIN_CODE", False),
        kudos_emoji=_emoji(env.get("KUDOS_EMOJI") or "trophy"),
        kudos_daily_limit=env.integer("KUDOS_DAILY_LIMIT", 5, 1),
        kudos_managers=env.user_ids("KUDOS_MANAGERS"),
        kudos_manager_daily_limit=env.integer("KUDOS_MANAGER_DAILY_LIMIT", 15, 1),
        skill_aliases_file=_alias_file(env),
        log_level=_log_level(env),
        log_format=_choice(env, "LOG_FORMAT", FORMATS, "text"),
    )


def load_log_settings(
    environ: Mapping[str, str] | None = None, env_file: str | None = ".env"
) -> tuple[str, str]:
    """LOG_LEVEL and LOG_FORMAT alone: logging is set up before a command reads the rest."""
    env = _Reader(_values(environ, env_file))
    return _log_level(env), _choice(env, "LOG_FORMAT", FORMATS, "text")


def _log_level(env: _Reader) -> str:
    raw = (env.get("LOG_LEVEL") or "INFO").upper()
    if raw not in LEVELS:
        raise ConfigError(f"LOG_LEVEL={raw!r} is not a level: expected one of {', '.join(LEVELS)}")
    return raw


def _slack(env: _Reader) -> tuple[str, str | None, str | None, str]:
    """The bot token, signing secret, app-level token and Web API URL."""
    app_token = env.get("SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN is malformed: expected an app-level token starting xapp-"
        )
    bot_token = env.get("SLACK_BOT_TOKEN") or ""
    if not bot_token and None in _oauth_client(env):
        env.required(
            "SLACK_BOT_TOKEN",
            "the bot token starting xoxb- (OAuth & Permissions), or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET to distribute the app with OAuth",
        )
    if bot_token and not bot_token.startswith("xox"):
        raise ConfigError("SLACK_BOT_TOKEN is malformed: expected a bot token starting xoxb-")
    signing_secret = env.get("SLACK_SIGNING_SECRET")
    if app_token is None and signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: expected the signing secret from Basic Information "
            "(required unless SLACK_APP_TOKEN selects Socket Mode)"
        )

    api_url = env.url("SLACK_API_URL", DEFAULT_SLACK_API_URL) or DEFAULT_SLACK_API_URL
    return bot_token, signing_secret, app_token, api_url


def _oauth_client(env: _Reader) -> tuple[str | None, str | None]:
    """The app's OAuth client id and secret (Basic Information): both or neither."""
    client_id, client_secret = env.get("SLACK_CLIENT_ID"), env.get("SLACK_CLIENT_SECRET")
    if (client_id is None) != (client_secret is None):
        missing = "SLACK_CLIENT_SECRET" if client_secret is None else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set: expected the app's {missing.rsplit('_', 1)[1].lower()} "
            "from Basic Information (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together)"
        )
    return client_id, client_secret


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _strip_slash(url: str | None) -> str | None:
    return url.rstrip("/") if url else None


def _host(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not _HOST_NAME.match(raw):
            raise ConfigError(
                f"HOST={raw!r} is not an address to listen on: expected an IP address such as "
                "127.0.0.1 or 0.0.0.0, or a host name (no scheme, no port: that is PORT)"
            ) from None
    return raw


def _database_url(raw: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and pick the psycopg driver."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    if raw.startswith(("sqlite:///", "postgresql+psycopg://")):
        return raw
    raise ConfigError(
        "DATABASE_URL is not a supported database URL: expected sqlite:///path/to/guildbot.db "
        "or postgresql://user@host:5432/dbname"
    )


def _xapi_version(raw: str) -> str:
    if not _VERSION.match(raw):
        raise ConfigError(f"XAPI_VERSION={raw!r} is malformed: expected a version such as 1.0.3")
    return raw


def _choice(env: _Reader, name: str, options: tuple[str, ...], default: str) -> str:
    raw = (env.get(name) or default).lower()
    if raw not in options:
        raise ConfigError(f"{name}={raw!r} is not allowed: expected one of {', '.join(options)}")
    return raw


def _boolean(env: _Reader, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value: expected true or false")


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"TIMEZONE={raw!r} is not a time zone: expected an IANA name such as Europe/Berlin"
        ) from None
    return raw


def _channel(env: _Reader, name: str) -> str | None:
    raw = env.get(name)
    if raw is not None and not CHANNEL_ID.match(raw):
        raise ConfigError(
            f"{name}={raw!r} is not a channel id: expected an id such as C012AB3CD "
            "(channel details → About, at the bottom)"
        )
    return raw


def _positive_float(env: _Reader, name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigError(f"{name}={raw!r} is not a positive number: expected e.g. 24 or 0.5")
    return value


def _cron(raw: str) -> str:
    if len(raw.split()) != 5:
        raise ConfigError(
            f"DIGEST_CRON={raw!r} is not a five-field cron expression: expected e.g. '0 9 * * 1' "
            "(minute hour day month weekday)"
        )
    return raw


def _reminders(raw: str) -> tuple[int, ...]:
    try:
        return reminder_minutes(raw)
    except ValueError:
        raise ConfigError(
            f"LUNCHLEARN_REMINDERS={raw!r} is malformed: expected durations such as "
            "24h,2h30m,15m (d, h, m; comma-separated)"
        ) from None


def _emoji(raw: str) -> str:
    name = emoji_name(raw)
    if not EMOJI.match(name):
        raise ConfigError(
            f"KUDOS_EMOJI={raw!r} is not an emoji name: expected a name such as trophy or :tada:"
        )
    if name == TAKEN_EMOJI:
        raise ConfigError(
            "KUDOS_EMOJI=white_check_mark is taken: askers accept answers with it. "
            "Pick another, such as trophy or clap"
        )
    return name


def _alias_file(env: _Reader) -> Path | None:
    """SKILL_ALIASES_FILE must exist and read cleanly, or start-up names the bad line."""
    path = _existing_file(env, "SKILL_ALIASES_FILE")
    if path is not None:
        try:
            read_alias_lines(path.read_text().splitlines(), source=str(path))
        except (AliasFileProblem, UnicodeDecodeError) as problem:
            raise ConfigError(f"SKILL_ALIASES_FILE: {problem}") from None
    return path


def _existing_file(env: _Reader, name: str) -> Path | None:
    raw = env.get(name)
    if raw is None:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{name}={raw!r} does not exist: expected the path of a readable file")
    return path
