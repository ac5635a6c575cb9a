"""The one error boundary every listener runs inside.

A listener that raises makes Bolt answer Slack with HTTP 500 (and Slack shows the user a
cryptic failure). Instead the person gets a short ephemeral apology with a reference, and the
log gets the traceback under the same reference, so support can find it.

Events are the exception to the apology: Slack redelivers an event that did not get a 2xx, and
never retries a command or an interaction. So an event whose work before the ack failed (the
durable write: database unreachable, a lock timeout) is answered with a 500, and its
redelivery does the work; the processed-event claims make sure it is done once. Either way the
lazy listeners of a request whose ack failed are skipped: there is nothing for them to finish.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.logs import logged_with

log = logging.getLogger("guildbot.handlers")

Listener = Callable[..., Awaitable[None]]

# Set in the request's context when its ack listener failed: its lazy listeners do not run.
_ACK_FAILED = "guildbot_ack_failed"


def error_code(error: SlackApiError) -> str | None:
    """Slack's error code (`channel_not_found`, …); None when the answer was not Slack's JSON."""
    data = error.response.data
    return data.get("error") if isinstance(data, dict) else None


def apology(reference: str) -> str:
    return (
        "Sorry, something went wrong on our side and I couldn't finish that. "
        f"Please try again in a moment; if it keeps happening, tell your admin the reference `{reference}`."
    )


def boundary(
    fn: Listener, call: Callable[[AsyncArgs], Awaitable[None]], lazy: bool
) -> Callable[[AsyncArgs], Awaitable[None]]:
    """Runs `call` (which runs `fn`, an ack listener or, with `lazy`, one that runs after the
    ack) inside the error boundary; see the module's docstring."""

    async def listener(args: AsyncArgs) -> None:
        # Everything the listener logs carries these, as fields in JSON logs.
        fields = {
            "listener": f"{fn.__module__}.{fn.__name__}",
            "team": _team_id(args.body or {}),
            "event_id": (args.body or {}).get("event_id"),
        }
        try:
            await logged_with(call(args), **fields)
        except Exception:
            reference = secrets.token_hex(4).upper()
            unacked = not lazy and args.ack.response is None
            if unacked:
                args.context[_ACK_FAILED] = True
            if unacked and _is_event(args.body):
                log.exception(
                    "event %s not acknowledged: %s failed (reference %s); Slack will redeliver it",
                    (args.body or {}).get("event_id"),
                    fn.__qualname__,
                    reference,
                    extra={**fields, "reference": reference, "outcome": "redelivery"},
                )
                args.ack.response = BoltResponse(status=500, body=f"failed, reference {reference}")
                return
            log.exception(
                "listener %s failed (reference %s)",
                fn.__qualname__,
                reference,
                extra={**fields, "reference": reference, "outcome": "apology"},
            )
            await _tell_user(args, apology(reference))

    listener.__name__ = fn.__name__
    listener.__qualname__ = fn.__qualname__
    return listener


def ack_failed(context: Mapping[str, Any]) -> bool:
    """Whether the request's ack listener failed (its lazy listeners have nothing to finish)."""
    return bool(context.get(_ACK_FAILED))


async def _tell_user(args: AsyncArgs, text: str) -> None:
    try:
        await tell(args, text)
    except Exception:
        log.exception("could not tell the user about a failure")


async def tell(args: AsyncArgs, text: str) -> None:
    """Tells the person who made the request, privately, on the surface it came from: the
    ack of a slash command, else its response URL, else an ephemeral message."""
    body: dict[str, Any] = args.body or {}
    if args.ack.response is None:
        # Still inside the ack: for a slash command the ack text *is* the ephemeral reply.
        if "command" in body:
            await args.ack(text=text)
            return
        await args.ack()
    if body.get("response_url") or _first_response_url(body):
        await args.respond(text=text, response_type="ephemeral", replace_original=False)
        return
    user = _user_id(body)
    channel = _channel_id(body)
    if user and channel:
        await args.client.chat_postEphemeral(channel=channel, user=user, text=text)


def _is_event(body: dict[str, Any] | None) -> bool:
    return (body or {}).get("type") == "event_callback"


def _first_response_url(body: dict[str, Any]) -> str | None:
    urls = body.get("response_urls") or []
    return urls[0].get("response_url") if urls else None


def _team_id(body: dict[str, Any]) -> str | None:
    """Commands and events name the team at the top; interactions in `team`."""
    team = body.get("team")
    return body.get("team_id") or (team.get("id") if isinstance(team, dict) else None)


def _user_id(body: dict[str, Any]) -> str | None:
    if "user_id" in body:
        return body["user_id"]
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    return None


def _channel_id(body: dict[str, Any]) -> str | None:
    if "channel_id" in body:
        return body["channel_id"]
    channel = body.get("channel")
    if isinstance(channel, dict):
        return channel.get("id")
    return None
