"""/expert (matching a topic to a skill, ranking by evidence, Endorse from the results) through
signed requests into the real app, with Slack faked."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.domain.people import Profile
from storage.models import Endorsement, OutboxStatement
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack

SEARCH = "http://activitystrea.ms/search"
_PLACE = re.compile(r"^\*(\d+)\. <@([UW][A-Z0-9]+)>\*( \(you\))?\n(.*)$", re.DOTALL)


pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def clocked_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack), slack, clock).start()
    yield harness
    await harness.close()


@pytest.fixture
async def text_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    """A bot that puts typed text into statements (XAPI_INCLUDE_TEXT)."""
    harness = BotHarness(settings_for(tmp_path, slack, XAPI_INCLUDE_TEXT="true"), slack)
    await harness.start()
    yield harness
    await harness.close()


# Helpers ---------------------------------------------------------------------------------------


def statements(bot: BotHarness, verb: str | None = None) -> list[dict[str, Any]]:
    with bot.database.reading() as session:
        found = session.exec(select(OutboxStatement).order_by(OutboxStatement.seq))
        bodies = [json.loads(row.body) for row in found]
    return [s for s in bodies if verb is None or s["verb"]["id"] == verb]


def places(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked lines, each as {user, you (marked as the searcher), evidence, button}."""
    found = []
    for block in blocks:
        if block["type"] != "section":
            continue
        line = _PLACE.match(block["text"]["text"])
        if line:
            assert int(line[1]) == len(found) + 1
            found.append(
                {
                    "user": line[2],
                    "you": bool(line[3]),
                    "evidence": line[4],
                    "button": block.get("accessory"),
                }
            )
    return found


def order(reply: dict[str, Any]) -> list[str]:
    return [p["user"] for p in places(reply["blocks"])]


def evidence(reply: dict[str, Any]) -> dict[str, str]:
    return {p["user"]: p["evidence"] for p in places(reply["blocks"])}


