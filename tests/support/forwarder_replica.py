"""One forwarder replica as a process of its own, for tests of several replicas on one outbox.

    python -m tests.support.forwarder_replica DATABASE_URL LRS_ENDPOINT NAME LEASE_S TIMEOUT_S

Drains the outbox into the LRS (its Basic key is NAME, so the LRS can tell replicas apart)
until nothing is pending, then exits 0; exits 1 if that takes over a minute.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

from bot.executor import BlockingExecutor
from bot.xapi.forwarder import Forwarder, LrsConfig
from storage.database import Database
from storage.repositories import outbox

DEADLINE_S = 60.0


async def drain(url: str, endpoint: str, name: str, lease_s: float, timeout_s: float) -> int:
    database = Database(url)
    executor = BlockingExecutor(2)
    forwarder = Forwarder(
        database,
        executor,
        LrsConfig(endpoint=endpoint, key=name, secret="replica-secret"),
        batch_size=16,
        lease=timedelta(seconds=lease_s),
        request_timeout=timeout_s,
        base_backoff=0.1,
        max_backoff=0.2,
    )

    def pending() -> int:
        with database.reading() as session:
            return outbox.counts(session).pending

    deadline = time.monotonic() + DEADLINE_S
    try:
        while await executor.run(pending):
            if time.monotonic() > deadline:
                return 1
            if not await forwarder.drain_once():
                await asyncio.sleep(0.05)
        return 0
    finally:
        await forwarder.close()
        executor.shutdown()
        database.dispose()


if __name__ == "__main__":
    url, endpoint, name, lease, timeout = sys.argv[1:6]
    sys.exit(asyncio.run(drain(url, endpoint, name, float(lease), float(timeout))))
