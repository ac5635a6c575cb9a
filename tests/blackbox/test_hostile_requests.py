"""Hostile and broken requests against `python -m bot`: refused cheaply, never a 500.

Unsigned or badly signed bodies get 401 before anything parses them, oversized ones 413, and
clients that never finish their headers are cut off by the server; meanwhile real, signed
requests keep getting their acks within Slack's 3-second deadline.
"""

from __future__ import annotations

import asyncio
import time

from bot.slack_edge import HEADERS_TIMEOUT_S
from tests.support.blackbox import StartBot
from tests.support.process import LOOPBACK, BotProcess
from tests.support.slack import sign, slash_command_body

SLACK_DEADLINE_S = 3.0
ONE_MIB = 1024 * 1024


def junk(size: int) -> str:
    return "payload=" + "A" * (size - len("payload="))


async def real_command_acks(bot: BotProcess) -> float:
    """Seconds a correctly signed `/kudos help` took to be acked (it must be acked)."""
    body = slash_command_body("/kudos", "help", "U0ANN")
    started = time.monotonic()
    status, answer = await bot.post(body, sign(body))
    assert status == 200, answer
    assert "/kudos" in str(answer)
    return time.monotonic() - started


async def test_unsigned_stale_malformed_and_oversized_requests_are_refused_without_a_500(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    fresh = str(int(time.time()))
    body = junk(ONE_MIB)
    forged = {"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": "v0=" + "0" * 64}
    cases = {
        "unsigned 1 MiB": (body, {}, 401),
        "wrong signature, 1 MiB": (body, forged, 401),
        "timestamp abc": (body, {**sign(body), "X-Slack-Request-Timestamp": "abc"}, 401),
        "stale timestamp": ("a=b", sign("a=b", timestamp=int(time.time()) - 600), 401),
        "signed for another body": ("a=c", sign("a=b"), 401),
        "2 MiB": (junk(2 * ONE_MIB), forged, 413),
    }

    answers = {name: (await bot.post(b, h))[0] for name, (b, h, _) in cases.items()}

    assert answers == {name: status for name, (_, _, status) in cases.items()}
    log = bot.stderr()
    assert "Traceback" not in log
    assert log.count("refused a request to /slack/events") == len(cases)
    # The bot still serves Slack afterwards.
    assert await real_command_acks(bot) < SLACK_DEADLINE_S


async def test_half_sent_requests_are_cut_off_while_real_requests_are_still_acked(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    stalled: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for _ in range(300):
        reader, writer = await asyncio.open_connection(LOOPBACK, bot.port)
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: guildbot\r\nContent-Le")
        await writer.drain()
        stalled.append((reader, writer))

    # While 300 connections hang, Slack's real requests are answered in time.
    acks = [await real_command_acks(bot) for _ in range(5)]
    assert max(acks) < SLACK_DEADLINE_S

    async def closed_by_server(reader: asyncio.StreamReader) -> bool:
        try:
            await asyncio.wait_for(reader.read(), HEADERS_TIMEOUT_S + 10)
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        return True

    closed = await asyncio.gather(*(closed_by_server(reader) for reader, _ in stalled))
    for _, writer in stalled:
        writer.close()
    assert all(closed), f"{closed.count(False)} half-sent requests were never cut off"
    assert "Traceback" not in bot.stderr()