def notes(reply: dict[str, Any]) -> list[str]:
    return [
        element["text"]
        for block in reply["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    ]


async def expert(bot: BotHarness, topic: str, user: str = "U0ANN") -> dict[str, Any]:
    status, reply = await bot.command("/expert", topic, user)
    assert status == 200
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return reply


async def declare(bot: BotHarness, user: str, skills: str) -> None:
    _, reply = await bot.command("/skills", f"add {skills}", user)
    assert reply["text"].startswith(("Added", "Updated")), reply


# Usage -----------------------------------------------------------------------------------------


async def test_no_topic_or_help_shows_usage(bot: BotHarness) -> None:
    for text in ("", "help", "  Help "):
        status, reply = await bot.command("/expert", text, "U0ANN")
        assert status == 200
        assert "/expert &lt;topic&gt;" in reply["text"], text
        assert "top 5" in reply["text"]
    assert statements(bot) == []


# Ranking ---------------------------------------------------------------------------------------


async def test_a_kudos_naming_the_skill_moves_someone_up(bot: BotHarness) -> None:
    await declare(bot, "U0CAT", "python:expert")
    await declare(bot, "U0BOB", "python:expert")

    # Equal evidence: a stable order, the same every time.
    first = await expert(bot, "python")
    assert order(first) == ["U0CAT", "U0BOB"]
    assert order(await expert(bot, "python")) == ["U0CAT", "U0BOB"]
    assert evidence(first)["U0CAT"] == "expert (declared)"
    assert first["text"] == "Who knows #python: <@U0CAT>, <@U0BOB>"

    await bot.command("/kudos", "<@U0BOB> for the clear python review #python", "U0ANN")

    reply = await expert(bot, "python")
    assert order(reply) == ["U0BOB", "U0CAT"]
    assert evidence(reply)["U0BOB"] == "expert (declared) · 1 kudos for #python"
    assert evidence(reply)["U0CAT"] == "expert (declared)"


async def test_an_endorsement_moves_someone_up(bot: BotHarness) -> None:
    await declare(bot, "U0BOB", "python:expert")
    await declare(bot, "U0CAT", "python:expert")
    assert order(await expert(bot, "python")) == ["U0CAT", "U0BOB"]

    value = json.dumps({"user": "U0BOB", "skill": "python", "from": "profile"})
    await bot.press("skill_endorse", value, "U0ANN")

    reply = await expert(bot, "python")
    assert order(reply) == ["U0BOB", "U0CAT"]
    assert evidence(reply)["U0BOB"] == "expert (declared) · endorsed by 1"


async def test_the_declared_level_decides_when_other_evidence_is_equal(bot: BotHarness) -> None:
    await declare(bot, "U0BOB", "python:practitioner")
    await declare(bot, "U0CAT", "python:expert")
    for person in ("U0BOB", "U0CAT"):
        value = json.dumps({"user": person, "skill": "python", "from": "profile"})
        await bot.press("skill_endorse", value, "U0ANN")

    reply = await expert(bot, "python")

    assert order(reply) == ["U0CAT", "U0BOB"]
    assert evidence(reply) == {
        "U0CAT": "expert (declared) · endorsed by 1",
        "U0BOB": "practitioner (declared) · endorsed by 1",
    }


async def test_kudos_older_than_a_year_count_less_than_recent_ones(
    clocked_bot: BotHarness, clock: SettableClock
) -> None:
    bot = clocked_bot
    today = clock.now
    await declare(bot, "U0BOB", "python:expert")
    await declare(bot, "U0CAT", "python:expert")
    clock.now = today - timedelta(days=400)
    await bot.command("/kudos", "<@U0BOB> for the parser rewrite #python", "U0ANN")
    await bot.command("/kudos", "<@U0BOB> for the packaging fix #python", "U0CAT")
    # Back then, Bob's two kudos were fresh.
    assert order(await expert(bot, "python")) == ["U0BOB", "U0CAT"]

    clock.now = today
    await bot.command("/kudos", "<@U0CAT> for the clear python review #python", "U0ANN")

    # Two kudos from 400 days ago (a quarter each) weigh less than one from today.
    reply = await expert(bot, "python")
    assert order(reply) == ["U0CAT", "U0BOB"]
    assert evidence(reply) == {
        "U0CAT": "expert (declared) · 1 kudos for #python",
        "U0BOB": "expert (declared) · 2 kudos for #python",
    }


async def test_only_the_top_five_are_listed(bot: BotHarness, slack: FakeSlack) -> None:
    people = [f"U0P{n:02d}" for n in range(1, 8)]
    for user_id in people:
        slack.add_user(user_id, f"Person {user_id[-2:]}")
        await declare(bot, user_id, "python")

    reply = await expert(bot, "python")

    # All equal: the stable order happens to be by descending user id.
    top = sorted(people, reverse=True)[:5]
    assert order(reply) == top
    assert reply["text"] == "Who knows #python: " + ", ".join(f"<@{p}>" for p in top)


async def test_deactivated_people_and_apps_are_not_listed(bot: BotHarness) -> None:
    # Looking them up caches their profiles (deactivated; an app) as Slack reports them.
    for user_id in ("U0GONE", "U0ROBOT"):
        _, reply = await bot.command("/skills", f"<@{user_id}>", "U0ANN")
        assert "isn't a person here" in reply["text"]
    for user_id, deleted, is_bot in (("U0GONE", True, False), ("U0ROBOT", False, True)):
        profile = Profile(user_id, user_id, deleted=deleted, is_bot=is_bot)
        bot.services.skills.declare(TEAM_ID, profile, [("python", "expert")], f"seed:{user_id}")
    await declare(bot, "U0BOB", "python:learning")

    reply = await expert(bot, "python")

    assert order(reply) == ["U0BOB"]


async def test_the_searcher_is_marked_as_you_wherever_they_rank(bot: BotHarness) -> None:
    await declare(bot, "U0ANN", "python:expert")
    await declare(bot, "U0BOB", "python:learning")

    reply = await expert(bot, "python", "U0ANN")

    assert [(p["user"], p["you"]) for p in places(reply["blocks"])] == [
        ("U0ANN", True),
        ("U0BOB", False),
    ]
    assert reply["text"] == "Who knows #python: <@U0ANN> (you), <@U0BOB>"
    # Someone else searching sees Ann without the mark, and is not in the list.
    reply = await expert(bot, "python", "U0CAT")
    assert [(p["user"], p["you"]) for p in places(reply["blocks"])] == [
        ("U0ANN", False),
        ("U0BOB", False),
    ]
    assert reply["text"] == "Who knows #python: <@U0ANN>, <@U0BOB>"


# Matching --------------------------------------------------------------------------------------


async def test_an_exact_name_matches_even_with_nobody_on_the_map(bot: BotHarness) -> None:
    reply = await expert(bot, "#Python")

    assert reply["blocks"][0]["text"]["text"] == "Who knows #python"
    assert places(reply["blocks"]) == []
    assert "Nobody has evidence for `#python` yet" in json.dumps(reply["blocks"])
    assert reply["text"] == "Who knows #python: nobody yet"


async def test_an_alias_matches_its_skill(bot: BotHarness) -> None:
    await declare(bot, "U0BOB", "kubernetes:expert")

    reply = await expert(bot, "k8s")

    assert reply["blocks"][0]["text"]["text"] == "Who knows #kubernetes"
    assert order(reply) == ["U0BOB"]
    assert not any("closest" in note for note in notes(reply))


async def test_a_close_spelling_shows_the_closest_skill_and_says_so(bot: BotHarness) -> None:
    await declare(bot, "U0BOB", "python:expert")

    reply = await expert(bot, "pyhton")

    assert reply["blocks"][0]["text"]["text"] == "Who knows #python"
    assert "Showing `#python`, the closest skill to “pyhton”." in notes(reply)
    assert order(reply) == ["U0BOB"]


async def test_no_match_says_so_and_suggests_near_skills(bot: BotHarness) -> None:
    reply = await expert(bot, "rust")
    assert reply["text"] == (
        "I don't know a skill called “rust” yet. "
        "If you know it, `/skills add rust` starts the list."
    )
    block, offer = reply["blocks"]
    assert block["text"]["text"] == reply["text"]
    # ... and offers to post it as a question.
    [button] = offer["elements"]
    assert button["action_id"] == "expert_ask"
    assert json.loads(button["value"]) == {"user": None, "topic": "rust"}

    await declare(bot, "U0CAT", "rustlang:expert")

    reply = await expert(bot, "rust")
    assert "I don't know a skill called “rust” yet. Did you mean `#rustlang`?" in reply["text"]
    # Close enough to be taken as meant.
    reply = await expert(bot, "rustlan")
    assert reply["blocks"][0]["text"]["text"] == "Who knows #rustlang"
    assert order(reply) == ["U0CAT"]


async def test_a_channel_link_reads_as_the_skill_it_names(bot: BotHarness) -> None:
    await declare(bot, "U0BOB", "python:expert")

    reply = await expert(bot, "<#C123|python>")

    assert reply["text"] == "Who knows #python: <@U0BOB>"


# Statements ------------------------------------------------------------------------------------


async def test_a_matched_search_is_recorded_without_the_typed_text(bot: BotHarness) -> None:
    await expert(bot, "k8s")

    [search] = statements(bot)
    assert search["verb"]["id"] == SEARCH
    assert search["actor"]["account"]["name"] == "U0ANN"
    assert search["object"]["id"].endswith("/skills/kubernetes")
    assert "response" not in (search.get("result") or {})
    assert "k8s" not in json.dumps(search)


async def test_an_unmatched_search_is_not_recorded(bot: BotHarness) -> None:
    await expert(bot, "rust")

    assert statements(bot) == []


async def test_with_xapi_include_text_the_search_keeps_the_typed_query(
    text_bot: BotHarness,
) -> None:
    await expert(text_bot, "pyhton")

    [search] = statements(text_bot, SEARCH)
    assert search["object"]["id"].endswith("/skills/python")
    assert search["result"]["response"] == "pyhton"


# Endorsing from the results --------------------------------------------------------------------


async def test_endorsing_from_the_results_redraws_them_with_a_withdraw_button(
    bot: BotHarness,
) -> None:
    for user_id in ("U0ANN", "U0BOB", "U0CAT"):
        await declare(bot, user_id, "python")
    reply = await expert(bot, "python")
    lines = {p["user"]: p for p in places(reply["blocks"])}
    assert lines["U0ANN"]["button"] is None  # no Endorse on your own line
    bob = lines["U0BOB"]["button"]
    assert bob["action_id"] == "skill_endorse"
    assert json.loads(bob["value"]) == {"user": "U0BOB", "skill": "python", "from": "expert:python"}

    status, _ = await bot.press("skill_endorse", bob["value"], "U0ANN")

    assert status == 200
    with bot.database.reading() as session:
        [row] = session.exec(select(Endorsement))
    assert (row.endorser_id, row.user_id, row.slug) == ("U0ANN", "U0BOB", "python")
    [redrawn] = bot.slack.responses
    assert redrawn["replace_original"] is True
    assert order(redrawn) == ["U0BOB", "U0CAT", "U0ANN"]
    lines = {p["user"]: p for p in places(redrawn["blocks"])}
    assert lines["U0BOB"]["evidence"] == "practitioner (declared) · endorsed by 1"
    assert lines["U0BOB"]["button"]["action_id"] == "skill_withdraw"
    assert lines["U0CAT"]["button"]["action_id"] == "skill_endorse"
    assert lines["U0ANN"]["button"] is None

    await bot.press("skill_withdraw", bob["value"], "U0ANN")

    lines = {p["user"]: p for p in places(bot.slack.responses[-1]["blocks"])}
    assert lines["U0BOB"]["evidence"] == "practitioner (declared)"
    assert lines["U0BOB"]["button"]["action_id"] == "skill_endorse"


# Ask: from a result, or when nothing matched ----------------------------------------------------


@pytest.fixture
async def qa_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack, QA_CHANNEL="C0QA"), slack).start()
    yield harness
    await harness.close()


