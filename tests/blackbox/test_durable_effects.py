"""What an acknowledged /kudos owes Slack survives a crash and a deploy, and is done once.

`python -m bot` as a real process against the stand-in Slack: the recognition post is owed in
the same transaction as the kudos, done right after the ack, and when that fails (Slack
erroring, the process killed, or stopped mid-call) the next process does it on its tick,
looking first for a post that landed late.
"""

from __future__ import annotations

import json
import signal

from storage.models import Kudos, Question, SlackEffect
from tests.support.blackbox import StartBot
from tests.support.process import BotProcess, eventually
from tests.support.slack import FakeSlack

# One tick (30 s) after the effect comes due, with room to spare.
NEXT_TICK_S = 75


def effects(bot: BotProcess) -> list[SlackEffect]:
    return bot.rows(SlackEffect)


def kudos(bot: BotProcess) -> list[Kudos]:
    return bot.rows(Kudos)


def recognitions_in(slack: FakeSlack, channel: str, key: str) -> list[dict]:
    """Messages in the channel that are this effect's post (by the key in their metadata)."""
    return [
        message
        for (c, _), message in slack.messages.items()
        if c == channel and (message.get("metadata") or {}).get("event_payload") == {"key": key}
    ]


async def test_a_recognition_slack_failed_is_posted_once_by_the_next_process_after_sigkill(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=500, times=1000)
    bot = await start_bot()

    status, reply = await bot.command("/kudos", "<@U0BOB> for the calm incident call", "U0ANN")
    assert status == 200 and "Kudos sent" in reply["text"]

    def failed_once() -> bool:
        owed = effects(bot)
        return bool(owed) and owed[0].attempts >= 1 and owed[0].claimed_until is None

    await eventually(failed_once, what="the first attempt to fail")
    await bot.kill()
    [owed] = effects(bot)
    assert owed.status == "pending" and owed.last_error == "Slack said fatal_error"
    assert kudos(bot)[0].post_ts is None

    slack.failures.clear()
    bot = await start_bot()

    await eventually(lambda: kudos(bot)[0].post_ts, timeout=NEXT_TICK_S, what="the post")
    [done] = effects(bot)
    assert done.status == "done"
    [post] = recognitions_in(slack, "C0GENERAL", done.key)
    assert post["ts"] == kudos(bot)[0].post_ts == json.loads(done.result or "{}")["ts"]


async def test_a_post_cut_short_by_sigterm_is_finished_once_by_the_next_process(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    # Slack takes 5 s to post; the bot may finish in-flight work for 1 s after SIGTERM.
    slack.delay_s["chat.postMessage"] = 5
    bot = await start_bot(SHUTDOWN_GRACE="1")

    status, _ = await bot.command("/kudos", "<@U0BOB> for pairing on the migration", "U0ANN")
    assert status == 200
    await eventually(lambda: slack.calls_to("chat.postMessage"), what="the post to start")
    bot.send_signal(signal.SIGTERM)

    assert await bot.wait(timeout=15) == 0
    assert "1 Slack effects handed over to the next process" in bot.stderr()
    [owed] = effects(bot)
    assert owed.status == "pending" and owed.claimed_until is None

    slack.delay_s.clear()
    bot = await start_bot()

    await eventually(lambda: effects(bot)[0].status == "done", timeout=NEXT_TICK_S, what="it")
    [done] = effects(bot)
    # The slow post did land, late: the next process found it instead of posting again.
    [post] = recognitions_in(slack, "C0GENERAL", done.key)
    assert kudos(bot)[0].post_ts == post["ts"]
    assert len(slack.calls_to("chat.postMessage")) == 1


def questions(bot: BotProcess) -> list[Question]:
    return bot.rows(Question)


def dms_to(slack: FakeSlack, user_id: str) -> list[dict]:
    return [m for (channel, _), m in slack.messages.items() if channel == "D" + user_id[1:]]


async def test_a_question_slack_failed_is_posted_with_its_dms_once_by_the_next_process_after_sigkill(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(QA_CHANNEL="C0QA")
    status, _ = await bot.command("/skills", "add python:expert", "U0BOB")
    assert status == 200
    slack.fail_next("chat.postMessage", status=500, times=1000)

    status, reply = await bot.command(
        "/ask", "How do I profile a slow script? #python", "U0ANN", response_url=slack.response_url
    )
    assert status == 200 and reply["text"] == "Posting your question in <#C0QA>…"

    def failed_once() -> bool:
        owed = [e for e in effects(bot) if e.kind == "questions.publish"]
        return bool(owed) and owed[0].attempts >= 1 and owed[0].claimed_until is None

    await eventually(failed_once, what="the first attempt to fail")
    await bot.kill()
    [question] = questions(bot)
    assert question.ts is None and dms_to(slack, "U0BOB") == []

    slack.failures.clear()
    bot = await start_bot(QA_CHANNEL="C0QA")

    await eventually(lambda: questions(bot)[0].ts, timeout=NEXT_TICK_S, what="the question")
    await eventually(lambda: dms_to(slack, "U0BOB"), timeout=NEXT_TICK_S, what="the DM")
    await eventually(
        lambda: {e.status for e in effects(bot)} == {"done"}, what="every effect to be done"
    )
    [publish] = [e for e in effects(bot) if e.kind == "questions.publish"]
    [post] = recognitions_in(slack, "C0QA", publish.key)
    assert post["ts"] == questions(bot)[0].ts
    [dm] = dms_to(slack, "U0BOB")
    assert "How do I profile a slow script?" in dm["text"]
    assert len([e for e in effects(bot) if e.kind == "questions.routed_dm"]) == 1
