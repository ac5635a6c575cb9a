"""The one factory for Slack Web API clients, and the one check of a response URL."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

# Slack answers 429 with Retry-After; the rate-limit handler sleeps exactly that long.
RATE_LIMIT_RETRIES = 3
# The longest one Web API call may take before the client gives up on it.
CALL_TIMEOUT_S = 15
SLACK_HOOKS = "hooks.slack.com"
# Open connections kept to Slack's Web API (more calls at once wait for one).
POOLED_CONNECTIONS = 32

MAX_WORKSPACE_CLIENTS = 1000
log = logging.getLogger("guildbot.slack")


class PooledWebClient(AsyncWebClient):
    """A Web API client bound to one pooled aiohttp session. Without a session slack_sdk opens
    (and closes) a connection per call. A copy is the client itself: a ClientSession cannot be
    deep-copied, and Bolt deep-copies what its own lazy listeners get (the seam's get the
    request itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_token: dict[str, PooledWebClient] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> PooledWebClient:
        return self

    def with_token(self, token: str | None) -> PooledWebClient:
        """The same session, base URL and retries with another workspace's token (kept, one
        client per token); itself for its own token or none."""
        if not token or token == self.token:
            return self
        clients = self._by_token
        if token not in clients:
            if len(clients) >= MAX_WORKSPACE_CLIENTS:
                clients.clear()  # rotated tokens must not pile up
            clients[token] = PooledWebClient(
                token=token,
                base_url=self.base_url,
                session=self.session,
                timeout=self.timeout,
                retry_handlers=self.retry_handlers,
                logger=self.logger,
            )
        return clients[token]


def slack_session() -> aiohttp.ClientSession:
    """The process's one session for Slack's Web API (create it on the running event loop;
    close it at shutdown)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOLED_CONNECTIONS, keepalive_timeout=30)
    )


def build_web_client(
    settings: Settings, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """A client for `SLACK_API_URL` that retries rate-limited, dropped and 5xx calls, on
    `session` when given (see `slack_session`), else a connection per call."""
    return PooledWebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        session=session,
        timeout=CALL_TIMEOUT_S,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def slack_response_url(url: object, settings: Settings) -> str | None:
    """`url` when it is a response URL of Slack's own: https on hooks.slack.com, or on the
    host of SLACK_API_URL (or its hooks. host: GovSlack; the playground's stand-in). Anything
    else, echoed back by a client in a form's private_metadata, is never POSTed to: None."""
    if not isinstance(url, str):
        return None
    try:
        parts, api = urlsplit(url), urlsplit(settings.slack_api_url)
    except ValueError:
        return None
    own = {api.netloc, f"hooks.{api.netloc}"}
    trusted = (parts.scheme == "https" and parts.netloc == SLACK_HOOKS) or (
        parts.scheme == api.scheme and parts.netloc in own
    )
    if trusted:
        return url
    log.warning("ignored a response URL that is not Slack's (host %r)", parts.hostname)
    return None
