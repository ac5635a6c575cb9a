"""L&D settings in Slack: the modal opened from App Home, saved as Slack submits it, and the
next request using the new settings, with no restart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.cli import main
from handlers import tick_jobs
from storage.models import (
    Kudos,
    PersonSkill,
    SessionJob,
    WorkspaceSetting,
    WorkspaceSettingChange,
)
from tests.handlers.test_home import open_home, section
from tests.handlers.test_kudos_reactions import react
from tests.handlers.test_lunchlearn import schedule
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, bot_env, settings_for
from tests.support.slack import TEAM_ID, FakeSlack

QA, NEW_QA = "C0QA", "C0NEWQA"
SETTINGS = "home_lnd_settings"

pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    """Ann is the L&D admin (LND_ADMINS); the Q&A channel is #qa (QA_CHANNEL)."""
    settings = settings_for(tmp_path, slack, QA_CHANNEL=QA, LND_ADMINS="U0ANN")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


# Driving the modal as Slack does ---------------------------------------------------------------


def settings_button(home: dict[str, Any]) -> dict[str, Any] | None:
    """The L&D settings button in a published App Home, if there is one."""
    for block in home["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == SETTINGS:
            return accessory
    return None


async def open_settings(bot: BotHarness, user: str) -> dict[str, Any] | None:
    """Presses L&D settings in the person's App Home (block_actions from a `home` view); the
    modal opened, if any."""
    [home] = await open_home(bot, "U0ANN")  # the admin's Home has the button
    button = settings_button(home)
    assert button is not None
    before = len(bot.opened_views())
    action = {"type": "button", "action_id": SETTINGS, "block_id": "settings", **button}
    status, _ = await bot.view_action(home, action, {}, user)
    assert status == 200
    opened = bot.opened_views()[before:]
    return opened[0] if opened else None


def as_shown(modal: dict[str, Any]) -> dict[str, Any]:
    """The modal's `state.values` as Slack sends them when submitted untouched."""
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        element = block["element"]
        kind = element["type"]
        if kind == "conversations_select":
            state = {"selected_conversation": element.get("initial_conversation")}
        elif kind == "multi_users_select":
            state = {"selected_users": element.get("initial_users") or []}
        elif kind == "checkboxes":
            state = {"selected_options": element.get("initial_options") or []}
        else:
            state = {"value": element.get("initial_value")}
        values[block["block_id"]] = {element["action_id"]: {"type": kind, **state}}
    return values


def filled(modal: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The modal as shown, with fields changed (by setting name) as a person would."""
    values = as_shown(modal)
    for name, new in changes.items():
        state = values[name]["value"]
        kind = state["type"]
        key = {
            "conversations_select": "selected_conversation",
            "multi_users_select": "selected_users",
            "checkboxes": "selected_options",
        }.get(kind, "value")
        if kind == "checkboxes":
            new = [o for o in modal_options(modal, name)] if new else []
        state[key] = new
    return values


def modal_options(modal: dict[str, Any], name: str) -> list[dict[str, Any]]:
    [block] = [b for b in modal["blocks"] if b["block_id"] == name]
    return list(block["element"]["options"])


async def save(bot: BotHarness, modal: dict[str, Any], user: str, **changes: Any) -> Any:
    status, answer = await bot.submit(modal, filled(modal, **changes), user)
    assert status == 200
    return answer


def changes_logged(bot: BotHarness) -> list[tuple[str, str, str, str]]:
    with bot.database.reading() as session:
        rows = session.exec(select(WorkspaceSettingChange).order_by(WorkspaceSettingChange.id))
        return [(r.name, r.old_value, r.new_value, r.changed_by) for r in rows]


def initial(modal: dict[str, Any], name: str) -> Any:
    return as_shown(modal)[name]["value"]


# The acceptance test ---------------------------------------------------------------------------


async def test_an_admin_moves_the_qa_channel_and_the_next_ask_goes_there(
    bot: BotHarness,
) -> None:
    _, answer = await bot.command("/ask", "How do I profile a slow script?", "U0BOB")
    assert answer["text"] == f"Posting your question in <#{QA}>…"

    modal = await open_settings(bot, "U0ANN")
    assert modal is not None and modal["callback_id"] == "lnd_settings"
    assert initial(modal, "qa_channel")["selected_conversation"] == QA
    answer = await save(bot, modal, "U0ANN", qa_channel=NEW_QA)
    assert answer in ({}, {"text": ""}, None), answer  # the modal closes

    before = len(bot.slack.calls_to("chat.postMessage"))
    _, answer = await bot.command("/ask", "Which logging library should we use?", "U0CAT")

    assert answer["text"] == f"Posting your question in <#{NEW_QA}>…"
    [posted] = [
        c
        for c in bot.slack.calls_to("chat.postMessage")[before:]
        if "logging library" in (c.get("text") or "")
    ]
    assert posted["channel"] == NEW_QA
    assert changes_logged(bot) == [("qa_channel", json.dumps(QA), json.dumps(NEW_QA), "U0ANN")]


async def test_another_replica_uses_the_change_from_its_next_database_tick(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    """Requests never read settings from the database: a replica that did not save the change
    has it once its tick (every 30 s) finds a change newer than its copy."""
    other = await BotHarness(bot.settings, slack, clock).start()
    try:
        modal = await open_settings(bot, "U0ANN")
        assert modal is not None
        await save(bot, modal, "U0ANN", qa_channel=NEW_QA)

        _, answer = await other.command("/ask", "How do I profile a slow script?", "U0BOB")
        assert answer["text"] == f"Posting your question in <#{QA}>…"
        for job in tick_jobs(other.services, other.effects, other.installed):
            await job()
        _, answer = await other.command("/ask", "Which logging library is best?", "U0CAT")
        assert answer["text"] == f"Posting your question in <#{NEW_QA}>…"
    finally:
        await other.close()


# The modal -------------------------------------------------------------------------------------


async def test_the_modal_shows_the_settings_in_force(bot: BotHarness) -> None:
    modal = await open_settings(bot, "U0ANN")

    assert modal is not None
    assert [b["block_id"] for b in modal["blocks"]] == [
        "qa_channel",
        "digest_channel",
        "digest_cron",
        "lnd_admins",
        "kudos_managers",
        "kudos_emoji",
        "kudos_daily_limit",
        "kudos_manager_daily_limit",
        "lunchlearn_reminders",
        "lunchlearn_checkin_code",
        "skill_aliases",
    ]
    assert initial(modal, "lnd_admins")["selected_users"] == ["U0ANN"]
    assert initial(modal, "kudos_emoji")["value"] == ":trophy:"
    assert initial(modal, "kudos_daily_limit")["value"] == "5"
    assert initial(modal, "kudos_manager_daily_limit")["value"] == "15"
    assert initial(modal, "lunchlearn_reminders")["value"] == "24h, 15m"
    assert initial(modal, "lunchlearn_checkin_code")["selected_options"] == []
    assert initial(modal, "digest_channel")["selected_conversation"] is None
    assert initial(modal, "digest_cron")["value"] == "0 9 * * 1"

    # Saved untouched: nothing changes, nothing is logged.
    await save(bot, modal, "U0ANN")
    assert changes_logged(bot) == []


async def test_bad_values_are_field_errors_and_change_nothing(bot: BotHarness) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None

    answer = await save(
        bot,
        modal,
        "U0ANN",
        lnd_admins=[],
        kudos_emoji=":white_check_mark:",
        kudos_daily_limit="0",
        lunchlearn_reminders="tomorrow",
        digest_cron="0 9 * * 8",
    )

    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        "lnd_admins": "Keep at least one L&D admin: only they can change these settings.",
        "kudos_emoji": "That one is taken: askers accept answers with it. Try trophy or clap.",
        "kudos_daily_limit": "Type a whole number, 1 or more.",
        "lunchlearn_reminders": (
            "Type offsets such as 24h, 2h30m, 15m (d, h, m; comma-separated), or nothing for none."
        ),
        "digest_cron": (
            "Type minute hour day month weekday, e.g. 0 9 * * 1 for Mondays 09:00 "
            "(weekday 8 is out of range (0-7, 0 or 7 = Sunday))."
        ),
    }
    assert changes_logged(bot) == []
    _, reply = await bot.command("/ask", "Still the old channel?", "U0BOB")
    assert reply["text"] == f"Posting your question in <#{QA}>…"


async def test_no_one_but_an_lnd_admin_opens_or_saves_the_settings(bot: BotHarness) -> None:
    [bobs_home] = await open_home(bot, "U0BOB")
    assert settings_button(bobs_home) is None
    assert "Settings changes" not in json.dumps(bobs_home)

    # Bob presses a button he was never shown (a forged request): no modal; his Home redrawn.
    assert await open_settings(bot, "U0BOB") is None

    # And submits the modal he could not open: refused on the form, nothing changes.
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    answer = await save(bot, modal, "U0BOB", qa_channel=NEW_QA, lnd_admins=["U0BOB"])
    assert answer == {
        "response_action": "errors",
        "errors": {
            "lnd_admins": "Only L&D admins change guildbot's settings here. Ask Ann Archer."
        },
    }
    assert changes_logged(bot) == []


async def test_an_admin_names_another_admin_who_can_then_change_settings(bot: BotHarness) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    await save(bot, modal, "U0ANN", lnd_admins=["U0ANN", "U0CAT"])

    [cats_home] = await open_home(bot, "U0CAT")
    assert settings_button(cats_home) is not None
    modal = await open_settings(bot, "U0CAT")
    assert modal is not None
    assert initial(modal, "lnd_admins")["selected_users"] == ["U0ANN", "U0CAT"]
    await save(bot, modal, "U0CAT", lunchlearn_checkin_code=True, lunchlearn_reminders="1h")

    assert [(name, by) for name, _, _, by in changes_logged(bot)] == [
        ("lnd_admins", "U0ANN"),
        ("lunchlearn_reminders", "U0CAT"),
        ("lunchlearn_checkin_code", "U0CAT"),
    ]


async def test_app_home_shows_admins_who_changed_what_and_when(
    bot: BotHarness, clock: SettableClock
) -> None:
    [home] = await open_home(bot, "U0ANN")
    assert section(home, "Settings changes") == (
        "*Settings changes* (L&D)\nNone made in Slack yet."
    )
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    before = len(bot.slack.calls_to("views.publish"))

    await save(bot, modal, "U0ANN", qa_channel=NEW_QA, kudos_managers=["U0BOB"])

    # Saving redraws the admin's Home with the change in its log.
    redrawn = bot.slack.calls_to("views.publish")[before:]
    assert [c["user_id"] for c in redrawn] == ["U0ANN"]
    when = f"<!date^{int(clock.now.timestamp())}^{{date_short_pretty}} {{time}}|recently>"
    [home] = await open_home(bot, "U0ANN")
    assert section(home, "Settings changes") == (
        "*Settings changes* (L&D)\n"
        f"• <@U0ANN> set *Kudos managers* to <@U0BOB> (was none), {when}\n"
        f"• <@U0ANN> set *Q&A channel* to <#{NEW_QA}> (was <#{QA}>), {when}"
    )


# Kudos settings, in force on the next request --------------------------------------------------


def kudos_rows(bot: BotHarness) -> list[Kudos]:
    with bot.database.reading() as session:
        return list(session.exec(select(Kudos)))


async def test_a_new_kudos_emoji_gives_kudos_on_the_next_reaction(bot: BotHarness) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    await save(bot, modal, "U0ANN", kudos_emoji=":Clap:")

    ts = bot.slack.write("C0GENERAL", "U0BOB", "Here's the fix for the flaky deploy")
    await react(bot, "U0CAT", ts, "Ev0TROPHY", reaction="trophy")
    assert kudos_rows(bot) == []
    await react(bot, "U0CAT", ts, "Ev0CLAP", reaction="clap")

    [row] = kudos_rows(bot)
    assert (row.giver_id, row.receiver_id, row.source) == ("U0CAT", "U0BOB", "reaction")
    _, answer = await bot.command("/kudos", "help", "U0CAT")
    assert ":clap:" in answer["text"]


async def test_new_kudos_limits_hold_from_the_next_kudos(bot: BotHarness) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    await save(bot, modal, "U0ANN", kudos_daily_limit="1", kudos_managers=["U0CAT"])

    _, reply = await bot.command("/kudos", "<@U0CAT> for the great demo", "U0BOB")
    assert "<@U0CAT>" in reply["text"] and "wasn't sent" not in reply["text"]
    _, reply = await bot.command("/kudos", "<@U0ANN> for the thorough review", "U0BOB")
    assert reply["text"].startswith("You've given all 1 of today's kudos"), reply
    [bobs_home] = await open_home(bot, "U0BOB")
    assert section(bobs_home, "Kudos this month").endswith("0 of 1 left to give today")
    # Cat, now a manager, has the managers' 15.
    [cats_home] = await open_home(bot, "U0CAT")
    assert section(cats_home, "Kudos this month").endswith("15 of 15 left to give today")
    assert len(kudos_rows(bot)) == 1


async def test_a_new_lnd_admin_schedules_lunch_and_learns_at_once(bot: BotHarness) -> None:
    _, reply = await bot.command("/lunchlearn", "", "U0CAT")
    assert reply["text"].startswith("Only L&D admins schedule"), reply
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    await save(bot, modal, "U0ANN", lnd_admins=["U0ANN", "U0CAT"])
    before = len(bot.opened_views())

    status, _ = await bot.command("/lunchlearn", "", "U0CAT")

    assert status == 200
    [form] = bot.opened_views()[before:]
    assert form["callback_id"] == "lunchlearn_schedule"


async def test_forgetting_a_person_takes_them_out_of_the_settings_and_their_log(
    bot: BotHarness, tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    await save(bot, modal, "U0ANN", lnd_admins=["U0ANN", "U0CAT"], kudos_managers=["U0CAT"])
    modal = await open_settings(bot, "U0CAT")
    assert modal is not None
    await save(bot, modal, "U0CAT", kudos_daily_limit="3")
    monkeypatch.chdir(tmp_path)
    for name, value in bot_env(tmp_path, slack, QA_CHANNEL=QA, LND_ADMINS="U0ANN").items():
        monkeypatch.setenv(name, value)

    assert main(["forget", "--user", "U0CAT"]) == 0

    with bot.database.reading() as session:
        stored = {r.name: (r.value, r.changed_by) for r in session.exec(select(WorkspaceSetting))}
    # Cat was the only manager: that setting is the environment's again.
    assert stored == {"lnd_admins": ('["U0ANN"]', "U0ANN"), "kudos_daily_limit": ("3", "")}
    assert not any("U0CAT" in str(change) for change in changes_logged(bot))
    # The running bot has it from its next tick: Cat is no admin, her change nobody's.
    for job in tick_jobs(bot.services, bot.effects, bot.installed):
        await job()
    [home] = await open_home(bot, "U0ANN")
    assert "A former colleague set *Kudos a day* to 3 (was 5)" in section(home, "Settings changes")
    _, reply = await bot.command("/lunchlearn", "", "U0CAT")
    assert reply["text"].startswith("Only L&D admins schedule"), reply


async def test_new_reminders_and_the_check_in_code_hold_for_the_next_session(
    bot: BotHarness,
) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None
    await save(bot, modal, "U0ANN", lunchlearn_reminders="2h", lunchlearn_checkin_code=True)

    lunch = await schedule(bot)

    assert lunch.checkin_code
    with bot.database.reading() as session:
        jobs = session.exec(select(SessionJob).where(SessionJob.session_id == lunch.id))
        reminders = sorted(j.kind for j in jobs if j.kind.startswith("reminder"))
    assert reminders == ["reminder:120"]


# Skill aliases ---------------------------------------------------------------------------------

OTHER_TEAM = "T0OTHER"


async def skills_in(bot: BotHarness, user: str, team_id: str = TEAM_ID) -> set[str]:
    with bot.database.reading() as session:
        rows = session.exec(
            select(PersonSkill).where(PersonSkill.user_id == user, PersonSkill.team_id == team_id)
        )
        return {row.slug for row in rows}


async def test_a_workspaces_own_skill_aliases_add_to_the_files_in_that_workspace_alone(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> None:
    """The alias file (SKILL_ALIASES_FILE) is every workspace's; an admin's aliases are added
    to it in their workspace, their own line winning."""
    aliases_file = tmp_path / "aliases.txt"
    aliases_file.write_text("monitoring: o11y, mon\n")
    settings = settings_for(
        tmp_path, slack, LND_ADMINS="U0ANN", SKILL_ALIASES_FILE=str(aliases_file)
    )
    bot = await BotHarness(settings, slack, clock).start()
    try:
        modal = await open_settings(bot, "U0ANN")
        assert modal is not None
        assert initial(modal, "skill_aliases")["value"] is None
        answer = await save(bot, modal, "U0ANN", skill_aliases="observability: o11y, obs\n")
        assert answer in ({}, {"text": ""}, None), answer

        _, reply = await bot.command("/skills", "add o11y:expert, mon", "U0BOB")
        assert reply["text"].startswith("Added"), reply
        assert await skills_in(bot, "U0BOB") == {"observability", "monitoring"}
        _, found = await bot.command("/expert", "obs", "U0CAT")
        assert found["text"] == "Who knows #observability: <@U0BOB>", found

        # Another workspace has the file's aliases alone.
        _, reply = await bot.command("/skills", "add o11y:expert, obs", "U0CAT", team_id=OTHER_TEAM)
        assert reply["text"].startswith("Added"), reply
        assert await skills_in(bot, "U0CAT", OTHER_TEAM) == {"monitoring", "obs"}

        assert changes_logged(bot) == [
            ("skill_aliases", json.dumps(""), json.dumps("observability: o11y, obs"), "U0ANN")
        ]
        reopened = await open_settings(bot, "U0ANN")
        assert reopened is not None
        assert initial(reopened, "skill_aliases")["value"] == "observability: o11y, obs"
    finally:
        await bot.close()


async def test_a_bad_alias_line_is_a_field_error_naming_it_and_changes_nothing(
    bot: BotHarness,
) -> None:
    modal = await open_settings(bot, "U0ANN")
    assert modal is not None

    answer = await save(
        bot, modal, "U0ANN", skill_aliases="observability: o11y\n\nk8s = kubernetes"
    )

    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        "skill_aliases": "Line 3 isn't skill: alias, alias (e.g. kubernetes: k8s, kube)."
    }
    assert changes_logged(bot) == []
    await bot.command("/skills", "add o11y", "U0BOB")
    assert await skills_in(bot, "U0BOB") == {"o11y"}
