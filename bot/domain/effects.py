"""What an acknowledged action still owes the people who should hear of it.

A capability owes an effect (post the recognition of these kudos, tell these experts of this
question) in the same transaction as the change that owes it, so an ack never promises
something a crash, a deploy or a Slack outage could lose. The effect names what to act on, by
id; whoever performs it renders the words from the state at that moment.

The queue hands claimed effects to a performer (the Slack side, see handlers/effects.py) and
records how each ended: done, dead with Slack's reason (an archived channel, a deactivated
person), or dropped because its moment passed (an ephemeral reply). Failures come back later.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.clock import Clock
from storage.database import Database, batchable
from storage.models import EFFECT_DEAD, EFFECT_DONE, EFFECT_DROPPED
from storage.repositories import effects as effects_repo
from storage.repositories.effects import ClaimedEffect, DeadEffect, EffectCounts, NewEffect

# Long enough for the slowest Slack call with its retries; a dead process delays no more.
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=5)
LAST_RETRY = timedelta(minutes=10)
# A transient failure this many times in a row is treated as final.
MAX_ATTEMPTS = 12
# Done and dropped effects are kept this long: redeliveries of the request that owed them
# find them owed already.
KEEP_FINISHED = timedelta(days=7)


@dataclass(frozen=True)
class Effect:
    """An effect to owe: `key` is unique to the request and the effect (a redelivery owes the
    same key, which is owed once)."""

    kind: str
    key: str
    team_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class OwedEffect:
    """A claimed effect, handed to its performer."""

    kind: str
    key: str
    team_id: str
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime
    expires_at: datetime | None
    claim_token: str

    @property
    def may_have_reached_slack(self) -> bool:
        """An earlier attempt was made: its result may have been lost with its process."""
        return self.attempts > 1


def owe(session: Session, effects: Iterable[Effect], now: datetime) -> list[str]:
    """Records effects in the caller's transaction; returns their keys (to do them now)."""
    owed = _new(effects)
    effects_repo.add(session, owed, now)
    return [e.key for e in owed]


# Effects this process owed already claimed (`owe_claimed`), until it does them.
_claimed_here: dict[str, OwedEffect] = {}


def owe_claimed(session: Session, effects: Iterable[Effect], now: datetime) -> list[str]:
    """Like `owe`, for effects the caller does right after its ack: they are owed already
    claimed by this process (`EffectQueue.claimed_here` hands them out without reading them
    back). A process that dies before doing them leaves them to the tick once their lease
    runs out."""
    owed = _new(effects)
    claimed, known = effects_repo.add_claimed(session, owed, now, LEASE)
    for effect in claimed:
        _claimed_here[effect.key] = _owed(effect)
    for key in known:
        # Owed by an earlier delivery of the same request: not this process's claim.
        _claimed_here.pop(key, None)
    return [e.key for e in owed]


def owe_latest(session: Session, effects: Iterable[Effect], now: datetime) -> list[str]:
    """Like `owe`, for effects that show the state as it is when they are done (redrawing a
    message): the key names the thing shown, not the request, and changes collapse into one
    pending effect per key. One already done is owed anew; one being done right now is done
    once more after it, by whoever holds it, so two redraws of one message never race."""
    owed = _new(effects)
    effects_repo.add_latest(session, owed, now)
    return [e.key for e in owed]


def _new(effects: Iterable[Effect]) -> list[NewEffect]:
    return [
        NewEffect(
            key=e.key,
            team_id=e.team_id,
            kind=e.kind,
            payload=json.dumps(e.payload, separators=(",", ":"), sort_keys=True),
            expires_at=e.expires_at,
        )
        for e in effects
    ]


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: about 5 s, 10 s, 20 s … up to 10 minutes."""
    ceiling = min(LAST_RETRY, FIRST_RETRY * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + ceiling / 2 * rng.random()


class EffectQueue:
    """Claims owed effects and records how each ended. Blocking: run it on the executor."""

    def __init__(self, database: Database, clock: Clock, rng: random.Random | None = None):
        self._database = database
        self._clock = clock
        self._rng = rng or random.Random()

    @staticmethod
    def claimed_here(keys: Sequence[str]) -> list[OwedEffect]:
        """The effects among `keys` this process owed already claimed (`owe_claimed`), now
        handed to the caller to do."""
        found = (_claimed_here.pop(key, None) for key in keys)
        return [effect for effect in found if effect is not None]

    @batchable
    def claim(self, keys: Sequence[str]) -> list[OwedEffect]:
        with self._database.transaction() as session:
            return [_owed(c) for c in effects_repo.claim(session, keys, self._clock(), LEASE)]

    def claim_due(self, team_id: str, limit: int = 20) -> list[OwedEffect]:
        """The workspace's effects whose time has come: one the tick works for (guildbot is
        installed there), so what an uninstalled workspace is owed waits, unclaimed."""
        with self._database.transaction() as session:
            claimed = effects_repo.claim_due(session, team_id, self._clock(), limit, LEASE)
            return [_owed(c) for c in claimed]

    @batchable
    def done(self, effect: OwedEffect, result: Mapping[str, Any] | None = None) -> bool:
        """Records the effect done; True when it was owed again meanwhile (`owe_latest`): it
        is pending again instead, for the caller to do once more."""
        now = self._clock()
        text = json.dumps(result, sort_keys=True) if result else None
        with self._database.transaction() as session:
            # Done only if not owed again; that check and the write are one statement.
            if effects_repo.finish(
                session, effect.key, effect.claim_token, EFFECT_DONE, now, result=text
            ):
                return False
            return effects_repo.again_if_owed(session, effect.key, effect.claim_token, now)

    @batchable
    def done_recording(
        self,
        effect: OwedEffect,
        result: Mapping[str, Any] | None,
        record: Callable[[], Sequence[str]],
    ) -> tuple[bool, Sequence[str]]:
        """`done`, after `record`, the capability's own record of what the effect did (where
        its message went), in one unit of work: one trip through the writer, not two. Returns
        `done`'s answer and the keys of the effects `record` owed, claimed here."""
        owed = record()
        return self.done(effect, result), owed

    def dead(self, effect: OwedEffect, reason: str) -> None:
        self._finish(effect, EFFECT_DEAD, reason=reason)

    def drop(self, effect: OwedEffect, reason: str) -> None:
        self._finish(effect, EFFECT_DROPPED, reason=reason)

    def expired(self, effect: OwedEffect) -> bool:
        return effect.expires_at is not None and self._clock() >= effect.expires_at

    def failed(self, effect: OwedEffect, reason: str) -> timedelta | None:
        """A transient failure: the effect comes back later (returns how much later), or is
        dead after `MAX_ATTEMPTS` (returns None)."""
        if effect.attempts >= MAX_ATTEMPTS:
            self.dead(effect, f"gave up after {effect.attempts} attempts: {reason}")
            return None
        delay = retry_delay(effect.attempts, self._rng)
        with self._database.transaction() as session:
            effects_repo.retry_later(
                session, effect.key, effect.claim_token, self._clock() + delay, reason
            )
        return delay

    def wait_for_token(self, effect: OwedEffect, reason: str) -> None:
        """Slack refused the workspace's token (guildbot uninstalled there, its event not seen
        yet): the effect waits, as one of an uninstalled workspace does, spending no attempt."""
        with self._database.transaction() as session:
            effects_repo.retry_later(
                session,
                effect.key,
                effect.claim_token,
                self._clock() + LAST_RETRY,
                reason,
                uncounted=True,
            )

    def hand_over(self, effects: Sequence[OwedEffect], settle: timedelta) -> None:
        """Shutdown: gives claimed effects back for the next process. They were cut short,
        perhaps mid-call: they come due once such a call has surely ended (`settle`), so the
        retry's look for an earlier post finds one that landed late."""
        due = self._clock() + settle
        with self._database.transaction() as session:
            for effect in effects:
                effects_repo.retry_later(
                    session, effect.key, effect.claim_token, due, "handed over at shutdown"
                )

    def counts(self) -> EffectCounts:
        with self._database.reading() as session:
            return effects_repo.counts(session)

    def dead_effects(self, limit: int = 20) -> list[DeadEffect]:
        with self._database.reading() as session:
            return effects_repo.dead(session, limit)

    def retry_dead(self, team_id: str | None = None) -> int:
        """Owes the dead effects again: one workspace's, or (None) every workspace's."""
        with self._database.transaction() as session:
            return effects_repo.retry_dead(session, self._clock(), team_id)

    def tidy(self) -> int:
        """Forgets effects that ended long enough ago."""
        with self._database.transaction() as session:
            return effects_repo.forget_finished(session, self._clock() - KEEP_FINISHED)

    def _finish(
        self, effect: OwedEffect, status: str, result: str | None = None, reason: str | None = None
    ) -> None:
        with self._database.transaction() as session:
            effects_repo.finish(
                session, effect.key, effect.claim_token, status, self._clock(), result, reason
            )


def _owed(claimed: ClaimedEffect) -> OwedEffect:
    return OwedEffect(
        kind=claimed.kind,
        key=claimed.key,
        team_id=claimed.team_id,
        payload=json.loads(claimed.payload),
        attempts=claimed.attempts,
        created_at=claimed.created_at,
        expires_at=claimed.expires_at,
        claim_token=claimed.claim_token,
    )
