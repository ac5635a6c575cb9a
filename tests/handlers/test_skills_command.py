"""/skills (profiles, add, remove, the Edit form, Endorse buttons, forget me) through signed
requests into the real app, with Slack faked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from storage.models import (
    Endorsement,
    OutboxStatement,
    PersonSkill,
    Skill,
    SkillOptOut,
    SkillStatement,
)
from storage.repositories import outbox as outbox_repo
from tests.support.harness import BotHarness
from tests.support.slack import GUILDBOT

AS = "http://activitystrea.ms/"
ADD, REMOVE, LIKE = AS + "add", AS + "remove", AS + "like"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


pytestmark = pytest.mark.usefixtures("no_listener_failures")


# Helpers ---------------------------------------------------------------------------------------


def rows(bot: BotHarness, model: type) -> list[Any]:
    with bot.database.reading() as session:
        return list(session.exec(select(model)))


def skills_of(bot: BotHarness, user_id: str) -> dict[str, str]:
    return {r.slug: r.level for r in rows(bot, PersonSkill) if r.user_id == user_id}


def endorsements(bot: BotHarness) -> list[tuple[str, str, str]]:
    return sorted((r.endorser_id, r.user_id, r.slug) for r in rows(bot, Endorsement))


def statements(bot: BotHarness, verb: str | None = None) -> list[dict[str, Any]]:
    with bot.database.reading() as session:
        found = session.exec(select(OutboxStatement).order_by(OutboxStatement.seq))
        bodies = [json.loads(row.body) for row in found]
    return [s for s in bodies if verb is None or s["verb"]["id"] == verb]


def skill_of(statement: dict[str, Any]) -> str:
    """`…/skills/python` → `python`."""
    object_id = statement["object"]["id"]
    assert "/skills/" in object_id, object_id
    return object_id.rsplit("/skills/", 1)[1]


def concerns(statement: dict[str, Any], user_id: str) -> bool:
    """A skill statement by the person, or an endorsement of them."""
    if statement["verb"]["id"] not in (ADD, REMOVE, LIKE):
        return False
    others = statement["context"]["contextActivities"].get("other", [])
    return statement["actor"]["account"]["name"] == user_id or any(
        a["id"].endswith(f"/people/{user_id}") for a in others
    )


def level_in(statement: dict[str, Any]) -> str:
    [level] = [
        value
        for key, value in statement["result"]["extensions"].items()
        if key.endswith("/extensions/level")
    ]
    return level


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def line_for(blocks: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    [block] = [b for b in blocks if b["type"] == "section" and f"`#{slug}`" in b["text"]["text"]]
    return block


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        accessory = block.get("accessory")
        if accessory and accessory["type"] == "button":
            found.append(accessory)
        if block["type"] == "actions":
            found += [e for e in block["elements"] if e["type"] == "button"]
    return found


def endorse_value(user: str, skill: str, origin: str = "profile") -> str:
    return json.dumps({"user": user, "skill": skill, "from": origin})


def picked(*slugs: str, levels: dict[str, str] | None = None) -> dict[str, Any]:
    """The Edit form's state as Slack sends it: the picker, and the level selects chosen."""
    values: dict[str, Any] = {
        "skills": {
            "skills_pick": {
                "type": "multi_external_select",
                "selected_options": [
                    {"value": s, "text": {"type": "plain_text", "text": f"#{s}"}} for s in slugs
                ],
            }
        }
    }
    for slug, level in (levels or {}).items():
        values[f"level:{slug}"] = {
            "skill_level": {
                "type": "static_select",
                "selected_option": {
                    "value": level,
                    "text": {"type": "plain_text", "text": level.capitalize()},
                },
            }
        }
    return values


def level_blocks(view: dict[str, Any]) -> dict[str, str]:
    """{slug: initially selected level} for each level select on the form."""
    return {
        b["block_id"].removeprefix("level:"): b["element"]["initial_option"]["value"]
        for b in view["blocks"]
        if b["block_id"].startswith("level:")
    }


async def open_edit_form(bot: BotHarness, user: str) -> dict[str, Any]:
    status, _ = await bot.press("skills_edit", "", user)
    assert status == 200
    return bot.opened_views()[-1]


# Adding and removing ---------------------------------------------------------------------------


