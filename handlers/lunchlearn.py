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
from dataclasses import dataclass

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
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
    Lunch,
    read_form,
)
from bot.domain.refused import Refused
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
    reminder_text,
    rsvp_text,
)
from bot.views.mrkdwn import code, escape, readable
from bot.views.session_form import SCHEDULE_VIEW, read_state, schedule_modal
from handlers.effects import EffectRunner, Undeliverable, direct_message, post_once
from handlers.guard import error_code
from handlers.home import refresh_homes
from handlers.people import PersonNotFound
from handlers.seam import Owed, Seam, Turn, ack_only, doing, perform_owed, says, subcommand

log = logging.getLogger("guildbot.handlers.lunchlearn")

# chat.postMessage cannot reach these channels: the organiser hears how to fix it.
UNREACHABLE_BY_BOT = {"channel_not_found", "not_in_channel", "is_archived"}
CALENDAR_SENT = (
    "I'm sending you the calendar file in a DM. If the session changes, you'll get the updated one."
)


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    command = app.command
    command("/lunchlearn", matchers=[subcommand("help")])(**on(show_help))
    command("/lunchlearn", matchers=[subcommand("gaps")])(**on(show_gaps))
    command("/lunchlearn", matchers=[subcommand("list")])(**on(show_upcoming))
    command("/lunchlearn", matchers=[subcommand("cancel")])(**on(cancel, perform_owed))
    command("/lunchlearn", matchers=[says("")])(**on(may_schedule, open_schedule_form))
    command("/lunchlearn")(**on(unknown))
    app.view(SCHEDULE_VIEW)(**on(schedule, perform_owed))
    app.action(GOING_ACTION)(**on(rsvp, after_rsvp))
    app.action(NOT_GOING_ACTION)(**on(rsvp, after_rsvp))
    app.action(CALENDAR_ACTION)(**on(take_calendar, send_calendar))
    app.action(CHECKIN_ACTION)(**on(check_in, after_check_in))
    app.view(CODE_VIEW)(**on(check_in_with_code))
    app.action(re.compile(f"^{RATE_ACTION}_[1-5]$"))(**on(ack_only, open_rating))
    app.view(RATE_VIEW)(**on(save_rating))
    app.action(SUGGEST_ACTION)(**on(ack_only, suggest_for_gap))
    on.performs(PERFORMERS)


# The command ------------------------------------------------------------------------------


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(LUNCHLEARN))


async def show_gaps(ack: AsyncAck, command: dict, turn: Turn) -> None:
    gaps = await turn.services.run(turn.services.gaps.top, turn.team_id)
    admin = command["user_id"] in turn.settings.lnd_admins
    await ack(text="Knowledge gaps", blocks=gaps_blocks(gaps, admin))


async def show_upcoming(ack: AsyncAck, command: dict, turn: Turn) -> None:
    lunchlearn = turn.services.lunchlearn
    upcoming = await turn.services.run(lunchlearn.upcoming, turn.team_id, command["user_id"])
    await ack(text="Lunch-and-learns coming up", blocks=list_blocks(upcoming))


@doing("cancel the session")
async def cancel(ack: AsyncAck, command: dict, turn: Turn) -> Owed:
    short_id = command["text"].strip().partition(" ")[2]
    lunchlearn = turn.services.lunchlearn
    cancelled = await turn.record(
        lunchlearn.cancel, turn.team_id, short_id, turn.actor, turn.settings
    )
    title = escape(cancelled.session.title)
    await ack(text=f"Cancelled “{title}”; {telling(len(cancelled.told))}.")
    return Owed.of(cancelled.effects)


@dataclass(frozen=True)
class OpenForm:
    """The scheduling form is opened right after the ack."""


async def may_schedule(ack: AsyncAck, command: dict, turn: Turn) -> OpenForm:
    turn.services.lunchlearn.check_admin(command["user_id"], turn.settings)
    await ack()
    return OpenForm()


async def open_schedule_form(handoff: OpenForm, command: dict, client: AsyncWebClient) -> None:
    # Opened right after the ack, inside the trigger's 3-second window: it cannot wait for
    # a retry, so it stays plain lazy work (the admin can run it again).
    await client.views_open(trigger_id=command["trigger_id"], view=schedule_modal())


async def unknown(ack: AsyncAck, command: dict) -> None:
    typed = code(f"/lunchlearn {readable(command['text'].strip())}")
    await ack(text=f"I don't know {typed}.\n" + command_help_text(LUNCHLEARN))


