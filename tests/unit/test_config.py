"""Settings from the environment: defaults, one-line errors naming the variable, no leaked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    ConfigError,
    Settings,
    load_settings,
)

BOT_TOKEN = "xoxb-1111-2222-SeCrEtBoTtOkEn"
SIGNING_SECRET = "s1gn1ng-s3cr3t-0f-the-app"
LRS_SECRET = "lrs-pa55w0rd-very-secret"
DB_PASSWORD = "db-hunter2-password"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, LRS_SECRET, DB_PASSWORD)

MINIMAL = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
WITH_SECRETS = {
    **MINIMAL,
    "DATABASE_URL": f"postgresql://guild:{DB_PASSWORD}@db.internal:5432/guild",
    "LRS_ENDPOINT": "https://lrs.example.com/xapi",
    "LRS_KEY": "lrs-key",
    "LRS_SECRET": LRS_SECRET,
}


def settings(**overrides: str) -> Settings:
    return load_settings({**MINIMAL, **overrides}, env_file=None)


def test_defaults() -> None:
    loaded = load_settings(MINIMAL, env_file=None)

    assert loaded.port == 3000
    assert loaded.host is None  # every interface: Slack must reach /slack/events
    assert loaded.slack_api_url == DEFAULT_SLACK_API_URL == "https://slack.com/api/"
    assert loaded.database_url == DEFAULT_DATABASE_URL
    assert loaded.database_url.startswith("sqlite:///")
    assert not loaded.socket_mode
    assert not loaded.lrs_configured
    assert loaded.xapi_version == "1.0.3"
    assert loaded.xapi_actor == "account"
    assert loaded.xapi_include_text is False
    assert loaded.timezone == "UTC"
    assert loaded.qa_nudge_hours == 24.0
    assert loaded.digest_cron == "0 9 * * 1"
    assert loaded.lunchlearn_reminders == (24 * 60, 15)
    assert loaded.kudos_emoji == "trophy"
    assert loaded.kudos_daily_limit == 5
    assert loaded.kudos_manager_daily_limit == 15
    assert loaded.lnd_admins == frozenset()
    assert loaded.skill_aliases_file is None


def test_values_are_read_and_normalised(tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.yml"
    aliases.write_text("py: python\n")

    loaded = settings(
        PORT="8080",
        HOST="127.0.0.1",
        XAPI_ACTOR="Email",
        XAPI_INCLUDE_TEXT="yes",
        TIMEZONE="Europe/Berlin",
        QA_NUDGE_HOURS="0.5",
        LND_ADMINS="U012AB3CD, W0ENTERPR",
        LUNCHLEARN_REMINDERS="15m,1d,2h",
        KUDOS_EMOJI=":Tada:",
        SKILL_ALIASES_FILE=str(aliases),
        LRS_ENDPOINT="https://lrs.example.com/xapi",
        LRS_KEY="k",
        LRS_SECRET="s",
    )

    assert loaded.port == 8080
    assert loaded.host == "127.0.0.1"
    assert loaded.xapi_actor == "email"
    assert loaded.xapi_include_text is True
    assert loaded.timezone == "Europe/Berlin"
    assert loaded.qa_nudge_hours == 0.5
    assert loaded.lnd_admins == {"U012AB3CD", "W0ENTERPR"}
    assert loaded.lunchlearn_reminders == (1440, 120, 15)
    assert loaded.kudos_emoji == "tada"
    assert loaded.skill_aliases_file == aliases
    assert loaded.lrs_endpoint == "https://lrs.example.com/xapi/"
    assert loaded.lrs_configured


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("PORT", {"PORT": "abc"}),
        ("PORT", {"PORT": "70000"}),
        ("PORT", {"PORT": "0"}),
        ("HOST", {"HOST": "http://0.0.0.0"}),
        ("HOST", {"HOST": "127.0.0.1:3000"}),
        ("HOST", {"HOST": "bad host"}),
        ("DATABASE_URL", {"DATABASE_URL": f"mysql://root:{DB_PASSWORD}@db/guild"}),
        ("LRS_KEY", {"LRS_KEY": ""}),
        ("LRS_SECRET", {"LRS_SECRET": " "}),
        ("LRS_ENDPOINT", {"LRS_ENDPOINT": "lrs.example.com", "LRS_KEY": "k", "LRS_SECRET": "s"}),
        ("LRS_ENDPOINT", {"LRS_ENDPOINT": f"https://key:{LRS_SECRET}@lrs.example.com/xapi/"}),
        ("LRS_ENDPOINT", {"LRS_ENDPOINT": f"key:{LRS_SECRET}@lrs.example.com/xapi/"}),
        ("XAPI_ACTOR", {"XAPI_ACTOR": "foo"}),
        ("TIMEZONE", {"TIMEZONE": "Mars/Base"}),
        ("LND_ADMINS", {"LND_ADMINS": "bob"}),
        ("KUDOS_MANAGERS", {"KUDOS_MANAGERS": "U012AB3CD,@carol"}),
        ("LUNCHLEARN_REMINDERS", {"LUNCHLEARN_REMINDERS": "soon"}),
        ("LUNCHLEARN_REMINDERS", {"LUNCHLEARN_REMINDERS": "24h,0m"}),
        ("QA_NUDGE_HOURS", {"QA_NUDGE_HOURS": "0"}),
        ("QA_NUDGE_HOURS", {"QA_NUDGE_HOURS": "nan"}),
        ("QA_CHANNEL", {"QA_CHANNEL": "#questions"}),
        ("DIGEST_CRON", {"DIGEST_CRON": "0 9 * *"}),
        ("KUDOS_EMOJI", {"KUDOS_EMOJI": ":bad emoji:"}),
        ("KUDOS_DAILY_LIMIT", {"KUDOS_DAILY_LIMIT": "0"}),
        ("XAPI_VERSION", {"XAPI_VERSION": "latest"}),
        ("XAPI_INCLUDE_TEXT", {"XAPI_INCLUDE_TEXT": "maybe"}),
        ("SKILL_ALIASES_FILE", {"SKILL_ALIASES_FILE": "/nonexistent/aliases.yml"}),
        ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": ""}),
        ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": "SeCrEtBoTtOkEn-without-prefix"}),
        ("SLACK_APP_TOKEN", {"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}),
        ("SLACK_CLIENT_SECRET", {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "123.456"}),
        ("SLACK_CLIENT_ID", {"SLACK_CLIENT_SECRET": "cl13nt-s3cr3t"}),
    ],
)
def test_a_malformed_setting_stops_start_up_with_one_line_naming_it(
    name: str, overrides: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**WITH_SECRETS, **overrides}, env_file=None)

    message = str(raised.value)
    assert name in message
    assert "\n" not in message
    assert message.strip() == message
    for secret in (*SECRETS, "SeCrEtBoTtOkEn", "xoxb-not-an-app-token"):
        assert secret not in message


@pytest.mark.parametrize(
    "endpoint",
    [
        f"https://lrs-key:{LRS_SECRET}@lrs.example.com/xapi/",
        f"https://{LRS_SECRET}@lrs.example.com/xapi/",
        f"https://lrs-key:{LRS_SECRET}@lrs.example.com",
    ],
)
def test_an_lrs_endpoint_holding_credentials_is_refused_without_echoing_it(endpoint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**WITH_SECRETS, "LRS_ENDPOINT": endpoint}, env_file=None)

    message = str(raised.value)
    assert message.startswith("LRS_ENDPOINT")
    assert "LRS_KEY" in message and "LRS_SECRET" in message  # where the credentials belong
    assert "\n" not in message
    assert LRS_SECRET not in message and "lrs-key" not in message and "@" not in message


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "::1", "10.0.0.7", "localhost", "bot.internal"])
def test_host_takes_an_address_or_a_host_name(host: str) -> None:
    assert settings(HOST=host).host == host


def test_secrets_never_appear_in_the_settings_repr() -> None:
    loaded = load_settings(
        {**WITH_SECRETS, "SLACK_APP_TOKEN": "xapp-1-A0-SeCrEtApPtOkEn"}, env_file=None
    )

    shown = repr(loaded)
    for secret in (*SECRETS, "SeCrEtApPtOkEn"):
        assert secret not in shown
    assert loaded.slack_bot_token == BOT_TOKEN
    assert loaded.lrs_secret == LRS_SECRET
    assert DB_PASSWORD in loaded.database_url


def test_the_signing_secret_is_required_in_http_mode_only() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_BOT_TOKEN": BOT_TOKEN}, env_file=None)

    socket = load_settings(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-A0-app"}, env_file=None
    )
    assert socket.socket_mode
    assert socket.slack_signing_secret is None


def test_a_dotenv_file_is_read_and_real_environment_variables_win(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\n"
        f"SLACK_SIGNING_SECRET={SIGNING_SECRET}\n"
        "PORT=4000\n"
        "KUDOS_EMOJI=clap\n"
        "# a comment\n"
        "TIMEZONE=Asia/Tokyo\n"
    )

    loaded = load_settings({"PORT": "5000", "TIMEZONE": ""}, env_file=str(env_file))

    assert loaded.slack_bot_token == BOT_TOKEN
    assert loaded.kudos_emoji == "clap"
    assert loaded.port == 5000
    # A blank variable counts as unset: it does not keep the file's value, it means "default".
    assert loaded.timezone == "UTC"


def test_a_missing_dotenv_file_is_not_an_error(tmp_path: Path) -> None:
    loaded = load_settings(MINIMAL, env_file=str(tmp_path / "absent.env"))

    assert loaded.port == 3000


def test_blank_values_count_as_unset() -> None:
    loaded = settings(PORT="", TIMEZONE="   ", DATABASE_URL="", KUDOS_EMOJI="", QA_CHANNEL=" ")

    assert loaded.port == 3000
    assert loaded.timezone == "UTC"
    assert loaded.database_url == DEFAULT_DATABASE_URL
    assert loaded.kudos_emoji == "trophy"
    assert loaded.qa_channel is None
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "  "}, env_file=None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/guild", "postgresql+psycopg://u:p@db:5432/guild"),
        ("postgresql://u@db/guild", "postgresql+psycopg://u@db/guild"),
        ("postgresql+psycopg://u@db/guild", "postgresql+psycopg://u@db/guild"),
        ("sqlite:////var/lib/guildbot/guild.db", "sqlite:////var/lib/guildbot/guild.db"),
    ],
)
def test_database_urls_pick_the_psycopg_driver(given: str, expected: str) -> None:
    assert settings(DATABASE_URL=given).database_url == expected


def test_a_client_id_and_secret_without_a_bot_token_distribute_the_app_with_oauth() -> None:
    oauth = {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "cl13nt-s3cr3t"}

    distributed = load_settings({"SLACK_SIGNING_SECRET": SIGNING_SECRET, **oauth}, env_file=None)
    single = load_settings({**MINIMAL, **oauth}, env_file=None)

    assert distributed.oauth and distributed.slack_client_id == "123.456"
    assert "cl13nt-s3cr3t" not in repr(distributed)
    assert not single.oauth, "a bot token keeps the one-workspace mode"
