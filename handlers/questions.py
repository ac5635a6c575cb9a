"""Q&A: `/ask`, answers in question threads, and accepting one (shortcut or ✅).

Before the ack: the question with its statement, owing its post; an event in the Q&A channel
that may touch an answer (a reply, an edit, a deletion, a ✅), as owed work (one cheap
insert); accepting by shortcut and taking a ✅ back, as the database writes they are. Every
Slack call happens after the ack, in the performers registered here (see handlers/effects.py):
right away, or on the tick from any process when that fails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import MAX_ATTEMPTS, OwedEffect
from bot.domain.questions import (
    ACCEPTED,
    CHECK_MARK,
    PUBLISH,
    REPLY,
    REPLY_DELETED,
    REPLY_EDITED,
    Asked,
    AskedQuestion,
    ReplyTo,
)
from bot.domain.refused import Refused
from bot.domain.routing import (
    ON_PUBLISH,
    REMINDER,
    ROUTE,
    ROUTED_AT_ONCE,
    ROUTED_DM,
    UPDATE_DMS,
    RoutedDm,
)
from bot.domain.text import from_form
from bot.services import Services
from bot.slack_client import slack_response_url
from bot.views.help import ASK, command_help_text
from bot.views.questions import (
    ACCEPT_EMOJI,
    ACCEPT_SHORTCUT,
    DECLINE_ACTION,
    PAUSE_ACTION,
    accepted_text,
    answered_routed_blocks,
    answered_routed_text,
    declined_text,
    paused_text,
    posted_text,
    posting_text,
    question_blocks,
    question_text,
    reminder_text,
    routed_blocks,
    routed_text,
    unposted_text,
    withdrawn_text,
)
from bot.views.skills import (
    ASK_ACTION,
    ASK_VIEW,
    QUESTION_BLOCK,
    QUESTION_INPUT,
    ask_modal,
    asked_view,
)
from handlers.effects import (
    REFUSED_FOR_GOOD,
    EffectRunner,
    Undeliverable,
    direct_message,
    dm_channel,
    post_once,
)
from handlers.guard import error_code
from handlers.home import refresh_homes
from handlers.messages import Reaction, emoji_name, fetch_message, still_reacted
from handlers.people import PersonNotFound, profiles, user_id_or_none
from handlers.seam import Owed, Seam, Turn, ack_only, doing, perform_owed, says, workspace_in
from handlers.slack_time import from_ts

log = logging.getLogger("guildbot.handlers.questions")

SLACK_REFUSED = (
    "Slack didn't take the question, so nothing was asked. Please try again in a minute."
)
# Replies that can be answers; every other subtype (joins, edits, bots…) never is.
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}
# The bot cannot post in the Q&A channel: an admin must invite it (or pick another channel).
CANNOT_POST = {"channel_not_found", "not_in_channel", "is_archived"}
# A DM that can no longer be edited (deleted, or its person gone) is left as it is.
DM_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.command("/ask", matchers=[says("", "help")])(**on(show_help))
    app.command("/ask")(**on(ask, perform_owed))
    app.action(ASK_ACTION)(**on(ack_only, open_ask_form))
    app.view(ASK_VIEW)(**on(post_from_form, perform_owed))
    app.action(DECLINE_ACTION)(**on(decline, reroute))
    app.action(PAUSE_ACTION)(**on(pause, confirm_pause))
    app.event("message")(**on(owe_thread_event, perform_owed))
    app.shortcut(ACCEPT_SHORTCUT)(**on(accept_by_shortcut, perform_owed))
    accept = [is_accept_reaction]
    app.event("reaction_added", matchers=accept)(**on(owe_check_mark, perform_owed))
    app.event("reaction_removed", matchers=accept)(**on(unaccept_by_reaction, perform_owed))
    on.performs(PERFORMERS)


# Asking -----------------------------------------------------------------------------------


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(ASK))


@doing("post your question")
async def ask(ack: AsyncAck, command: dict, turn: Turn) -> Owed:
    response_url = slack_response_url(command.get("response_url"), turn.services.settings)
    asked, channel = await _ask(
        turn, command["text"].strip(), None, None, command["trigger_id"], ReplyTo(response_url)
    )
    await ack(text=posting_text(channel))
    return Owed.of(asked.effects)


# The Ask button on expert results: a small form, then the same path as /ask.


async def open_ask_form(body: dict, client: AsyncWebClient, turn: Turn) -> None:
    turn.settings.questions_channel()
    target = json.loads(body["actions"][0]["value"])
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=ask_modal(user_id_or_none(target.get("user")), target["topic"], json.dumps(target)),
    )


@doing("post your question", field=QUESTION_BLOCK)
async def post_from_form(ack: AsyncAck, view: dict, turn: Turn) -> Owed:
    target = json.loads(view["private_metadata"])
    typed = from_form(view["state"]["values"][QUESTION_BLOCK][QUESTION_INPUT].get("value") or "")
    addressed_to = user_id_or_none(target.get("user"))
    cause, reply_to = f"form:{view['id']}", ReplyTo(view_id=view["id"])
    asked, channel = await _ask(turn, typed, target["topic"], addressed_to, cause, reply_to)
    await ack(response_action="update", view=asked_view(posting_text(channel)))
    return Owed.of(asked.effects)


async def _ask(
    turn: Turn,
    typed: str,
    topic: str | None,
    addressed_to: str | None,
    cause: str,
    reply_to: ReplyTo,
) -> tuple[Asked, str]:
    """Stores the acting person's question, owing its post to the Q&A channel (refused
    when Q&A is not set up, or the question reads wrong); and which channel that is."""
    questions, channel = turn.services.questions, turn.settings.questions_channel()
    intent = await turn.services.run(questions.read, turn.team_id, typed, topic)
    asked = await turn.record(
        questions.ask, turn.team_id, turn.actor, intent, channel, cause, addressed_to, reply_to
    )
    return asked, channel


async def publish(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    """Posts the question in the Q&A channel (once, however often it is retried), routes
    it to the people who know, and tells the asker where it is."""
    services, effects, client = turn.services, turn.effects, turn.client
    question = await services.run(services.questions.get, effect.payload["question"])
    if question is None:
        return None  # withdrawn or erased before it was posted
    if question.ts is None:
        await _post_question(turn, effect, question)
    routed = await services.run(services.routing.route, question.id, ROUTED_AT_ONCE, ON_PUBLISH)
    await effects.perform_now(client, routed)
    similar = await services.run(services.questions.similar, question.team_id, question.id)
    await tell_asker(turn, effect, posted_text(question.channel_id, question.permalink, similar))
    await refresh_homes(services, client, effect.team_id, [question.asker_id])
    return {"ts": question.ts}


async def _post_question(turn: Turn, effect: OwedEffect, question: AskedQuestion) -> None:
    """Posts it and keeps where. A question Slack will never take is withdrawn (its
    statement voided), so asking again asks it once."""
    services, client = turn.services, turn.client
    try:
        ts = await post_once(
            client,
            effect,
            question.channel_id,
            question_text(question.asker_id, question.text, question.addressed_to),
            question_blocks(question.asker_id, question.text, question.tags, question.addressed_to),
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as error:
        reason = _last_failure(effect, error)
        if reason is None:
            raise  # tried again later
        cannot_post = isinstance(error, SlackApiError) and error_code(error) in CANNOT_POST
        await withdraw(turn, effect, question, reason, cannot_post)
        raise Undeliverable(f"{reason}; the question was withdrawn", told=True) from None
    link = await client.chat_getPermalink(channel=question.channel_id, message_ts=ts)
    question.ts, question.permalink = ts, link.get("permalink")
    await services.run(services.questions.posted, question.id, ts, question.permalink)


async def withdraw(
    turn: Turn, effect: OwedEffect, question: AskedQuestion, reason: str, cannot_post: bool
) -> None:
    """The question Slack will not take goes, with its statement; the asker hears why
    (`cannot_post`: the bot must be invited to the channel first)."""
    log.warning("question %s not posted, withdrawn: %s", question.id, reason)
    await turn.record(turn.services.questions.unposted, question.id)
    told = unposted_text(question.channel_id) if cannot_post else SLACK_REFUSED
    if await tell_asker(turn, effect, told):
        return
    # Too late to answer in place (after an hour of retries): they hear it by DM.
    try:
        await direct_message(turn.client, question.asker_id, withdrawn_text(question.text, told))
    except Exception:
        log.warning("could not tell %s their question was withdrawn", question.asker_id)


async def tell_asker(turn: Turn, effect: OwedEffect, text: str) -> bool:
    """The asker's follow-up (the command's response URL, or the Ask form). Its moment
    passes, so it is tried once: a failure is logged, never retried. True when told."""
    owed = effect.payload
    try:
        if owed.get("response_url"):
            await turn.effects.respond(effect, text, None, "ephemeral")
            return True
        if owed.get("view"):
            await turn.client.views_update(view_id=owed["view"], view=asked_view(text))
            return True
    except Exception:
        log.info("could not tell the asker about %s", effect.key, exc_info=True)
    return False


# Answers --------------------------------------------------------------------------------------


async def owe_thread_event(ack: AsyncAck, event: dict, body: dict, turn: Turn) -> Owed | None:
    """Every message event is acked. One that may touch an answer is owed first, so its
    ack is a promise; everything else is dropped, storing nothing."""
    change = thread_change(event, turn.settings.qa_channel)
    owed = await _owe(turn, body, *change) if change else None
    await ack()
    return owed


async def _owe(turn: Turn, body: dict, kind: str, payload: dict[str, str]) -> Owed:
    """Owes what an event in the Q&A channel may mean, to be decided after the ack."""
    event_ts = body["event"].get("event_ts")
    if event_ts:
        payload["event_ts"] = event_ts  # when Slack says it happened
    owe_event = turn.services.questions.owe_event
    return Owed.of(
        await turn.services.run(owe_event, kind, turn.team_id, body["event_id"], payload)
    )


async def store_reply(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    """A reply in a question's thread by anyone but the asker (and not an app) is an
    answer: read it back from Slack and store it with its statement."""
    services, client = turn.services, turn.client
    team_id, owed = effect.team_id, effect.payload
    channel, ts, user = owed["channel"], owed["ts"], owed["user"]
    question = await services.run(services.questions.thread_of, team_id, channel, owed["thread_ts"])
    if question is None or user == question.asker_id:
        return None
    message = await fetch_message(client, channel, ts)
    if message is None or message.get("bot_id"):
        return None  # deleted before it was read
    try:
        author = (await profiles(services, client, team_id, [user]))[user]
    except PersonNotFound:
        return None
    link = await client.chat_getPermalink(channel=channel, message_ts=ts)
    answer_id = await services.run(
        services.questions.record_answer,
        question,
        author,
        ts,
        message.get("text") or "",
        link.get("permalink"),
        from_ts(owed.get("event_ts")),  # when Slack says it was posted
    )
    if answer_id is None:
        return None
    services.forwarder.wake()
    await refresh_homes(services, client, team_id, [user])
    return {"answer": answer_id}


async def keep_edit(turn: Turn, effect: OwedEffect) -> None:
    """An edited answer keeps its statement; its stored text is read back from Slack."""
    services, client = turn.services, turn.client
    team_id, channel, ts = effect.team_id, effect.payload["channel"], effect.payload["ts"]
    if not await services.run(services.questions.is_answer, team_id, channel, ts):
        return
    message = await fetch_message(client, channel, ts)
    if message is not None:  # else deleted since: its deletion will tell
        await services.run(
            services.questions.edit_answer, team_id, channel, ts, message.get("text") or ""
        )


async def forget_reply(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    services, effects, client = turn.services, turn.effects, turn.client
    owed = effect.payload
    gone = await services.run(
        services.questions.delete_answer,
        effect.team_id,
        owed["channel"],
        owed["ts"],
        from_ts(owed.get("event_ts")),
    )
    if gone is None:
        return None
    services.forwarder.wake()
    await effects.perform_now(client, gone.effects)
    return {"answer": gone.answer_id, "reopened": gone.reopened}


# Accepting ------------------------------------------------------------------------------------


@doing("accept the answer")
async def accept_by_shortcut(ack: AsyncAck, shortcut: dict, turn: Turn) -> Owed:
    channel, ts = shortcut["channel"]["id"], shortcut["message"]["ts"]
    accept, cause = turn.services.questions.accept, shortcut["trigger_id"]
    accepted = await turn.record(accept, turn.team_id, channel, ts, turn.actor, cause, at=turn.at)
    await ack()
    return Owed.of(accepted.effects)


async def is_accept_reaction(event: dict, context: AsyncBoltContext) -> bool:
    qa = workspace_in(context).settings.qa_channel
    item = event.get("item") or {}
    return (
        emoji_name(event.get("reaction", "")) == ACCEPT_EMOJI
        and item.get("type") == "message"
        and bool(qa)
        and item.get("channel") == qa
    )


async def owe_check_mark(ack: AsyncAck, body: dict, turn: Turn) -> Owed:
    """A ✅ in the Q&A channel is owed before the ack; whether it accepts an answer (the
    asker's, on an answer) is decided after it."""
    reaction = Reaction.of(body)
    payload = {
        "channel": reaction.channel,
        "ts": reaction.ts,
        "user": reaction.user_id,
        "event_id": reaction.event_id,
    }
    owed = await _owe(turn, body, CHECK_MARK, payload)
    await ack()
    return owed


async def accept_by_check_mark(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    services, effects, client = turn.services, turn.effects, turn.client
    team_id, owed = effect.team_id, effect.payload
    channel, ts, user_id = owed["channel"], owed["ts"], owed["user"]
    message = await fetch_message(client, channel, ts)
    if message is not None and not still_reacted(message, user_id, ACCEPT_EMOJI):
        return None  # taken back before we got here
    try:
        asker = (await profiles(services, client, team_id, [user_id]))[user_id]
        accepted = await services.run(
            services.questions.accept,
            team_id,
            channel,
            ts,
            asker,
            owed["event_id"],
            owed["event_id"],
            from_ts(owed.get("event_ts")),
        )
    except Refused:
        return None  # anyone else's ✅, not on an answer, or by someone unknown: ignored
    if not accepted.new:
        return None
    services.forwarder.wake()
    await effects.perform_now(client, accepted.effects)
    return {"answer": accepted.answer_id}


async def thank_in_thread(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    """Says in the question's thread which answer the asker accepted (if it still is)."""
    services, client = turn.services, turn.client
    notice = await services.run(
        services.questions.accepted_notice, effect.payload["question"], effect.payload["answer"]
    )
    if notice is None:
        return None
    ts = await post_once(
        client,
        effect,
        notice.channel_id,
        accepted_text(notice.asker_id, notice.answerer_id),
        thread_ts=notice.thread_ts,
    )
    await refresh_homes(services, client, effect.team_id, [notice.asker_id, notice.answerer_id])
    return {"ts": ts}


async def unaccept_by_reaction(ack: AsyncAck, body: dict, turn: Turn) -> Owed | None:
    reaction = Reaction.of(body)
    asker = await turn.person(reaction.user_id)
    unaccept, key = turn.services.questions.unaccept, reaction.event_id
    reopened = await turn.record(
        unaccept, turn.team_id, reaction.channel, reaction.ts, asker, key, turn.at
    )
    await ack()
    return Owed.of(reopened.effects) if reopened else None


# Routed questions -----------------------------------------------------------------------------


async def route_on(turn: Turn, effect: OwedEffect) -> Mapping[str, Any]:
    """Routes the question to the next people (a nudge, a "Not my area") and DMs them."""
    services, effects, client = turn.services, turn.effects, turn.client
    owed = effect.payload
    routed = await services.run(
        services.routing.route, owed["question"], owed["count"], owed["cause"]
    )
    await effects.perform_now(client, routed)
    return {"dms": len(routed)}


async def send_routed_dm(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    """DMs a routed question to one person and remembers the DM, to update it later."""
    services, client = turn.services, turn.client
    owed = effect.payload
    dm = await services.run(services.routing.routed_dm, owed["question"], owed["user"])
    if dm is None:
        return None  # withdrawn, erased, or they said no already
    if dm.channel and dm.ts:
        return {"channel": dm.channel, "ts": dm.ts}  # sent before the process died
    if dm.answered:
        return None  # answered before it went out: nothing to ask of them
    channel = await dm_channel(client, dm.user_id)
    posted = await client.chat_postMessage(
        channel=channel,
        text=routed_text(dm.asker_id, dm.text),
        blocks=routed_blocks(dm.asker_id, dm.text, dm.slug, dm.question_link, dm.question_id),
    )
    ts = str(posted["ts"])
    sent = await services.run(services.routing.dm_sent, dm.question_id, dm.user_id, channel, ts)
    if sent is not None and sent.answered:
        await update_dm(client, sent)  # answered while the DM was on its way
    await refresh_homes(services, client, effect.team_id, [dm.user_id])
    return {"channel": channel, "ts": ts}


async def update_routed_dms(turn: Turn, effect: OwedEffect) -> Mapping[str, Any]:
    """After an acceptance (or a reopening): every routed DM of the question says how it
    stands now: answered with a link and no buttons, or open with its buttons back."""
    services, client = turn.services, turn.client
    question_id = effect.payload["question"]
    dms = await services.run(services.routing.sent_dms, question_id)
    for dm in dms:
        await update_dm(client, dm)
    # Open questions and those waiting for an answer are on the App Homes involved.
    question = await services.run(services.questions.get, question_id)
    if question is not None:
        people = [question.asker_id, *(dm.user_id for dm in dms)]
        await refresh_homes(services, client, effect.team_id, people)
    return {"dms": len(dms)}


async def remind_asker(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    services, client = turn.services, turn.client
    reminder = await services.run(services.routing.reminder, effect.payload["question"])
    if reminder is None:
        return None  # accepted (or withdrawn) since the nudge came due
    text = reminder_text(reminder.question_link, reminder.answers)
    return {"ts": await direct_message(client, reminder.asker_id, text)}


@dataclass(frozen=True)
class Declined:
    slug: str | None
    owed: Owed


async def decline(ack: AsyncAck, body: dict, turn: Turn) -> Declined:
    question_id, user_id = body["actions"][0]["value"], body["user"]["id"]
    routing = turn.services.routing
    declined = await turn.services.run(routing.not_my_area, turn.team_id, question_id, user_id)
    await ack()
    return Declined(declined.slug, Owed.of(declined.effects))


async def reroute(handoff: Declined, respond: AsyncRespond, turn: Turn) -> None:
    # The click's answer, in place of the DM: its moment passes, so it stays plain.
    await respond(text=declined_text(handoff.slug or "this"), replace_original=True)
    await turn.perform(handoff.owed)


@dataclass(frozen=True)
class Paused:
    until: int
    """Seconds since the epoch."""


async def pause(ack: AsyncAck, body: dict, turn: Turn) -> Paused:
    until = await turn.services.run(turn.services.routing.pause, turn.team_id, body["user"]["id"])
    await ack()
    return Paused(int(until.timestamp()))


async def confirm_pause(handoff: Paused, respond: AsyncRespond) -> None:
    await respond(text=paused_text(handoff.until), replace_original=True)


PERFORMERS = {
    PUBLISH: publish,
    REPLY: store_reply,
    REPLY_EDITED: keep_edit,
    REPLY_DELETED: forget_reply,
    CHECK_MARK: accept_by_check_mark,
    ACCEPTED: thank_in_thread,
    ROUTE: route_on,
    ROUTED_DM: send_routed_dm,
    UPDATE_DMS: update_routed_dms,
    REMINDER: remind_asker,
}


def thread_change(event: dict[str, Any], qa: str | None) -> tuple[str, dict[str, str]] | None:
    """What a message event may mean for an answer, read from the event alone (the cheap
    filter before anything is stored): a reply, an edit or a deletion in the Q&A channel, as
    the kind of work it owes and the message it names; None for everything else."""
    if not qa or event.get("channel") != qa:
        return None
    subtype = event.get("subtype")
    if subtype == "message_changed":
        changed = event.get("message") or {}
        if not _is_reply(changed) or changed.get("bot_id"):
            return None
        return REPLY_EDITED, {"channel": qa, "ts": changed["ts"]}
    if subtype == "message_deleted":
        before = event.get("previous_message")
        if not event.get("deleted_ts") or (before and not _is_reply(before)):
            return None
        return REPLY_DELETED, {"channel": qa, "ts": event["deleted_ts"]}
    if subtype not in ANSWER_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    if not _is_reply(event):
        return None
    payload = {"channel": qa, "ts": event["ts"], "thread_ts": event["thread_ts"]}
    return REPLY, {**payload, "user": event["user"]}


def _is_reply(message: dict[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return bool(thread_ts and message.get("ts") and thread_ts != message["ts"])


def _last_failure(effect: OwedEffect, error: Exception) -> str | None:
    """Why posting failed for the last time (Slack refused for good, or this was the last
    try), or None when it will be tried again."""
    if isinstance(error, SlackApiError):
        code = error_code(error) or f"HTTP {error.response.status_code}"
        reason = f"Slack said {code}"
        if code in REFUSED_FOR_GOOD:
            return reason
    else:
        reason = f"Slack could not be reached: {type(error).__name__}"
    return reason if effect.attempts >= MAX_ATTEMPTS else None


async def update_dm(client: AsyncWebClient, dm: RoutedDm) -> None:
    """Rewrites a routed DM as it should read now; one that is gone is left alone."""
    if not dm.channel or not dm.ts:
        return
    if dm.answered:
        text = answered_routed_text(dm.asker_id, dm.text)
        blocks = answered_routed_blocks(dm.asker_id, dm.text, dm.answer_link)
    else:
        text = routed_text(dm.asker_id, dm.text)
        blocks = routed_blocks(dm.asker_id, dm.text, dm.slug, dm.question_link, dm.question_id)
    try:
        await client.chat_update(channel=dm.channel, ts=dm.ts, text=text, blocks=blocks)
    except SlackApiError as error:
        code = error_code(error)
        if code not in DM_GONE and code not in REFUSED_FOR_GOOD:
            raise
        log.info("routed DM %s to %s left as it was: %s", dm.ts, dm.user_id, code)


async def nudge_questions(
    services: Services, effects: EffectRunner, client: AsyncWebClient, team_id: str
) -> int:
    """The tick's Q&A job, for one workspace (`client` has its token): questions past
    `QA_NUDGE_HOURS` with no answer go to the next experts; those with answers but none
    accepted remind the asker. Each question once: the claim owes the work in its
    transaction, so a Slack failure after it loses nothing."""
    nudged = await services.run(services.routing.due_nudges, team_id)
    await effects.perform_now(client, nudged.effects)
    return nudged.questions
