"""The Give kudos and Remove kudos message shortcuts, through signed requests into the real app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.models import Kudos, OutboxStatement
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import GUILDBOT, FakeSlack

CHANNEL = "C0GENERAL"
CHAT_MESSAGE = "http://id.tincanapi.com/activitytype/chat-message"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def admin_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings_for(tmp_path, slack, LND_ADMINS="U0CAT"), slack, clock)
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def one_a_day_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings_for(tmp_path, slack, KUDOS_DAILY_LIMIT="1"), slack, clock)
    await harness.start()
    yield harness
    await harness.close()


# Helpers ---------------------------------------------------------------------------------------


def form(
    receivers: list[str], reason: str = "for the clear outage write-up", values: str = ""
) -> dict[str, Any]:
    """The form's state as Slack sends it on submission."""
    return {
        "receivers": {
            "receivers_input": {"type": "multi_users_select", "selected_users": receivers}
        },
        "reason": {"reason_input": {"type": "plain_text_input", "value": reason}},
        "values": {"values_input": {"type": "plain_text_input", "value": values or None}},
    }


def kudos_rows(bot: BotHarness) -> list[Kudos]:
    with bot.database.reading() as session:
        return list(session.exec(select(Kudos)))


def outbox_rows(bot: BotHarness) -> list[OutboxStatement]:
    with bot.database.reading() as session:
        return list(session.exec(select(OutboxStatement)))


def statements(bot: BotHarness) -> list[dict[str, Any]]:
    return [json.loads(row.body) for row in outbox_rows(bot)]


def permalink(channel: str, ts: str) -> str:
    return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def assert_form_closes(status: int, answer: Any) -> None:
    assert status == 200
    assert "response_action" not in answer and "errors" not in answer, answer


def form_errors(status: int, answer: Any) -> dict[str, str]:
    assert status == 200
    assert answer["response_action"] == "errors", answer
    return answer["errors"]


async def open_form(bot: BotHarness, giver: str, ts: str, channel: str = CHANNEL) -> dict[str, Any]:
    """Runs Give kudos on the message at `ts`; returns the modal it opened."""
    status, _ = await bot.shortcut("give_kudos", giver, bot.slack.messages[(channel, ts)], channel)
    assert status == 200
    return bot.opened_views()[-1]


async def give_by_form(
    bot: BotHarness,
    giver: str,
    author: str,
    view_id: str,
    reason: str = "for the clear outage write-up",
    channel: str = CHANNEL,
) -> str:
    """Ann-style: shortcut on the author's message, submit the form as prefilled. Returns the ts."""
    ts = bot.slack.write(channel, author, "Here is the outage write-up")
    view = await open_form(bot, giver, ts, channel)
    assert_form_closes(*await bot.submit(view, form([author], reason), giver, view_id))
    return ts


# Give kudos ------------------------------------------------------------------------------------


