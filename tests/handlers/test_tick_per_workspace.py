"""The database tick works in each workspace guildbot is installed in, with that workspace's
own token: owed effects, nudges and the digest (to that workspace's digest channel). A
workspace that uninstalled guildbot gets nothing: its due work is not even claimed, so it
waits, and goes out if guildbot is reinstalled. Signed requests into the real app, with Slack
faked; the tick is run by hand on a settable clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from handlers import tick_jobs
from storage.models import Question, SlackEffect
from tests.handlers.test_questions import message_event
from tests.handlers.test_workspace_settings import filled, open_settings
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, Call, FakeSlack, event_body, sign

pytestmark = pytest.mark.usefixtures("no_listener_failures")

QA = "C0QA"
DIGEST = "C0DIGEST"
OTHER = "T0OTHER"
TOKENS = {TEAM_ID: "xoxb-T0GUILD-own", OTHER: "xoxb-T0OTHER-own"}
ASKERS = {TEAM_ID: "U0ANN", OTHER: "U0CAT"}


@pytest.fixture
async def qa_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """Monday noon; the digest (Mondays 09:00 UTC) is due, and nudges come after 30 minutes."""
    settings = settings_for(
        tmp_path, slack, QA_CHANNEL=QA, DIGEST_CHANNEL=DIGEST, QA_NUDGE_HOURS="0.5"
    )
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


class Installs:
    """Where guildbot is installed, as the tick finds it: each workspace with its own token."""

    def __init__(self, bot: BotHarness, *teams: str) -> None:
        self._base_url = bot.slack.base_url
        self.teams = list(teams)

    async def __call__(self) -> list[tuple[str, AsyncWebClient]]:
        return [
            (team, AsyncWebClient(token=TOKENS[team], base_url=self._base_url))
            for team in self.teams
        ]


async def tick(bot: BotHarness, installs: Installs) -> None:
    for job in tick_jobs(bot.services, bot.effects, installs):
        await job()


async def ask_and_answer(bot: BotHarness, team: str) -> Question:
    """The team's asker asks in #qa, and Bob answers in the thread."""
    status, reply = await bot.command(
        "/ask", f"How do we rotate the {team} password?", ASKERS[team], team_id=team
    )
    assert status == 200 and reply["text"] == f"Posting your question in <#{QA}>…", reply
    [question] = [q for q in questions(bot) if q.team_id == team]
    assert question.ts
    text = "Run the rotate-secrets job"
    ts = bot.slack.write(QA, "U0BOB", text, thread_ts=question.ts)
    body = event_body(message_event("U0BOB", text, ts, question.ts), f"Ev{team}", team_id=team)
    status, _ = await bot.post(body, sign(body), content_type="application/json")
    assert status == 200
    await bot.settle()
    return question


async def both_answered_an_hour_ago(bot: BotHarness, clock: SettableClock) -> None:
    """A question with an answer in each workspace, now due for its nudge."""
    for team in (TEAM_ID, OTHER):
        await ask_and_answer(bot, team)
    bot.slack.calls.clear()
    clock.now += timedelta(hours=1)


def questions(bot: BotHarness) -> list[Question]:
    with bot.database.reading() as session:
        return list(session.exec(select(Question)))


def reminders_to(slack: FakeSlack, user: str) -> list[Call]:
    """The bot's DMs to `user` (their `D…` channel, as conversations.open gives it)."""
    dm = "D" + user.lstrip("U")
    return [c for c in slack.calls if c.method == "chat.postMessage" and c.args["channel"] == dm]


def digests(slack: FakeSlack) -> list[Call]:
    return [
        c for c in slack.calls if c.method == "chat.postMessage" and c.args["channel"] == DIGEST
    ]


def tokens_used(slack: FakeSlack) -> set[str | None]:
    return {call.token for call in slack.calls}


async def test_each_workspace_is_nudged_and_gets_its_digest_with_its_own_token(
    qa_bot: BotHarness, clock: SettableClock
) -> None:
    await both_answered_an_hour_ago(qa_bot, clock)

    await tick(qa_bot, Installs(qa_bot, TEAM_ID, OTHER))

    for team in (TEAM_ID, OTHER):
        [reminder] = reminders_to(qa_bot.slack, ASKERS[team])
        assert "an answer" in reminder.args["text"] and reminder.token == TOKENS[team]
    assert sorted(post.token for post in digests(qa_bot.slack)) == sorted(TOKENS.values())
    assert tokens_used(qa_bot.slack) == set(TOKENS.values())

    # Once per workspace and period, however often the tick runs.
    await tick(qa_bot, Installs(qa_bot, TEAM_ID, OTHER))
    assert len(digests(qa_bot.slack)) == 2
    assert len(reminders_to(qa_bot.slack, ASKERS[OTHER])) == 1


async def test_an_uninstalled_workspaces_work_waits_and_goes_out_if_it_reinstalls(
    qa_bot: BotHarness, clock: SettableClock
) -> None:
    await both_answered_an_hour_ago(qa_bot, clock)
    installs = Installs(qa_bot, TEAM_ID)  # guildbot was uninstalled from OTHER

    await tick(qa_bot, installs)

    assert reminders_to(qa_bot.slack, ASKERS[TEAM_ID])
    assert not reminders_to(qa_bot.slack, ASKERS[OTHER])
    assert [post.token for post in digests(qa_bot.slack)] == [TOKENS[TEAM_ID]]
    assert tokens_used(qa_bot.slack) == {TOKENS[TEAM_ID]}
    [waiting] = [q for q in questions(qa_bot) if q.team_id == OTHER]
    assert waiting.nudge_at is not None, "not claimed: it waits"

    installs.teams.append(OTHER)  # reinstalled
    qa_bot.slack.calls.clear()
    await tick(qa_bot, installs)

    [reminder] = reminders_to(qa_bot.slack, ASKERS[OTHER])
    assert reminder.token == TOKENS[OTHER]
    assert [post.token for post in digests(qa_bot.slack)] == [TOKENS[OTHER]]
    assert not reminders_to(qa_bot.slack, ASKERS[TEAM_ID]), "nothing twice"


