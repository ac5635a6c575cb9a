"""Slack profile look-ups behind the profile cache."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.services import Services
from handlers.guard import error_code

# Look-ups may run before an ack, inside Slack's 3-second window.
LOOKUP_TIMEOUT_S = 2.0
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")


def user_id_or_none(echoed: object) -> str | None:
    """A user id a client echoed back (a form's private_metadata, a button's value) when it is
    one; anything else (markup such as `U0BOB> <!channel`) is dropped."""
    return echoed if isinstance(echoed, str) and _USER_ID.fullmatch(echoed) else None


class PersonNotFound(Refused):
    """Slack does not know the person (or does not show them to the bot)."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"I couldn't find <@{user_id}> in this workspace.")
        self.user_id = user_id


class SlackSlow(Refused):
    """Slack took longer than the bot can wait to say who someone is; `not_done` is what
    the listener did not do because of it, e.g. "send the kudos"."""

    def __init__(self, not_done: str) -> None:
        super().__init__(
            f"Slack is slow to answer right now, so I didn't {not_done}. "
            "Please try again in a minute."
        )


async def profiles(
    services: Services, client: AsyncWebClient, team_id: str, user_ids: Iterable[str]
) -> dict[str, Profile]:
    """Profiles for `user_ids`: from the cache, else from `users.info` (then cached).

    Raises `PersonNotFound` for an id Slack does not know, `TimeoutError` when Slack is slow.
    """
    wanted = list(dict.fromkeys(user_ids))
    known = services.people.in_memory(team_id, wanted)
    if len(known) < len(wanted):
        unknown = [uid for uid in wanted if uid not in known]
        known.update(await services.run(services.people.fresh, team_id, unknown))
    missing = [uid for uid in wanted if uid not in known]
    if missing:
        fetched = await asyncio.wait_for(
            asyncio.gather(*(_fetch(client, uid) for uid in missing)), LOOKUP_TIMEOUT_S
        )
        await services.run(services.people.remember, team_id, fetched)
        known.update({p.user_id: p for p in fetched})
    return {uid: known[uid] for uid in wanted}


async def _fetch(client: AsyncWebClient, user_id: str) -> Profile:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as error:
        if error_code(error) in ("user_not_found", "user_not_visible"):
            raise PersonNotFound(user_id) from None
        raise
    return profile_from_slack(response["user"])


def profile_from_slack(user: dict[str, Any]) -> Profile:
    """A `users.info` user as a profile, named by the full name Slack shows for them."""
    profile = user.get("profile") or {}
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user["id"]
    )
    return Profile(
        user_id=user["id"],
        name=name,
        email=profile.get("email"),
        tz=user.get("tz") or "UTC",
        # Slackbot is not flagged as a bot but is one for every purpose here.
        is_bot=bool(user.get("is_bot") or user.get("is_app_user")) or user["id"] == "USLACKBOT",
        deleted=bool(user.get("deleted")),
    )