async def test_give_kudos_on_a_message_opens_the_form_and_posts_in_its_thread(
    bot: BotHarness, slack: FakeSlack
) -> None:
    ts = slack.write(CHANNEL, "U0BOB", "I wrote up last night's outage")

    status, _ = await bot.shortcut("give_kudos", "U0ANN", slack.messages[(CHANNEL, ts)])

    assert status == 200
    [opened] = slack.calls_to("views.open")
    assert opened["trigger_id"].endswith(".U0ANN.trigger")
    view = opened["view"]
    assert view["callback_id"] == "give_kudos"
    [who] = [b for b in view["blocks"] if b["block_id"] == "receivers"]
    assert who["element"]["initial_users"] == ["U0BOB"]
    assert json.loads(view["private_metadata"]) == {
        "channel": CHANNEL,
        "message_ts": ts,
        "thread_ts": ts,
        "permalink": permalink(CHANNEL, ts),
        "response_url": slack.response_url,
    }

    answer = await bot.submit(
        view, form(["U0BOB"], "for the clear outage write-up", "#teamwork, python"), "U0ANN"
    )

    assert_form_closes(*answer)
    [row] = kudos_rows(bot)
    assert (row.giver_id, row.receiver_id, row.reason, row.tags) == (
        "U0ANN",
        "U0BOB",
        "for the clear outage write-up",
        ["teamwork", "python"],
    )
    assert (row.source, row.source_key, row.channel_id, row.message_ts) == (
        "shortcut",
        "shortcut:V0FORM",
        CHANNEL,
        ts,
    )
    [post] = slack.calls_to("chat.postMessage")
    assert (post["channel"], post["thread_ts"]) == (CHANNEL, ts)
    assert "<@U0ANN>" in post["text"] and "<@U0BOB>" in post["text"]
    assert row.post_ts is not None and (CHANNEL, row.post_ts) in slack.messages
    [confirmation] = slack.calls_to("chat.postEphemeral")
    assert (confirmation["channel"], confirmation["user"]) == (CHANNEL, "U0ANN")
    assert confirmation["thread_ts"] == ts
    assert "Kudos sent to <@U0BOB>" in confirmation["text"]
    [section] = confirmation["blocks"]
    assert section["accessory"]["text"]["text"] == "Undo"
    assert section["accessory"]["action_id"] == "kudos_undo"
    assert section["accessory"]["value"] == "shortcut:V0FORM"
    assert slack.responses == []

    by_verb = {s["verb"]["id"]: s for s in statements(bot)}
    assert set(by_verb) == {"http://activitystrea.ms/give", "http://activitystrea.ms/receive"}
    for statement in by_verb.values():
        parents = statement["context"]["contextActivities"]["parent"]
        [message] = [p for p in parents if p["definition"]["type"] == CHAT_MESSAGE]
        assert message["definition"]["moreInfo"] == permalink(CHANNEL, ts)
    assert by_verb["http://activitystrea.ms/give"]["actor"]["account"]["name"] == "U0ANN"
    assert by_verb["http://activitystrea.ms/receive"]["actor"]["account"]["name"] == "U0BOB"


async def test_on_a_thread_reply_the_recognition_goes_to_the_parents_thread(
    bot: BotHarness, slack: FakeSlack
) -> None:
    parent = slack.write(CHANNEL, "U0CAT", "Who can look at the failing deploy?")
    reply = slack.write(CHANNEL, "U0BOB", "Fixed it, the cache key was stale", thread_ts=parent)

    view = await open_form(bot, "U0ANN", reply)
    assert_form_closes(*await bot.submit(view, form(["U0BOB"], "for fixing the deploy"), "U0ANN"))

    metadata = json.loads(view["private_metadata"])
    assert (metadata["message_ts"], metadata["thread_ts"]) == (reply, parent)
    [row] = kudos_rows(bot)
    assert row.message_ts == reply
    [post] = slack.calls_to("chat.postMessage")
    assert post["thread_ts"] == parent
    [confirmation] = slack.calls_to("chat.postEphemeral")
    assert confirmation["thread_ts"] == parent
    # The statements point at the reply the kudos are for, not at the thread's parent.
    for statement in statements(bot):
        parents = statement["context"]["contextActivities"]["parent"]
        [message] = [p for p in parents if p["definition"]["type"] == CHAT_MESSAGE]
        assert message["definition"]["moreInfo"] == permalink(CHANNEL, reply)


async def test_the_kudos_row_keeps_the_messages_permalink_after_the_post(
    bot: BotHarness, slack: FakeSlack
) -> None:
    ts = await give_by_form(bot, "U0ANN", "U0BOB", "V0LINK")

    [row] = kudos_rows(bot)
    assert row.post_ts is not None
    assert row.permalink == permalink(CHANNEL, ts)