async def test_what_an_uninstalled_workspace_is_owed_waits_unclaimed_instead_of_failing(
    qa_bot: BotHarness, clock: SettableClock
) -> None:
    # Slack fails the recognition right after the ack: the tick owes it.
    qa_bot.slack.fail_next("chat.postMessage", status=500, times=2)
    status, reply = await qa_bot.command("/kudos", "<@U0BOB> for the runbook", "U0ANN")
    assert status == 200 and "Kudos sent" in reply["text"]
    qa_bot.slack.calls.clear()
    clock.now += timedelta(minutes=11)
    installs = Installs(qa_bot)  # guildbot was uninstalled from the only workspace

    for _ in range(3):
        await tick(qa_bot, installs)
        clock.now += timedelta(hours=1)

    assert qa_bot.slack.calls == []
    [owed] = owed_effects(qa_bot)
    assert owed.status == "pending" and owed.attempts == 1, "no attempt is spent on it"

    installs.teams.append(TEAM_ID)  # reinstalled
    await tick(qa_bot, installs)
    posts = [c for c in qa_bot.slack.calls if c.method == "chat.postMessage"]
    assert posts and {post.token for post in posts} == {TOKENS[TEAM_ID]}
    [done] = owed_effects(qa_bot)
    assert done.status == "done"


def owed_effects(bot: BotHarness) -> list[SlackEffect]:
    with bot.database.reading() as session:
        return list(
            session.exec(select(SlackEffect).where(SlackEffect.kind == "kudos.recognition"))
        )


async def test_an_owed_effect_whose_token_slack_refuses_waits_without_spending_attempts(
    qa_bot: BotHarness, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Uninstalled, but its app_uninstalled event never reached guildbot: the bot row is still
    there, and Slack refuses its token."""
    caplog.set_level(logging.WARNING, logger="guildbot.effects")
    qa_bot.slack.fail_next("chat.postMessage", status=500, times=2)
    status, reply = await qa_bot.command("/kudos", "<@U0BOB> for the runbook", "U0ANN")
    assert status == 200 and "Kudos sent" in reply["text"]
    installs = Installs(qa_bot, TEAM_ID)
    revoked = {"ok": False, "error": "token_revoked"}

    for _ in range(15):  # more ticks than an effect has attempts
        clock.now += timedelta(minutes=11)
        qa_bot.slack.fail_next("chat.postMessage", body=revoked)
        await qa_bot.effects.perform_due((await installs())[0][1], TEAM_ID)

    [owed] = owed_effects(qa_bot)
    assert owed.status == "pending" and owed.attempts == 1
    assert "Slack refused workspace T0GUILD's token (token_revoked)" in caplog.text

    clock.now += timedelta(minutes=11)  # reinstalled: a good token again
    await tick(qa_bot, installs)
    [done] = owed_effects(qa_bot)
    assert done.status == "done"


async def test_each_workspace_gets_its_digest_on_its_own_schedule_once(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> None:
    """Both workspaces start on the default (Mondays 09:00 UTC); the other's admin moves its
    digest to Wednesdays 09:00 on Monday at noon."""
    settings = settings_for(tmp_path, slack, DIGEST_CHANNEL=DIGEST, LND_ADMINS="U0ANN")
    bot = await BotHarness(settings, slack, clock).start()
    try:
        modal = await open_settings(bot, "U0ANN")
        assert modal is not None
        values = filled(modal, digest_cron="0 9 * * wed")
        status, answer = await bot.submit(modal, values, "U0ANN", team_id=OTHER)
        assert status == 200 and "errors" not in (answer or {}), answer
        installs = Installs(bot, TEAM_ID, OTHER)

        async def tick_at(now: datetime) -> list[str | None]:
            """The tick at `now`: whose digests it posted (by token)."""
            clock.now = now
            before = len(digests(slack))
            await tick(bot, installs)
            return [post.token for post in digests(slack)[before:]]

        monday = clock.now.replace(hour=9)
        wednesday = monday + timedelta(days=2)
        # Monday's digest is due (3 hours ago) here only; the other's last fire time,
        # Wednesday 25 November, is too long ago.
        assert await tick_at(clock.now) == [TOKENS[TEAM_ID]]
        assert await tick_at(wednesday - timedelta(seconds=20)) == []
        assert await tick_at(wednesday + timedelta(seconds=10)) == [TOKENS[OTHER]]
        [moved] = digests(slack)[-1:]
        assert moved.args["text"].startswith("Guild digest, Wed 25 Nov – Wed 2 Dec:")
        assert await tick_at(wednesday + timedelta(seconds=40)) == []
        assert await tick_at(monday + timedelta(days=7, seconds=10)) == [TOKENS[TEAM_ID]]
        assert await tick_at(monday + timedelta(days=7, seconds=40)) == []
        assert await tick_at(wednesday + timedelta(days=7, seconds=10)) == [TOKENS[OTHER]]
    finally:
        await bot.close()