# The form -----------------------------------------------------------------------------------


@doing("schedule the session", field="title")
async def schedule(ack: AsyncAck, view: dict, turn: Turn) -> Owed:
    services, names = turn.services, turn.services.skills.names.for_team(turn.team_id)
    values = read_state(view["state"]["values"])
    tags = tuple(dict.fromkeys(names.canonical(t) for t in read_values(values.get("tags") or "")))
    draft = read_form(values, services.clock(), tuple(t for t in tags if t))
    try:
        # The presenter's profile too: statements name them as the session's instructor.
        await turn.person(draft.presenter_id)
    except PersonNotFound:
        raise Refused("Slack doesn't know them.", field="presenter") from None
    # Echoed back by the client: the gap folded like a typed skill name; a community id is
    # looked up, never trusted.
    metadata = json.loads(view.get("private_metadata") or "{}")
    gap = names.canonical(str(metadata.get("gap") or ""))
    community = str(metadata.get("community") or "") or None
    form = f"form:{view['id']}"
    scheduled = await turn.record(
        services.lunchlearn.schedule,
        turn.team_id,
        turn.actor,
        turn.settings,
        draft,
        form,
        gap,
        community,
    )
    await ack()
    return Owed.of(scheduled.effects)


# RSVPs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rsvped:
    session_id: str
    status: str
    changed: bool
    owed: Owed


@doing("change your RSVP")
async def rsvp(ack: AsyncAck, body: dict, turn: Turn) -> Rsvped:
    """Going or Can't go, stored before the ack; the answer, the redraw of the
    announcement and anyone's move off the waitlist come after it."""
    action = body["actions"][0]
    session_id = await this_workspaces(turn, action["value"])
    lunchlearn = turn.services.lunchlearn
    change = lunchlearn.going if action["action_id"] == GOING_ACTION else lunchlearn.not_going
    outcome = await turn.record(change, session_id, turn.actor, turn.at)
    await ack()
    return Rsvped(session_id, outcome.status, outcome.changed, Owed.of(outcome.effects))


async def after_rsvp(handoff: Rsvped, body: dict, respond: AsyncRespond, turn: Turn) -> None:
    try:
        lunch = await turn.services.run(turn.services.lunchlearn.get, handoff.session_id)
        if lunch is not None:
            await respond(
                text=rsvp_text(handoff.status, lunch),
                response_type="ephemeral",
                replace_original=False,
            )
    finally:
        # Owed whatever became of the answer: the redraw and the DMs.
        await turn.perform(handoff.owed)
    if handoff.changed:
        # Best effort: App Home is drawn afresh whenever it is opened anyway.
        await refresh_homes(turn.services, turn.client, turn.team_id, [body["user"]["id"]])


async def this_workspaces(turn: Turn, session_id: str) -> str:
    """The session id a button or form carried, when the session is this workspace's."""
    await turn.services.run(turn.services.lunchlearn.check_workspace, turn.team_id, session_id)
    return session_id


# The calendar file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarOwed:
    owed: Owed


@doing("send the calendar file")
async def take_calendar(ack: AsyncAck, body: dict, turn: Turn) -> CalendarOwed:
    """The person asked for the file: it is owed before the ack, so it arrives even if
    Slack fails right now."""
    session_id = await this_workspaces(turn, body["actions"][0]["value"])
    lunchlearn = turn.services.lunchlearn
    owed = await turn.services.run(lunchlearn.calendar_taken, session_id, turn.actor)
    await ack()
    return CalendarOwed(Owed.of(owed))


async def send_calendar(handoff: CalendarOwed, respond: AsyncRespond, turn: Turn) -> None:
    try:
        await respond(text=CALENDAR_SENT, response_type="ephemeral", replace_original=False)
    finally:
        await turn.perform(handoff.owed)


# Check-in and feedback ----------------------------------------------------------------------


@dataclass(frozen=True)
class AskCode:
    """The session wants its check-in code: a form asks for it."""

    session_id: str


@dataclass(frozen=True)
class CheckedIn:
    text: str


@doing("check you in")
async def check_in(ack: AsyncAck, body: dict, turn: Turn) -> AskCode | CheckedIn:
    session_id = await this_workspaces(turn, body["actions"][0]["value"])
    if await turn.services.run(turn.services.lunchlearn.needs_code, session_id):
        await ack()
        return AskCode(session_id)
    told = await attend(turn, session_id, None)
    await ack()
    return CheckedIn(told)


