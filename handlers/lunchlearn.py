"""`/lunchlearn`: scheduling (L&D), the announcement and its RSVP buttons, list and cancel."""

from __future__ import annotations

import json
import logging
import math
import re

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.kudos import read_values
from bot.domain.lunchlearn import FormErrors, SessionRefused, read_form
from bot.services import Services
from bot.views.calendar import session_ics
from bot.views.help import LUNCHLEARN, command_help_text
from bot.views.lunchlearn import (
    CALENDAR_ACTION,
    CHECKIN_ACTION,
    CODE_VIEW,
    GOING_ACTION,
    NOT_GOING_ACTION,
    RATE_ACTION,
    RATE_VIEW,
    SCHEDULE_VIEW,
    SUGGEST_ACTION,
    announcement_blocks,
    announcement_text,
    calendar_comment,
    cancelled_text,
    checked_in_text,
    code_modal,
    done_view,
    feedback_blocks,
    feedback_text,
    gaps_blocks,
    list_blocks,
    organiser_cancellation_text,
    presenter_code_text,
    promoted_text,
    rate_modal,
    rated_text,
    read_state,
    reminder_text,
    rsvp_text,
    schedule_modal,
)
from bot.views.mrkdwn import code, escape, readable
from handlers.effects import EffectRunner
from handlers.guard import error_code, guarded, slack_slow
from handlers.home import refresh_homes
from handlers.people import PersonNotFound, profiles
from handlers.questions import send_dm
from handlers.slack_time import slack_time
from storage.models import LunchSession

