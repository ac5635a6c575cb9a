"""The one factory for Slack Web API clients, and the one check of a response URL."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

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

log = logging.getLogger("guildbot.slack")


def build_web_client(settings: Settings) -> AsyncWebClient:
    """A client for `SLACK_API_URL` that retries rate-limited, dropped and 5xx calls.

    It owns no aiohttp session on purpose: Bolt deep-copies the client for lazy listeners, and
    a client bound to a ClientSession cannot be copied.
    """
    return AsyncWebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
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
