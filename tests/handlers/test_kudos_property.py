"""/kudos under arbitrary text (Hypothesis), through signed requests into the real app.

Every request must ack with HTTP 200 and a non-empty ephemeral text that is not the error
boundary's apology, and the kudos rows (with their outbox statements and the channel post)
change only when the text is accepted.

How it runs: pytest-asyncio drives `@given` on an async test itself (each example is awaited
on the test's event loop), so the app started by the `kudos_bot` fixture keeps serving while
Hypothesis generates, and a failure is shrunk to a small input as usual. The fixture is
function-scoped on purpose: one app serves every example (starting one per example would be
far too slow), which is why the oracle compares before/after counts instead of absolute
ones, and why `HealthCheck.function_scoped_fixture` is suppressed. Examples are derandomised
and not saved to a database, so every run checks the same ~150 texts in a few seconds.

The oracle is computed without the handler: the text is accepted when it is not a help or
leaderboard request, the domain parser (`read_intent`) reads it, and every receiver is a
person who may get kudos (Bob or Cat; the giver is Ann). Ann's daily limit is set far above
what the examples can use, so the quota never refuses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.domain.kudos import KudosIntent, KudosRefused, read_intent
from storage.models import Kudos, OutboxStatement
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack

GIVER = "U0ANN"
# Known, active people other than the giver: the only ones kudos may go to.
MAY_RECEIVE = frozenset({"U0BOB", "U0CAT"})
APOLOGY = "something went wrong on our side"

# --- Strategies ------------------------------------------------------------------------------

# Slack sends UTF-8 form data, so anything but lone surrogates can arrive.
ANY_CHAR = st.characters(codec="utf-8")
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u00a0\u1680\u2003\u2028\u3000\u200b"

GOOD_MENTIONS = ["<@U0BOB>", "<@U0BOB|bob>", "<@U0CAT>", "<@U0CAT|Cat Tanaka>"]
BAD_MENTIONS = [
    "<@U0ANN>",  # the giver
    "<@U0ANN|ann>",
    "<@U0ROBOT>",  # a bot
    "<@U0GONE>",  # deactivated
    "<@UNKNOWN1>",  # Slack answers user_not_found
    "<@W0NOBODY|ghost>",
]
NOT_PEOPLE = [
    "<!subteam^S123|devs>",
    "<!subteam^S123>",
    "<!here>",
    "<!channel|@channel>",
    "@bob",
    "@here",
]
TAGS = ["#teamwork", "#Python.", "#c++", "<#C123|python>", "<#C123>", "#", "&#35;"]
WORDS = [
    "for",
    "the",
    "great",
    "demo",
    "thanks",
    "help",
    "leaderboard",
    "🎉",
    ":tada:",
    "!!!",
    "—",
    "<https://example.com/a|the docs>",
    "ann@example.com",
    "a#b",
    "&amp;",
    "<",
    ">",
    "|",
    "<@",
    "\x00",
]

mention = st.one_of(st.sampled_from(GOOD_MENTIONS), st.sampled_from(GOOD_MENTIONS + BAD_MENTIONS))
word = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    st.text(ANY_CHAR, min_size=1, max_size=8),
)
piece = st.one_of(
    word,
    word,
    word,
    st.sampled_from(TAGS),
    mention,
    st.sampled_from(NOT_PEOPLE),
)
separator = st.one_of(st.just(" "), st.just(" "), st.sampled_from(["", "  ", "\t", "\n", "\u00a0"]))


def _join(parts: list[tuple[str, str]]) -> str:
    return "".join(sep + part for sep, part in parts)


near_valid = st.builds(
    lambda lead, people, rest, tail: lead + _join(people) + _join(rest) + tail,
    st.sampled_from(["", " ", "\n "]),
    st.lists(st.tuples(separator, mention), max_size=3),
    st.lists(st.tuples(separator, piece), max_size=8),
    st.sampled_from(["", " ", " \t"]),
)

# Shaped like a real kudos (people, then a reason of plain words, then tags), so that a good
# share of the examples is accepted; near_valid then breaks such texts in every way.
kudos_shaped = st.builds(
    lambda people, reason, tags: _join(people) + _join(reason) + _join(tags),
    st.lists(st.tuples(separator, st.sampled_from(GOOD_MENTIONS)), min_size=1, max_size=3),
    st.lists(st.tuples(st.just(" "), word), min_size=2, max_size=6),
    st.lists(st.tuples(st.just(" "), st.sampled_from(TAGS)), max_size=2),
)

subcommands = st.one_of(
    st.sampled_from(
        [
            "help",
            "HELP",
            "  Help ",
            "help me with <@U0BOB> please",
            "leaderboard",
            "leaderboard month",
            "leaderboard all",
            "LEADERBOARD Week ",
            "leaderboard nonsense",
            "leaderboard  month",
            "leaderboard\tmonth",
            "leaderboards month",
        ]
    ),
    st.builds("leaderboard {}".format, st.text(ANY_CHAR, max_size=20)),
)

arbitrary = st.one_of(
    st.text(ANY_CHAR),
    st.text(ANY_CHAR, min_size=500, max_size=2000),
    st.text(st.sampled_from(WHITESPACE), max_size=20),
)

command_text = st.one_of(arbitrary, near_valid, kudos_shaped, subcommands)

# --- Oracle ----------------------------------------------------------------------------------


def accepted_intent(text: str) -> KudosIntent | None:
    """What /kudos must record for `text`, or None when it must record nothing."""
    typed = text.strip()
    if typed.lower() in ("", "help") or typed.partition(" ")[0].lower() == "leaderboard":
        return None
    try:
        intent = read_intent(typed)
    except KudosRefused:
        return None
    return intent if set(intent.receiver_ids) <= MAY_RECEIVE else None


@dataclass
class Tally:
    accepted: int = 0
    refused: int = 0


@dataclass
class KudosBot:
    harness: BotHarness
    tally: Tally


@pytest.fixture
async def kudos_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[KudosBot]:
    harness = await BotHarness(
        settings_for(tmp_path, slack, KUDOS_DAILY_LIMIT="100000"), slack
    ).start()
    tally = Tally()
    try:
        yield KudosBot(harness, tally)
    finally:
        await harness.close()
    # The generated examples must reach both sides of the oracle (the thresholds are above
    # what the explicit @examples give), or the property could pass with an oracle that never
    # accepts.
    assert tally.accepted >= 10, tally
    assert tally.refused >= 10, tally


def kudos_rows(bot: BotHarness) -> dict[str, Kudos]:
    with bot.database.reading() as session:
        return {row.id: row for row in session.exec(select(Kudos))}


def outbox_count(bot: BotHarness) -> int:
    with bot.database.reading() as session:
        return len(list(session.exec(select(OutboxStatement))))


def test_the_oracle_tells_accepted_from_refused_texts() -> None:
    intent = accepted_intent(" <@U0BOB> <@U0CAT|cat> <@U0BOB> for pairing on the outage #teamwork")
    assert intent is not None
    assert intent.receiver_ids == ("U0BOB", "U0CAT")
    for refused in (
        "",
        "help",
        "leaderboard month",
        "<@U0BOB> thanks",
        "<@U0BOB> <@U0ANN> for the great demo",
        "<@U0ROBOT> for the great demo",
        "<@U0GONE> for the great demo",
        "<@UNKNOWN1> for the great demo",
        "<@U0BOB> <!here> for the great demo",
        "@bob for the great demo",
    ):
        assert accepted_intent(refused) is None, refused


# --- The property ----------------------------------------------------------------------------


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=command_text)
@example(text="<@U0BOB> <@U0CAT|cat> for pairing on the outage #teamwork")
@example(text="<@U0BOB> for the great demo \x00 #c++")
@example(text="<@U0BOB> <@U0ANN> for the great demo")
@example(text="<@UNKNOWN1> for the great demo")
@example(text="leaderboard nonsense")
@example(text=" \t\n")
@example(text="\x00")
async def test_any_text_gets_a_polite_ephemeral_reply_and_stores_only_accepted_kudos(
    kudos_bot: KudosBot, text: str
) -> None:
    bot, slack = kudos_bot.harness, kudos_bot.harness.slack
    rows_before = kudos_rows(bot)
    outbox_before = outbox_count(bot)
    posts_before = len(slack.calls_to("chat.postMessage"))
    responses_before = len(slack.responses)
    intent = accepted_intent(text)

    status, reply = await bot.command("/kudos", text, GIVER)

    assert status == 200
    assert isinstance(reply, dict), reply
    assert reply.get("text", "").strip(), reply
    assert reply.get("response_type", "ephemeral") == "ephemeral", reply
    assert APOLOGY not in reply["text"], reply
    # The lazy post never fails either (a failure would answer through response_url).
    assert len(slack.responses) == responses_before, slack.responses[responses_before:]

    rows_after = kudos_rows(bot)
    new_rows = [row for row_id, row in rows_after.items() if row_id not in rows_before]
    assert rows_before.keys() <= rows_after.keys()
    posts = slack.calls_to("chat.postMessage")[posts_before:]
    if intent is None:
        event("refused")
        kudos_bot.tally.refused += 1
        assert new_rows == []
        assert outbox_count(bot) == outbox_before
        assert posts == []
        assert "Kudos sent" not in reply["text"]
        return

    event("accepted")
    kudos_bot.tally.accepted += 1
    assert sorted(row.receiver_id for row in new_rows) == sorted(set(intent.receiver_ids))
    for row in new_rows:
        assert (row.giver_id, row.reason, row.tags) == (
            GIVER,
            intent.reason,
            list(intent.values),
        )
    assert outbox_count(bot) == outbox_before + 2 * len(new_rows)  # give + receive each
    assert reply["text"].startswith("Kudos sent to ")
    assert all(f"<@{receiver}>" in reply["text"] for receiver in intent.receiver_ids)
    [post] = posts
    assert all(f"<@{receiver}>" in post["text"] for receiver in intent.receiver_ids)