log = logging.getLogger("guildbot.handlers.lunchlearn")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    @guarded
    async def lunchlearn(
        ack: AsyncAck, command: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        text = (command.get("text") or "").strip()
        verb, _, rest = text.partition(" ")
        team_id, user_id = command["team_id"], command["user_id"]
        try:
            if verb.lower() == "help":
                await ack(text=command_help_text(LUNCHLEARN))
            elif verb.lower() == "gaps":
                gaps = await services.run(services.gaps.top, team_id)
                admin = user_id in services.lunchlearn.admins
                await ack(text="Knowledge gaps", blocks=gaps_blocks(gaps, admin))
            elif verb.lower() == "list":
                upcoming = await services.run(services.lunchlearn.upcoming, team_id, user_id)
                await ack(text="Lunch-and-learns coming up", blocks=list_blocks(upcoming))
            elif verb.lower() == "cancel":
                admin = (await profiles(services, client, team_id, [user_id]))[user_id]
                cancelled, told = await services.run(
                    services.lunchlearn.cancel, team_id, rest, admin
                )
                services.forwarder.wake()
                context["cancelled"] = {"id": cancelled.id, "told": told}
                await ack(text=f"Cancelled “{escape(cancelled.title)}”; {telling(len(told))}.")
            elif verb == "":
                services.lunchlearn.check_admin(user_id)
                context["open_form"] = True
                await ack()
            else:
                unknown = code(f"/lunchlearn {readable(text)}")
                await ack(text=f"I don't know {unknown}.\n" + command_help_text(LUNCHLEARN))
        except SessionRefused as refusal:
            await ack(text=refusal.message)
        except TimeoutError:
            await ack(text=slack_slow("cancel the session"))

    @guarded
    async def after_command(
        command: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if context.get("open_form"):
            # Opened right after the ack, inside the trigger's 3-second window.
            await client.views_open(trigger_id=command["trigger_id"], view=schedule_modal())
        if context.get("cancelled"):
            await tell_cancelled(client, context["cancelled"]["id"], context["cancelled"]["told"])

    async def tell_cancelled(client: AsyncWebClient, session_id: str, told: list[str]) -> None:
        lunch = await services.run(services.lunchlearn.get, session_id)
        if lunch is None:
            return
        await redraw(services, client, session_id)
        for user_id in told:
            await send_dm(client, user_id, text=cancelled_text(lunch))
        # Everyone with the calendar file gets the cancelled one, so it leaves their calendar.
        for user_id in await services.run(services.lunchlearn.calendar_holders, session_id):
            await send_ics(services, client, lunch, user_id)

    # The form -------------------------------------------------------------------------------

    @guarded
    async def schedule(
        ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        values = read_state(view["state"]["values"])
        names = services.skills.names
        tags = tuple(
            dict.fromkeys(names.canonical(t) for t in read_values(values.get("tags") or ""))
        )
        try:
            draft = read_form(values, services.clock(), tuple(t for t in tags if t))
            # The presenter's profile too: statements name them as the session's instructor.
            people = await profiles(services, client, team_id, [user_id, draft.presenter_id])
            organiser = people[user_id]
            # Echoed back by the client: folded like a typed skill name.
            gap = names.canonical(
                str(json.loads(view.get("private_metadata") or "{}").get("gap") or "")
            )
            scheduled = await services.run(
                services.lunchlearn.schedule, team_id, organiser, draft, f"form:{view['id']}", gap
            )
        except FormErrors as problems:
            await ack(response_action="errors", errors=problems.errors)
            return
        except PersonNotFound:
            await ack(response_action="errors", errors={"presenter": "Slack doesn't know them."})
            return
        except (SessionRefused, TimeoutError) as refusal:
            message = getattr(refusal, "message", slack_slow("schedule the session"))
            await ack(response_action="errors", errors={"title": message[:150]})
            return
        services.forwarder.wake()
        context["scheduled"] = {"id": scheduled.id, "organiser": user_id}
        await ack()

    @guarded
    async def announce(client: AsyncWebClient, context: AsyncBoltContext) -> None:
        scheduled = context.get("scheduled")
        if not scheduled:
            return
        lunch = await services.run(services.lunchlearn.get, scheduled["id"])
        if lunch is None or lunch.message_ts:
            return
        try:
            posted = await client.chat_postMessage(
                channel=lunch.channel_id,
                text=announcement_text(lunch),
                blocks=announcement_blocks(
                    lunch, 0, 0, checkin_open=services.lunchlearn.checkin_open(lunch)
                ),
            )
        except SlackApiError as error:
            log.warning("session %s not announced: %s", lunch.id, error_code(error))
            await send_dm(
                client,
                scheduled["organiser"],
                text=f"I scheduled “{escape(lunch.title)}” but couldn't announce it in "
                f"<#{lunch.channel_id}> (am I a member there? `/invite @guildbot`).",
            )
            return
        await services.run(services.lunchlearn.announced, lunch.id, posted["ts"])

    # RSVPs ----------------------------------------------------------------------------------

    @guarded
    async def rsvp(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        action = body["actions"][0]
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            person = (await profiles(services, client, team_id, [user_id]))[user_id]
            change = (
                services.lunchlearn.going
                if action["action_id"] == GOING_ACTION
                else services.lunchlearn.not_going
            )
            outcome = await services.run(change, action["value"], person, slack_time(body))
        except (SessionRefused, PersonNotFound, TimeoutError) as refusal:
            context["rsvp"] = {
                "refused": getattr(refusal, "message", slack_slow("change your RSVP"))
            }
            await ack()
            return
        services.forwarder.wake()
        context["rsvp"] = {
            "session": action["value"],
            "status": outcome.status,
            "changed": outcome.changed,
            "promoted": outcome.promoted,
        }
        await ack()

    @guarded
    async def after_rsvp(
        body: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        rsvp_state = context.get("rsvp")
        if not rsvp_state:
            return  # The press failed before the ack, which already apologised.
        if "refused" in rsvp_state:
            await respond(
                text=rsvp_state["refused"], response_type="ephemeral", replace_original=False
            )
            return
        lunch = await services.run(services.lunchlearn.get, rsvp_state["session"])
        if lunch is None:
            return
        await respond(
            text=rsvp_text(rsvp_state["status"], lunch),
            response_type="ephemeral",
            replace_original=False,
        )
        if not rsvp_state["changed"]:
            return
        await redraw(services, client, lunch.id)
        moved = [body["user"]["id"], *([rsvp_state["promoted"]] if rsvp_state["promoted"] else [])]
        await refresh_homes(services, client, body["user"]["team_id"], moved)
        if rsvp_state["promoted"]:
            await send_dm(client, rsvp_state["promoted"], text=promoted_text(lunch))
        organiser = lunch.organiser_id  # None: a former colleague, nobody to tell
        leaving = rsvp_state["status"] == "not going"
        if leaving and organiser is not None and organiser != body["user"]["id"]:
            await send_dm(
                client,
                organiser,
                text=organiser_cancellation_text(body["user"]["id"], lunch, rsvp_state["promoted"]),
            )

    # Check-in and feedback --------------------------------------------------------------

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    @guarded
    async def check_in(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        session_id = body["actions"][0]["value"]
        if await services.run(services.lunchlearn.needs_code, session_id):
            context["ask_code"] = session_id
            await ack()
            return
        context["checkin"] = await attend(body, client, session_id, None)
        await ack()

    async def attend(
        body: dict, client: AsyncWebClient, session_id: str, code: str | None
    ) -> dict[str, str]:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            person = (await profiles(services, client, team_id, [user_id]))[user_id]
            first = await services.run(
                services.lunchlearn.check_in, session_id, person, code, slack_time(body)
            )
        except (SessionRefused, TimeoutError) as refusal:
            return {"refused": getattr(refusal, "message", slack_slow("check you in"))}
        services.forwarder.wake()
        lunch = await services.run(services.lunchlearn.get, session_id)
        return {"text": checked_in_text(lunch, first) if lunch else ""}

    @guarded
    async def after_check_in(
        body: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        if context.get("ask_code"):
            lunch = await services.run(services.lunchlearn.get, context["ask_code"])
            if lunch is not None:
                await client.views_open(trigger_id=body["trigger_id"], view=code_modal(lunch))
            return
        told = context.get("checkin") or {}
        await respond(
            text=told.get("refused") or told.get("text") or "",
            response_type="ephemeral",
            replace_original=False,
        )

    @guarded
    async def check_in_with_code(
        ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient
    ) -> None:
        code = view["state"]["values"]["code"]["value"].get("value")
        told = await attend(body, client, view["private_metadata"], code)
        if "refused" in told:
            await ack(response_action="errors", errors={"code": told["refused"][:150]})
            return
        await ack(response_action="update", view=done_view("Check in", told["text"]))

    @guarded
    async def open_rating(body: dict, client: AsyncWebClient) -> None:
        session_id, rating = body["actions"][0]["value"].split("|")
        lunch = await services.run(services.lunchlearn.get, session_id)
        if lunch is not None:
            await client.views_open(
                trigger_id=body["trigger_id"], view=rate_modal(lunch, int(rating))
            )

    @guarded
    async def save_rating(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        rating = int(values["rating"]["value"]["selected_option"]["value"])
        comment = values["comment"]["value"].get("value")
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            person = (await profiles(services, client, team_id, [user_id]))[user_id]
            await services.run(
                services.lunchlearn.rate, view["private_metadata"], person, rating, comment
            )
        except (SessionRefused, TimeoutError) as refusal:
            message = getattr(refusal, "message", slack_slow("save your rating"))
            await ack(response_action="errors", errors={"rating": message[:150]})
            return
        services.forwarder.wake()
        lunch = await services.run(services.lunchlearn.get, view["private_metadata"])
        await ack(response_action="update", view=done_view("Feedback", rated_text(lunch)))

    @guarded
    async def send_calendar(body: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            person = (await profiles(services, client, team_id, [user_id]))[user_id]
            lunch = await services.run(
                services.lunchlearn.calendar_taken, body["actions"][0]["value"], person
            )
        except (SessionRefused, TimeoutError) as refusal:
            text = getattr(refusal, "message", slack_slow("send the calendar file"))
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        await send_ics(services, client, lunch, user_id)
        await respond(
            text="I've sent you the calendar file in a DM. If the session changes, "
            "you'll get the updated one.",
            response_type="ephemeral",
            replace_original=False,
        )

    @guarded
    async def suggest_for_gap(body: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        user_id = body["user"]["id"]
        try:
            services.lunchlearn.check_admin(user_id)
        except SessionRefused as refusal:
            await respond(text=refusal.message, response_type="ephemeral", replace_original=False)
            return
        slug = body["actions"][0]["value"]
        gaps = await services.run(services.gaps.top, body["user"]["team_id"], 50)
        candidates = next((g.top_answerers for g in gaps if g.slug == slug), ())
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=schedule_modal(json.dumps({"gap": slug}), slug, candidates),
        )

    app.command("/lunchlearn")(ack=lunchlearn, lazy=[after_command])
    app.action(SUGGEST_ACTION)(ack=ack_only, lazy=[suggest_for_gap])
    app.action(CALENDAR_ACTION)(ack=ack_only, lazy=[send_calendar])
    app.action(CHECKIN_ACTION)(ack=check_in, lazy=[after_check_in])
    app.view(CODE_VIEW)(check_in_with_code)
    app.action(re.compile(f"^{RATE_ACTION}_[1-5]$"))(ack=ack_only, lazy=[open_rating])
    app.view(RATE_VIEW)(save_rating)
    app.view(SCHEDULE_VIEW)(ack=schedule, lazy=[announce])
    app.action(GOING_ACTION)(ack=rsvp, lazy=[after_rsvp])
    app.action(NOT_GOING_ACTION)(ack=rsvp, lazy=[after_rsvp])


def telling(count: int) -> str:
    if count == 0:
        return "nobody was signed up"
    if count == 1:
        return "I'm telling the 1 person who was going or waiting"
    return f"I'm telling the {count} people who were going or waiting"


async def run_session_jobs(services: Services, client: AsyncWebClient) -> int:
    """The tick's lunch-and-learn job: reminders, the check-in button appearing and going,
    the presenter's code at the start, and feedback prompts after the end."""
    jobs = await services.run(services.lunchlearn.due_jobs)
    for job in jobs:
        lunch = job.lunch
        try:
            if job.kind.startswith("reminder:"):
                # The time actually left: a reminder sent late must not promise more.
                left = lunch.starts_at - services.clock()
                minutes = max(1, math.ceil(left.total_seconds() / 60))
                for user_id in job.people:
                    await send_dm(client, user_id, text=reminder_text(lunch, minutes))
            elif job.kind in ("checkin-open", "checkin-close"):
                await redraw(services, client, lunch.id)
            elif job.kind == "start":
                services.forwarder.wake()
                if lunch.checkin_code and lunch.presenter_id:
                    await send_dm(client, lunch.presenter_id, text=presenter_code_text(lunch))
            elif job.kind == "end":
                for user_id in job.people:
                    await send_dm(
                        client, user_id, text=feedback_text(lunch), blocks=feedback_blocks(lunch)
                    )
        except Exception:
            log.exception("session job %s for %s failed", job.kind, lunch.id)
    return len(jobs)


async def redraw(services: Services, client: AsyncWebClient, session_id: str) -> None:
    """Redraws the announcement: live counts, and the buttons the moment calls for."""
    lunch = await services.run(services.lunchlearn.get, session_id)
    if lunch is None or not lunch.message_ts:
        return
    counts = await services.run(services.lunchlearn.counts, session_id)
    checkin = services.lunchlearn.checkin_open(lunch)
    await client.chat_update(
        channel=lunch.channel_id,
        ts=lunch.message_ts,
        text=announcement_text(lunch),
        blocks=announcement_blocks(lunch, counts.going, counts.waitlist, checkin),
    )


async def send_ics(
    services: Services, client: AsyncWebClient, lunch: LunchSession, user_id: str
) -> None:
    """The session's calendar file, as a file in the person's DM."""
    opened = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        content=session_ics(lunch, services.clock()),
        filename="lunch-and-learn.ics",
        title=lunch.title,
        initial_comment=calendar_comment(lunch),
    )