async def attend(turn: Turn, session_id: str, code: str | None) -> str:
    """Checks the acting person in; what to tell them."""
    lunchlearn = turn.services.lunchlearn
    first = await turn.record(lunchlearn.check_in, session_id, turn.actor, code, turn.at)
    lunch = await turn.services.run(lunchlearn.get, session_id)
    return checked_in_text(lunch, first) if lunch else ""


async def after_check_in(
    handoff: AskCode | CheckedIn,
    body: dict,
    client: AsyncWebClient,
    respond: AsyncRespond,
    turn: Turn,
) -> None:
    if isinstance(handoff, CheckedIn):
        await respond(text=handoff.text, response_type="ephemeral", replace_original=False)
        return
    lunch = await turn.services.run(turn.services.lunchlearn.get, handoff.session_id)
    if lunch is not None:
        await client.views_open(trigger_id=body["trigger_id"], view=code_modal(lunch))


@doing("check you in", field="code")
async def check_in_with_code(ack: AsyncAck, view: dict, turn: Turn) -> None:
    code = view["state"]["values"]["code"]["value"].get("value")
    told = await attend(turn, await this_workspaces(turn, view["private_metadata"]), code)
    await ack(response_action="update", view=done_view("Check in", told))


async def open_rating(body: dict, client: AsyncWebClient, turn: Turn) -> None:
    session_id, rating = body["actions"][0]["value"].split("|")
    lunch = await turn.services.run(turn.services.lunchlearn.get, session_id)
    # Another workspace's session (the button's value is the client's word): no form.
    if lunch is not None and lunch.team_id == turn.team_id:
        await client.views_open(trigger_id=body["trigger_id"], view=rate_modal(lunch, int(rating)))


@doing("save your rating", field="rating")
async def save_rating(ack: AsyncAck, view: dict, turn: Turn) -> None:
    values = view["state"]["values"]
    rating = int(values["rating"]["value"]["selected_option"]["value"])
    comment = values["comment"]["value"].get("value")
    session_id = await this_workspaces(turn, view["private_metadata"])
    lunchlearn = turn.services.lunchlearn
    await turn.record(lunchlearn.rate, session_id, turn.actor, rating, comment)
    lunch = await turn.services.run(lunchlearn.get, session_id)
    await ack(response_action="update", view=done_view("Feedback", rated_text(lunch)))


async def suggest_for_gap(body: dict, client: AsyncWebClient, turn: Turn) -> None:
    turn.services.lunchlearn.check_admin(body["user"]["id"], turn.settings)
    slug = body["actions"][0]["value"]
    gaps = await turn.services.run(turn.services.gaps.top, turn.team_id, 50)
    candidates = next((g.top_answerers for g in gaps if g.slug == slug), ())
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=schedule_modal(json.dumps({"gap": slug}), slug, candidates),
    )


# What a change owes Slack ---------------------------------------------------------------------


async def session_of(turn: Turn, effect: OwedEffect) -> Lunch | None:
    return await turn.services.run(turn.services.lunchlearn.get, effect.payload["session"])


async def announce(turn: Turn, effect: OwedEffect) -> dict[str, str] | None:
    """Posts the announcement of a session just scheduled, as it is now (once: a retry
    finds an earlier post by its key); tells the organiser when the bot can't post there."""
    services, client = turn.services, turn.client
    lunch = await session_of(turn, effect)
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


async def tell_unannounced(client: AsyncWebClient, lunch: Lunch, organiser: str) -> None:
    text = (
        f"I scheduled “{escape(lunch.title)}” but couldn't announce it in "
        f"<#{lunch.channel_id}> (am I a member there? `/invite @guildbot`)."
    )
    try:
        await direct_message(client, organiser, text)
    except Exception:
        # The announcement is dead either way, with the reason, in the admins' App Home.
        log.warning("could not tell %s that %s is unannounced", organiser, lunch.id)


async def redraw_announcement(turn: Turn, effect: OwedEffect) -> None:
    """Redraws the announcement: live counts, and the buttons the moment calls for."""
    services, client = turn.services, turn.client
    lunch = await session_of(turn, effect)
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


