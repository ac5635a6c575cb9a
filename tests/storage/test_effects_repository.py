"""The Slack-effects queue (bot/domain/effects.py over storage/repositories/effects.py), on
SQLite and PostgreSQL: owed once per key, claimed by one process at a time, retried with
backoff, buried or dropped with a reason, handed over at shutdown."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.domain.effects import (
    LEASE,
    MAX_ATTEMPTS,
    Effect,
    EffectQueue,
    owe,
    owe_claimed,
    owe_latest,
)
from storage.database import Database
from storage.repositories.effects import EffectCounts
from tests.support.clock import SettableClock

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TEAM = "T0GUILD"


def queue(database: Database, clock: SettableClock) -> EffectQueue:
    return EffectQueue(database, clock, random.Random(7))


def owe_effects(database: Database, *effects: Effect, now: datetime = NOW) -> list[str]:
    with database.transaction() as session:
        return owe(session, effects, now)


def post(n: int, **extra: object) -> Effect:
    return Effect("kudos.recognition", f"post:{n}", TEAM, {"kudos": [f"k{n}"], **extra})


def test_an_effect_is_owed_once_per_key_and_claimed_by_one_process(database: Database) -> None:
    clock = SettableClock(NOW)
    assert owe_effects(database, post(1)) == ["post:1"]
    owe_effects(database, post(1, channel="C-other"))  # a redelivery owes nothing new

    first, second = queue(database, clock), queue(database, clock)
    [claimed] = first.claim(["post:1"])
    assert claimed.payload == {"kudos": ["k1"]}
    assert claimed.attempts == 1 and not claimed.may_have_reached_slack
    assert second.claim(["post:1"]) == []
    assert second.claim_due(TEAM) == []

    first.done(claimed, {"ts": "1.000100"})
    assert second.claim_due(TEAM) == []
    assert first.counts().pending == 0


def test_a_failure_comes_back_later_and_the_retry_knows_it_may_have_been_done(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_effects(database, post(1))
    [claimed] = effects.claim(["post:1"])

    delay = effects.failed(claimed, "Slack said internal_error")
    assert delay is not None and timedelta(seconds=2.5) <= delay <= timedelta(seconds=5)
    assert effects.claim_due(TEAM) == []  # not before its time
    clock.now = NOW + delay
    [again] = effects.claim_due(TEAM)
    assert again.attempts == 2 and again.may_have_reached_slack


def test_a_process_that_died_mid_effect_only_delays_it_until_its_lease_runs_out(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    owe_effects(database, post(1))
    [lost] = queue(database, clock).claim(["post:1"])

    clock.now = NOW + LEASE - timedelta(seconds=1)
    assert queue(database, clock).claim_due(TEAM) == []
    clock.now = NOW + LEASE
    [taken] = queue(database, clock).claim_due(TEAM)
    assert taken.attempts == 2
    # The dead process's claim can no longer end the effect.
    queue(database, clock).done(lost)
    assert queue(database, clock).counts().pending == 1


def test_after_max_attempts_a_transient_failure_is_final(database: Database) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_effects(database, post(1))
    for _ in range(MAX_ATTEMPTS - 1):
        [claimed] = effects.claim(["post:1"])
        assert effects.failed(claimed, "Slack said fatal_error") is not None
    [last] = effects.claim(["post:1"])

    assert effects.failed(last, "Slack said fatal_error") is None
    [dead] = effects.dead_effects()
    assert dead.reason == f"gave up after {MAX_ATTEMPTS} attempts: Slack said fatal_error"
    assert effects.counts().dead == 1
    assert effects.retry_dead() == 1
    assert effects.claim(["post:1"])[0].attempts == 1


def test_shutdown_hands_claimed_effects_over_once_their_calls_have_settled(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    owe_effects(database, post(1), post(2))
    stopping = queue(database, clock)
    claimed = stopping.claim(["post:1", "post:2"])

    stopping.hand_over(claimed, settle=timedelta(seconds=20))

    assert queue(database, clock).claim_due(TEAM) == []  # a call cut short may still land
    clock.now = NOW + timedelta(seconds=20)
    taken = queue(database, clock).claim_due(TEAM)
    assert {e.key for e in taken} == {"post:1", "post:2"}
    assert all(e.may_have_reached_slack for e in taken)


def test_finished_effects_are_forgotten_after_a_week_pending_ones_never(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_effects(database, post(1), post(2), post(3))
    done, dropped, _ = effects.claim(["post:1", "post:2", "post:3"])
    effects.done(done)
    effects.drop(dropped, "its moment passed")

    clock.now = NOW + timedelta(days=8)
    assert effects.tidy() == 2
    assert effects.counts().pending == 1
    assert owe_effects(database, post(1)) == ["post:1"]
    assert {e.key for e in effects.claim_due(TEAM)} == {"post:1", "post:3"}


def redraw(n: int, **extra: object) -> Effect:
    return Effect("lunch.redraw", f"redraw:{n}", TEAM, {"session": f"s{n}", **extra})


def owe_latest_effects(database: Database, *effects: Effect, now: datetime = NOW) -> list[str]:
    with database.transaction() as session:
        return owe_latest(session, effects, now)


def test_redraws_owed_while_one_waits_are_that_one(database: Database) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_latest_effects(database, redraw(1))
    owe_latest_effects(database, redraw(1, clicks=2))
    owe_latest_effects(database, redraw(2))

    claimed = effects.claim_due(TEAM)
    assert sorted(e.key for e in claimed) == ["redraw:1", "redraw:2"]
    assert [e.payload for e in claimed if e.key == "redraw:1"] == [{"session": "s1", "clicks": 2}]
    assert all(effects.done(e) is False for e in claimed)
    assert effects.counts().pending == 0


def test_a_redraw_owed_after_it_was_done_or_buried_is_owed_anew(database: Database) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_latest_effects(database, redraw(1), redraw(2))
    done, dead = effects.claim(["redraw:1", "redraw:2"])
    effects.done(done)
    effects.dead(dead, "Slack said channel_not_found")

    clock.now = NOW + timedelta(minutes=1)
    owe_latest_effects(database, redraw(1), redraw(2), now=clock.now)

    again = effects.claim_due(TEAM)
    assert sorted(e.key for e in again) == ["redraw:1", "redraw:2"]
    assert all(e.attempts == 1 for e in again)
    assert effects.counts() == EffectCounts(pending=2, dead=0)


def test_a_redraw_owed_while_waiting_to_retry_is_due_now_and_keeps_its_attempts(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_latest_effects(database, redraw(1))
    [claimed] = effects.claim(["redraw:1"])
    assert effects.failed(claimed, "Slack said fatal_error") is not None
    assert effects.claim_due(TEAM) == []

    owe_latest_effects(database, redraw(1))

    [due] = effects.claim_due(TEAM)
    assert due.attempts == 2


def test_a_redraw_owed_while_being_done_is_done_once_more_after_it(database: Database) -> None:
    clock = SettableClock(NOW)
    holder, other = queue(database, clock), queue(database, clock)
    owe_latest_effects(database, redraw(1))
    [drawing] = holder.claim(["redraw:1"])

    # The state changes while the first redraw is on its way: nobody else may draw it now
    # (two redraws racing could leave the older on show) …
    owe_latest_effects(database, redraw(1))
    assert other.claim(["redraw:1"]) == [] and other.claim_due(TEAM) == []

    # … and the holder, finishing, learns it is owed once more.
    assert holder.done(drawing, {"ts": "1.0"}) is True
    [again] = holder.claim(["redraw:1"])
    assert again.attempts == 1
    assert holder.done(again) is False
    assert holder.counts().pending == 0
    assert other.claim_due(TEAM) == []


def test_a_redraw_held_by_a_process_that_died_is_owed_as_a_waiting_one(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    owe_latest_effects(database, redraw(1))
    [lost] = queue(database, clock).claim(["redraw:1"])
    clock.now = NOW + LEASE

    owe_latest_effects(database, redraw(1), now=clock.now)

    [taken] = queue(database, clock).claim_due(TEAM)
    assert queue(database, clock).done(taken) is False
    assert queue(database, clock).done(lost) is False  # its claim ended with its lease
    assert queue(database, clock).counts().pending == 0


def test_an_effect_owed_claimed_is_done_by_its_process_and_by_another_once_the_lease_is_over(
    database: Database,
) -> None:
    """A kudos' recognition is owed already claimed by the process that acks it, which does it
    without claiming it again; should that process die, another does it after the lease."""
    clock = SettableClock(NOW)
    mine, other = queue(database, clock), queue(database, clock)
    with database.transaction() as session:
        assert owe_claimed(session, [post(1)], NOW) == ["post:1"]

    assert other.claim(["post:1"]) == [] and other.claim_due(TEAM) == []
    clock.now = NOW + LEASE
    [taken_over] = other.claim_due(TEAM)
    assert taken_over.attempts == 2 and taken_over.may_have_reached_slack

    [claimed] = mine.claimed_here(["post:1"])
    assert claimed.attempts == 1 and claimed.payload == {"kudos": ["k1"]}
    assert mine.claimed_here(["post:1"]) == []  # handed out once
    mine.done(claimed, {"ts": "1.0"})
    assert mine.counts().pending == 1  # its lease ran out: the effect is the other's now
    other.done(taken_over, {"ts": "1.0"})
    assert other.counts().pending == 0


def test_a_redelivered_request_hands_out_no_claim_of_what_it_owed_before(
    database: Database,
) -> None:
    clock = SettableClock(NOW)
    effects = queue(database, clock)
    owe_effects(database, post(1))
    with database.transaction() as session:
        owe_claimed(session, [post(1)], NOW)
    assert effects.claimed_here(["post:1"]) == []
    [claimed] = effects.claim(["post:1"])  # still owed, as before: claimed from the database
    assert claimed.attempts == 1
