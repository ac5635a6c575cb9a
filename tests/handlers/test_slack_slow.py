"""When Slack is too slow to say who someone is, each capability says what it didn't do.

The wording used to be the kudos one everywhere ("I didn't send the kudos"), after /faq too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.people import LOOKUP_TIMEOUT_S
from tests.handlers.test_lunchlearn import add_people, schedule
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack

pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    add_people(slack)
    settings = settings_for(tmp_path, slack, QA_CHANNEL="C0QA", LND_ADMINS="U0ANN")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


def slow_slack(slack: FakeSlack) -> None:
    """Profile look-ups take longer than the bot can wait inside Slack's 3 seconds."""
    slack.delay_s["users.info"] = LOOKUP_TIMEOUT_S + 1


@pytest.mark.parametrize(
    ("command", "text", "said"),
    [
        ("/faq", "rotate credentials", "so I didn't search the answered questions"),
        ("/expert", "python", "so I didn't look for experts"),
        ("/ask", "How do I rotate credentials? #security", "so I didn't post your question"),
        ("/skills", "add python", "so I didn't change or show any skills"),
        ("/kudos", "<@U0BOB> for the great demo", "so I didn't send the kudos"),
    ],
)
async def test_each_command_says_what_it_did_not_do(
    bot: BotHarness, slack: FakeSlack, command: str, text: str, said: str
) -> None:
    slow_slack(slack)

    status, reply = await bot.command(command, text, "U0DAN")

    assert status == 200
    assert reply["text"].startswith("Slack is slow to answer right now")
    assert said in reply["text"]
    if command != "/kudos":
        assert "kudos" not in reply["text"]


async def test_an_rsvp_says_the_rsvp_did_not_change(bot: BotHarness, slack: FakeSlack) -> None:
    lunch = await schedule(bot)
    slow_slack(slack)
    before = len(slack.responses)

    await bot.press("lunch_going", lunch.id, "U0DAN")

    [told] = slack.responses[before:]
    assert told["text"].startswith("Slack is slow to answer right now")
    assert "so I didn't change your RSVP" in told["text"] and "kudos" not in told["text"]
