"""What a request to `POST /slack/events` must pass before Bolt sees it.

Bolt parses the body before it checks the signature, so an unsigned request could make it
parse a megabyte of junk (and answer 500 with a traceback). Here the cheap checks come first:
the size from the headers, then the timestamp and signature headers' shape and freshness, then
the body, read under a size cap and a time limit, then the HMAC over those raw bytes. Only a
request that passes all of them is parsed.

Slow clients are cut off by the server as well: see `SERVER_LIMITS` (the header deadline) and
`BODY_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("guildbot.edge")

# Far above anything Slack sends (a form with many inputs is tens of kilobytes).
MAX_BODY_BYTES = 1024 * 1024
# A client must send its whole request line and headers this soon after connecting (or after
# its previous request): aiohttp arms its keep-alive timer when a connection opens, and bytes
# trickled in do not reset it.
HEADERS_TIMEOUT_S = 10.0
SERVER_LIMITS = {"keepalive_timeout": HEADERS_TIMEOUT_S}
# And its body this soon after the headers.
BODY_TIMEOUT_S = 30.0
# Slack's own rule: a request more than five minutes old may be a replay.
MAX_AGE_S = 5 * 60
# Longer digit strings are not times (and Python refuses to parse very long ones).
_MAX_TIMESTAMP_DIGITS = 12


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def check_headers(headers: Mapping[str, str], now: float) -> Refusal | None:
    """The refusal due before reading the body, if any: size, timestamp and signature shape."""
    length = headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return Refusal(413, "body too large")
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    if not timestamp.isdigit() or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return Refusal(401, "malformed timestamp")
    if abs(now - int(timestamp)) > MAX_AGE_S:
        return Refusal(401, "stale timestamp")
    if not signature.startswith("v0=") or len(signature) != 67:
        return Refusal(401, "malformed signature")
    return None


class SlackEdge:
    """Reads and verifies one request; hands back its body as text, or a refusal response."""

    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)

    async def body_of(self, request: web.Request) -> str | web.Response:
        refusal = check_headers(request.headers, time.time())
        if refusal is None:
            try:
                raw = await asyncio.wait_for(request.read(), BODY_TIMEOUT_S)
            except web.HTTPRequestEntityTooLarge:
                refusal = Refusal(413, "body too large")
            except TimeoutError:
                return self._refuse(request, Refusal(408, "body too slow"), close=True)
            else:
                refusal = self._verify(request, raw)
                if refusal is None:
                    return raw.decode("utf-8", errors="replace")
        return self._refuse(request, refusal, close=refusal.status == 413)

    def _verify(self, request: web.Request, raw: bytes) -> Refusal | None:
        valid = self._verifier.is_valid(
            body=raw,
            timestamp=request.headers["X-Slack-Request-Timestamp"],
            signature=request.headers["X-Slack-Signature"],
        )
        return None if valid else Refusal(401, "wrong signature")

    @staticmethod
    def _refuse(request: web.Request, refusal: Refusal, close: bool = False) -> web.Response:
        log.warning(
            "refused a request to %s from %s: %s (%d)",
            request.path,
            request.remote,
            refusal.reason,
            refusal.status,
            extra={"outcome": "refused", "status": refusal.status},
        )
        response = web.Response(status=refusal.status, text=refusal.reason)
        if close:
            # The rest of an unread body would otherwise be drained from the socket.
            response.force_close()
        return response
