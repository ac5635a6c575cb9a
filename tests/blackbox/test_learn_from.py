"""App Home's "Learn from" in `python -m bot`: a learner is pointed to the person with strong
evidence and to the community on what they learn, and not to themselves, a weak practitioner,
someone who paused routed questions or someone who turned suggestions off."""

from __future__ import annotations

import json
from typing import Any

from tests.support.blackbox import StartBot, deliver, new_person
from tests.support.process import BotProcess, eventually
from tests.support.slack import FakeSlack, block_action_body, sign


async def press(bot: BotProcess, slack: FakeSlack, action: str, user: str) -> None:
    body = block_action_body(action, "", user, slack.response_url)
    status, _ = await bot.post(body, sign(body))
    assert status == 200


def published(slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    views = [c["view"] for c in slack.calls_to("views.publish") if c.get("user_id") == user]
    return [json.loads(v) if isinstance(v, str) else v for v in views]


async def test_a_learner_is_pointed_to_the_right_people(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    learner, expert, weak, paused, quiet = (
        new_person(slack, name) for name in ("Lea", "Exa", "Wes", "Pat", "Qui")
    )
    bot = await start_bot()
    for user, level in (
        (learner, "learning"),
        (expert, "expert"),
        (weak, "practitioner"),
        (paused, "expert"),
        (quiet, "expert"),
    ):
        status, _ = await bot.command("/skills", f"add python:{level}", user)
        assert status == 200
    await press(bot, slack, "home_pause_routing", paused)
    await press(bot, slack, "suggestions_stop", quiet)
    status, _ = await bot.command("/community", "create pythonistas #python", weak)
    assert status == 200
    await eventually(lambda: "pythonistas" in slack.channel_names, what="the community")

    assert await deliver(bot, {"type": "app_home_opened", "user": learner, "tab": "home"}, "H1")
    [home] = await eventually(lambda: published(slack, learner), what="App Home")

    shown = json.dumps(home["blocks"])
    assert f"<@{expert}>: expert (declared) on #python" in shown
    for left_out in (learner, weak, paused, quiet):
        assert f"<@{left_out}>" not in shown, left_out
    assert "*pythonistas*" in shown