def ask_button(blocks: list[dict[str, Any]], user: str | None) -> dict[str, Any]:
    return next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "expert_ask" and json.loads(element["value"])["user"] == user
    )


def typed(question: str) -> dict[str, Any]:
    return {"question": {"question_input": {"type": "plain_text_input", "value": question}}}


async def test_ask_on_a_result_posts_the_question_to_that_person_with_the_topic(
    qa_bot: BotHarness,
) -> None:
    await declare(qa_bot, "U0BOB", "python:expert")
    reply = await expert(qa_bot, "python")
    button = ask_button(reply["blocks"], "U0BOB")

    await qa_bot.press(button["action_id"], button["value"], "U0ANN")
    [form] = qa_bot.opened_views()
    assert "To <@U0BOB>" in json.dumps(form) and "#python" in json.dumps(form)

    status, ack = await qa_bot.submit(form, typed("Too short"), "U0ANN", view_id="V0ASK")
    assert status == 200 and ack["response_action"] == "errors"
    assert "at least 3 words" in ack["errors"]["question"]
    assert qa_bot.slack.calls_to("chat.postMessage") == []

    status, ack = await qa_bot.submit(
        form, typed("How do I profile a slow script?"), "U0ANN", view_id="V0ASK"
    )

    assert ack["response_action"] == "update"
    [post] = qa_bot.slack.calls_to("chat.postMessage")
    assert post["channel"] == "C0QA"
    assert "<@U0ANN> asks <@U0BOB>" in post["text"]
    assert "`#python`" in json.dumps(post["blocks"])
    # The form then says where the question went.
    [update] = qa_bot.slack.calls_to("views.update")
    assert update["view_id"] == "V0ASK" and "I posted" in json.dumps(update["view"])
    [asked] = statements(qa_bot, "http://adlnet.gov/expapi/verbs/asked")
    assert [a["id"].rsplit("/", 1)[-1] for a in asked["context"]["contextActivities"]["other"]] == [
        "python"
    ]