@pytest.mark.parametrize(
    ("author", "bot_id", "expected"),
    [
        (None, "B0DEPLOY", "posted by an app"),
        ("U0ROBOT", "B0DEPLOY", "posted by an app"),
        ("U0ANN", None, "can't give them for your own message"),
    ],
    ids=["app-message", "app-message-with-user", "own-message"],
)
async def test_app_messages_and_your_own_are_refused_ephemerally(
    bot: BotHarness, slack: FakeSlack, author: str | None, bot_id: str | None, expected: str
) -> None:
    ts = slack.write(CHANNEL, author, "Deployed v1.2.3 to production", bot_id=bot_id)

    status, _ = await bot.shortcut("give_kudos", "U0ANN", slack.messages[(CHANNEL, ts)])

    assert status == 200
    [refusal] = slack.responses
    assert expected in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    assert refusal.get("replace_original") is False
    assert slack.calls_to("views.open") == []
    assert kudos_rows(bot) == []


async def test_form_problems_show_on_the_field_in_plain_words_and_store_nothing(
    bot: BotHarness, slack: FakeSlack
) -> None:
    ts = slack.write(CHANNEL, "U0BOB", "I wrote up last night's outage")
    view = await open_form(bot, "U0ANN", ts)

    errors = form_errors(*await bot.submit(view, form(["U0BOB"], "thanks Bob"), "U0ANN"))
    assert set(errors) == {"reason"}
    assert "at least 3 words" in errors["reason"]

    cases = {
        "U0ANN": "give them to yourself",
        "U0ROBOT": "Deploy Bot is an app",
        "U0GONE": "Former Colleague is no longer in this workspace",
        "U0NOBODY": "couldn't find",
    }
    for receiver, expected in cases.items():
        errors = form_errors(*await bot.submit(view, form(["U0BOB", receiver]), "U0ANN"))
        assert set(errors) == {"receivers"}, receiver
        assert expected in errors["receivers"], (receiver, errors)
        assert "<@" not in errors["receivers"] and "<!" not in errors["receivers"]

    assert kudos_rows(bot) == []
    assert outbox_rows(bot) == []
    assert slack.calls_to("chat.postMessage") == []

    # Fixed, and submitted again from the same (still open) form.
    assert_form_closes(*await bot.submit(view, form(["U0BOB"]), "U0ANN"))

    [row] = kudos_rows(bot)
    assert (row.receiver_id, row.source_key) == ("U0BOB", "shortcut:V0FORM")
    assert len(outbox_rows(bot)) == 2
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_an_exhausted_quota_is_shown_on_the_form(
    one_a_day_bot: BotHarness, slack: FakeSlack
) -> None:
    await give_by_form(one_a_day_bot, "U0ANN", "U0BOB", "V0FIRST")
    ts = slack.write(CHANNEL, "U0CAT", "I reviewed all the pull requests")
    view = await open_form(one_a_day_bot, "U0ANN", ts)

    errors = form_errors(*await one_a_day_bot.submit(view, form(["U0CAT"]), "U0ANN", "V0SECOND"))

    assert set(errors) == {"receivers"}
    assert "You've given all 1 of today's kudos" in errors["receivers"]
    assert "resets at midnight, your time" in errors["receivers"]
    assert "<!date" not in errors["receivers"]
    [row] = kudos_rows(one_a_day_bot)
    assert row.receiver_id == "U0BOB"
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_redelivered_submission_counts_and_posts_once(
    bot: BotHarness, slack: FakeSlack
) -> None:
    ts = slack.write(CHANNEL, "U0BOB", "I wrote up last night's outage")
    view = await open_form(bot, "U0ANN", ts)

    first = await bot.submit(view, form(["U0BOB"]), "U0ANN", "V0AGAIN")
    second = await bot.submit(view, form(["U0BOB"]), "U0ANN", "V0AGAIN")

    assert_form_closes(*first)
    assert_form_closes(*second)
    assert len(kudos_rows(bot)) == 1
    assert len(outbox_rows(bot)) == 2
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.calls_to("chat.postEphemeral")) == 1