async def tell_promoted(turn: Turn, effect: OwedEffect) -> None:
    services, client = turn.services, turn.client
    lunch, user_id = await session_of(turn, effect), effect.payload["user"]
    if lunch is None or lunch.status == "cancelled":
        return  # the cancellation DM says it all
    if await services.run(services.lunchlearn.status_of, lunch.id, user_id) != GOING:
        return  # gave the place up again since
    await direct_message(client, user_id, promoted_text(lunch))
    await refresh_homes(services, client, effect.team_id, [user_id])


async def tell_organiser(turn: Turn, effect: OwedEffect) -> None:
    client = turn.client
    lunch, owed = await session_of(turn, effect), effect.payload
    if lunch is None or lunch.organiser_id != owed["user"]:
        return  # the organiser was erased since
    text = organiser_cancellation_text(owed["left"], lunch, owed.get("promoted"))
    await direct_message(client, owed["user"], text)


async def tell_cancelled(turn: Turn, effect: OwedEffect) -> None:
    services, client = turn.services, turn.client
    lunch, user_id = await session_of(turn, effect), effect.payload["user"]
    if lunch is None:
        return
    await direct_message(client, user_id, cancelled_text(lunch))
    await refresh_homes(services, client, effect.team_id, [user_id])


async def send_calendar_file(turn: Turn, effect: OwedEffect) -> None:
    services, client = turn.services, turn.client
    lunch = await session_of(turn, effect)
    if lunch is None or lunch.sequence != effect.payload["sequence"]:
        return  # the session changed since: the newer file is owed to them too
    await send_ics(services, client, lunch, effect.payload["user"])


async def give_code(turn: Turn, effect: OwedEffect) -> None:
    client = turn.client
    lunch, user_id = await session_of(turn, effect), effect.payload["user"]
    if lunch is None or lunch.status == "cancelled" or not lunch.checkin_code:
        return
    if lunch.presenter_id != user_id:
        return  # the presenter was erased since
    await direct_message(client, user_id, presenter_code_text(lunch))


async def remind(turn: Turn, effect: OwedEffect) -> None:
    services, client = turn.services, turn.client
    lunch, user_id = await session_of(turn, effect), effect.payload["user"]
    if lunch is None or lunch.status == "cancelled":
        return
    if await services.run(services.lunchlearn.status_of, lunch.id, user_id) != GOING:
        return  # gave their place up since
    # The time actually left: a reminder sent late must not promise more.
    left = lunch.starts_at - services.clock()
    minutes = max(1, math.ceil(left.total_seconds() / 60))
    await direct_message(client, user_id, reminder_text(lunch, minutes))


async def ask_feedback(turn: Turn, effect: OwedEffect) -> None:
    client = turn.client
    lunch = await session_of(turn, effect)
    if lunch is None:
        return
    user_id = effect.payload["user"]
    await direct_message(client, user_id, feedback_text(lunch), feedback_blocks(lunch))


PERFORMERS = {
    ANNOUNCE: announce,
    REDRAW: redraw_announcement,
    PROMOTED: tell_promoted,
    LEFT: tell_organiser,
    CANCELLED: tell_cancelled,
    CALENDAR: send_calendar_file,
    CODE: give_code,
    REMINDER: remind,
    FEEDBACK: ask_feedback,
}


def telling(count: int) -> str:
    if count == 0:
        return "nobody was signed up"
    if count == 1:
        return "I'm telling the 1 person who was going or waiting"
    return f"I'm telling the {count} people who were going or waiting"


async def run_session_jobs(
    services: Services, effects: EffectRunner, client: AsyncWebClient, team_id: str
) -> int:
    """The tick's lunch-and-learn job, for one workspace (`client` has its token): reminders,
    the check-in button appearing and going, the presenter's code at the start, and feedback
    prompts after the end. The claim owes the DMs and redraws; they are done right away, and
    retried by the tick if Slack fails."""
    done = await services.run(services.lunchlearn.due_jobs, team_id)
    if done.recorded:
        services.forwarder.wake()
    await effects.perform_now(client, list(done.effects))
    return done.count


async def send_ics(services: Services, client: AsyncWebClient, lunch: Lunch, user_id: str) -> None:
    """The session's calendar file, as a file in the person's DM."""
    opened = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        content=session_ics(lunch, services.clock()),
        filename="lunch-and-learn.ics",
        title=lunch.title,
        initial_comment=calendar_comment(lunch),
    )
