"""guildbot's inbuilt LRS in a process of its own, for tests that need an LRS to send to.

`python -m tests.support.inbuilt_lrs DATABASE_URL PORT` serves the same /xapi/ routes the bot
mounts, on 127.0.0.1, from a migrated database, until it is terminated. Statements guildbot
would make itself have this deployment's guildbot agent as their authority.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys

from aiohttp import web

from bot.executor import BlockingExecutor
from bot.lrs.http import Lrs, LrsIdentity
from bot.lrs.routes import add_routes
from storage.database import POOL_SIZE, Database
from storage.migrate import upgrade

HOME_PAGE = "https://lrs-test.guildbot.invalid/"
IDENTITY = LrsIdentity(
    own_authority={
        "objectType": "Agent",
        "name": "guildbot",
        "account": {"homePage": HOME_PAGE, "name": "B0GUILD"},
    },
    credential_home_page=HOME_PAGE + "guildbot/lrs/keys",
)


async def serve(database_url: str, port: int) -> None:
    database = Database(database_url)
    upgrade(database)
    executor = BlockingExecutor(POOL_SIZE)
    app = web.Application()
    add_routes(app, Lrs(database, executor, IDENTITY))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gc.freeze()  # as the bot does once started: long-lived objects stay out of full collections
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    executor.shutdown()
    database.dispose()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
