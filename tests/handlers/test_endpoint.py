"""/slack/events reads bodies under a cap and a deadline, and verifies them before parsing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from bot import slack_edge
from bot.slack_edge import MAX_BODY_BYTES
from tests.support.harness import BotHarness
from tests.support.slack import sign, slash_command_body

pytestmark = pytest.mark.usefixtures("no_listener_failures")


async def raw_request(bot: BotHarness, head: bytes, body_parts: AsyncIterator[bytes]) -> bytes:
    """Sends a request by hand (so its body can stall or run on) and returns what came back."""
    address = urlsplit(bot.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(head)
    try:
        async for part in body_parts:
            writer.write(part)
            await writer.drain()
    except ConnectionError:
        pass  # the server hung up mid-body, as it should for an oversized one
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_a_body_that_never_finishes_is_cut_off_with_408(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_edge, "BODY_TIMEOUT_S", 0.5)
    body = slash_command_body("/kudos", "help", "U0ANN")
    headers = sign(body)
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: guildbot\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Slack-Request-Timestamp: {headers['X-Slack-Request-Timestamp']}\r\n"
        f"X-Slack-Signature: {headers['X-Slack-Signature']}\r\n\r\n"
    ).encode()

    async def half_the_body() -> AsyncIterator[bytes]:
        yield body[: len(body) // 2].encode()
        await asyncio.sleep(2)

    answer = await raw_request(bot, head, half_the_body())

    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


async def test_a_chunked_body_over_the_cap_gets_413(bot: BotHarness) -> None:
    headers = sign("ignored")
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: guildbot\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
        f"X-Slack-Request-Timestamp: {headers['X-Slack-Request-Timestamp']}\r\n"
        f"X-Slack-Signature: {headers['X-Slack-Signature']}\r\n\r\n"
    ).encode()
    chunk = b"A" * 65536

    async def too_much() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
        yield b"0\r\n\r\n"

    answer = await raw_request(bot, head, too_much())

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


async def test_a_correctly_signed_request_still_reaches_the_command(bot: BotHarness) -> None:
    status, answer = await bot.command("/kudos", "help", "U0ANN")

    assert status == 200
    assert "/kudos" in answer["text"]
