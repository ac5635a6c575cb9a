"""The playground without a browser: the stand-in of Slack, and the real bot answering the
signed requests it sends (slash commands, reactions, modals, buttons, thread replies)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.cli import EXIT_CONFIG, main
from bot.config import load_settings
from bot.playground import server as playground_server
from bot.playground.guard import TOKEN_HEADER
from bot.playground.server import Playground, PlaygroundOptions
from bot.playground.slack import (
    BOT_USER_ID,
    SCOPES,
    Channel,
    Person,
    escape_mentions,
    sign,
)
from bot.runtime import required_scopes
from tests.handlers.test_workspace_settings import as_shown
from tests.support.lrs import (
    FakeLrs,
    fake_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.process import eventually
from tests.support.xapi import XapiClient

ADA, BEN, CHI = "U0ADA", "U0BEN", "U0CHI"
GENERAL, QA = "C0GENERAL", "C0QUESTIONS"
ACTOR_ADA = {"account": {"homePage": "https://playground.guildbot.invalid/", "name": ADA}}


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    options = PlaygroundOptions(
        directory=tmp_path / "pg", port=0, seed=False, environ={}, env_file=None
    )
    started = await Playground(options).start()
    yield started
    await started.stop()


def bot_messages(playground: Playground, channel: str) -> list[dict[str, Any]]:
    return [m for m in playground.slack.messages[channel] if m.get("bot_id")]


def verbs(playground: Playground) -> list[str]:
    return [s["verb"] for s in playground.statements()]


async def page_state(playground: Playground) -> dict[str, Any]:
    """What the page is given to draw."""
    return await page_state_as(playground, ADA)


async def page_state_as(playground: Playground, user: str) -> dict[str, Any]:
    """What the page is given to draw for `user`."""
    headers = {TOKEN_HEADER: playground.guard.token}
    url = playground.slack.public_url + f"pg/state?user={user}"
    async with (
        ClientSession() as http,
        http.get(url, headers=headers) as answered,
    ):
        assert answered.status == 200
        state: dict[str, Any] = await answered.json()
        return state


async def test_the_web_api_wants_the_generated_token(playground: Playground) -> None:
    async with ClientSession() as http:
        url = playground.slack.public_url + "api/auth.test"
        async with http.post(url, headers={"Authorization": "Bearer xoxb-guess"}) as refused:
            assert (await refused.json())["error"] == "invalid_auth"
        headers = {"Authorization": f"Bearer {playground.slack.token}"}
        async with http.post(url, headers=headers) as answered:
            body = await answered.json()
            granted = set(answered.headers["x-oauth-scopes"].split(","))
    assert body["ok"] and body["user_id"] == BOT_USER_ID
    assert required_scopes(playground.settings) <= granted == set(SCOPES.split(","))


async def test_requests_are_signed_and_a_wrong_signature_is_refused(
    playground: Playground,
) -> None:
    body = "token=x&command=%2Fguild&text=help&user_id=U0ADA&team_id=T0PLAYGRND"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with ClientSession() as http:
        wrong = {**headers, **sign(body, "not-the-secret")}
        async with http.post(playground.slack.bot_url, data=body, headers=wrong) as refused:
            assert refused.status == 401
        stale = {**headers, **sign(body, playground.slack.signing_secret, int(time.time()) - 900)}
        async with http.post(playground.slack.bot_url, data=body, headers=stale) as old:
            assert old.status == 401
    outcome = await playground.slack.type_message(ADA, GENERAL, "/guild help")
    assert outcome.status == 200
    assert any("/kudos" in e["text"] for e in playground.slack.snapshot(ADA)["ephemerals"])


async def test_kudos_by_command_posts_the_recognition_and_a_statement(
    playground: Playground,
) -> None:
    outcome = await playground.slack.type_message(
        ADA, GENERAL, "/kudos @Ben for the patient code review #python"
    )
    assert outcome.status == 200
    await playground.settle()
    posted = bot_messages(playground, GENERAL)
    assert posted and f"<@{BEN}>" in json.dumps(posted[-1])
    assert playground.slack.snapshot(ADA)["ephemerals"], "the giver hears the quota left"
    assert playground.slack.snapshot(BEN)["ephemerals"] == [], "ephemerals are per person"
    statements = playground.statements()
    described = {(s["actor"], s["verb"], s["object"]) for s in statements}
    kudos = "Kudos from Ada Lovelace to Ben Okafor (#python)"
    assert ("Ada Lovelace", "gave", kudos) in described
    assert ("Ben Okafor", "received", kudos) in described
    # The statements themselves name people as the page does: by their full names.
    assert {s["body"]["actor"]["name"] for s in statements} == {"Ada Lovelace", "Ben Okafor"}
    assert {s["status"] for s in statements} == {"pending"}  # no external LRS to send to
    assert all(s["in_inbuilt_lrs"] for s in statements)  # the inbuilt LRS holds them


async def test_the_inbuilt_lrs_holds_the_statements_and_a_read_only_key_reads_them(
    playground: Playground, capsys: pytest.CaptureFixture[str]
) -> None:
    await playground.slack.type_message(ADA, GENERAL, "/kudos @Ben for the patient code review")
    await playground.settle()
    state = await page_state(playground)
    directory = str(playground.options.directory)
    assert main(["lrs", "credentials", "add", "dashboard", "--read-only", "--dir", directory]) == 0
    out = capsys.readouterr().out
    key, secret = (line.split(":", 1)[1].strip() for line in out.splitlines()[1:3])
    dashboard = XapiClient(state["inbuilt_lrs"], key, secret)

    read = await dashboard.statements(agent=json.dumps(ACTOR_ADA))
    write = await dashboard.request("POST", "statements", body={})

    assert state["inbuilt_lrs"] == f"http://127.0.0.1:{playground.bot_port}/xapi/"
    assert all(s["in_inbuilt_lrs"] for s in state["statements"])
    assert [s["id"] for s in read.json["statements"]] == [
        s["id"] for s in state["statements"] if s["actor"] == "Ada Lovelace"
    ]
    assert write.status == 403


async def test_kudos_by_reaction_and_taking_it_back(playground: Playground) -> None:
    await playground.slack.type_message(BEN, GENERAL, "I fixed the flaky deploy test")
    ts = playground.slack.messages[GENERAL][-1]["ts"]
    before = len(playground.statements())
    outcome = await playground.slack.react(CHI, GENERAL, ts, "trophy", add=True)
    assert outcome.status == 200
    await playground.settle()
    message = playground.slack.message(GENERAL, ts)
    assert message is not None and message["reactions_by"]["trophy"] == [CHI]
    assert len(playground.statements()) > before
    await playground.slack.react(CHI, GENERAL, ts, "trophy", add=False)
    await playground.settle()
    assert any(s["voiding"] for s in playground.statements())


async def test_question_answer_and_acceptance_in_the_thread(playground: Playground) -> None:
    await playground.slack.type_message(CHI, GENERAL, "/skills add python:expert")
    await playground.slack.type_message(BEN, GENERAL, "/ask How do I profile a #python service?")
    await playground.settle()
    question = bot_messages(playground, QA)[-1]
    await playground.slack.type_message(
        CHI, QA, "Start with py-spy, then cProfile", thread_ts=question["ts"]
    )
    await playground.settle()
    answer = playground.slack.messages[QA][-1]
    assert answer["user"] == CHI and answer["thread_ts"] == question["ts"]
    await playground.slack.react(BEN, QA, answer["ts"], "white_check_mark", add=True)
    await playground.settle()
    replies = [m for m in bot_messages(playground, QA) if m.get("thread_ts") == question["ts"]]
    assert replies, "the acceptance is announced in the thread"
    assert "accepted" in verbs(playground) or any("accept" in v for v in verbs(playground))
    dms = playground.slack.snapshot(CHI)["messages"][f"D{CHI[1:]}"]
    assert dms, "the expert got the question by DM"


async def test_scheduling_through_the_modal_and_rsvp(playground: Playground) -> None:
    await playground.slack.type_message(BEN, GENERAL, "/lunchlearn")
    assert playground.slack.snapshot(BEN)["modal"] is None
    assert any("L&D" in e["text"] or "admin" in e["text"] for e in playground.slack.ephemerals)
    await playground.slack.type_message(ADA, GENERAL, "/lunchlearn")
    await playground.settle()
    modal = playground.slack.snapshot(ADA)["modal"]
    assert modal is not None and modal["callback_id"]
    empty = await playground.slack.submit(ADA, modal["id"], {})
    assert empty.status == 200
    assert playground.slack.snapshot(ADA)["modal"]["errors"]["title"]
    starts = int(time.time()) + 3 * 86400
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Property-based testing"}},
        "description": {"value": {"type": "plain_text_input", "value": None}},
        "tags": {"value": {"type": "plain_text_input", "value": "#python #testing"}},
        "presenter": {"value": {"type": "users_select", "selected_user": BEN}},
        "start": {"value": {"type": "datetimepicker", "selected_date_time": starts}},
        "duration": {"value": {"type": "number_input", "value": "45"}},
        "place": {"value": {"type": "plain_text_input", "value": "Room 4"}},
        "capacity": {"value": {"type": "number_input", "value": "10"}},
        "channel": {"value": {"type": "conversations_select", "selected_conversation": GENERAL}},
    }
    await playground.slack.submit(ADA, modal["id"], values)
    await playground.settle()
    assert playground.slack.snapshot(ADA)["modal"] is None
    announcement = bot_messages(playground, GENERAL)[-1]
    assert "Property-based testing" in json.dumps(announcement)
    going = next(
        element
        for block in announcement["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if "Going" in element["text"]["text"]
    )
    action = {**going, "block_id": "x"}
    outcome = await playground.slack.click(CHI, action, channel=GENERAL, ts=announcement["ts"])
    assert outcome.status == 200
    await playground.settle()
    assert playground.slack.snapshot(CHI)["ephemerals"], "the RSVP is confirmed ephemerally"
    updated = playground.slack.message(GENERAL, announcement["ts"])
    assert updated is not None and updated.get("edited"), "the counts are redrawn"


async def test_app_home_is_published_per_person(playground: Playground) -> None:
    await playground.slack.open_home(BEN)
    await playground.settle()
    home = playground.slack.snapshot(BEN)["home"]
    assert home is not None and home["type"] == "home"
    assert playground.slack.snapshot(CHI)["home"] is None


async def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    options = PlaygroundOptions(directory=tmp_path, port=0, seed=True, environ={}, env_file=None)
    first = await Playground(options).start()
    seeded = [m for listed in first.slack.messages.values() for m in listed if m.get("seed")]
    await first.stop()
    assert seeded and (tmp_path / "seeded").exists()
    again = await Playground(options).start()
    try:
        kept = [m for listed in again.slack.messages.values() for m in listed if m.get("seed")]
        assert len(kept) == len(seeded), "seeded once, kept across restarts"
    finally:
        await again.stop()


async def test_seed_replies_reach_only_the_seeded_person_marked_as_seed(tmp_path: Path) -> None:
    options = PlaygroundOptions(directory=tmp_path, port=0, seed=True, environ={}, env_file=None)
    playground = await Playground(options).start()
    try:
        dan = (await page_state_as(playground, "U0DAN"))["ephemerals"]
        ada = (await page_state_as(playground, ADA))["ephemerals"]
        # Dan "typed" /skills add and /ask in the seed: the bot's answers are his, and marked,
        # so the page folds them into the seed banner instead of the channel.
        assert any("Posting your question" in e["text"] for e in dan)
        assert all(e["seed"] and e["user"] == "U0DAN" for e in dan)
        assert not any("Posting your question" in e["text"] for e in ada)
        await playground.slack.type_message(ADA, GENERAL, "/guild help")
        fresh = [
            e for e in (await page_state_as(playground, ADA))["ephemerals"] if not e.get("seed")
        ]
        assert fresh and "/kudos" in fresh[-1]["text"], "what you type yourself is not seed"
    finally:
        await playground.stop()


async def test_the_page_has_a_favicon(playground: Playground) -> None:
    async with ClientSession() as http:
        async with http.get(playground.slack.public_url) as page:
            assert '<link rel="icon" href="/static/favicon.svg"' in await page.text()
        async with http.get(playground.slack.public_url + "favicon.ico") as icon:
            assert icon.status == 200 and icon.content_type == "image/svg+xml"
            assert (await icon.text()).startswith("<svg")


def test_typed_mentions_become_ids_like_slack_escapes_them() -> None:
    people = [Person("U0BEN", "Ben Okafor"), Person("U0CHI", "Chioma Eze")]
    channels = [Channel("C0PYTHON", "python")]
    typed = "@Ben and @chioma eze, see #python #kafka; mail a@b.c"
    assert escape_mentions(typed, people, channels) == (
        "<@U0BEN> and <@U0CHI>, see <#C0PYTHON|python> #kafka; mail a@b.c"
    )


def test_settings_replace_slack_and_leave_out_the_operators_lrs(tmp_path: Path) -> None:
    from bot.playground.slack import PlaygroundSlack

    slack = PlaygroundSlack([], [])
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-real",
        "SLACK_APP_TOKEN": "xapp-real",
        "LRS_ENDPOINT": "https://lrs.example/xapi/",
        "LRS_KEY": "k",
        "LRS_SECRET": "s",
        "KUDOS_EMOJI": "tada",
    }
    options = PlaygroundOptions(directory=tmp_path, environ=environ, env_file=None)
    settings = playground_server.playground_settings(options, slack, "http://127.0.0.1:9/api/", 9)
    assert settings.slack_bot_token == slack.token and not settings.socket_mode
    assert not settings.lrs_configured
    assert settings.lrs_key is None and settings.lrs_secret is None
    assert settings.kudos_emoji == "tada", "other settings still apply"
    assert settings.qa_channel == playground_server.QA_CHANNEL
    assert settings.lnd_admins == {playground_server.LND_LEAD}
    assert str(tmp_path) in settings.database_url


def test_start_opens_the_playground_without_slack_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    started: list[PlaygroundOptions] = []

    async def fake_run(options: PlaygroundOptions) -> None:
        started.append(options)

    monkeypatch.setattr(playground_server, "run_playground", fake_run)
    assert main(["start", "--port", "0"]) == 0
    assert started and started[0].seed
    # The operator's command keeps failing fast, naming the setting.
    assert main(["run"]) == EXIT_CONFIG
    with pytest.raises(Exception, match="SLACK_BOT_TOKEN"):
        load_settings({}, env_file=None)


def test_start_runs_the_bot_when_a_token_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    # The real bot starts, and stops at once on the missing signing secret.
    assert main(["start"]) == EXIT_CONFIG


async def test_the_operators_lrs_in_dotenv_or_the_environment_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_lrs: FakeLrs
) -> None:
    monkeypatch.chdir(tmp_path)
    lrs = {
        "LRS_ENDPOINT": fake_lrs.endpoint,
        "LRS_KEY": fake_lrs.key,
        "LRS_SECRET": fake_lrs.secret,
    }
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in lrs.items()))
    for name, value in lrs.items():
        monkeypatch.setenv(name, value)
    # As `guildbot playground` starts it: the environment and .env are read.
    options = PlaygroundOptions(directory=tmp_path / "pg", port=0, seed=False)
    playground = await Playground(options).start()
    try:
        await playground.slack.type_message(ADA, GENERAL, "/kudos @Ben for the calm incident call")
        await playground.settle()
        state = await page_state(playground)
        assert state["lrs"] is None, "the page says: no LRS, the inbuilt one stores them"
        assert state["statements"] and {s["status"] for s in state["statements"]} == {"pending"}
    finally:
        await playground.stop()
    assert fake_lrs.requests == [], "nothing was sent to the operator's LRS"


async def test_an_lrs_given_on_its_command_line_is_used_and_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_lrs: FakeLrs
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LRS_ENDPOINT=http://127.0.0.1:9/not-this-one/\n")
    options = PlaygroundOptions(
        directory=tmp_path / "pg",
        port=0,
        seed=False,
        lrs_endpoint=fake_lrs.endpoint,
        lrs_key=fake_lrs.key,
        lrs_secret=fake_lrs.secret,
    )
    playground = await Playground(options).start()
    try:
        await playground.slack.type_message(ADA, GENERAL, "/kudos @Ben for the calm incident call")
        await playground.settle()
        state = await page_state(playground)
        assert state["lrs"] == fake_lrs.endpoint
        sent = await eventually(
            lambda: {s["id"] for s in playground.statements() if s["status"] == "sent"},
            what="statements delivered to the LRS given on the command line",
        )
    finally:
        await playground.stop()
    assert sent <= set(fake_lrs.stored) and len(sent) >= 2


def test_the_lrs_options_reach_the_playground(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    started: list[PlaygroundOptions] = []

    async def fake_run(options: PlaygroundOptions) -> None:
        started.append(options)

    monkeypatch.setattr(playground_server, "run_playground", fake_run)
    endpoint = "http://127.0.0.1:8080/xAPI/"
    given = ["--lrs-endpoint", endpoint, "--lrs-key", "key-1", "--lrs-secret", "hunter2"]
    assert main(["playground", "--port", "0", *given]) == 0
    chosen = started[0]
    assert (chosen.lrs_endpoint, chosen.lrs_key, chosen.lrs_secret) == (
        endpoint,
        "key-1",
        "hunter2",
    )
    assert "hunter2" not in repr(chosen), "the secret stays out of logs"
    assert main(["playground", "--port", "0"]) == 0
    assert started[1].lrs_endpoint is None


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["--lrs-endpoint", "http://127.0.0.1:8080/xAPI/"], "--lrs-key and --lrs-secret"),
        (["--lrs-endpoint", "http://127.0.0.1:8080/xAPI/", "--lrs-key", "k"], "--lrs-secret"),
        (["--lrs-key", "k", "--lrs-secret", "s"], "--lrs-endpoint"),
        (["--lrs-endpoint", "lrs.example", "--lrs-key", "k", "--lrs-secret", "s"], "not a URL"),
        (
            ["--lrs-endpoint", "https://k:hunter2@lrs.example/", "--lrs-key", "k"],
            "--lrs-key and --lrs-secret",
        ),
    ],
)
def test_an_incomplete_lrs_on_the_command_line_stops_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: list[str],
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(playground_server, "run_playground", _never_started)
    assert main(["playground", "--port", "0", *given]) == EXIT_CONFIG
    problem = capsys.readouterr().err.strip()
    assert says in problem and "\n" not in problem
    assert "hunter2" not in problem


async def _never_started(_: PlaygroundOptions) -> None:
    raise AssertionError("the playground started despite a bad LRS option")


async def test_the_lnd_lead_moves_the_qa_channel_in_lnd_settings(playground: Playground) -> None:
    await playground.slack.open_home(ADA)
    await playground.settle()
    home = playground.slack.snapshot(ADA)["home"]
    [button] = [
        b["accessory"]
        for b in home["blocks"]
        if (b.get("accessory") or {}).get("action_id") == "home_lnd_settings"
    ]
    await playground.slack.click(ADA, {**button, "block_id": "x"}, view_id=home["id"])
    await playground.settle()
    modal = playground.slack.snapshot(ADA)["modal"]
    assert modal is not None and modal["callback_id"] == "lnd_settings"

    values = as_shown(modal)
    values["qa_channel"]["value"]["selected_conversation"] = GENERAL
    assert (await playground.slack.submit(ADA, modal["id"], values)).status == 200
    await playground.settle()
    assert playground.slack.snapshot(ADA)["modal"] is None

    await playground.slack.type_message(BEN, GENERAL, "/ask Which pytest plugins do you use?")
    await playground.settle()
    assert "Which pytest plugins" in json.dumps(bot_messages(playground, GENERAL)[-1])
    assert not any("Which pytest plugins" in json.dumps(m) for m in bot_messages(playground, QA))
