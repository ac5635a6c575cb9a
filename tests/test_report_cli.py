"""`guildbot report`: counts per person and per skill tag across the four capabilities, for a
period, as CSV or JSON (aggregates only), and a PNG chart of weekly activity."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.domain.people import Profile
from bot.domain.questions import AskIntent
from bot.domain.reporting import COLUMNS
from bot.slack_client import build_web_client
from bot.views.chart import HEIGHT_PX, PALETTE, WIDTH_PX
from handlers.lunchlearn import run_session_jobs
from tests.handlers.test_lunchlearn import add_people, rating_values, schedule
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, bot_env, settings_for
from tests.support.slack import TEAM_ID, FakeSlack
from tests.unit.test_chart import picture, rgb, tallest_run

QA = "C0QA"
SINCE = datetime(2026, 11, 23, tzinfo=UTC)
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)
SESSION_START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REPORT = ["report", "--since", "2026-11-23", "--until", "2026-11-30"]


def report_env(tmp_path: Path, slack: FakeSlack, **overrides: str) -> dict[str, str]:
    return bot_env(tmp_path, slack, QA_CHANNEL=QA, LND_ADMINS="U0ANN", **overrides)


@pytest.fixture
async def seeded_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    add_people(slack)
    settings = settings_for(tmp_path, slack, QA_CHANNEL=QA, LND_ADMINS="U0ANN")
    harness = await BotHarness(settings, slack, clock).start()
    await seed_all_capabilities(harness, clock)
    yield harness
    await harness.close()


@pytest.fixture
def operator(
    seeded_bot: BotHarness, tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> BotHarness:
    """The operator's shell: same settings as the running bot, no .env file."""
    monkeypatch.chdir(tmp_path)
    for name, value in report_env(tmp_path, slack).items():
        monkeypatch.setenv(name, value)
    return seeded_bot


# Seeding: every capability, inside and outside the period ----------------------------------------


async def seed_all_capabilities(bot: BotHarness, clock: SettableClock) -> None:
    """Activity from 20 to 30 November 2026; the period 23–30 November (UTC) holds:

    Ann: endorses Bob's python, asks a #python question and accepts Bob's answer, gives kudos
    to Bob and Cat (#python #teamwork), schedules a #python lunch-and-learn.
    Bob: adds python and kafka, answers (accepted). Cat: searches /expert python, answers,
    presents the session. Dan: goes, checks in, rates it 4. Eve: goes, then can't.
    Cat's kudos to Ann is undone (voided). Before and after the period: more of the same.
    """
    ann, bob = Profile("U0ANN", "Ann"), Profile("U0BOB", "Bob")

    def at(moment: datetime) -> None:
        clock.now = moment

    def day(d: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, d, hour, minute, tzinfo=UTC)

    async def command(name: str, text: str, user: str) -> dict[str, Any]:
        status, reply = await bot.command(name, text, user)
        assert status == 200, reply
        return reply

    # Before the period.
    at(day(20, 10))
    await command("/skills", "add python", "U0ANN")
    await command("/kudos", "<@U0CAT> for the careful review yesterday", "U0ANN")

    # The period.
    at(day(23, 10))
    await command("/skills", "add python:expert, kafka", "U0BOB")
    at(day(23, 11))
    assert bot.services.skills.endorse(TEAM_ID, ann, bob, "python", "seed-endorse")
    at(day(23, 12))
    await command("/expert", "python", "U0CAT")
    at(day(24, 9))
    asked = bot.services.questions.ask(
        TEAM_ID, ann, AskIntent("How do I profile a slow script?", ("python",)), QA, "seed-q"
    ).question
    ts = bot.slack.write(QA, None, asked.text, bot_id="B0GUILD")
    bot.services.questions.posted(asked.id, ts, None)
    asked.ts = ts
    at(day(24, 9, 10))
    answer_ts = bot.slack.write(QA, "U0BOB", "cProfile", thread_ts=ts)
    assert bot.services.questions.record_answer(asked, bob, answer_ts, "cProfile", None)
    at(day(24, 9, 20))
    other_ts = bot.slack.write(QA, "U0CAT", "py-spy", thread_ts=ts)
    assert bot.services.questions.record_answer(
        asked, Profile("U0CAT", "Cat"), other_ts, "py-spy", None
    )
    at(day(24, 10))
    bot.services.questions.accept(TEAM_ID, QA, answer_ts, ann, "seed-accept")
    at(day(24, 12))
    reply = await command(
        "/kudos", "<@U0BOB> <@U0CAT> for the great pairing session #python #teamwork", "U0ANN"
    )
    assert reply["text"].startswith("Kudos sent"), reply
    at(day(25, 9))
    undone = await command("/kudos", "<@U0ANN> for the quick fix this morning", "U0CAT")
    await bot.press("kudos_undo", undone["blocks"][0]["accessory"]["value"], "U0CAT")
    at(day(25, 10))
    lunch = await schedule(bot, start=SESSION_START, capacity=None)
    for user in ("U0DAN", "U0EVE"):
        await bot.press("lunch_going", lunch.id, user)
    await bot.press("lunch_not_going", lunch.id, "U0EVE")
    client = build_web_client(bot.settings)
    at(SESSION_START - timedelta(minutes=5))
    await run_session_jobs(bot.services, bot.effects, client, TEAM_ID)
    await bot.press("lunch_checkin", lunch.id, "U0DAN")
    at(SESSION_START + timedelta(minutes=1))
    await run_session_jobs(bot.services, bot.effects, client, TEAM_ID)  # the presenter is recorded
    at(SESSION_START + timedelta(minutes=46))
    await run_session_jobs(bot.services, bot.effects, client, TEAM_ID)  # feedback prompts
    await bot.press("lunch_rate_4", f"{lunch.id}|4", "U0DAN")
    await bot.submit(bot.opened_views()[-1], rating_values(4), "U0DAN", view_id="V0RATE")

    # After the period.
    at(day(30, 9))
    await command("/kudos", "<@U0ANN> for the thorough handover notes", "U0BOB")
    await command("/skills", "add rust", "U0DAN")


