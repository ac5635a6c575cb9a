"""`/lunchlearn`: scheduling (L&D), the announcement and its RSVP buttons, list and cancel.

Before the ack: the change is stored with what it owes Slack (the announcement, its redraw,
DMs, calendar files). Right after the ack those effects are done; the tick retries what fails.
The performers below render each from the session as it is when it is done. Ephemeral answers
to the person who clicked stay plain lazy work: their moment passes with the click.
"""

from __future__ import annotations

import json
import logging
import math
import re

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import read_values
from bot.domain.lunchlearn import (
    ANNOUNCE,
    CALENDAR,
    CANCELLED,
    CODE,
    FEEDBACK,
    GOING,
    LEFT,
    PROMOTED,
    REDRAW,
    REMINDER,
    FormErrors,
    SessionRefused,
    read_form,
)
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
from handlers.effects import EffectRunner, Undeliverable, direct_message, post_once
from handlers.guard import error_code, guarded, slack_slow
from handlers.home import refresh_homes
from handlers.people import PersonNotFound, profiles
from handlers.slack_time import slack_time
from storage.models import LunchSession

log = logging.getLogger("guildbot.handlers.lunchlearn")

# chat.postMessage cannot reach these channels: the organiser hears how to fix it.
UNREACHABLE_BY_BOT = {"channel_not_found", "not_in_channel", "is_archived"}


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
                cancelled = await services.run(services.lunchlearn.cancel, team_id, rest, admin)
                services.forwarder.wake()
                context["owed"] = list(cancelled.effects)
                title = escape(cancelled.session.title)
                await ack(text=f"Cancelled “{title}”; {telling(len(cancelled.told))}.")
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
            # Opened right after the ack, inside the trigger's 3-second window: it cannot
            # wait for a retry, so it stays plain lazy work (the admin can run it again).
            await client.views_open(trigger_id=command["trigger_id"], view=schedule_modal())
        await effects.perform_now(client, context.get("owed") or [])

    @guarded
    async def do_owed(client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await effects.perform_now(client, context.get("owed") or [])

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
            # Echoed back by the client: folded like a typed skill name; a community id is
            # looked up, never trusted.
            metadata = json.loads(view.get("private_metadata") or "{}")
            gap = names.canonical(str(metadata.get("gap") or ""))
            scheduled = await services.run(
                services.lunchlearn.schedule,
                team_id,
                organiser,
                draft,
                f"form:{view['id']}",
                gap,
                str(metadata.get("community") or "") or None,
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
        context["owed"] = list(scheduled.effects)
        await ack()

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
            "owed": list(outcome.effects),
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
        try:
            lunch = await services.run(services.lunchlearn.get, rsvp_state["session"])
            if lunch is not None:
                await respond(
                    text=rsvp_text(rsvp_state["status"], lunch),
                    response_type="ephemeral",
                    replace_original=False,
                )
        finally:
            # Owed whatever became of the answer: the redraw and the DMs.
            await effects.perform_now(client, rsvp_state["owed"])
        if rsvp_state["changed"]:
            # Best effort: App Home is drawn afresh whenever it is opened anyway.
            await refresh_homes(services, client, body["user"]["team_id"], [body["user"]["id"]])

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
    async def take_calendar(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """The person asked for the file: it is owed before the ack, so it arrives even if
        Slack fails right now."""
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            person = (await profiles(services, client, team_id, [user_id]))[user_id]
            owed = await services.run(
                services.lunchlearn.calendar_taken, body["actions"][0]["value"], person
            )
        except (SessionRefused, PersonNotFound, TimeoutError) as refusal:
            text = getattr(refusal, "message", slack_slow("send the calendar file"))
            context["calendar"] = {"refused": text}
            await ack()
            return
        context["calendar"] = {"owed": owed}
        await ack()

    @guarded
    async def send_calendar(
        client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        calendar = context.get("calendar")
        if not calendar:
            return  # The press failed before the ack, which already apologised.
        text = calendar.get("refused") or (
            "I'm sending you the calendar file in a DM. If the session changes, "
            "you'll get the updated one."
        )
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        finally:
            await effects.perform_now(client, calendar.get("owed") or [])

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

    # What a change owes Slack ------------------------------------------------------------

    async def session_of(effect: OwedEffect) -> LunchSession | None:
        return await services.run(services.lunchlearn.get, effect.payload["session"])

    async def announce(client: AsyncWebClient, effect: OwedEffect) -> dict[str, str] | None:
        """Posts the announcement of a session just scheduled, as it is now (once: a retry
        finds an earlier post by its key); tells the organiser when the bot can't post there."""
        lunch = await session_of(effect)
        if lunch is None or lunch.message_ts or lunch.status == "cancelled":
            return None  # announced already, or cancelled before it could be
        counts = await services.run(services.lunchlearn.counts, lunch.id)
        checkin = services.lunchlearn.checkin_open(lunch)
        blocks = announcement_blocks(lunch, counts.going, counts.waitlist, checkin)
        try:
            ts = await post_once(client, effect, lunch.channel_id, announcement_text(lunch), blocks)
        except SlackApiError as error:
            code = error_code(error)
            if code not in UNREACHABLE_BY_BOT:
                raise
            await tell_unannounced(client, lunch, effect.payload["organiser"])
            raise Undeliverable(f"Slack said {code}") from None
        await services.run(services.lunchlearn.announced, lunch.id, ts)
        return {"ts": ts}

    async def tell_unannounced(client: AsyncWebClient, lunch: LunchSession, organiser: str) -> None:
        text = (
            f"I scheduled “{escape(lunch.title)}” but couldn't announce it in "
            f"<#{lunch.channel_id}> (am I a member there? `/invite @guildbot`)."
        )
        try:
            await direct_message(client, organiser, text)
        except Exception:
            # The announcement is dead either way, with the reason, in the admins' App Home.
            log.warning("could not tell %s that %s is unannounced", organiser, lunch.id)

    async def redraw_announcement(client: AsyncWebClient, effect: OwedEffect) -> None:
        """Redraws the announcement: live counts, and the buttons the moment calls for."""
        lunch = await session_of(effect)
        if lunch is None or not lunch.message_ts:
            return  # not announced (yet): the announcement will show the session as it is
        counts = await services.run(services.lunchlearn.counts, lunch.id)
        checkin = services.lunchlearn.checkin_open(lunch)
        try:
            await client.chat_update(
                channel=lunch.channel_id,
                ts=lunch.message_ts,
                text=announcement_text(lunch),
                blocks=announcement_blocks(lunch, counts.going, counts.waitlist, checkin),
            )
        except SlackApiError as error:
            if error_code(error) == "message_not_found":
                raise Undeliverable("the announcement was deleted in Slack") from None
            raise

    async def tell_promoted(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch, user_id = await session_of(effect), effect.payload["user"]
        if lunch is None or lunch.status == "cancelled":
            return  # the cancellation DM says it all
        if await services.run(services.lunchlearn.status_of, lunch.id, user_id) != GOING:
            return  # gave the place up again since
        await direct_message(client, user_id, promoted_text(lunch))
        await refresh_homes(services, client, effect.team_id, [user_id])

    async def tell_organiser(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch, owed = await session_of(effect), effect.payload
        if lunch is None or lunch.organiser_id != owed["user"]:
            return  # the organiser was erased since
        text = organiser_cancellation_text(owed["left"], lunch, owed.get("promoted"))
        await direct_message(client, owed["user"], text)

    async def tell_cancelled(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch, user_id = await session_of(effect), effect.payload["user"]
        if lunch is None:
            return
        await direct_message(client, user_id, cancelled_text(lunch))
        await refresh_homes(services, client, effect.team_id, [user_id])

    async def send_calendar_file(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch = await session_of(effect)
        if lunch is None or lunch.sequence != effect.payload["sequence"]:
            return  # the session changed since: the newer file is owed to them too
        await send_ics(services, client, lunch, effect.payload["user"])

    async def give_code(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch, user_id = await session_of(effect), effect.payload["user"]
        if lunch is None or lunch.status == "cancelled" or not lunch.checkin_code:
            return
        if lunch.presenter_id != user_id:
            return  # the presenter was erased since
        await direct_message(client, user_id, presenter_code_text(lunch))

    async def remind(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch, user_id = await session_of(effect), effect.payload["user"]
        if lunch is None or lunch.status == "cancelled":
            return
        if await services.run(services.lunchlearn.status_of, lunch.id, user_id) != GOING:
            return  # gave their place up since
        # The time actually left: a reminder sent late must not promise more.
        left = lunch.starts_at - services.clock()
        minutes = max(1, math.ceil(left.total_seconds() / 60))
        await direct_message(client, user_id, reminder_text(lunch, minutes))

    async def ask_feedback(client: AsyncWebClient, effect: OwedEffect) -> None:
        lunch = await session_of(effect)
        if lunch is None:
            return
        user_id = effect.payload["user"]
        await direct_message(client, user_id, feedback_text(lunch), feedback_blocks(lunch))

    effects.performs(ANNOUNCE, announce)
    effects.performs(REDRAW, redraw_announcement)
    effects.performs(PROMOTED, tell_promoted)
    effects.performs(LEFT, tell_organiser)
    effects.performs(CANCELLED, tell_cancelled)
    effects.performs(CALENDAR, send_calendar_file)
    effects.performs(CODE, give_code)
    effects.performs(REMINDER, remind)
    effects.performs(FEEDBACK, ask_feedback)

    app.command("/lunchlearn")(ack=lunchlearn, lazy=[after_command])
    app.action(SUGGEST_ACTION)(ack=ack_only, lazy=[suggest_for_gap])
    app.action(CALENDAR_ACTION)(ack=take_calendar, lazy=[send_calendar])
    app.action(CHECKIN_ACTION)(ack=check_in, lazy=[after_check_in])
    app.view(CODE_VIEW)(check_in_with_code)
    app.action(re.compile(f"^{RATE_ACTION}_[1-5]$"))(ack=ack_only, lazy=[open_rating])
    app.view(RATE_VIEW)(save_rating)
    app.view(SCHEDULE_VIEW)(ack=schedule, lazy=[do_owed])
    app.action(GOING_ACTION)(ack=rsvp, lazy=[after_rsvp])
    app.action(NOT_GOING_ACTION)(ack=rsvp, lazy=[after_rsvp])


def telling(count: int) -> str:
    if count == 0:
        return "nobody was signed up"
    if count == 1:
        return "I'm telling the 1 person who was going or waiting"
    return f"I'm telling the {count} people who were going or waiting"


async def run_session_jobs(
    services: Services, client: AsyncWebClient, effects: EffectRunner
) -> int:
    """The tick's lunch-and-learn job: reminders, the check-in button appearing and going,
    the presenter's code at the start, and feedback prompts after the end. The claim owes
    the DMs and redraws; they are done right away, and retried by the tick if Slack fails."""
    done = await services.run(services.lunchlearn.due_jobs)
    if done.recorded:
        services.forwarder.wake()
    await effects.perform_now(client, list(done.effects))
    return done.count


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