async def test_undo_on_the_shortcuts_confirmation_takes_the_kudos_back(
    bot: BotHarness, slack: FakeSlack
) -> None:
    await give_by_form(bot, "U0ANN", "U0BOB", "V0UNDO")
    [confirmation] = slack.calls_to("chat.postEphemeral")
    undo_value = confirmation["blocks"][0]["accessory"]["value"]
    [given] = kudos_rows(bot)
    assert undo_value == "shortcut:V0UNDO"
    assert (CHANNEL, given.post_ts) in slack.messages

    status, _ = await bot.press("kudos_undo", undo_value, "U0ANN")

    assert status == 200
    [kudos] = kudos_rows(bot)
    assert kudos.revoked_at is not None
    [deleted] = slack.calls_to("chat.delete")
    assert (deleted["channel"], deleted["ts"]) == (CHANNEL, given.post_ts)
    assert (CHANNEL, given.post_ts) not in slack.messages
    voiding = [row for row in outbox_rows(bot) if row.voiding]
    voided = {json.loads(row.body)["object"]["id"] for row in voiding}
    assert voided == {kudos.give_statement_id, kudos.receive_statement_id}
    [answer] = slack.responses
    assert "Undone" in answer["text"]


async def test_without_the_bot_in_the_channel_both_messages_go_through_the_response_url(
    bot: BotHarness, slack: FakeSlack
) -> None:
    slack.unreachable_channels.add("G0PRIVATE")

    await give_by_form(bot, "U0ANN", "U0BOB", "V0PRIVATE", channel="G0PRIVATE")

    [kudos] = kudos_rows(bot)
    assert (kudos.channel_id, kudos.post_ts) == ("G0PRIVATE", None)
    assert [call["channel"] for call in slack.calls_to("chat.postMessage")] == ["G0PRIVATE"]
    assert slack.calls_to("chat.postEphemeral") == []
    recognition, confirmation = slack.responses
    assert recognition["response_type"] == "in_channel"
    assert "<@U0ANN>" in recognition["text"] and "<@U0BOB>" in recognition["text"]
    assert confirmation["response_type"] == "ephemeral"
    assert "Kudos sent to <@U0BOB>" in confirmation["text"]
    assert confirmation["blocks"][0]["accessory"]["value"] == "shortcut:V0PRIVATE"


async def test_a_response_url_that_is_not_slacks_is_never_posted_to(
    bot: BotHarness, slack: FakeSlack
) -> None:
    slack.unreachable_channels.add("G0PRIVATE")
    ts = slack.write("G0PRIVATE", "U0BOB", "Here is the outage write-up")
    view = await open_form(bot, "U0ANN", ts, "G0PRIVATE")
    # The stand-in Slack under another host name: not the host SLACK_API_URL names.
    elsewhere = slack.response_url.replace("127.0.0.1", "localhost")
    view["private_metadata"] = json.dumps(
        {**json.loads(view["private_metadata"]), "response_url": elsewhere}
    )

    assert_form_closes(*await bot.submit(view, form(["U0BOB"], "for the write-up"), "U0ANN"))

    [kudos] = kudos_rows(bot)  # given all the same
    assert kudos.post_ts is None
    assert slack.responses == []


# Remove kudos ----------------------------------------------------------------------------------


async def recognition_from_command(bot: BotHarness) -> Kudos:
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    [kudos] = kudos_rows(bot)
    assert kudos.post_ts is not None
    return kudos


async def recognition_from_form(bot: BotHarness) -> Kudos:
    await give_by_form(bot, "U0ANN", "U0BOB", "V0REMOVE")
    [kudos] = kudos_rows(bot)
    assert kudos.post_ts is not None
    return kudos


