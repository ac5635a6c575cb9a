"""Performs the Slack effects acknowledged actions owe (see bot/domain/effects.py).

Right after the ack, the lazy listener of the request does its effects, as before; when that
fails, or the process dies first, the database tick does them from any process. Each
capability registers a performer per kind of effect: a function that renders the words from
the current state and makes the Slack calls, returning what to remember (a message's `ts`).

How a failure ends:
- Slack refuses for good (the channel is archived or gone, the person deactivated, the
  message too long…): the effect is dead, with Slack's reason, and admins see it in App Home.
- Anything else (Slack slow or down, rate limits beyond the client's own retries, a bug): it
  comes back later with backoff, and after `MAX_ATTEMPTS` it is dead too.
- Its moment passed (an ephemeral reply): dropped on purpose, and logged.

Posting twice is avoided where Slack lets us check: `post_once` tags each message with the
effect's key in Slack's message metadata, and a retried effect first looks for it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.effects import OwedEffect
from bot.services import Services
from bot.slack_client import CALL_TIMEOUT_S
from handlers.guard import error_code

log = logging.getLogger("guildbot.effects")


@dataclass(frozen=True)
class Recorded:
    """What a performer returns when its capability records what the effect did itself (where
    the message went): `record` runs in one unit of work with marking the effect done, and
    returns the keys of effects it owed as a consequence (claimed here), done at once."""

    result: Mapping[str, Any] | None
    record: Callable[[], Sequence[str]]


Performer = Callable[[AsyncWebClient, OwedEffect], Awaitable[Mapping[str, Any] | Recorded | None]]

# Slack's answers that will not change however often we ask.
REFUSED_FOR_GOOD = frozenset(
    {
        "cannot_dm_bot",
        "channel_not_found",
        "invalid_blocks",
        "is_archived",
        "msg_too_long",
        "no_text",
        "not_in_channel",
        "restricted_action",
        "user_disabled",
        "user_not_found",
        "users_not_found",
    }
)
# Slack's answers when the workspace's token is no good: guildbot was uninstalled there (or its
# tokens revoked) and its event has not reached us. Nothing about the effect is wrong.
TOKEN_REFUSED = frozenset({"account_inactive", "invalid_auth", "not_authed", "token_revoked"})
METADATA_EVENT = "guildbot_effect"
TICK_BATCH = 20
# After this, a Web API call cut short at shutdown has surely ended, one way or the other.
CALL_SETTLES = timedelta(seconds=CALL_TIMEOUT_S + 5)
# Slack honours a response URL for 30 minutes.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)


class Undeliverable(Exception):
    """The effect can never be done (the message says why): it is dead, not retried.
    `told`: the performer already told the requester what that means for them."""

    def __init__(self, reason: str, told: bool = False) -> None:
        super().__init__(reason)
        self.told = told


class EffectRunner:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._performers: dict[str, Performer] = {}
        self._in_flight: dict[str, OwedEffect] = {}

    def performs(self, kind: str, performer: Performer) -> None:
        """Registers how effects of `kind` are done (one performer per kind)."""
        assert kind not in self._performers, kind
        self._performers[kind] = performer

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._performers)

    async def perform_now(self, client: AsyncWebClient, keys: Sequence[str]) -> None:
        """Right after the ack: does these effects unless another process already holds them."""
        if not keys:
            return
        queue = self._services.effects
        claimed = queue.claimed_here(keys)
        if len(claimed) < len(keys):
            mine = {effect.key for effect in claimed}
            rest = [key for key in keys if key not in mine]
            claimed += await self._services.run(queue.claim, rest)
        for effect in claimed:
            await self._perform(client, effect)

    async def perform_due(self, client: AsyncWebClient, team_id: str) -> int:
        """The tick, for one workspace it works for (`client` has its token): does every
        effect owed there whose time has come; returns how many it tried."""
        queue = self._services.effects
        tried = 0
        while batch := await self._services.run(queue.claim_due, team_id, TICK_BATCH):
            for effect in batch:
                await self._perform(client, effect)
            tried += len(batch)
            if len(batch) < TICK_BATCH:
                break
        if tried:
            await self._services.run(queue.tidy)
        return tried

    async def respond(
        self,
        effect: OwedEffect,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None,
        response_type: str,
    ) -> None:
        """Answers through the request's response URL (in the payload as `response_url`), the
        one way into a conversation the bot is not part of."""
        url = effect.payload.get("response_url")
        if not url:
            raise Undeliverable("there is no response URL to answer through")
        if self._services.clock() - effect.created_at > RESPONSE_URL_LIFETIME:
            raise Undeliverable("the response URL expired (Slack honours one for 30 minutes)")
        answer = await AsyncWebhookClient(url).send(
            text=text, blocks=blocks, response_type=response_type, replace_original=False
        )
        if answer.status_code == 429 or answer.status_code >= 500:
            raise ConnectionError(f"the response URL answered {answer.status_code}")
        if answer.status_code >= 400:
            raise Undeliverable(f"the response URL answered {answer.status_code}: {answer.body}")

    async def hand_over(self) -> int:
        """Shutdown: gives the effects still in flight back to the queue at once."""
        in_flight = list(self._in_flight.values())
        if in_flight:
            await self._services.run(self._services.effects.hand_over, in_flight, CALL_SETTLES)
            self._in_flight.clear()
        return len(in_flight)

    async def _perform(self, client: AsyncWebClient, effect: OwedEffect) -> None:
        queue = self._services.effects
        if queue.expired(effect):
            log.info("effect %s (%s) dropped: its moment has passed", effect.key, effect.kind)
            await self._services.run(queue.drop, effect, "its moment passed")
            return
        performer = self._performers.get(effect.kind)
        if performer is None:
            await self._services.run(queue.dead, effect, f"nothing performs {effect.kind}")
            return
        self._in_flight[effect.key] = effect
        again, owed = False, ()
        try:
            result = await performer(client, effect)
        except Undeliverable as never:
            await self._bury(effect, str(never), tell=not never.told)
        except SlackApiError as error:
            await self._slack_refused(effect, error)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await self._failed(effect, f"Slack could not be reached: {type(error).__name__}")
        except Exception:
            reference = secrets.token_hex(4).upper()
            log.exception(
                "effect %s (%s) failed (reference %s)", effect.key, effect.kind, reference
            )
            await self._failed(effect, f"unexpected error, reference {reference}")
        else:
            again, owed = await self._done(effect, result)
        finally:
            self._in_flight.pop(effect.key, None)
        if owed:
            await self.perform_now(client, owed)
        if again:
            # Owed again while being done (its state changed meanwhile): show the latest.
            await self.perform_now(client, [effect.key])

    async def _done(
        self, effect: OwedEffect, result: Mapping[str, Any] | Recorded | None
    ) -> tuple[bool, Sequence[str]]:
        """Marks the effect done (with the performer's own record, if it returned one)."""
        queue = self._services.effects
        if isinstance(result, Recorded):
            return await self._services.run(
                queue.done_recording, effect, result.result, result.record
            )
        return await self._services.run(queue.done, effect, result), ()

    async def _slack_refused(self, effect: OwedEffect, error: SlackApiError) -> None:
        code = error_code(error) or f"HTTP {error.response.status_code}"
        if code in TOKEN_REFUSED:
            log.warning(
                "effect %s (%s) waits: Slack refused workspace %s's token (%s); guildbot was "
                "probably uninstalled there",
                effect.key,
                effect.kind,
                effect.team_id,
                code,
                extra={"team": effect.team_id},
            )
            await self._services.run(
                self._services.effects.wait_for_token, effect, f"Slack said {code}"
            )
            return
        if code in REFUSED_FOR_GOOD:
            await self._bury(effect, f"Slack said {code}")
            return
        await self._failed(effect, f"Slack said {code}")

    async def _bury(self, effect: OwedEffect, reason: str, tell: bool = True) -> None:
        log.warning("effect %s (%s) is dead: %s", effect.key, effect.kind, reason)
        await self._services.run(self._services.effects.dead, effect, reason)
        if tell:
            await self._tell_requester(effect, reason)

    async def _tell_requester(self, effect: OwedEffect, reason: str) -> None:
        """The person whose request owed a dead effect hears of it, while Slack still lets us
        answer them (their request's response URL); admins see it in App Home either way."""
        url = effect.payload.get("response_url")
        if not url or self._services.clock() - effect.created_at > RESPONSE_URL_LIFETIME:
            return
        text = (
            "Your request was recorded, but I couldn't finish posting about it in Slack "
            f"({reason}). An L&D admin can see this in guildbot's Home tab."
        )
        try:
            await AsyncWebhookClient(url).send(
                text=text, response_type="ephemeral", replace_original=False
            )
        except Exception:
            log.warning("could not tell the requester of effect %s", effect.key, exc_info=True)

    async def _failed(self, effect: OwedEffect, reason: str) -> None:
        delay = await self._services.run(self._services.effects.failed, effect, reason)
        if delay is None:
            await self._tell_requester(effect, reason)
        else:
            log.warning(
                "effect %s (%s) failed, trying again in %.0f s: %s",
                effect.key,
                effect.kind,
                delay.total_seconds(),
                reason,
            )


async def post_once(
    client: AsyncWebClient,
    effect: OwedEffect,
    channel: str,
    text: str,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    thread_ts: str | None = None,
) -> str:
    """Posts the effect's message and returns its `ts`; if an earlier attempt may have posted
    it already, looks for it first (by the key in its metadata) and returns that one."""
    if effect.may_have_reached_slack:
        found = await _posted_before(client, effect, channel, thread_ts)
        if found is not None:
            return found
    posted = await client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=text,
        blocks=blocks,
        metadata={"event_type": METADATA_EVENT, "event_payload": {"key": effect.key}},
    )
    return str(posted["ts"])


