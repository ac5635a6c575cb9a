"""The weekly digest and the knowledge gaps built for a workspace count that workspace only:
its kudos, questions, helpers, sessions, resources, gaps and activity chart. The digest is a
tick job, so it is built through the domain, from activity done through the real app."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from bot.domain.digest import Digest, Period
from tests.isolation.conftest import QA, Side
from tests.isolation.test_lunchlearn import schedule
from tests.support.clock import SettableClock

pytestmark = pytest.mark.usefixtures("no_listener_failures")

_EVENTS = itertools.count(1)


async def ask(side: Side, asker: str, question: str) -> str:
    await side.command("/ask", question, asker)
    [post] = [c for c in side.slack.calls_to("chat.postMessage") if c["channel"] == QA][-1:]
    return next(ts for (_, ts), m in side.slack.messages.items() if m["text"] == post["text"])


async def answer(side: Side, answerer: str, question_ts: str, text: str) -> None:
    ts = side.slack.write(QA, answerer, text, thread_ts=question_ts)
    reply = {"type": "message", "channel": QA, "user": answerer, "text": text}
    await side.event({**reply, "ts": ts, "thread_ts": question_ts}, f"Ev{next(_EVENTS)}")


async def busy_week_in_b(b: Side, clock: SettableClock) -> None:
    """Kudos, questions (one answered, one not), a session, a shared link and experts."""
    await b.command("/skills", "add python:expert", "U0ZED")
    await b.command("/kudos", "<@U0YAN> for the release #teamwork", "U0ZED")
    await b.command("/kudos", "<@U0ZED> for the packaging fix #python", "U0YAN")
    await ask(b, "U0ANN", "Why does the python build fail every night? #python")
    asked = await ask(b, "U0YAN", "Which python version should the wheels target? #python")
    clock.now += timedelta(minutes=5)
    await answer(b, "U0ZED", asked, "Key by account id, so one account stays ordered.")
    await schedule(b, "Zookeeper in production", "V0B")
    await b.command(
        "/share", "<https://kafka.apache.org/documentation/> Kafka docs #kafka", "U0ZED"
    )


async def quiet_week_in_a(a: Side) -> None:
    await a.command("/kudos", "<@U0CAT> for the onboarding guide #docs", "U0BOB")
    await ask(a, "U0ANN", "How should the python packages be named? #python")


def build(side: Side, period: Period) -> Digest:
    return side.bot.services.digest.build(side.team_id, period)


async def test_the_digest_built_for_a_workspace_counts_only_its_own_week(
    a: Side, b: Side, clock: SettableClock
) -> None:
    start = clock.now
    await busy_week_in_b(b, clock)
    await quiet_week_in_a(a)
    period = Period(start - timedelta(days=6), start + timedelta(hours=1))

    ours = build(a, period)

    assert (ours.kudos, ours.givers, ours.receivers) == (1, 1, 1)
    assert ours.values == [("docs", 1)]
    assert (ours.asked, ours.answered, ours.accepted, ours.waiting) == (1, 0, 0, 1)
    assert [w.tags for w in ours.oldest_waiting] == [("python",)]
    assert ours.helpers == [] and ours.upcoming == [] and ours.resources == []
    [gap] = ours.gaps
    assert (gap.slug, gap.asked, gap.unanswered, gap.experts, gap.top_answerers) == (
        "python",
        1,
        1,
        0,
        (),
    )
    activity = {k: sum(w.counts.get(k, 0) for w in ours.activity) for k in ("kudos", "qa")}
    assert activity == {"kudos": 1, "qa": 1}
    # B's own digest holds B's week.
    theirs = build(b, period)
    assert (theirs.kudos, theirs.asked, theirs.answered, theirs.waiting) == (2, 2, 1, 1)
    assert [h.user_id for h in theirs.helpers] == ["U0ZED"]
    assert [s.title for s in theirs.upcoming] == ["Zookeeper in production"]
    assert [r.title for r in theirs.resources] == ["Kafka docs"]
    [their_gap] = theirs.gaps
    assert (their_gap.asked, their_gap.experts, their_gap.top_answerers) == (2, 1, ("U0ZED",))


async def test_lunchlearn_gaps_shows_only_the_workspaces_own_gaps(
    a: Side, b: Side, clock: SettableClock
) -> None:
    await busy_week_in_b(b, clock)
    await ask(a, "U0ANN", "Where do the sql reports get built? #sql")

    shown = json.dumps(await a.command("/lunchlearn", "gaps", "U0ANN"))

    assert "sql" in shown and "python" not in shown and "U0ZED" not in shown
    assert "python" in json.dumps(await b.command("/lunchlearn", "gaps", "U0ANN"))