@pytest.mark.parametrize(
    "given_by", [recognition_from_command, recognition_from_form], ids=["command", "form"]
)
async def test_an_admin_removes_kudos_from_the_recognition_post(
    admin_bot: BotHarness, slack: FakeSlack, given_by: Any
) -> None:
    given = await given_by(admin_bot)
    post = slack.messages[(CHANNEL, given.post_ts)]

    status, _ = await admin_bot.shortcut("remove_kudos", "U0CAT", post)

    assert status == 200
    [kudos] = kudos_rows(admin_bot)
    assert kudos.revoked_at is not None
    voiding = [row for row in outbox_rows(admin_bot) if row.voiding]
    assert len(voiding) == 2
    bodies = [json.loads(row.body) for row in voiding]
    assert {b["object"]["id"] for b in bodies} == {
        kudos.give_statement_id,
        kudos.receive_statement_id,
    }
    assert all(b["verb"]["id"] == VOIDED for b in bodies)
    assert all(b["actor"] == GUILDBOT for b in bodies)
    [deleted] = slack.calls_to("chat.delete")
    assert (deleted["channel"], deleted["ts"]) == (CHANNEL, given.post_ts)
    assert (CHANNEL, given.post_ts) not in slack.messages
    [opened] = slack.calls_to("conversations.open")
    assert opened["users"] == "U0ANN"
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c["channel"].startswith("D")]
    assert dm["channel"] == "D0ANN"
    assert "<@U0CAT>" in dm["text"] and "removed your kudos to <@U0BOB>" in dm["text"]
    [told] = slack.responses
    assert told["response_type"] == "ephemeral"
    assert "Removed" in told["text"] and "<@U0ANN>" in told["text"]


async def test_only_admins_can_remove_kudos(admin_bot: BotHarness, slack: FakeSlack) -> None:
    given = await recognition_from_command(admin_bot)
    posts_before = len(slack.calls_to("chat.postMessage"))

    status, _ = await admin_bot.shortcut(
        "remove_kudos", "U0BOB", slack.messages[(CHANNEL, given.post_ts)]
    )

    assert status == 200
    [refusal] = slack.responses
    assert refusal["response_type"] == "ephemeral"
    assert "Only L&D admins can remove kudos" in refusal["text"]
    assert "<@U0CAT>" in refusal["text"]
    [kudos] = kudos_rows(admin_bot)
    assert kudos.revoked_at is None
    assert len(outbox_rows(admin_bot)) == 2
    assert slack.calls_to("chat.delete") == []
    assert slack.calls_to("conversations.open") == []
    assert len(slack.calls_to("chat.postMessage")) == posts_before
    assert (CHANNEL, given.post_ts) in slack.messages


async def test_removing_from_an_ordinary_message_is_refused(
    admin_bot: BotHarness, slack: FakeSlack
) -> None:
    await recognition_from_command(admin_bot)
    ts = slack.write(CHANNEL, "U0BOB", "Lunch anyone?")

    await admin_bot.shortcut("remove_kudos", "U0CAT", slack.messages[(CHANNEL, ts)])

    [refusal] = slack.responses
    assert "isn't a kudos recognition" in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    [kudos] = kudos_rows(admin_bot)
    assert kudos.revoked_at is None
    assert len(outbox_rows(admin_bot)) == 2
    assert slack.calls_to("chat.delete") == []
    assert slack.calls_to("conversations.open") == []


async def test_removing_twice_says_the_kudos_were_already_taken_back(
    admin_bot: BotHarness, slack: FakeSlack
) -> None:
    given = await recognition_from_command(admin_bot)
    post = dict(slack.messages[(CHANNEL, given.post_ts)])

    await admin_bot.shortcut("remove_kudos", "U0CAT", post)
    # Someone still had the post on screen (or Slack redelivered the shortcut).
    await admin_bot.shortcut("remove_kudos", "U0CAT", post)

    first, second = slack.responses
    assert "Removed" in first["text"]
    assert "already taken back" in second["text"]
    assert len([row for row in outbox_rows(admin_bot) if row.voiding]) == 2
    assert len(slack.calls_to("chat.delete")) == 1
    assert len(slack.calls_to("conversations.open")) == 1