EXPECTED_PEOPLE: dict[str, dict[str, int]] = {
    "U0ANN": {
        "endorsements_given": 1,
        "questions_asked": 1,
        "acceptances": 1,
        "kudos_given": 2,
        "sessions_scheduled": 1,
    },
    "U0BOB": {
        "skills_added": 2,
        "endorsements_received": 1,
        "answers": 1,
        "answers_accepted": 1,
        "kudos_received": 1,
    },
    "U0CAT": {"searches": 1, "answers": 1, "kudos_received": 1, "sessions_presented": 1},
    "U0DAN": {"registrations": 1, "sessions_attended": 1, "ratings_given": 1},
    "U0EVE": {"registrations": 1, "unregistrations": 1},
}


def measures_of(row: dict[str, Any]) -> dict[str, Any]:
    """The non-zero counts of a report row."""
    return {k: v for k, v in row.items() if k != "mean_rating" and v}


# The report --------------------------------------------------------------------------------------


async def test_the_json_report_counts_each_person_and_tag_in_the_period(
    operator: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*REPORT, "--format", "json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["since"] == "2026-11-23T00:00:00Z" and report["until"] == "2026-11-30T00:00:00Z"
    assert {p: measures_of(row) for p, row in report["people"].items()} == EXPECTED_PEOPLE
    assert report["people"]["U0DAN"]["mean_rating"] == 4.0
    assert report["people"]["U0ANN"]["mean_rating"] is None
    assert measures_of(report["tags"]["kafka"]) == {"skills_added": 1}
    python = measures_of(report["tags"]["python"])
    assert python == {
        "skills_added": 1,
        "endorsements_given": 1,
        "endorsements_received": 1,
        "searches": 1,
        "questions_asked": 1,
        "answers": 2,
        "acceptances": 1,
        "answers_accepted": 1,
        "kudos_given": 2,
        "kudos_received": 2,
        "sessions_scheduled": 1,
        "registrations": 2,
        "unregistrations": 1,
        "sessions_attended": 1,
        "sessions_presented": 1,
        "ratings_given": 1,
    }
    assert set(report["tags"]) == {"python", "kafka"}  # #teamwork names no skill
    totals = measures_of(report["totals"])
    assert totals["kudos_given"] == 2 and totals["kudos_received"] == 2  # the undone one voided
    assert totals["answers_accepted"] == totals["acceptances"] == 1
    assert report["totals"]["mean_rating"] == 4.0
    assert report["statements"] == sum(report["verbs"].values()) == 19
    assert "http://adlnet.gov/expapi/verbs/voided" not in report["verbs"]
    assert [week["start"] for week in report["weeks"]] == ["2026-11-23T00:00:00Z"]
    assert report["weeks"][0] == {
        "start": "2026-11-23T00:00:00Z",
        "kudos": 2,
        "qa": 4,
        "skills": 4,
        "lunchlearn": 7,
    }


async def test_the_csv_report_has_one_row_per_total_person_and_tag(
    operator: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*REPORT, "--format", "csv"]) == 0
    as_csv = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert main([*REPORT, "--format", "json"]) == 0
    as_json = json.loads(capsys.readouterr().out)

    header, *rows = as_csv
    assert header == ["scope", "id", *COLUMNS]
    assert [(r[0], r[1]) for r in rows] == [
        ("total", "all"),
        *(("person", p) for p in sorted(EXPECTED_PEOPLE)),
        ("tag", "kafka"),
        ("tag", "python"),
    ]
    for scope, key, *values in rows:
        section = {"person": "people", "tag": "tags"}.get(scope)
        expected = as_json[section][key] if section else as_json["totals"]
        assert values == ["" if expected[c] is None else str(expected[c]) for c in COLUMNS]
    # Aggregates only: no statement ids, no text.
    flat = json.dumps(as_json)
    assert "profile" not in flat and "cProfile" not in flat and "pairing" not in flat


