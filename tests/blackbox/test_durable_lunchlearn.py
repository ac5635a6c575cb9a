"""An announcement owed by a scheduled lunch-and-learn survives Slack failing and a crash, and
is posted once.

`python -m bot` as a real process against the stand-in Slack: the announcement is owed in the
same transaction as the session, tried right after the ack, and when Slack fails and the
process is killed, the next process posts it on its tick.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.views.session_form import schedule_modal
from storage.models import LunchSession, SlackEffect
from tests.support.blackbox import StartBot
from tests.support.lunch import schedule_values
from tests.support.process import eventually
from tests.support.slack import FakeSlack, sign, view_submission_body

LUNCH = "C0LUNCH"
# One tick (30 s) after the effect comes due, with room to spare.
NEXT_TICK_S = 75


def announcements(slack: FakeSlack) -> list[dict[str, Any]]:
    return [message for (channel, _), message in slack.messages.items() if channel == LUNCH]


async def test_an_announcement_slack_failed_is_posted_once_by_the_next_process_after_sigkill(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=500, times=1000)
    bot = await start_bot(LND_ADMINS="U0ANN")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    body = view_submission_body(schedule_modal(), "V0FORM", schedule_values(start), "U0ANN")

    status, ack = await bot.post(body, sign(body))
    assert status == 200 and not ack.get("text") and "response_action" not in ack, ack
    assert len(bot.rows(LunchSession)) == 1

    def failed_once() -> bool:
        owed = bot.rows(SlackEffect)
        return bool(owed) and owed[0].attempts >= 1 and owed[0].claimed_until is None

    await eventually(failed_once, what="the first attempt to fail")
    await bot.kill()
    [owed] = bot.rows(SlackEffect)
    assert (owed.kind, owed.status) == ("lunch.announce", "pending")
    assert owed.last_error == "Slack said fatal_error"
    assert announcements(slack) == []
    assert bot.rows(LunchSession)[0].message_ts is None

    slack.failures.clear()
    bot = await start_bot(LND_ADMINS="U0ANN")

    await eventually(
        lambda: bot.rows(LunchSession)[0].message_ts, timeout=NEXT_TICK_S, what="the post"
    )
    [done] = bot.rows(SlackEffect)
    assert done.status == "done"
    [post] = announcements(slack)
    assert post["metadata"]["event_payload"] == {"key": done.key}
    assert post["ts"] == bot.rows(LunchSession)[0].message_ts == json.loads(done.result)["ts"]
    assert "Lunch-and-learn: Intro to pytest" in post["text"]
    # The organiser was never told the bot couldn't announce it: it was a passing fault.
    assert [c for c in slack.calls_to("chat.postMessage") if c["channel"].startswith("D")] == []