async def test_adding_skills_stores_them_with_levels_and_one_add_statement_each(
    bot: BotHarness,
) -> None:
    status, reply = await bot.command(
        "/skills", "add Python:expert, k8s, public speaking:learning", "U0ANN"
    )

    assert status == 200
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert reply["text"] == (
        "Added #python (expert), #kubernetes (practitioner), #public-speaking (learning)."
    )
    assert skills_of(bot, "U0ANN") == {
        "python": "expert",
        "kubernetes": "practitioner",
        "public-speaking": "learning",
    }
    assert sorted(r.slug for r in rows(bot, Skill)) == ["kubernetes", "public-speaking", "python"]
    adds = statements(bot)
    assert [s["verb"]["id"] for s in adds] == [ADD, ADD, ADD]
    assert {skill_of(s): level_in(s) for s in adds} == {
        "python": "expert",
        "kubernetes": "practitioner",
        "public-speaking": "learning",
    }
    assert {s["actor"]["account"]["name"] for s in adds} == {"U0ANN"}
    assert len({s["id"] for s in adds}) == 3


async def test_adding_again_at_the_same_level_changes_nothing_and_a_new_level_updates(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add python:expert", "U0ANN")

    _, reply = await bot.command("/skills", "add #python:expert", "U0ANN")
    assert reply["text"] == "Already there: #python (expert)."
    assert len(statements(bot, ADD)) == 1

    _, reply = await bot.command("/skills", "add python:beginner", "U0ANN")
    assert reply["text"] == "Updated #python (learning)."
    assert skills_of(bot, "U0ANN") == {"python": "learning"}
    first, second = statements(bot, ADD)
    assert (level_in(first), level_in(second)) == ("expert", "learning")
    assert first["id"] != second["id"]


async def test_bad_adds_are_refused_with_how_to_do_it_and_store_nothing(bot: BotHarness) -> None:
    _, reply = await bot.command("/skills", "add python:guru", "U0ANN")
    assert "“guru” isn't a level I know" in reply["text"]
    assert all(level in reply["text"] for level in ("learning", "practitioner", "expert"))

    for text in ("add", "add  , ,"):
        _, reply = await bot.command("/skills", text, "U0ANN")
        assert "Name at least one skill" in reply["text"], text
        assert "/skills add python:expert" in reply["text"], text

    assert rows(bot, PersonSkill) == []
    assert rows(bot, Skill) == []
    assert statements(bot) == []


async def test_a_channel_link_reads_as_the_skill_it_names(bot: BotHarness) -> None:
    # Slack turns a typed #python into a link when a #python channel exists.
    _, reply = await bot.command("/skills", "add <#C123|python>:expert", "U0ANN")

    assert reply["text"] == "Added #python (expert)."
    assert skills_of(bot, "U0ANN") == {"python": "expert"}


async def test_removing_says_what_was_not_there_and_queues_a_remove_for_what_was(
    bot: BotHarness,
) -> None:
    _, reply = await bot.command("/skills", "remove react", "U0ANN")
    assert reply["text"] == "Not on your profile: #react."
    assert statements(bot) == []

    await bot.command("/skills", "add python, react", "U0ANN")
    _, reply = await bot.command("/skills", "remove reactjs, k8s", "U0ANN")

    assert reply["text"] == "Removed #react. Not on your profile: #kubernetes."
    assert skills_of(bot, "U0ANN") == {"python": "practitioner"}
    [remove] = statements(bot, REMOVE)
    assert skill_of(remove) == "react"
    assert "result" not in remove or not remove["result"]


async def test_remove_without_a_skill_asks_for_one(bot: BotHarness) -> None:
    _, reply = await bot.command("/skills", "remove", "U0ANN")

    assert reply["text"] == "Name the skill to remove. For example: `/skills remove react`"


async def test_an_ampersand_is_read_as_typed_not_as_its_html_entity(bot: BotHarness) -> None:
    await bot.command("/skills", "add R&amp;D", "U0ANN")  # what Slack sends for "R&D"

    [slug] = skills_of(bot, "U0ANN")
    assert "amp" not in slug


# Profiles --------------------------------------------------------------------------------------


async def test_your_profile_lists_your_skills_with_an_edit_button(bot: BotHarness) -> None:
    _, reply = await bot.command("/skills", "", "U0ANN")
    assert "You haven't added any skills yet" in " ".join(sections(reply["blocks"]))
    assert "none yet" in reply["text"]

    await bot.command("/skills", "add python:expert, react", "U0ANN")
    _, reply = await bot.command("/skills", "", "U0ANN")

    assert reply["text"] == "Skills of <@U0ANN>: #python (expert), #react (practitioner)"
    assert reply["blocks"][0]["text"]["text"] == "Your skills"
    assert "expert" in line_for(reply["blocks"], "python")["text"]["text"]
    assert "practitioner" in line_for(reply["blocks"], "react")["text"]["text"]
    [edit] = buttons(reply["blocks"])
    assert edit["action_id"] == "skills_edit"
    assert edit["text"]["text"] == "Edit skills"


async def test_help_and_unknown_words_show_usage(bot: BotHarness) -> None:
    _, reply = await bot.command("/skills", "help", "U0ANN")
    assert "/skills add &lt;skill&gt;[:level]" in reply["text"]
    assert "/skills forget me" in reply["text"]

    _, reply = await bot.command("/skills", "nonsense words", "U0ANN")
    assert reply["text"].startswith("I don't know `/skills nonsense words`.")
    assert "/skills add &lt;skill&gt;[:level]" in reply["text"]
    assert rows(bot, PersonSkill) == []


async def test_someone_elses_profile_has_endorse_buttons_and_no_edit(bot: BotHarness) -> None:
    await bot.command("/skills", "add python:expert, k8s", "U0BOB")

    _, reply = await bot.command("/skills", "<@U0BOB|bob>", "U0ANN")

    assert reply["text"] == "Skills of <@U0BOB>: #kubernetes (practitioner), #python (expert)"
    assert "<@U0BOB>" in sections(reply["blocks"])
    found = buttons(reply["blocks"])
    assert [b["action_id"] for b in found] == ["skill_endorse", "skill_endorse"]
    assert [json.loads(b["value"]) for b in found] == [
        {"user": "U0BOB", "skill": "kubernetes", "from": "profile"},
        {"user": "U0BOB", "skill": "python", "from": "profile"},
    ]


async def test_profiles_of_apps_gone_people_and_strangers_are_refused(bot: BotHarness) -> None:
    _, reply = await bot.command("/skills", "<@U0ROBOT>", "U0ANN")
    assert reply["text"] == "<@U0ROBOT> has no skills profile: it isn't a person here."
    _, reply = await bot.command("/skills", "<@U0GONE>", "U0ANN")
    assert reply["text"] == "<@U0GONE> has no skills profile: it isn't a person here."
    _, reply = await bot.command("/skills", "<@U0NOBODY>", "U0ANN")
    assert reply["text"] == "I couldn't find <@U0NOBODY> in this workspace."
    assert "blocks" not in reply


# Endorsing from a profile ----------------------------------------------------------------------


async def test_endorsing_from_a_profile_records_it_and_redraws_the_profile(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add python:expert", "U0BOB")
    _, profile = await bot.command("/skills", "<@U0BOB>", "U0ANN")
    [endorse] = buttons(profile["blocks"])

    status, _ = await bot.press("skill_endorse", endorse["value"], "U0ANN")

    assert status == 200
    assert endorsements(bot) == [("U0ANN", "U0BOB", "python")]
    [like] = statements(bot, LIKE)
    assert like["actor"]["account"]["name"] == "U0ANN"
    # Of Bob (the object, where agent filters look), for #python (where activity filters look).
    assert like["object"]["account"]["name"] == "U0BOB"
    skill, person = like["context"]["contextActivities"]["other"]
    assert skill["id"].endswith("/skills/python") and person["id"].endswith("/people/U0BOB")
    [redrawn] = bot.slack.responses
    assert redrawn["replace_original"] is True
    line = line_for(redrawn["blocks"], "python")
    assert "endorsed by 1" in line["text"]["text"]
    assert line["accessory"]["action_id"] == "skill_withdraw"
    assert json.loads(line["accessory"]["value"]) == json.loads(endorse["value"])

    # A second press (an old message, a double click) adds nothing.
    await bot.press("skill_endorse", endorse["value"], "U0ANN")
    assert endorsements(bot) == [("U0ANN", "U0BOB", "python")]
    assert len(statements(bot, LIKE)) == 1
    assert "endorsed by 1" in line_for(bot.slack.responses[-1]["blocks"], "python")["text"]["text"]


async def test_withdrawing_an_endorsement_deletes_it_and_voids_its_statement(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add python:expert", "U0BOB")
    value = endorse_value("U0BOB", "python")
    await bot.press("skill_endorse", value, "U0ANN")
    [like] = statements(bot, LIKE)

    await bot.press("skill_withdraw", value, "U0ANN")

    assert endorsements(bot) == []
    [void] = statements(bot, VOIDED)
    assert void["object"] == {"objectType": "StatementRef", "id": like["id"]}
    assert void["actor"] == GUILDBOT
    assert [r.statement_id for r in rows(bot, SkillStatement)].count(like["id"]) == 0
    line = line_for(bot.slack.responses[-1]["blocks"], "python")
    assert "endorsed by" not in line["text"]["text"]
    assert line["accessory"]["action_id"] == "skill_endorse"


async def test_endorsing_yourself_is_refused_ephemerally(bot: BotHarness) -> None:
    await bot.command("/skills", "add python:expert", "U0ANN")
    before = statements(bot)

    await bot.press("skill_endorse", endorse_value("U0ANN", "python"), "U0ANN")

    assert endorsements(bot) == []
    assert statements(bot) == before
    [refusal] = bot.slack.responses
    assert "You can't endorse yourself" in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    assert refusal.get("replace_original") is False


# The Edit form ---------------------------------------------------------------------------------


async def test_edit_opens_a_form_with_your_skills_and_their_levels(bot: BotHarness) -> None:
    await bot.command("/skills", "add python:expert, react", "U0ANN")

    view = await open_edit_form(bot, "U0ANN")

    [call] = bot.slack.calls_to("views.open")
    assert call["trigger_id"].endswith(".U0ANN.trigger")
    assert view["callback_id"] == "skills_edit"
    picker = next(b for b in view["blocks"] if b["block_id"] == "skills")
    assert picker["element"]["action_id"] == "skills_pick"
    assert [o["value"] for o in picker["element"]["initial_options"]] == ["python", "react"]
    assert level_blocks(view) == {"python": "expert", "react": "practitioner"}


async def test_typing_in_the_picker_offers_to_add_it_then_existing_matches(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add react", "U0BOB")
    view = await open_edit_form(bot, "U0ANN")

    status, answer = await bot.suggest(view, "skills_pick", "skills", "Reac", "U0ANN")

    assert status == 200
    options = answer["options"]
    assert (options[0]["text"]["text"], options[0]["value"]) == ("Add “Reac”", "reac")
    assert [o["text"]["text"] for o in options[1:]] == ["#react"]
    assert options[1]["value"] == "react"

    _, answer = await bot.suggest(view, "skills_pick", "skills", "k8s", "U0ANN")
    assert answer["options"][0]["value"] == "kubernetes"
    assert [o["value"] for o in answer["options"]].count("kubernetes") == 1

    _, answer = await bot.suggest(view, "skills_pick", "skills", "  ", "U0ANN")
    assert answer["options"] == []


async def test_changing_the_selection_redraws_one_level_select_per_skill(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add python:expert, react", "U0ANN")
    view = {**await open_edit_form(bot, "U0ANN"), "id": "V0EDIT", "hash": "h0"}
    # Ann set python to learning, then dropped react and picked kubernetes.
    values = picked("python", "react", levels={"python": "learning", "react": "practitioner"})
    selection = picked("python", "kubernetes")["skills"]["skills_pick"]["selected_options"]

    status, _ = await bot.view_action(
        view,
        {
            "type": "multi_external_select",
            "action_id": "skills_pick",
            "block_id": "skills",
            "selected_options": selection,
        },
        values,
        "U0ANN",
    )

    assert status == 200
    [update] = bot.slack.calls_to("views.update")
    assert (update["view_id"], update["hash"]) == ("V0EDIT", "h0")
    assert level_blocks(update["view"]) == {"python": "learning", "kubernetes": "practitioner"}
    assert update["view"]["private_metadata"] == view["private_metadata"]
    # Nothing is saved until the form is.
    assert skills_of(bot, "U0ANN") == {"python": "expert", "react": "practitioner"}


async def test_saving_an_empty_selection_is_an_error_on_the_picker(bot: BotHarness) -> None:
    await bot.command("/skills", "add python:expert", "U0ANN")
    view = await open_edit_form(bot, "U0ANN")
    before = statements(bot)

    status, answer = await bot.submit(view, picked(), "U0ANN", view_id="V0EDIT")

    assert status == 200
    assert answer["response_action"] == "errors"
    assert "Pick at least one skill" in answer["errors"]["skills"]
    assert skills_of(bot, "U0ANN") == {"python": "expert"}
    assert statements(bot) == before
    assert bot.slack.responses == []


async def test_saving_the_form_makes_the_profile_exactly_that_and_redraws_it(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add python:expert, react, sql:learning", "U0ANN")
    view = await open_edit_form(bot, "U0ANN")
    before = len(statements(bot))

    # python: new level; sql: unchanged; react: dropped; kubernetes: new (default level).
    status, answer = await bot.submit(
        view,
        picked("python", "sql", "kubernetes", levels={"python": "learning", "sql": "learning"}),
        "U0ANN",
        view_id="V0EDIT",
    )

    assert status == 200
    assert "response_action" not in answer, answer
    assert skills_of(bot, "U0ANN") == {
        "python": "learning",
        "sql": "learning",
        "kubernetes": "practitioner",
    }
    new = statements(bot)[before:]
    assert sorted((s["verb"]["id"], skill_of(s)) for s in new) == [
        (ADD, "kubernetes"),
        (ADD, "python"),
        (REMOVE, "react"),
    ]
    assert {skill_of(s): level_in(s) for s in new if s["verb"]["id"] == ADD} == {
        "kubernetes": "practitioner",
        "python": "learning",
    }
    [redrawn] = bot.slack.responses
    assert redrawn["replace_original"] is True
    assert redrawn["text"] == (
        "Skills of <@U0ANN>: #kubernetes (practitioner), #python (learning), #sql (learning)"
    )
    assert [b["action_id"] for b in buttons(redrawn["blocks"])] == ["skills_edit"]


async def test_picked_values_are_folded_like_typed_names(bot: BotHarness) -> None:
    view = await open_edit_form(bot, "U0ANN")

    # What a client can send back as option values, whatever the form offered.
    status, answer = await bot.submit(
        view,
        picked("Machine Learning", "k8s", "#Python", levels={"k8s": "expert"}),
        "U0ANN",
        view_id="V0EDIT",
    )

    assert status == 200 and "response_action" not in answer, answer
    assert skills_of(bot, "U0ANN") == {
        "machine-learning": "practitioner",
        "kubernetes": "expert",
        "python": "practitioner",
    }
    assert sorted(skill_of(s) for s in statements(bot, ADD)) == [
        "kubernetes",
        "machine-learning",
        "python",
    ]


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (picked("=()", "python"), "“=()” isn't a skill name"),
        (picked("python", levels={"python": "=HYPERLINK(1)"}), "isn't a level I know"),
    ],
)
async def test_a_picked_value_that_is_no_skill_or_level_is_refused_on_the_form(
    bot: BotHarness, values: dict[str, Any], problem: str
) -> None:
    await bot.command("/skills", "add react", "U0ANN")
    view = await open_edit_form(bot, "U0ANN")
    before = statements(bot)

    status, answer = await bot.submit(view, values, "U0ANN", view_id="V0EDIT")

    assert status == 200 and answer["response_action"] == "errors"
    assert problem in json.dumps(answer["errors"], ensure_ascii=False)
    assert skills_of(bot, "U0ANN") == {"react": "practitioner"}
    assert statements(bot) == before


@pytest.mark.parametrize(
    "forged",
    [
        "https://evil.example/collect",
        "http://localhost:{port}/respond/hook",  # the stand-in Slack, under another host name
        "https://hooks.slack.com.evil.example/x",
        "not a url",
    ],
)
async def test_saving_posts_only_to_a_slack_response_url(bot: BotHarness, forged: str) -> None:
    await bot.command("/skills", "add react", "U0ANN")
    view = await open_edit_form(bot, "U0ANN")
    port = bot.slack.base_url.split(":")[2].split("/")[0]
    view["private_metadata"] = json.dumps({"response_url": forged.format(port=port)})

    status, answer = await bot.submit(view, picked("python"), "U0ANN", view_id="V0EDIT")

    assert status == 200 and "response_action" not in answer
    assert skills_of(bot, "U0ANN") == {"python": "practitioner"}  # saved all the same
    assert bot.slack.responses == []  # and nothing was posted to the echoed address


# Forget me -------------------------------------------------------------------------------------


async def test_forget_me_asks_first_and_cancel_changes_nothing(bot: BotHarness) -> None:
    await bot.command("/skills", "add python:expert, react", "U0BOB")

    _, reply = await bot.command("/skills", "Forget me", "U0BOB")

    assert "your 2 skills" in sections(reply["blocks"])[0]
    confirm, cancel = buttons(reply["blocks"])
    assert (confirm["action_id"], confirm["style"]) == ("skills_forget_confirm", "danger")
    assert confirm["confirm"]["title"]["text"] == "Forget your skills?"
    assert cancel["action_id"] == "skills_forget_cancel"

    await bot.press("skills_forget_cancel", "", "U0BOB")

    [answer] = bot.slack.responses
    assert answer["text"].startswith("Nothing changed")
    assert answer["replace_original"] is True
    assert skills_of(bot, "U0BOB") == {"python": "expert", "react": "practitioner"}
    assert rows(bot, SkillOptOut) == []


async def test_forget_me_deletes_voids_and_leaves_rankings_until_a_skill_is_added(
    bot: BotHarness,
) -> None:
    await bot.command("/skills", "add python:expert, react", "U0BOB")
    await bot.command("/skills", "remove react", "U0BOB")
    delivered = {s["id"] for s in statements(bot)}  # as if the LRS had them already
    with bot.database.transaction() as session:
        outbox_repo.mark_sent(session, list(delivered), datetime.now(UTC))
    await bot.command("/skills", "add python", "U0CAT")
    await bot.press("skill_endorse", endorse_value("U0BOB", "python"), "U0ANN")  # received
    await bot.press("skill_endorse", endorse_value("U0CAT", "python"), "U0BOB")  # given
    await bot.press("skill_endorse", endorse_value("U0CAT", "python"), "U0ANN")  # not Bob's
    await bot.command("/kudos", "<@U0BOB> for the great python help #python", "U0ANN")
    about_bob = {s["id"] for s in statements(bot) if concerns(s, "U0BOB")}
    assert len(about_bob) == 5  # add python, add react, remove react, like received, like given
    kudos_ids = {s["id"] for s in statements(bot) if s["verb"]["id"] not in (ADD, REMOVE, LIKE)}
    _, ranked = await bot.command("/expert", "python", "U0ANN")
    assert "<@U0BOB>" in ranked["text"]
    bot.slack.responses.clear()

    await bot.press("skills_forget_confirm", "", "U0BOB")

    [done] = bot.slack.responses
    assert done["text"].startswith("Done: 1 skill and 2 endorsements deleted")
    assert done["replace_original"] is True
    assert skills_of(bot, "U0BOB") == {}
    assert endorsements(bot) == [("U0ANN", "U0CAT", "python")]
    assert [r.user_id for r in rows(bot, SkillOptOut)] == ["U0BOB"]
    # What may be in the LRS is voided; what never left is dropped before it could.
    voids = statements(bot, VOIDED)
    assert {v["object"]["id"] for v in voids} == about_bob & delivered
    assert len(voids) == 3
    assert not about_bob & {s["id"] for s in statements(bot)}
    assert kudos_ids <= {s["id"] for s in statements(bot)}
    assert [r for r in rows(bot, SkillStatement) if r.user_id == "U0BOB"] == []

    # Bob's #python kudos alone would rank him; he asked to be left out.
    _, ranked = await bot.command("/expert", "python", "U0ANN")
    assert ranked["text"] == "Who knows #python: <@U0CAT>"

    await bot.command("/skills", "add python:learning", "U0BOB")
    assert rows(bot, SkillOptOut) == []
    _, ranked = await bot.command("/expert", "python", "U0ANN")
    assert "<@U0BOB>" in ranked["text"]


async def test_a_skill_no_longer_on_the_profile_cannot_be_endorsed(bot: BotHarness) -> None:
    await bot.command("/skills", "add python", "U0BOB")
    await bot.command("/skills", "<@U0BOB>", "U0ANN")
    await bot.command("/skills", "remove python", "U0BOB")

    # Ann presses the Endorse button on the profile she opened before Bob removed it.
    await bot.press("skill_endorse", endorse_value("U0BOB", "python"), "U0ANN")

    assert endorsements(bot) == []
    assert statements(bot, LIKE) == []
    [refusal] = bot.slack.responses
    assert "doesn't list #python" in refusal["text"]


async def test_someone_who_chose_forget_me_cannot_be_endorsed(bot: BotHarness) -> None:
    await bot.command("/kudos", "<@U0BOB> for the great python help #python", "U0ANN")
    await bot.command("/skills", "forget me", "U0BOB")
    await bot.press("skills_forget_confirm", "", "U0BOB")
    bot.slack.responses.clear()

    _, profile = await bot.command("/skills", "<@U0BOB>", "U0ANN")
    await bot.press("skill_endorse", endorse_value("U0BOB", "python"), "U0ANN")

    # Their profile shows nothing to endorse, and an old button is refused.
    assert buttons(profile["blocks"]) == []
    assert endorsements(bot) == []
    [refusal] = bot.slack.responses
    assert "chosen not to be listed" in refusal["text"]