async def direct_message(
    client: AsyncWebClient,
    user_id: str,
    text: str,
    blocks: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """A DM from the bot (its `D…` channel from conversations.open); returns the message ts.
    DMs are not checked for an earlier copy before a retry (that would need reading DMs)."""
    posted = await client.chat_postMessage(
        channel=await dm_channel(client, user_id), text=text, blocks=blocks
    )
    return str(posted["ts"])


async def dm_channel(client: AsyncWebClient, user_id: str) -> str:
    """The bot's `D…` channel with the person (a DM to edit later is known by it and its ts)."""
    opened = await client.conversations_open(users=user_id)
    return str(opened["channel"]["id"])


async def _posted_before(
    client: AsyncWebClient, effect: OwedEffect, channel: str, thread_ts: str | None
) -> str | None:
    since = _slack_ts(effect.created_at)
    try:
        if thread_ts:
            page = await client.conversations_replies(
                channel=channel, ts=thread_ts, oldest=since, include_all_metadata=True, limit=200
            )
        else:
            page = await client.conversations_history(
                channel=channel, oldest=since, include_all_metadata=True, limit=200
            )
    except SlackApiError as error:
        # Not readable (a public channel the bot posts to without being in it): post again.
        log.info("could not check %s for an earlier post: %s", channel, error_code(error))
        return None
    for message in page.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == effect.key:
            return str(message["ts"])
    return None


def _slack_ts(moment: datetime) -> str:
    # A little earlier than the effect was owed: Slack's and our clocks differ slightly.
    return f"{moment.timestamp() - 60:.6f}"
