"""Drains the xAPI outbox into the LRS, one batch (a JSON array per POST) at a time.

Delivery is at-least-once with the same statement id and the same bytes, so every statement is
stored once: a resend either finds nothing stored (and stores it) or is answered 200 (lenient
LRSs) or 409 (strict ones; the statement is then read back and marked sent).

What each answer to `POST statements` does:

- 2xx: the whole part is sent.
- Network errors, timeouts, 408, 429, 5xx: the claimed rows go back to the outbox with an
  exponential backoff with jitter (or the `Retry-After` of a 429/503), state "retrying". Rows
  delivered earlier in the same batch stay sent.
- 413: the part is halved and each half sent on its own, down to single statements.
- 400: the part is bisected down to the statements the LRS rejects on their own ("suspects").
- 409: each statement is read back by `statementId`, then by `voidedStatementId`; those found
  are sent, the missing ones are resent as a smaller part.
- 401/403: pause (nothing is dropped); other 4xx and 3xx mean a wrong `LRS_ENDPOINT`: pause too.

The 400 rule (bad statements vs. a configuration problem). A suspect is dead-lettered with the
LRS's message only when the LRS has shown it accepts our statements:

1. it accepted (or already held) another statement of the same batch: the suspects are bad; or
2. nothing of the batch was accepted, but the LRS accepted statements earlier in this process
   and fewer than `max_rejections_in_a_row` (K, default 3) statements have been rejected on
   their own since its last acceptance, counting this batch's suspects.

Otherwise (every statement of the batch rejected individually and no recent acceptance, or K
rejections in a row) the forwarder pauses, naming the LRS's message, and leaves every statement
pending. So a misconfigured LRS dead-letters at most K-1 statements (a trickle of one-statement
batches after earlier successes); `retry_dead` brings those back once the cause is fixed.

While paused, the forwarder tries again every `pause_retry` seconds (so fixing the LRS side
recovers), and paused rows are released as due at once, so a restart also recovers.

Leases and replicas. A claimed batch is leased for `lease` (120 s). One batch can take longer
(up to 99 POSTs while bisecting a 400, two GETs per statement after a 409, each up to 10 s),
so before every request, once less than half the lease is left, the forwarder renews it and
sends only the statements the outbox confirms are still its own (see `outbox.hold`). A
forwarder that stalled past its lease, whose rows another replica has claimed since, sends
nothing more of them. One request never outlives half a lease (the constructor insists), and
the replicas' clocks must agree to well within half a lease.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp

from bot.clock import Clock, utcnow
from bot.executor import BlockingExecutor
from storage.database import Database
from storage.repositories import outbox
from storage.repositories.outbox import ClaimedStatement

log = logging.getLogger("guildbot.xapi")

DISABLED = "disabled"
IDLE = "idle"
SENDING = "sending"
RETRYING = "retrying"
PAUSED = "paused"

RETRYABLE_STATUSES = frozenset({408, 429})
RETRY_AFTER_STATUSES = frozenset({429, 503})
# A Retry-After beyond this is treated as a broken header rather than obeyed for days.
MAX_RETRY_AFTER = 3600.0
EXCERPT_CHARS = 1000


@dataclass(frozen=True)
class LrsConfig:
    endpoint: str
    """Base URL ending with "/", e.g. http://127.0.0.1:8081/xAPI/."""
    key: str
    secret: str = field(repr=False)
    version: str = "1.0.3"

    def __post_init__(self) -> None:
        if not self.endpoint.endswith("/"):
            # Joining "statements" onto ".../xAPI" would silently drop the last path segment.
            object.__setattr__(self, "endpoint", self.endpoint + "/")


@dataclass(frozen=True)
class ForwarderStatus:
    state: str
    """"disabled", "idle", "sending", "retrying" or "paused"."""
    detail: str | None = None
    last_delivery_at: datetime | None = None


class _Retry(Exception):
    """A transient failure: back off and resend the same bytes later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Pause(Exception):
    """A configuration problem: stop sending until the next pause retry or a restart."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Answer:
    status: int
    text: str
    retry_after: str | None


@dataclass(frozen=True)
class _Drained:
    claimed: int
    sent: int
    resolved: bool
    """Every claimed statement ended sent or dead: more may be due right away."""