async def test_an_echoed_person_that_is_no_user_id_is_not_addressed(
    qa_bot: BotHarness,
) -> None:
    await declare(qa_bot, "U0BOB", "python:expert")
    reply = await expert(qa_bot, "python")
    button = ask_button(reply["blocks"], "U0BOB")
    await qa_bot.press(button["action_id"], button["value"], "U0ANN")
    [form] = qa_bot.opened_views()
    # What a client could send back in private_metadata: markup instead of a user id.
    form["private_metadata"] = json.dumps({"user": "U0BOB> <!channel", "topic": "python"})

    await qa_bot.submit(form, typed("How do I profile a slow script?"), "U0ANN", view_id="V0ASK")

    posts = qa_bot.slack.calls_to("chat.postMessage")
    [post] = [p for p in posts if p["channel"] == "C0QA"]
    assert post["text"] == ":question: <@U0ANN> asks: How do I profile a slow script?"
    assert "<!channel" not in json.dumps(posts)


async def test_with_no_match_the_question_can_still_be_posted(qa_bot: BotHarness) -> None:
    reply = await expert(qa_bot, "rust")
    button = ask_button(reply["blocks"], None)

    await qa_bot.press(button["action_id"], button["value"], "U0ANN")
    [form] = qa_bot.opened_views()
    await qa_bot.submit(form, typed("Who can review my rust crate?"), "U0ANN", view_id="V0ASK")

    [post] = qa_bot.slack.calls_to("chat.postMessage")
    assert post["text"] == ":question: <@U0ANN> asks: Who can review my rust crate?"


async def test_ask_without_a_qa_channel_says_it_is_not_set_up(bot: BotHarness) -> None:
    await declare(bot, "U0BOB", "python:expert")
    reply = await expert(bot, "python")
    button = ask_button(reply["blocks"], "U0BOB")

    await bot.press(button["action_id"], button["value"], "U0ANN")

    assert bot.opened_views() == []
    [told] = bot.slack.responses
    assert "QA_CHANNEL" in told["text"]
