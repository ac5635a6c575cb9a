"""`python -m bot` as a real process: what Slack, users and operators see from outside.

Each test starts its own bot (fresh SQLite file, free port, FakeSlack in the test's event loop)
and checks only what is observable: HTTP answers, Slack Web API calls, the database file, the
LRS, exit codes and stderr.
"""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storage.models import Kudos, OutboxStatement
from tests.support.blackbox import (
    LRS_KEY,
    LRS_SECRET,
    StartBot,
    deliver,
    lrs_env,
    lrs_ids,
    new_person,
    outbox_drained,
)
from tests.support.lrs import RealLrs
from tests.support.process import (
    BOT_TOKEN,
    BotProcess,
    base_env,
    bot_env,
    eventually,
    free_port,
    run_bot_once,
)
from tests.support.slack import (
    SIGNING_SECRET,
    WORKSPACE_URL,
    FakeSlack,
    reaction_event,
    sign,
    slash_command_body,
)

GIVE = "http://activitystrea.ms/give"
RECEIVE = "http://activitystrea.ms/receive"


async def start_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[StartBot]:
    """Starts `python -m bot` (again, for restarts) on one port and one database file."""
    port = free_port()
    started: list[BotProcess] = []

    async def start(**overrides: str | None) -> BotProcess:
        bot = BotProcess(bot_env(tmp_path, slack.base_url, port, **overrides), tmp_path)
        started.append(bot)
        return await bot.start()

    yield start
    for bot in started:
        await bot.stop(timeout=10)


def kudos_rows(bot: BotProcess) -> list[Kudos]:
    return bot.rows(Kudos)


def outbox_rows(bot: BotProcess) -> list[OutboxStatement]:
    return bot.rows(OutboxStatement)


# Slack's side: signatures and the URL check --------------------------------------------------


