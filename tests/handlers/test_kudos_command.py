"""/kudos through signed requests into the real app, with Slack faked."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from storage.models import Kudos, OutboxStatement
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack


def kudos_rows(bot: BotHarness) -> list[Kudos]:
    with bot.database.reading() as session:
        return list(session.exec(select(Kudos)))


def outbox_rows(bot: BotHarness) -> list[OutboxStatement]:
    with bot.database.reading() as session:
        return list(session.exec(select(OutboxStatement)))


async def test_kudos_is_stored_confirmed_and_posted(bot: BotHarness) -> None:
    status, reply = await bot.command(
        "/kudos", "<@U0BOB|bob> for the great demo #teamwork", "U0ANN"
    )

    assert status == 200
    assert "Kudos sent to <@U0BOB>" in reply["text"]
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    [row] = kudos_rows(bot)
    assert (row.giver_id, row.receiver_id, row.reason, row.tags) == (
        "U0ANN",
        "U0BOB",
        "for the great demo",
        ["teamwork"],
    )
    [post] = bot.slack.calls_to("chat.postMessage")
    assert post["channel"] == "C0GENERAL"
    assert "<@U0ANN>" in post["text"] and "<@U0BOB>" in post["text"]
    assert row.post_ts is not None


async def test_kudos_writes_give_and_receive_statements(bot: BotHarness) -> None:
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    statements = {json.loads(r.body)["verb"]["id"]: json.loads(r.body) for r in outbox_rows(bot)}
    give = statements["http://activitystrea.ms/give"]
    receive = statements["http://activitystrea.ms/receive"]
    assert give["actor"]["account"] == {"homePage": "https://acme.slack.com/", "name": "U0ANN"}
    assert receive["actor"]["account"]["name"] == "U0BOB"
    assert receive["context"]["statement"] == {"objectType": "StatementRef", "id": give["id"]}
    assert give["object"]["definition"]["type"] == "http://activitystrea.ms/badge"
    assert give["timestamp"].endswith("Z")
    # Message text stays out of statements unless XAPI_INCLUDE_TEXT is on.
    assert "great demo" not in json.dumps(give)


async def test_statements_name_people_by_their_full_names(bot: BotHarness) -> None:
    # Slack shows Ann (display name "Ann") as Ann Archer, and so do the statements.
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    statements = {json.loads(r.body)["verb"]["id"]: json.loads(r.body) for r in outbox_rows(bot)}
    give = statements["http://activitystrea.ms/give"]
    receive = statements["http://activitystrea.ms/receive"]
    assert give["actor"]["name"] == "Ann Archer"
    assert receive["actor"]["name"] == "Bob Baker"


async def test_with_xapi_include_text_the_reason_reads_as_typed(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """Slack sends command text escaped and with mentions as ids; the LRS gets the words."""
    bot = await BotHarness(settings_for(tmp_path, slack, XAPI_INCLUDE_TEXT="true"), slack).start()
    try:
        await bot.command(
            "/kudos",
            "<@U0BOB|bob> for the R&amp;D demo, pairing with <@U0ANN> &amp; <@U0CAT>",
            "U0ANN",
        )
        [row] = kudos_rows(bot)
        statements = [json.loads(r.body) for r in outbox_rows(bot)]
    finally:
        await bot.close()

    assert row.reason == "for the R&amp;D demo, pairing with <@U0ANN> &amp; <@U0CAT>"
    # The giver and the receiver are named in the statements; Cat is not, so her id stands.
    assert {s["result"]["response"] for s in statements} == {
        "for the R&D demo, pairing with @Ann Archer & @U0CAT"
    }


async def test_refusals_are_ephemeral_and_change_nothing(bot: BotHarness) -> None:
    cases = {
        "<@U0ANN> for being me again": "yourself",
        "<@U0ROBOT> for deploying so well": "app",
        "<@U0GONE> for years of great work": "no longer",
        "<@U0BOB> thanks": "at least 3 words",
        "for the great demo": "Start with the person",
        "@bob for the great demo": "pick the person",
        "<!subteam^S123|@devs> for the release": "not groups",
        "<@U0NOBODY> for the great demo": "couldn't find",
    }
    for text, expected in cases.items():
        status, reply = await bot.command("/kudos", text, "U0ANN")
        assert status == 200
        assert expected in reply["text"], (text, reply["text"])
    assert kudos_rows(bot) == []
    assert outbox_rows(bot) == []
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_help_and_empty_text_show_usage(bot: BotHarness) -> None:
    for text in ("help", "", "  HELP "):
        status, reply = await bot.command("/kudos", text, "U0ANN")
        assert status == 200
        assert "/kudos @person" in reply["text"]


async def test_private_channel_without_the_bot_gets_the_post_through_response_url(
    bot: BotHarness,
) -> None:
    bot.slack.unreachable_channels.add("G0PRIVATE")

    status, _ = await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN", "G0PRIVATE")

    assert status == 200
    [response] = bot.slack.responses
    assert response["response_type"] == "in_channel"
    assert "<@U0BOB>" in response["text"]
    assert len(kudos_rows(bot)) == 1


async def test_several_receivers_get_one_kudos_each(bot: BotHarness) -> None:
    await bot.command("/kudos", "<@U0BOB> <@U0CAT|cat> for pairing on the outage", "U0ANN")

    assert sorted(r.receiver_id for r in kudos_rows(bot)) == ["U0BOB", "U0CAT"]
    assert len(outbox_rows(bot)) == 4
    [post] = bot.slack.calls_to("chat.postMessage")
    assert "<@U0BOB>" in post["text"] and "<@U0CAT>" in post["text"]


async def test_profiles_are_cached_between_commands(bot: BotHarness) -> None:
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    await bot.command("/kudos", "<@U0BOB> for the second demo", "U0ANN")

    assert len(bot.slack.calls_to("users.info")) == 2  # Ann and Bob, once each


async def test_rate_limited_post_is_retried_after_retry_after(bot: BotHarness) -> None:
    bot.slack.fail_next(
        "chat.postMessage",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "1"},
    )

    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    assert len(bot.slack.calls_to("chat.postMessage")) == 2
    [row] = kudos_rows(bot)
    assert row.post_ts is not None


async def test_a_post_slack_refuses_for_good_is_dead_and_the_giver_hears_why(
    bot: BotHarness,
) -> None:
    bot.slack.fail_next("chat.postMessage", body={"ok": False, "error": "invalid_blocks"})

    status, reply = await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    assert status == 200
    assert "Kudos sent" in reply["text"]
    [note] = bot.slack.responses
    assert note["response_type"] == "ephemeral"
    assert "Slack said invalid_blocks" in note["text"] and "Traceback" not in note["text"]
    [dead] = bot.services.effects.dead_effects()
    assert dead.kind == "kudos.recognition" and dead.reason == "Slack said invalid_blocks"
    # Not retried: the tick finds nothing to do.
    assert await bot.effects.perform_due(bot.slack_client, bot.team_id) == 0


async def test_values_that_name_a_skill_become_skill_activities_and_evidence(
    bot: BotHarness,
) -> None:
    # "py" is an alias of the well-known skill python; "teamwork" names no skill.
    await bot.command("/kudos", "<@U0BOB> for pairing on the parser #py #teamwork", "U0ANN")

    [give, receive] = [json.loads(r.body) for r in outbox_rows(bot)]
    for statement in (give, receive):
        other = statement["context"]["contextActivities"]["other"]
        assert [a["id"].rsplit("/", 1)[-1] for a in other] == ["python"]
        assert other[0]["definition"]["type"] == "http://id.tincanapi.com/activitytype/tag"
    # Values stay as typed in their extension.
    values = [v for k, v in give["context"]["extensions"].items() if k.endswith("/values")]
    assert values == [["py", "teamwork"]]
    assert bot.services.skills.profile("T0GUILD", "U0BOB").recognised[0].slug == "python"
