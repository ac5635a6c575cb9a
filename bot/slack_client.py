"""The one factory for Slack Web API clients."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

# Slack answers 429 with Retry-After; the rate-limit handler sleeps exactly that long.
RATE_LIMIT_RETRIES = 3


def build_web_client(settings: Settings) -> AsyncWebClient:
    """A client for `SLACK_API_URL` that retries rate-limited, dropped and 5xx calls.

    It owns no aiohttp session on purpose: Bolt deep-copies the client for lazy listeners, and
    a client bound to a ClientSession cannot be copied.
    """
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )
