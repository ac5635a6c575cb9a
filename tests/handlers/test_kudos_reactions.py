"""Reaction kudos through signed Events API deliveries into the real app, with Slack faked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Kudos, OutboxStatement
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import GUILDBOT, FakeSlack, reaction_event

CHANNEL = "C0GENERAL"


def kudos_rows(bot: BotHarness) -> list[Kudos]:
    with bot.database.reading() as session:
        return list(session.exec(select(Kudos).order_by(Kudos.created_at)))


def statements(bot: BotHarness) -> list[dict]:
    with bot.database.reading() as session:
        rows = session.exec(select(OutboxStatement).order_by(OutboxStatement.seq))
        return [json.loads(row.body) for row in rows]


def recognitions(bot: BotHarness) -> list[dict]:
    return bot.slack.calls_to("chat.postMessage")


async def react(
    bot: BotHarness,
    user: str,
    ts: str,
    event_id: str,
    reaction: str = "trophy",
    add: bool = True,
    channel: str = CHANNEL,
    item_user: str | None = "from the message",
) -> tuple[int, object]:
    """What Slack does: records the reaction on the message, then delivers the event."""
    message = bot.slack.messages.get((channel, ts), {})
    author = message.get("user") if item_user == "from the message" else item_user
    if (channel, ts) in bot.slack.messages:
        bot.slack.react(channel, ts, reaction, user, add=add)
    kind = "reaction_added" if add else "reaction_removed"
    return await bot.event(reaction_event(kind, user, reaction, channel, ts, author), event_id)


@pytest.fixture
async def strict_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    """A bot whose givers have one kudos a day."""
    harness = await BotHarness(settings_for(tmp_path, slack, KUDOS_DAILY_LIMIT="1"), slack).start()
    yield harness
    await harness.close()


async def test_a_trophy_gives_the_author_kudos_and_thanks_them_in_the_thread(
    bot: BotHarness,
) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix for the flaky deploy")

    status, _ = await react(bot, "U0ANN", ts, "Ev001")

    assert status == 200
    [row] = kudos_rows(bot)
    assert (row.giver_id, row.receiver_id, row.source, row.message_ts) == (
        "U0ANN",
        "U0BOB",
        "reaction",
        ts,
    )
    [post] = recognitions(bot)
    assert post["channel"] == CHANNEL and post["thread_ts"] == ts
    assert "<@U0BOB>" in post["text"] and "<@U0ANN>" in post["text"]
    assert row.post_ts is not None
    # The reactor hears nothing when it worked: the thread reply is the whole answer.
    assert bot.slack.calls_to("chat.postEphemeral") == []
    assert bot.slack.calls_to("conversations.open") == []


async def test_reaction_statements_link_the_message_by_permalink(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")

    await react(bot, "U0ANN", ts, "Ev001")

    give, receive = statements(bot)
    assert give["verb"]["id"] == "http://activitystrea.ms/give"
    assert receive["verb"]["id"] == "http://activitystrea.ms/receive"
    assert give["actor"]["account"]["name"] == "U0ANN"
    assert receive["actor"]["account"]["name"] == "U0BOB"
    permalink = f"https://acme.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"
    assert give["object"]["definition"]["moreInfo"] == permalink
    [message] = [
        a
        for a in give["context"]["contextActivities"]["parent"]
        if a["definition"]["type"] == "http://id.tincanapi.com/activitytype/chat-message"
    ]
    assert message["definition"]["moreInfo"] == permalink


async def test_skin_tones_are_the_same_emoji_and_count_once(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")

    await react(bot, "U0ANN", ts, "Ev001", reaction="trophy::skin-tone-3")
    await react(bot, "U0ANN", ts, "Ev002", reaction="trophy::skin-tone-5")

    assert len(kudos_rows(bot)) == 1
    assert len(recognitions(bot)) == 1


async def test_slacks_retries_never_count_twice(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")

    for _ in range(3):
        status, _ = await react(bot, "U0ANN", ts, "Ev001")
        assert status == 200

    assert len(kudos_rows(bot)) == 1
    assert len(recognitions(bot)) == 1
    assert len(statements(bot)) == 2


async def test_other_emoji_and_reactions_without_an_author_are_acked_and_ignored(
    bot: BotHarness,
) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")

    results = [
        await react(bot, "U0ANN", ts, "Ev001", reaction="tada"),
        await react(bot, "U0ANN", ts, "Ev002", reaction="tada", add=False),
        await react(bot, "U0ANN", ts, "Ev003", item_user=None),
    ]

    # Acked, so Slack does not retry them; nothing recorded or said.
    assert [status for status, _ in results] == [200, 200, 200]
    assert kudos_rows(bot) == []
    assert bot.slack.calls_to("conversations.replies") == []
    assert recognitions(bot) == [] and bot.slack.calls_to("chat.postEphemeral") == []


async def test_a_custom_kudos_emoji_replaces_the_trophy(tmp_path: Path, slack: FakeSlack) -> None:
    bot = await BotHarness(settings_for(tmp_path, slack, KUDOS_EMOJI=":clap:"), slack).start()
    try:
        ts = slack.write(CHANNEL, "U0BOB", "Here's the fix")
        await react(bot, "U0ANN", ts, "Ev001")
        await react(bot, "U0CAT", ts, "Ev002", reaction="clap")

        assert [(k.giver_id, k.receiver_id) for k in kudos_rows(bot)] == [("U0CAT", "U0BOB")]
    finally:
        await bot.close()


async def test_reactions_on_an_apps_message_never_count(bot: BotHarness) -> None:
    # Slack names the app's bot user as item_user; the message itself says an app wrote it.
    ts = bot.slack.write(CHANNEL, "U0ROBOT", "Deploy finished", bot_id="B0DEPLOY")

    await react(bot, "U0ANN", ts, "Ev001")

    assert kudos_rows(bot) == []
    assert recognitions(bot) == [] and bot.slack.calls_to("chat.postEphemeral") == []


async def test_a_reaction_on_your_own_message_is_refused_privately(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0ANN", "I fixed it myself")

    await react(bot, "U0ANN", ts, "Ev001")

    assert kudos_rows(bot) == []
    [refusal] = bot.slack.calls_to("chat.postEphemeral")
    assert refusal["user"] == "U0ANN" and refusal["channel"] == CHANNEL
    assert "yourself" in refusal["text"]
    assert recognitions(bot) == []


async def test_reactions_count_only_in_channels_the_bot_is_in(bot: BotHarness) -> None:
    ts = bot.slack.write("C0PRIVATE", "U0BOB", "Here's the fix")
    bot.slack.channels_without_bot.add("C0PRIVATE")

    status, _ = await react(bot, "U0ANN", ts, "Ev001", channel="C0PRIVATE")

    assert status == 200
    assert kudos_rows(bot) == []
    assert recognitions(bot) == [] and bot.slack.calls_to("chat.postEphemeral") == []


async def test_a_reaction_on_a_thread_reply_is_answered_in_that_thread(bot: BotHarness) -> None:
    parent = bot.slack.write(CHANNEL, "U0CAT", "Anyone know why the build is red?")
    reply = bot.slack.write(CHANNEL, "U0BOB", "A stale cache: clear it", thread_ts=parent)

    await react(bot, "U0ANN", reply, "Ev001")

    [row] = kudos_rows(bot)
    assert row.receiver_id == "U0BOB" and row.message_ts == reply
    [post] = recognitions(bot)
    assert post["thread_ts"] == parent


async def test_removing_the_reaction_revokes_the_kudos_and_voids_its_statements(
    bot: BotHarness,
) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")
    await react(bot, "U0ANN", ts, "Ev001")
    [given] = kudos_rows(bot)

    status, _ = await react(bot, "U0ANN", ts, "Ev002", add=False)

    assert status == 200
    [row] = kudos_rows(bot)
    assert row.revoked_at is not None
    voids = [s for s in statements(bot) if s["verb"]["id"].endswith("/voided")]
    assert {v["object"]["id"] for v in voids} == {
        given.give_statement_id,
        given.receive_statement_id,
    }
    # guildbot voids: no new statement names the reactor.
    assert all(v["actor"] == GUILDBOT for v in voids)
    [deleted] = bot.slack.calls_to("chat.delete")
    assert (deleted["channel"], deleted["ts"]) == (CHANNEL, given.post_ts)


async def test_reacting_again_later_gives_kudos_again(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")
    await react(bot, "U0ANN", ts, "Ev001")
    await react(bot, "U0ANN", ts, "Ev002", add=False)

    await react(bot, "U0ANN", ts, "Ev003")

    rows = kudos_rows(bot)
    assert [r.revoked_at is None for r in rows] == [False, True]
    assert len(recognitions(bot)) == 2


async def test_a_retried_removal_does_not_revoke_a_later_reaction(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")
    await react(bot, "U0ANN", ts, "Ev001")
    await react(bot, "U0ANN", ts, "Ev002", add=False)
    await react(bot, "U0ANN", ts, "Ev003")

    # Slack redelivers the removal it thinks was lost.
    await react(bot, "U0ANN", ts, "Ev002", add=False)

    assert [r.revoked_at is None for r in kudos_rows(bot)] == [False, True]


async def test_removing_a_reaction_that_never_counted_changes_nothing(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0ANN", "My own message")
    await react(bot, "U0ANN", ts, "Ev001")

    status, _ = await react(bot, "U0ANN", ts, "Ev002", add=False)

    assert status == 200
    assert kudos_rows(bot) == [] and statements(bot) == []
    assert bot.slack.calls_to("chat.delete") == []


async def test_a_reaction_removed_before_it_was_handled_gives_nothing(bot: BotHarness) -> None:
    ts = bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")
    # Slack no longer shows Ann's trophy when the bot reads the message.
    event = reaction_event("reaction_added", "U0ANN", "trophy", CHANNEL, ts, "U0BOB")

    await bot.event(event, "Ev001")

    assert kudos_rows(bot) == []


async def test_over_quota_the_reactor_is_told_privately_when_it_resets(
    strict_bot: BotHarness,
) -> None:
    first = strict_bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")
    second = strict_bot.slack.write(CHANNEL, "U0CAT", "And the docs")
    await react(strict_bot, "U0ANN", first, "Ev001")

    await react(strict_bot, "U0ANN", second, "Ev002")

    assert [k.receiver_id for k in kudos_rows(strict_bot)] == ["U0BOB"]
    [refusal] = strict_bot.slack.calls_to("chat.postEphemeral")
    assert refusal["user"] == "U0ANN" and refusal["thread_ts"] == second
    assert "resets" in refusal["text"] and "<!date^" in refusal["text"]
    assert len(recognitions(strict_bot)) == 1


async def test_removing_a_reaction_gives_the_quota_back(strict_bot: BotHarness) -> None:
    first = strict_bot.slack.write(CHANNEL, "U0BOB", "Here's the fix")
    second = strict_bot.slack.write(CHANNEL, "U0CAT", "And the docs")
    await react(strict_bot, "U0ANN", first, "Ev001")
    await react(strict_bot, "U0ANN", first, "Ev002", add=False)

    await react(strict_bot, "U0ANN", second, "Ev003")

    standing = [k.receiver_id for k in kudos_rows(strict_bot) if k.revoked_at is None]
    assert standing == ["U0CAT"]


async def test_a_reactors_quota_follows_their_own_time_zone(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> None:
    # 23:30 in Tokyo: Cat's day ends in 30 minutes, whatever the server's clock says.
    clock.now = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    settings = settings_for(tmp_path, slack, KUDOS_DAILY_LIMIT="1")
    bot = await BotHarness(settings, slack, clock).start()
    try:
        first = slack.write(CHANNEL, "U0BOB", "Here's the fix")
        second = slack.write(CHANNEL, "U0ANN", "And the docs")
        await react(bot, "U0CAT", first, "Ev001")
        await react(bot, "U0CAT", second, "Ev002")
        assert len(kudos_rows(bot)) == 1

        clock.now = datetime(2026, 11, 30, 15, 0, 1, tzinfo=UTC)  # just past midnight in Tokyo
        await react(bot, "U0CAT", second, "Ev003", add=False)
        await react(bot, "U0CAT", second, "Ev004")

        assert [k.receiver_id for k in kudos_rows(bot)] == ["U0BOB", "U0ANN"]
    finally:
        await bot.close()


async def test_kudos_help_explains_reactions_and_where_they_count(
    tmp_path: Path, slack: FakeSlack
) -> None:
    bot = await BotHarness(settings_for(tmp_path, slack, KUDOS_EMOJI="clap"), slack).start()
    try:
        _, reply = await bot.command("/kudos", "help", "U0ANN")
    finally:
        await bot.close()

    assert ":clap:" in reply["text"]
    assert "channels guildbot is in" in reply["text"]
    assert "Give kudos" in reply["text"]