_NOTHING = _Drained(0, 0, False)


class Forwarder:
    """The background task that delivers outbox rows to the LRS.

    All database work goes through `executor`; all HTTP through one `aiohttp.ClientSession`.
    `drain_once`, `flush` and the background loop never run a batch concurrently.
    """

    def __init__(
        self,
        database: Database,
        executor: BlockingExecutor,
        lrs: LrsConfig | None,
        *,
        clock: Clock = utcnow,
        batch_size: int = 50,
        poll_interval: float = 2.0,
        request_timeout: float = 10.0,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        lease: timedelta = timedelta(seconds=120),
        pause_retry: float = 60.0,
        max_rejections_in_a_row: int = 3,
        rng: random.Random | None = None,
    ) -> None:
        if lease.total_seconds() <= 2 * request_timeout:
            # The lease is renewed between requests: one request must never outlive half of it.
            raise ValueError("the outbox lease must be over twice the LRS request timeout")
        self._database = database
        self._executor = executor
        self._lrs = lrs
        self._clock = clock
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._request_timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._request_timeout_seconds = request_timeout
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._lease = lease
        self._pause_retry = timedelta(seconds=pause_retry)
        self._max_rejections_in_a_row = max_rejections_in_a_row
        self._rng = rng or random.Random()

        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        # Claimed by this process and neither sent nor dead: what a failure or close() releases.
        self._claimed: dict[str, ClaimedStatement] = {}
        # The current claim's fencing token, and until when its lease is known to hold.
        self._token: str | None = None
        self._held_until = datetime.min.replace(tzinfo=UTC)
        self._failures = 0
        self._sent_total = 0
        self._paused_until: datetime | None = None
        self._accepted_before = False
        self._rejected_in_a_row = 0
        self._state = DISABLED if lrs is None else IDLE
        self._detail: str | None = None
        self._last_delivery_at: datetime | None = None

        self._headers: dict[str, str] = {}
        self._secrets: tuple[str, ...] = ()
        if lrs is not None:
            token = base64.b64encode(f"{lrs.key}:{lrs.secret}".encode()).decode("ascii")
            self._headers = {
                "Authorization": f"Basic {token}",
                "X-Experience-API-Version": lrs.version,
            }
            # Scrubbed from every reason we log or store, in case an LRS echoes them back.
            self._secrets = tuple(s for s in (lrs.secret, token) if len(s) >= 4)

    # Public API

    @property
    def status(self) -> ForwarderStatus:
        return ForwarderStatus(self._state, self._detail, self._last_delivery_at)

    async def start(self) -> None:
        """Opens the HTTP session and starts the background loop (nothing when no LRS)."""
        if self._lrs is None:
            log.info("No LRS configured: xAPI statements stay in the outbox")
            return
        if self._task is not None:
            return
        self._http()
        try:
            counts = await self._executor.run(self._read_counts)
            self._last_delivery_at = counts.last_sent_at
        except Exception:
            log.exception("Could not read the outbox counts at start")
        self._task = asyncio.create_task(self._run(), name="guildbot-xapi-forwarder")
        log.info("xAPI forwarder started for %s", self._lrs.endpoint)

    def wake(self) -> None:
        """New rows were committed: drain now rather than at the next poll."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # Called from a worker thread: hand the wake-up to the loop the task runs on.
            if self._task is not None:
                self._task.get_loop().call_soon_threadsafe(self._wake.set)
            return
        self._wake.set()

    async def drain_once(self) -> int:
        """Claims one batch and delivers it fully; returns how many statements became sent."""
        return (await self._drain()).sent

    async def flush(self, timeout: float) -> None:
        """Graceful shutdown: keeps draining what is due until empty, paused, or `timeout`."""
        if self._lrs is None:
            return
        try:
            async with asyncio.timeout(timeout):
                while (await self._drain()).resolved:
                    pass
        except TimeoutError:
            log.warning("xAPI flush stopped after %.1f s; the rest stays in the outbox", timeout)

    async def close(self) -> None:
        """Stops the loop, gives back claimed-but-unsent rows, closes the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._claimed:
            ids = list(self._claimed)
            try:
                # Their POST may have been under way: counted as an attempt, so an erasure
                # treats them as possibly in the LRS.
                await self._executor.run(
                    self._release,
                    ids,
                    self._clock(),
                    "the bot stopped while sending these",
                    self._token,
                )
                self._claimed.clear()
            except Exception:
                log.exception(
                    "Could not release %d claimed statements; their lease expires", len(ids)
                )
        if self._session is not None:
            await self._session.close()
            self._session = None

    # Loop and one batch

    async def _run(self) -> None:
        while True:
            # Cleared before draining so a wake() during the drain is not lost.
            self._wake.clear()
            try:
                drained = await self._drain()
            except Exception:
                # _drain handles its own failures; this is the last line of defence.
                log.exception("Unexpected error in the xAPI forwarder loop")
                drained = _NOTHING
            if drained.resolved:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def _drain(self) -> _Drained:
        if self._lrs is None:
            return _NOTHING
        async with self._lock:
            now = self._clock()
            if self._paused_until is not None and now < self._paused_until:
                return _NOTHING
            try:
                batch = await self._executor.run(self._claim, now)
            except Exception:
                log.exception("Could not claim xAPI statements from the outbox")
                return _NOTHING
            if not batch:
                await self._settle_when_empty()
                return _NOTHING
            self._claimed.update((s.statement_id, s) for s in batch)
            self._token = batch[0].claim_token
            self._held_until = now + self._lease
            if self._state == IDLE:
                self._set(SENDING)
            sent_before = self._sent_total
            try:
                await self._deliver(batch)
            except _Retry as failure:
                await self._back_off(failure.reason, failure.retry_after)
                return _Drained(len(batch), self._sent_total - sent_before, False)
            except _Pause as failure:
                await self._pause(failure.reason)
                return _Drained(len(batch), self._sent_total - sent_before, False)
            except Exception as error:
                log.exception("Unexpected error while delivering xAPI statements")
                await self._back_off(f"unexpected error: {type(error).__name__}", None)
                return _Drained(len(batch), self._sent_total - sent_before, False)
            self._failures = 0
            self._paused_until = None
            self._set(IDLE)
            return _Drained(len(batch), self._sent_total - sent_before, True)

    async def _settle_when_empty(self) -> None:
        """Nothing claimable: report idle unless something is still waiting on a failure."""
        if self._state == SENDING:
            self._set(IDLE)
        elif self._state in (RETRYING, PAUSED):
            # Rows backing off keep the state; none left (another replica sent them, or an
            # operator erased them) means there is nothing left to be in trouble about.
            try:
                pending = (await self._executor.run(self._read_counts)).pending
            except Exception:
                log.exception("Could not read the outbox counts")
                return
            if pending == 0:
                self._paused_until = None
                self._set(IDLE)

    async def _deliver(self, batch: Sequence[ClaimedStatement]) -> None:
        """Sends a batch, splitting it on 400/413 and reconciling it on 409."""
        parts: deque[list[ClaimedStatement]] = deque([list(batch)])
        suspects: list[tuple[ClaimedStatement, str]] = []
        accepted = False
        while parts:
            part = await self._still_held(parts.popleft())
            if not part:
                continue
            answer = await self._post(part)
            taken = await self._take(answer, part, parts, suspects)
            accepted = accepted or taken
        if suspects:
            await self._judge(suspects, accepted)

    async def _take(
        self,
        answer: _Answer,
        part: list[ClaimedStatement],
        parts: deque[list[ClaimedStatement]],
        suspects: list[tuple[ClaimedStatement, str]],
    ) -> bool:
        """Acts on the LRS's answer to one part; True when it took statements. Parts to
        send again go to the front of `parts`, a statement rejected on its own to
        `suspects`; an answer that stops the batch raises `_Retry` or `_Pause`."""
        status = answer.status
        if 200 <= status < 300:
            await self._mark_sent(part)
            return True
        if status == 409:
            missing = await self._reconcile(part)
            if len(missing) == len(part):
                raise _Retry(
                    "LRS answered 409 but none of the statements can be read back: "
                    + self._excerpt(answer.text)
                )
            if missing:
                parts.appendleft(missing)
            return True
        if status in (400, 413):
            self._split(answer, part, parts, suspects)
            return False
        raise self._stop(answer)

    def _split(
        self,
        answer: _Answer,
        part: list[ClaimedStatement],
        parts: deque[list[ClaimedStatement]],
        suspects: list[tuple[ClaimedStatement, str]],
    ) -> None:
        """A part the LRS rejected (400) or found too large (413) goes again in halves; a
        single statement is a suspect."""
        if len(part) > 1:
            middle = len(part) // 2
            parts.appendleft(part[middle:])
            parts.appendleft(part[:middle])
            return
        what = "as too large" if answer.status == 413 else ""
        reason = f"LRS rejected the statement {what}({answer.status}): "
        suspects.append((part[0], reason.replace("  ", " ") + self._excerpt(answer.text)))

    def _stop(self, answer: _Answer) -> _Retry | _Pause:
        """Why an answer stops the batch: credentials or configuration pause, the rest retry."""
        status = answer.status
        if status in (401, 403):
            return _Pause(f"LRS rejected the credentials ({status})")
        if status in RETRYABLE_STATUSES or status >= 500:
            retry_after = None
            if status in RETRY_AFTER_STATUSES:
                retry_after = _parse_retry_after(answer.retry_after, self._clock())
            return _Retry(f"LRS answered {status}: {self._excerpt(answer.text)}", retry_after)
        return _Pause(
            f"LRS answered {status} to POST statements (check LRS_ENDPOINT): "
            + self._excerpt(answer.text)
        )

    async def _judge(self, suspects: list[tuple[ClaimedStatement, str]], accepted: bool) -> None:
        """Dead-letters statements rejected on their own, or pauses (see the module docstring)."""
        if not accepted:
            streak = self._rejected_in_a_row + len(suspects)
            if not self._accepted_before or streak >= self._max_rejections_in_a_row:
                raise _Pause(
                    f"LRS rejected {len(suspects)} statement(s) on their own and accepted none, "
                    f"which looks like a configuration problem (nothing was dead-lettered): "
                    f"{suspects[0][1]}"
                )
            self._rejected_in_a_row = streak
        for statement, reason in suspects:
            log.warning("Dead-lettered xAPI statement %s: %s", statement.statement_id, reason)
            await self._executor.run(
                self._mark_dead, statement.statement_id, reason, statement.claim_token
            )
            self._claimed.pop(statement.statement_id, None)

    async def _reconcile(self, part: Sequence[ClaimedStatement]) -> list[ClaimedStatement]:
        """After a 409: marks what the LRS already holds as sent; returns what it lacks."""
        stored: list[ClaimedStatement] = []
        missing: list[ClaimedStatement] = []
        for statement in part:
            if not await self._still_held([statement]):
                continue
            found = await self._lrs_holds(statement.statement_id)
            (stored if found else missing).append(statement)
        await self._mark_sent(stored)
        return missing

    async def _lrs_holds(self, statement_id: str) -> bool:
        # A voided statement is only visible through voidedStatementId.
        for parameter in ("statementId", "voidedStatementId"):
            status = await self._get(parameter, statement_id)
            if status == 200:
                return True
            if status in (401, 403):
                raise _Pause(f"LRS rejected the credentials ({status})")
            if status != 404:
                raise _Retry(f"LRS answered {status} when reading back a statement")
        return False

    async def _still_held(self, part: list[ClaimedStatement]) -> list[ClaimedStatement]:
        """The statements of `part` this forwarder may still send: all of them while at least
        half the lease is left; else those whose lease it could renew (the rest are dropped)."""
        now = self._clock()
        if now < self._held_until - self._lease / 2:
            return part
        ids = list(self._claimed)
        held = await self._executor.run(self._hold, ids, self._token, now)
        self._held_until = now + self._lease
        lost = [statement_id for statement_id in ids if statement_id not in held]
        if lost:
            log.warning(
                "Lost the lease on %d xAPI statements (another forwarder has them or they "
                "were erased); not sending them",
                len(lost),
            )
            for statement_id in lost:
                self._claimed.pop(statement_id, None)
        return [s for s in part if s.statement_id in held]

    # Outcomes

    async def _mark_sent(self, part: Sequence[ClaimedStatement]) -> None:
        if not part:
            return
        ids = [s.statement_id for s in part]
        now = self._clock()
        await self._executor.run(self._tx_mark_sent, ids, now)
        for statement_id in ids:
            self._claimed.pop(statement_id, None)
        self._sent_total += len(ids)
        self._last_delivery_at = now
        self._accepted_before = True
        self._rejected_in_a_row = 0

    async def _back_off(self, reason: str, retry_after: float | None) -> None:
        self._failures += 1
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        else:
            ceiling = min(self._max_backoff, self._base_backoff * 2 ** (self._failures - 1))
            # "Equal jitter": at least half the backoff, so retries spread but still slow down.
            delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        reason = self._redact(reason)
        log.warning("xAPI delivery failed, retrying in %.1f s: %s", delay, reason)
        self._set(RETRYING, f"{reason} (next attempt in {delay:.0f} s)")
        await self._release_claimed(self._clock() + timedelta(seconds=delay), reason)

    async def _pause(self, reason: str) -> None:
        reason = self._redact(reason)
        now = self._clock()
        self._paused_until = now + self._pause_retry
        log.error(
            "xAPI delivery paused, trying again in %.0f s: %s",
            self._pause_retry.total_seconds(),
            reason,
        )
        self._set(PAUSED, reason)
        # Due at once in the database: the pause is this process's, so a restart recovers.
        await self._release_claimed(now, reason)

    async def _release_claimed(self, next_attempt_at: datetime, reason: str) -> None:
        ids = list(self._claimed)
        if not ids:
            return
        try:
            await self._executor.run(self._release, ids, next_attempt_at, reason, self._token)
            self._claimed.clear()
        except Exception:
            log.exception("Could not release %d xAPI statements; their lease expires", len(ids))

    def _set(self, state: str, detail: str | None = None) -> None:
        self._state = state
        self._detail = detail

    # HTTP

    async def _post(self, part: Sequence[ClaimedStatement]) -> _Answer:
        assert self._lrs is not None
        # The stored bytes, never re-serialised: a resend must be byte-identical.
        body = ("[" + ",".join(s.body for s in part) + "]").encode("utf-8")
        headers = {**self._headers, "Content-Type": "application/json"}
        try:
            async with self._http().post(
                self._lrs.endpoint + "statements",
                data=body,
                headers=headers,
                timeout=self._request_timeout,
                allow_redirects=False,
            ) as response:
                text = await response.text(errors="replace")
                return _Answer(response.status, text, response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise _Retry(self._describe(error)) from error

    async def _get(self, parameter: str, statement_id: str) -> int:
        assert self._lrs is not None
        try:
            async with self._http().get(
                self._lrs.endpoint + "statements",
                params={parameter: statement_id},
                headers=self._headers,
                timeout=self._request_timeout,
                allow_redirects=False,
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise _Retry(self._describe(error)) from error

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # drain_once() before start() (tests, one-off commands) still gets one session.
            self._session = aiohttp.ClientSession(timeout=self._request_timeout)
        return self._session

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, TimeoutError):
            return f"LRS did not answer within {self._request_timeout_seconds:g} s"
        return f"cannot reach the LRS: {type(error).__name__}: {error}"

    def _excerpt(self, text: str) -> str:
        text = " ".join(text.split())
        if len(text) > EXCERPT_CHARS:
            text = text[:EXCERPT_CHARS] + "…"
        return self._redact(text) or "(empty response)"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # Database work (runs on the executor)

    def _claim(self, now: datetime) -> list[ClaimedStatement]:
        with self._database.transaction() as session:
            return outbox.claim_batch(session, now, self._batch_size, self._lease)

    def _tx_mark_sent(self, ids: list[str], now: datetime) -> None:
        with self._database.transaction() as session:
            outbox.mark_sent(session, ids, now)

    def _hold(self, ids: list[str], token: str | None, now: datetime) -> set[str]:
        with self._database.transaction() as session:
            return outbox.hold(session, ids, token or "", now, self._lease)

    def _mark_dead(self, statement_id: str, reason: str, token: str) -> None:
        with self._database.transaction() as session:
            outbox.mark_dead(session, statement_id, reason, token)

    def _release(
        self, ids: list[str], next_attempt_at: datetime, error: str | None, token: str | None
    ) -> None:
        with self._database.transaction() as session:
            outbox.release(session, ids, next_attempt_at, error, token)

    def _read_counts(self) -> outbox.OutboxCounts:
        with self._database.reading() as session:
            return outbox.counts(session)


def _parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
