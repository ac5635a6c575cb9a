"""The operator's command line: outbox status, retry, export, erasure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from storage.models import Kudos, OutboxStatement, ProcessStatus
from storage.repositories import outbox as outbox_repo
from tests.support.harness import BotHarness, bot_env
from tests.support.slack import TEAM_ID, FakeSlack

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def operator_env(
    bot: BotHarness, tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> BotHarness:
    """The operator's shell: same settings as the running bot, no .env file."""
    monkeypatch.chdir(tmp_path)
    for name, value in bot_env(tmp_path, slack).items():
        monkeypatch.setenv(name, value)
    return bot


def statements(bot: BotHarness) -> list[OutboxStatement]:
    with bot.database.reading() as session:
        return list(session.exec(select(OutboxStatement)))


def all_dead(bot: BotHarness) -> None:
    """The LRS rejected every statement so far."""
    with bot.database.transaction() as session:
        for row in statements(bot):
            outbox_repo.mark_dead(session, row.statement_id, "rejected")


async def test_outbox_status_shows_counts_and_dead_letter_reasons(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    dead = statements(bot)[0].statement_id
    with bot.database.transaction() as session:
        outbox_repo.mark_dead(session, dead, "LRS said: bad verb")

    assert main(["outbox", "status"]) == 0

    out = capsys.readouterr().out
    assert "pending: 1" in out and "dead:    1" in out
    assert f"dead {dead}: LRS said: bad verb" in out


async def test_status_shows_the_database_the_outbox_each_process_and_dead_letters(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    dead = statements(bot)[0].statement_id
    gone = datetime.now(UTC) - timedelta(minutes=10)
    with bot.database.transaction() as session:
        outbox_repo.mark_dead(session, dead, "LRS said: bad verb")
        # A replica killed ten minutes ago, whose last check said the LRS refused it.
        session.add(
            ProcessStatus(
                process_id="old-host:7:abc123",
                checked_at=gone,
                forwarder_state="paused",
                forwarder_detail="LRS rejected the credentials (401)",
            )
        )

    assert main(["status"]) == 0

    out = capsys.readouterr().out
    assert "database: ok" in out
    assert "outbox: 1 pending" in out and "0 sent" in out and "1 dead" in out
    assert "inbuilt LRS: 2 statement(s) stored, 0 key(s)" in out
    this = bot.services.health.process_id
    [line] = [line for line in out.splitlines() if this in line]
    assert "forwarder disabled" in line and "stopped?" not in line
    [old] = [line for line in out.splitlines() if "old-host:7:abc123" in line]
    assert "forwarder paused: LRS rejected the credentials (401)" in old and "stopped?" in old
    assert f"dead {dead}: LRS said: bad verb" in out


def test_status_says_when_the_database_cannot_answer(
    tmp_path: Path,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    nowhere = f"sqlite:///{tmp_path / 'missing-dir' / 'guildbot.db'}"
    for name, value in bot_env(tmp_path, slack, DATABASE_URL=nowhere).items():
        monkeypatch.setenv(name, value)

    assert main(["status"]) == 1

    captured = capsys.readouterr()
    assert captured.out.startswith("database: unavailable")
    assert "Traceback" not in captured.out + captured.err


async def test_retry_dead_queues_dead_letters_again(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    all_dead(bot)

    assert main(["outbox", "retry-dead"]) == 0

    assert "2 dead-lettered statement(s) queued again" in capsys.readouterr().out
    assert {row.status for row in statements(bot)} == {"pending"}


async def test_export_writes_the_stored_statements_as_json_lines(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    today = datetime.now(UTC).date().isoformat()

    assert main(["export", "--since", today]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert main(["export", "--since", "2000-01-01", "--until", "2000-01-02"]) == 0
    nothing = capsys.readouterr().out

    assert sorted(lines) == sorted(row.body for row in statements(bot))
    assert {json.loads(line)["verb"]["id"].rsplit("/", 1)[1] for line in lines} == {
        "give",
        "receive",
    }
    assert nothing == ""


async def test_forget_erases_a_person_and_voids_what_reached_the_lrs(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    await bot.command("/kudos", "<@U0CAT> for the careful review", "U0ANN")
    bob_kudos = [r for r in statements(bot) if '"name":"U0BOB"' in r.body]
    with bot.database.transaction() as session:
        outbox_repo.mark_sent(session, [r.statement_id for r in bob_kudos], datetime.now(UTC))

    assert main(["forget", "--user", "U0BOB"]) == 0

    assert "forgot U0BOB: 1 kudos deleted, 2 statement(s) queued for voiding" in (
        capsys.readouterr().out
    )
    with bot.database.reading() as session:
        assert [k.receiver_id for k in session.exec(select(Kudos))] == ["U0CAT"]
    remaining = statements(bot)
    assert not any("U0BOB" in r.body for r in remaining)
    voided = {json.loads(r.body)["object"]["id"] for r in remaining if r.voiding}
    assert voided == {r.statement_id for r in bob_kudos}


OPERATOR_COMMANDS = [
    ["status"],
    ["db", "upgrade"],
    ["outbox", "status"],
    ["outbox", "retry-dead"],
    ["export", "--since", "2026-01-01"],
    ["report", "--since", "2026-01-01"],
    ["forget", "--user", "U0BOB"],
]


@pytest.mark.parametrize("command", OPERATOR_COMMANDS, ids=" ".join)
def test_operator_commands_need_only_the_database(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An operator (or an L&D lead) with no Slack settings at all, even a broken one."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_API_URL", "not a url")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'guildbot.db'}")

    assert main(command) == 0

    assert "SLACK" not in capsys.readouterr().err


def test_operator_commands_still_name_a_malformed_database_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", "mysql://guild@db/guild")

    assert main(["outbox", "status"]) == 2

    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("guildbot: DATABASE_URL is not a supported database URL")


def test_run_still_stops_naming_the_missing_slack_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)

    assert main(["run"]) == 2

    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("guildbot: SLACK_BOT_TOKEN is not set")


def test_dir_names_a_directory_without_playground_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["report", "--dir", "nowhere", "--since", "2026-01-01"]) == 2

    [line] = capsys.readouterr().err.strip().splitlines()
    assert "nowhere" in line and "guildbot playground --dir nowhere" in line
    assert not (tmp_path / "nowhere").exists(), "nothing is created on the way"


@pytest.mark.parametrize(
    "command",
    [["report", "--since", "2026-01-01"], ["outbox", "status"], ["status"]],
    ids=" ".join,
)
def test_output_into_a_closed_pipe_ends_quietly(command: list[str], tmp_path: Path) -> None:
    """`guildbot report … | head`: the reader has gone before the output is written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LRS_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'guildbot.db'}", PYTHONPATH=str(REPO_ROOT))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        ran = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from bot.cli import main; sys.exit(main())",
                *command,
            ],
            cwd=tmp_path,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)

    assert ran.stderr == ""
    assert ran.returncode == 1


# --team: one workspace's data ----------------------------------------------------------------------

OTHER = "T0OTHER"


async def kudos_in_two_workspaces(bot: BotHarness) -> None:
    """A kudos in the bot's workspace and one in another guildbot was installed in."""
    bot.installed_too(OTHER)
    for team in (TEAM_ID, OTHER):
        _, reply = await bot.command(
            "/kudos", f"<@U0BOB> for the {team} demo", "U0ANN", team_id=team
        )
        assert reply["text"].startswith("Kudos sent"), reply


async def test_team_restricts_outbox_status_and_retry_dead_to_one_workspace(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await kudos_in_two_workspaces(bot)
    all_dead(bot)
    theirs = {row.statement_id for row in statements(bot) if row.team_id == OTHER}

    assert main(["outbox", "status", "--team", OTHER]) == 0
    out = capsys.readouterr().out
    assert "dead:    2" in out and "pending: 0" in out
    assert {
        line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("dead ")
    } == theirs
    assert TEAM_ID not in out

    assert main(["outbox", "retry-dead", "--team", OTHER]) == 0
    assert "2 dead-lettered statement(s) of T0OTHER queued again" in capsys.readouterr().out
    assert {(row.team_id, row.status) for row in statements(bot)} == {
        (OTHER, "pending"),
        (TEAM_ID, "dead"),
    }

    assert main(["outbox", "status"]) == 0  # without --team: every workspace
    out = capsys.readouterr().out
    assert "pending: 2" in out and "dead:    2" in out


async def test_team_restricts_export_to_one_workspace(
    operator_env: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator_env
    await kudos_in_two_workspaces(bot)
    today = datetime.now(UTC).date().isoformat()

    assert main(["export", "--since", today, "--team", OTHER]) == 0
    theirs = capsys.readouterr().out.splitlines()
    assert main(["export", "--since", today]) == 0
    everyone = capsys.readouterr().out.splitlines()

    assert sorted(theirs) == sorted(row.body for row in statements(bot) if row.team_id == OTHER)
    assert len(theirs) == 2 and len(everyone) == 4
    assert sorted(everyone) == sorted(row.body for row in statements(bot))


@pytest.mark.parametrize(
    "command",
    [
        ["outbox", "status"],
        ["outbox", "retry-dead"],
        ["export", "--since", "2026-11-01"],
        ["report", "--since", "2026-11-01"],
    ],
)
@pytest.mark.parametrize(
    ("team", "said"),
    [
        ("acme", "--team 'acme' is not a Slack team id: expected e.g. T012AB3CD"),
        ("T0NOWHERE", "--team T0NOWHERE: no workspace T0NOWHERE in this database (it has T0GUILD)"),
    ],
)
async def test_a_bad_team_gets_one_line_and_changes_nothing(
    operator_env: BotHarness,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    team: str,
    said: str,
) -> None:
    bot = operator_env
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    all_dead(bot)

    assert main([*command, "--team", team]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"guildbot: {said}"]
    assert {row.status for row in statements(bot)} == {"dead"}