async def test_stale_or_forged_requests_get_401_and_change_nothing(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot()
    body = slash_command_body("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)  # Slack's replay window is 5 min
    forged = sign(body, secret="not-the-signing-secret")

    for headers in (stale, forged, {}):
        status, _ = await bot.post(body, headers)
        assert status == 401, headers

    assert kudos_rows(bot) == []
    assert outbox_rows(bot) == []
    assert slack.calls_to("chat.postMessage") == []
    # The very same body, correctly signed, goes through: the refusals were the signatures'.
    status, reply = await bot.post(body, sign(body))
    assert status == 200, reply
    assert "Kudos sent" in reply["text"]


async def test_url_verification_answers_the_challenge(start_bot: StartBot) -> None:
    bot = await start_bot()

    status, reply = await bot.event(
        {
            "type": "url_verification",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "token": "legacy",
        }
    )

    assert status == 200
    assert reply == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


# /kudos end to end ----------------------------------------------------------------------------


async def test_kudos_is_acked_confirmed_posted_and_queued(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot()

    status, reply = await bot.command(
        "/kudos", "<@U0BOB> for the great demo", "U0ANN", response_url=slack.response_url
    )

    assert status == 200
    assert "Kudos sent to <@U0BOB>" in reply["text"]
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    # The ack means stored: the row exists the moment the answer arrives.
    [row] = kudos_rows(bot)
    assert (row.giver_id, row.receiver_id) == ("U0ANN", "U0BOB")
    # The public recognition follows after the ack.
    [post] = await eventually(lambda: slack.calls_to("chat.postMessage"), what="the post")
    assert post["channel"] == "C0GENERAL"
    assert "<@U0ANN>" in post["text"] and "<@U0BOB>" in post["text"]
    await eventually(lambda: kudos_rows(bot)[0].post_ts, what="the post's ts to be recorded")
    # No LRS configured: both statements wait in the outbox.
    counts = bot.outbox_counts()
    assert (counts.pending, counts.dead) == (2, 0)


@pytest.mark.lrs
async def test_kudos_statements_become_readable_from_the_lrs(
    start_bot: StartBot, slack: FakeSlack, real_lrs: RealLrs
) -> None:
    giver, receiver = new_person(slack, "Giver"), new_person(slack, "Receiver")
    bot = await start_bot(**lrs_env(real_lrs.endpoint))

    status, reply = await bot.command("/kudos", f"<@{receiver}> for the great demo", giver)

    assert status == 200 and "Kudos sent" in reply["text"]
    [row] = kudos_rows(bot)
    await eventually(outbox_drained(bot), timeout=20, what="the outbox to drain into the LRS")
    give_status, give = await real_lrs.statement(row.give_statement_id)
    receive_status, receive = await real_lrs.statement(row.receive_statement_id)
    assert (give_status, receive_status) == (200, 200)
    assert give["verb"]["id"] == GIVE
    assert give["actor"]["account"] == {"homePage": WORKSPACE_URL, "name": giver}
    assert receive["verb"]["id"] == RECEIVE
    assert receive["actor"]["account"]["name"] == receiver


# Durability: the acceptance test of the foundation --------------------------------------------


@pytest.mark.lrs
async def test_acked_kudos_survive_a_crash_and_reach_the_lrs_exactly_once(
    start_bot: StartBot, slack: FakeSlack, real_lrs: RealLrs
) -> None:
    giver, receiver = new_person(slack, "Giver"), new_person(slack, "Receiver")
    closed = f"http://127.0.0.1:{free_port()}/xAPI/"  # nothing listens there
    bot = await start_bot(**lrs_env(closed))

    status, reply = await bot.command("/kudos", f"<@{receiver}> for fixing the build", giver)
    assert status == 200 and "Kudos sent" in reply["text"]
    # Let the first delivery fail and give its claim back before the crash. (A crash inside a
    # claim leaves the rows leased for the forwarder's lease, 120 s, by design: only slower.)
    await eventually(_tried_and_released(bot), what="the first delivery attempt to fail")
    await bot.kill()

    [row] = kudos_rows(bot)
    queued = outbox_rows(bot)
    assert {r.statement_id: r.status for r in queued} == {
        row.give_statement_id: "pending",
        row.receive_statement_id: "pending",
    }
    assert all(r.attempts >= 1 for r in queued)  # the unreachable LRS was really tried

    restarted = await start_bot(**lrs_env(real_lrs.endpoint))
    await eventually(outbox_drained(restarted), timeout=20, what="the backlog to drain")
    assert await lrs_ids(real_lrs, GIVE, giver) == [row.give_statement_id]
    assert await lrs_ids(real_lrs, RECEIVE, receiver) == [row.receive_statement_id]
    assert await restarted.stop() == 0

    # Another restart finds nothing to send and sends nothing again.
    again = await start_bot(**lrs_env(real_lrs.endpoint))
    status = again.status()
    assert "outbox: 0 pending" in status and ", 0 dead" in status
    assert "forwarder idle" in status or "forwarder sending" in status
    assert await again.stop() == 0
    assert await lrs_ids(real_lrs, GIVE, giver) == [row.give_statement_id]
    assert await lrs_ids(real_lrs, RECEIVE, receiver) == [row.receive_statement_id]
    assert len(kudos_rows(bot)) == 1


def _tried_and_released(bot: BotProcess) -> Callable[[], bool]:
    """Every statement was tried once and given back to the outbox for a later attempt."""

    def check() -> bool:
        rows = outbox_rows(bot)
        return bool(rows) and all(r.attempts >= 1 and r.claimed_until is None for r in rows)

    return check


# Reaction kudos: events with Slack's retries, voiding that reaches the LRS ---------------------


@pytest.mark.lrs
async def test_reaction_kudos_and_their_removal_reach_the_lrs_once_voided(
    start_bot: StartBot, slack: FakeSlack, real_lrs: RealLrs
) -> None:
    reactor, author = new_person(slack, "Reactor"), new_person(slack, "Author")
    bot = await start_bot(**lrs_env(real_lrs.endpoint))
    ts = slack.write("C0GENERAL", author, "Here is how I fixed the flaky test")
    slack.react("C0GENERAL", ts, "trophy::skin-tone-2", reactor)
    added = reaction_event(
        "reaction_added", reactor, "trophy::skin-tone-2", "C0GENERAL", ts, author
    )

    # The first delivery and two retries of the same event.
    assert [await deliver(bot, added, "EvBB1", retry) for retry in (0, 1, 2)] == [200] * 3

    await eventually(lambda: kudos_rows(bot) and kudos_rows(bot)[0].post_ts, what="the kudos")
    [row] = kudos_rows(bot)
    assert (row.giver_id, row.receiver_id, row.source) == (reactor, author, "reaction")
    [reply] = [c for c in slack.calls_to("chat.postMessage") if c.get("thread_ts") == ts]
    assert f"<@{author}>" in reply["text"]
    await eventually(outbox_drained(bot), timeout=20, what="the kudos statements to reach the LRS")
    assert await lrs_ids(real_lrs, GIVE, reactor) == [row.give_statement_id]

    slack.react("C0GENERAL", ts, "trophy::skin-tone-2", reactor, add=False)
    removed = {**added, "type": "reaction_removed"}
    assert [await deliver(bot, removed, "EvBB2", retry) for retry in (0, 1)] == [200, 200]

    await eventually(
        outbox_drained(bot), timeout=20, what="the voiding statements to reach the LRS"
    )
    assert kudos_rows(bot)[0].revoked_at is not None
    for statement_id in (row.give_statement_id, row.receive_statement_id):
        status, _ = await real_lrs.statement(statement_id)
        assert status == 404  # voided statements are no longer returned by id
        status, voided = await real_lrs.voided_statement(statement_id)
        assert status == 200 and voided["id"] == statement_id
    # Queries by verb no longer find the give statement; per the spec they return instead the
    # voiding statement that targets it.
    voids = [r for r in outbox_rows(bot) if r.voiding]
    assert set(await lrs_ids(real_lrs, GIVE, reactor)) <= {r.statement_id for r in voids}
    # Exactly two voiding statements, each sent once, whoever redelivered what.
    assert len(voids) == 2 and {r.status for r in voids} == {"sent"}
    await eventually(lambda: slack.calls_to("chat.delete"), what="the recognition to be deleted")


# Operations -----------------------------------------------------------------------------------


async def test_sigterm_finishes_in_flight_work_then_exits_0(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    slack.delay_s["chat.postMessage"] = 1.5  # the recognition post is still running at SIGTERM
    bot = await start_bot()

    status, reply = await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    assert status == 200 and "Kudos sent" in reply["text"]
    bot.send_signal(signal.SIGTERM)

    # Meanwhile new requests are turned away rather than accepted and lost.
    async def refused() -> Any:
        status, _ = await bot.command("/guild", "help", "U0CAT")
        return status if status != 200 else None

    assert await eventually(refused, timeout=5, what="new requests to be refused") == 503
    assert await bot.wait(timeout=10) == 0
    assert len(slack.calls_to("chat.postMessage")) == 1
    # The post finished, not just started: its ts was recorded before the process ended.
    assert kudos_rows(bot)[0].post_ts is not None
    log = bot.stderr()
    assert "stopped" in log
    assert "Traceback" not in log


async def test_healthz_says_only_ok_and_guildbot_status_has_the_details(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot()
    await bot.command("/kudos", "<@U0BOB> <@U0CAT> for pairing on the outage", "U0ANN")

    assert await bot.get("/healthz") == (200, {"status": "ok"})
    status = bot.status()
    assert status.startswith("database: ok\n")
    assert "outbox: 4 pending" in status
    [process] = [line for line in status.splitlines() if line.startswith("process ")]
    assert "forwarder disabled" in process  # no LRS configured

    # A clean stop takes the process off the list.
    assert await bot.stop() == 0
    assert "process: none running" in bot.status()


async def test_host_limits_the_address_the_bot_listens_on(start_bot: StartBot) -> None:
    bot = await start_bot(HOST="127.0.0.2")  # loopback too, but not the usual address

    status, _ = await bot.get("/healthz")
    assert status == 200
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http:
            await http.get(f"http://127.0.0.1:{bot.port}/healthz")
    assert "127.0.0.2" in bot.stderr()  # the ready line says where it listens


# Fail fast ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SLACK_BOT_TOKEN": None}, "SLACK_BOT_TOKEN"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SLACK_SIGNING_SECRET": None}, "SLACK_SIGNING_SECRET"),
        ({"LRS_ENDPOINT": "http://127.0.0.1:9/xAPI/", "LRS_SECRET": None}, "LRS_SECRET"),
        ({"LRS_ENDPOINT": f"https://{LRS_KEY}:{LRS_SECRET}@127.0.0.1:9/xAPI/"}, "LRS_ENDPOINT"),
    ],
    ids=[
        "no-bot-token",
        "port-not-a-number",
        "port-out-of-range",
        "no-signing-secret",
        "lrs-without-secret",
        "lrs-endpoint-with-credentials",
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    tmp_path: Path, overrides: dict[str, str | None], named: str
) -> None:
    env = bot_env(
        tmp_path,
        "http://127.0.0.1:9/api/",  # never reached: settings fail first
        free_port(),
        **{"LRS_KEY": LRS_KEY, "LRS_SECRET": LRS_SECRET, **overrides},
    )

    finished = run_bot_once(env, tmp_path)

    assert finished.returncode != 0
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert named in lines[0]
    assert "Traceback" not in finished.stderr
    output = finished.stdout + finished.stderr
    for secret in (BOT_TOKEN, SIGNING_SECRET, LRS_SECRET):
        assert secret not in output


def test_an_empty_environment_names_the_bot_token(tmp_path: Path) -> None:
    finished = run_bot_once(base_env(tmp_path), tmp_path)

    assert finished.returncode != 0
    assert finished.stderr.count("\n") == 1
    assert "SLACK_BOT_TOKEN" in finished.stderr


def test_unreachable_slack_stops_start_up_naming_slack_api_url(tmp_path: Path) -> None:
    env = bot_env(tmp_path, f"http://127.0.0.1:{free_port()}/api/", free_port())

    finished = run_bot_once(env, tmp_path)

    assert finished.returncode != 0
    problems = [line for line in finished.stderr.splitlines() if "SLACK_API_URL" in line]
    assert len(problems) == 1, finished.stderr
    assert "Traceback" not in finished.stderr
    assert BOT_TOKEN not in finished.stdout + finished.stderr