async def test_the_default_format_is_csv_and_until_defaults_to_now(
    operator: BotHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.utcnow", lambda: datetime(2026, 12, 1, tzinfo=UTC))

    assert main(["report", "--since", "2026-11-01"]) == 0

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    total = dict(zip(rows[0], rows[1], strict=True))
    # Everything stored, the before and after included: kudos 1 + 2 + 1 given.
    assert total["kudos_given"] == "4" and total["skills_added"] == "4"


async def test_the_chart_shows_weekly_activity_as_a_png(
    operator: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "activity.png"

    assert (
        main(["report", "--since", "2026-11-16", "--until", "2026-12-07", "--chart", str(chart)])
        == 0
    )

    captured = capsys.readouterr()
    assert captured.out.startswith("scope,id,")
    assert f"chart written to {chart}" in captured.err and "kudos gold" in captured.err
    image = picture(chart.read_bytes())
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    # Every capability was used in the period: a bar of each colour, the tallest filling the plot.
    bars = [tallest_run(image, rgb(colour)) for colour in PALETTE]
    assert max(bars) > 250 and min(bars) > 30


async def test_an_unwritable_chart_fails_with_a_clear_line(
    operator: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-dir" / "activity.png"

    assert main([*REPORT, "--chart", str(target)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"guildbot: could not write the chart to {target}")


def test_until_must_come_after_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'guildbot.db'}")

    assert main(["report", "--since", "2026-11-30", "--until", "2026-11-23"]) == 2
    assert capsys.readouterr().err.strip() == "guildbot: --until must be after --since"
    with pytest.raises(SystemExit) as bad_date:
        main(["report", "--since", "last week"])
    assert bad_date.value.code == 2
    assert "'last week' is not a date" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*REPORT, "--format", "xml"])


async def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(
    bot: BotHarness,
    tmp_path: Path,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in report_env(tmp_path, slack).items():
        monkeypatch.setenv(name, value)
    formula = '=HYPERLINK("https://evil.example/sso","Re-authenticate")'
    hostile = [formula, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "safe-name"]
    ann = Profile("U0ANN", "Ann")
    bot.services.skills.declare(TEAM_ID, ann, [(slug, "expert") for slug in hostile], "seed")
    today = datetime.now(UTC).date().isoformat()

    assert main(["report", "--since", today, "--format", "csv"]) == 0

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    tags = {row[1] for row in rows if row[0] == "tag"}
    assert tags == {"'" + slug for slug in hostile[:-1]} | {"safe-name"}
    for row in rows:
        assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for cell in row), row


async def test_team_restricts_the_report_to_one_workspace(
    operator: BotHarness, clock: SettableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "T0OTHER"
    clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    operator.installed_too(other)
    _, reply = await operator.command(
        "/kudos", "<@U0DAN> for the release notes", "U0EVE", team_id=other
    )
    assert reply["text"].startswith("Kudos sent"), reply

    def report(*team: str) -> dict[str, Any]:
        assert main([*REPORT, "--format", "json", *team]) == 0
        return json.loads(capsys.readouterr().out)

    ours, theirs, everyone = report("--team", TEAM_ID), report("--team", other), report()

    assert {p: measures_of(row) for p, row in ours["people"].items()} == EXPECTED_PEOPLE
    assert {p: measures_of(row) for p, row in theirs["people"].items()} == {
        "U0EVE": {"kudos_given": 1},
        "U0DAN": {"kudos_received": 1},
    }
    assert everyone["totals"]["kudos_given"] == 3
    assert everyone["statements"] == ours["statements"] + theirs["statements"]
