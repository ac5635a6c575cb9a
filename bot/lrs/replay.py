"""`guildbot lrs replay --to URL`: everything the inbuilt LRS holds, sent to another LRS.

Statements go in the order they were stored, voided ones and their voiding statements
included, each with its own id and the bytes kept for it, so the target stores each once
however often a replay runs (at least once, stored once). Voiding statements travel in batches
of their own, after what they void; a statement with attachment bytes goes alone, as
multipart/mixed. The target's answers are handled as the forwarder handles them: 409 is read
back, a batch refused with 400 is sent statement by statement, and statements refused alone are
reported, not retried.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp

from bot.lrs import multipart
from storage.database import Database
from storage.repositories import lrs_statements
from storage.repositories.lrs_statements import Attachment, StoredStatement

BATCH = 100
TRIES = 6
REQUEST_TIMEOUT_S = 60.0
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


class ReplayStopped(RuntimeError):
    """The target cannot take statements now (credentials, network); the message says why."""


@dataclass(frozen=True)
class Target:
    endpoint: str
    """The target LRS's xAPI base, ending in "/"."""
    key: str
    secret: str = field(repr=False)
    version: str = "1.0.3"

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", "X-Experience-API-Version": self.version}


@dataclass
class ReplayReport:
    sent: int = 0
    """Statements the target took (or already held: 409 read back)."""
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(statement id, the target's reason) for statements it refused on their own."""


@dataclass(frozen=True)
class _Item:
    stored: StoredStatement
    attachments: tuple[Attachment, ...]

    @property
    def voiding(self) -> bool:
        data = json.loads(self.stored.body)
        return data.get("verb", {}).get("id") == VOIDED and (
            data.get("object", {}).get("objectType") == "StatementRef"
        )


async def replay(
    database: Database,
    target: Target,
    progress: Callable[[int], None] = lambda _: None,
    batch: int = BATCH,
) -> ReplayReport:
    report = ReplayReport()
    after = 0
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        sender = _Sender(http, target, report)
        while True:
            items = await asyncio.to_thread(_next, database, after, batch)
            if not items:
                return report
            for group in _groups(items):
                await sender.send(group)
            after = items[-1].stored.seq
            progress(report.sent)


def _next(database: Database, after: int, batch: int) -> list[_Item]:
    with database.reading() as session:
        rows = lrs_statements.after(session, after, batch)
        files = lrs_statements.attachments_by_statement(session, [row.seq for row in rows])
    return [_Item(row, tuple(files.get(row.seq, ()))) for row in rows]


def _groups(items: Sequence[_Item]) -> list[list[_Item]]:
    """Runs of one kind (voiding or not); a statement with attachment bytes on its own."""
    groups: list[list[_Item]] = []
    for item in items:
        last = groups[-1] if groups else None
        if (
            last is None
            or item.attachments
            or last[0].attachments
            or last[0].voiding != item.voiding
        ):
            groups.append([item])
        else:
            last.append(item)
    return groups


@dataclass
class _Sender:
    http: aiohttp.ClientSession
    target: Target
    report: ReplayReport

    async def send(self, group: list[_Item]) -> None:
        status, text = await self._post(group)
        if status in (200, 204):
            self.report.sent += len(group)
        elif status == 409:
            await self._read_back(group)
        elif status in (400, 413) and len(group) > 1:
            for item in group:
                await self.send([item])
        else:
            self.report.rejected.append((group[0].stored.statement_id, f"{status}: {text[:300]}"))

    async def _read_back(self, group: list[_Item]) -> None:
        """After 409: what the target holds counts as sent; the rest goes alone."""
        for item in group:
            if await self._held(item.stored.statement_id):
                self.report.sent += 1
            elif len(group) > 1:
                await self.send([item])
            else:
                self.report.rejected.append(
                    (item.stored.statement_id, "409: the target holds a different statement")
                )

    async def _held(self, statement_id: str) -> bool:
        for name in ("statementId", "voidedStatementId"):
            status, _ = await self._request("GET", {name: statement_id}, None, None)
            if status == 200:
                return True
        return False

    async def _post(self, group: list[_Item]) -> tuple[int, str]:
        if group[0].attachments:
            body, content_type = multipart.build(
                group[0].stored.body.encode(),
                [(a.sha2, a.content_type, a.content) for a in group[0].attachments],
            )
        else:
            body = b"[" + b",".join(i.stored.body.encode() for i in group) + b"]"
            content_type = "application/json"
        return await self._request("POST", {}, body, content_type)

    async def _request(
        self, method: str, params: dict[str, str], body: bytes | None, content_type: str | None
    ) -> tuple[int, str]:
        headers = self.target.headers
        if content_type:
            headers["Content-Type"] = content_type
        url = self.target.endpoint + "statements"
        for attempt in range(TRIES):
            wait = 2.0**attempt
            try:
                async with self.http.request(
                    method, url, params=params, data=body, headers=headers
                ) as answer:
                    text = await answer.text(errors="replace")
                    status = answer.status
                    if status in (401, 403):
                        raise ReplayStopped(
                            f"the LRS at {self.target.endpoint} refused the credentials "
                            f"({status}): check LRS_KEY and LRS_SECRET"
                        )
                    if status not in (408, 429) and status < 500:
                        return status, text
                    reason = f"the LRS answered {status}"
                    wait = max(wait, _retry_after(answer.headers.get("Retry-After")))
            except (aiohttp.ClientError, TimeoutError) as error:
                reason = f"could not reach the LRS ({type(error).__name__})"
            if attempt + 1 < TRIES:
                await asyncio.sleep(min(wait, 60.0))
        raise ReplayStopped(f"{reason}, {TRIES} times: run the replay again later")


def _retry_after(header: str | None) -> float:
    try:
        return float(header) if header else 0.0
    except ValueError:
        return 0.0
