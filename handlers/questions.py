"""Q&A: `/ask`, answers in question threads, and accepting one (shortcut or ✅)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.questions import QuestionRefused
from bot.domain.routing import ROUTED_AT_ONCE
from bot.services import Services
from bot.views.help import ASK, command_help_text
from bot.views.questions import (
    ACCEPT_EMOJI,
    ACCEPT_SHORTCUT,
    DECLINE_ACTION,
    PAUSE_ACTION,
    accepted_text,
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
)
from handlers.effects import EffectRunner
from handlers.guard import error_code, guarded, slack_slow
from handlers.home import refresh_homes
from handlers.kudos import UNREACHABLE_BY_BOT
from handlers.kudos_reactions import emoji_name
from handlers.people import PersonNotFound, profiles
from handlers.slack_time import slack_time
from storage.models import Question

log = logging.getLogger("guildbot.handlers.questions")

NOT_SET_UP = (
    "Q&A isn't set up here yet: an admin needs to set QA_CHANNEL to the channel where "
    "questions go (and invite me there)."
)
SLACK_REFUSED = (
    "Slack didn't take the question just now, so nothing was asked. Please try again in a minute."
)
# Replies that can be answers; every other subtype (joins, edits, bots…) never is.
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    def qa() -> str | None:
        return services.settings.qa_channel

    # Asking ---------------------------------------------------------------------------------

    @guarded
    async def ask(
        ack: AsyncAck, command: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        typed = (command.get("text") or "").strip()
        if typed.lower() in ("", "help"):
            await ack(text=command_help_text(ASK))
            return
        if not qa():
            await ack(text=NOT_SET_UP)
            return
        team_id, user_id = command["team_id"], command["user_id"]
        try:
            intent = await services.run(services.questions.read, team_id, typed)
            asker = (await profiles(services, client, team_id, [user_id]))[user_id]
        except QuestionRefused as refusal:
            await ack(text=refusal.message)
            return
        except TimeoutError:
            await ack(text=slack_slow("post your question"))
            return
        asked = await services.run(
            services.questions.ask, team_id, asker, intent, qa(), command["trigger_id"]
        )
        services.forwarder.wake()
        if asked.new:
            context["question"] = {"id": asked.question.id}
        await ack(text=posting_text(qa()))

    @guarded
    async def post_question(
        command: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        if not context.get("question") or not qa():
            return
        await respond(
            text=await publish_question(services, client, context["question"]["id"]),
            response_type="ephemeral",
        )

    # Answers --------------------------------------------------------------------------------

    async def ack_event(ack: AsyncAck) -> None:
        await ack()

    @guarded
    async def follow_thread(event: dict, body: dict, client: AsyncWebClient) -> None:
        """Every message event is acked; only replies in a question's thread are kept."""
        if not qa() or event.get("channel") != qa():
            return
        team_id = body["team_id"]
        subtype = event.get("subtype")
        if subtype == "message_changed":
            changed = event.get("message") or {}
            await services.run(
                services.questions.edit_answer,
                team_id,
                qa(),
                changed.get("ts", ""),
                changed.get("text") or "",
            )
            return
        if subtype == "message_deleted":
            gone = await services.run(
                services.questions.delete_answer,
                team_id,
                qa(),
                event.get("deleted_ts", ""),
                slack_time(body),
            )
            if gone is not None:
                services.forwarder.wake()
            return
        if subtype not in ANSWER_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        if not thread_ts or thread_ts == ts:
            return
        question = await services.run(services.questions.thread_of, team_id, qa(), thread_ts)
        if question is None or event["user"] == question.asker_id:
            return
        try:
            author = (await profiles(services, client, team_id, [event["user"]]))[event["user"]]
        except PersonNotFound:
            return
        link = await client.chat_getPermalink(channel=qa(), message_ts=ts)
        answer = await services.run(
            services.questions.record_answer,
            question,
            author,
            ts,
            event.get("text") or "",
            link.get("permalink"),
            slack_time(body),
        )
        if answer is not None:
            services.forwarder.wake()

    # Accepting ------------------------------------------------------------------------------

    async def accept(
        team_id: str,
        channel: str,
        ts: str,
        user_id: str,
        cause: str,
        client: AsyncWebClient,
        event_id: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        asker = (await profiles(services, client, team_id, [user_id]))[user_id]
        accepted = await services.run(
            services.questions.accept, team_id, channel, ts, asker, cause, event_id, at
        )
        services.forwarder.wake()
        return {
            "team": team_id,
            "asker": accepted.question.asker_id,
            "answerer": accepted.answer.author_id,
            "thread": accepted.question.ts if accepted.new else None,
        }

    @guarded
    async def accept_by_shortcut(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        try:
            context["accepted"] = await accept(
                body["user"]["team_id"],
                body["channel"]["id"],
                body["message"]["ts"],
                body["user"]["id"],
                body["trigger_id"],
                client,
                at=slack_time(body),
            )
        except (QuestionRefused, TimeoutError) as refusal:
            context["refused"] = getattr(refusal, "message", slack_slow("accept the answer"))
        await ack()

    @guarded
    async def announce_by_shortcut(
        client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        if context.get("refused"):
            await respond(text=context["refused"], response_type="ephemeral")
            return
        await announce(client, context.get("accepted"))

    async def announce(client: AsyncWebClient, accepted: dict[str, Any] | None) -> None:
        if not accepted or not accepted.get("thread") or not qa():
            return
        await refresh_homes(
            services, client, accepted["team"], [accepted["asker"], accepted["answerer"]]
        )
        await client.chat_postMessage(
            channel=qa(),
            thread_ts=accepted["thread"],
            text=accepted_text(accepted["asker"], accepted["answerer"]),
        )

    async def is_accept_reaction(event: dict) -> bool:
        item = event.get("item") or {}
        return (
            emoji_name(event.get("reaction", "")) == ACCEPT_EMOJI
            and item.get("type") == "message"
            and bool(qa())
            and item.get("channel") == qa()
        )

    @guarded
    async def accept_by_reaction(event: dict, body: dict, client: AsyncWebClient) -> None:
        try:
            accepted = await accept(
                body["team_id"],
                event["item"]["channel"],
                event["item"]["ts"],
                event["user"],
                body["event_id"],
                client,
                body["event_id"],
                slack_time(body),
            )
        except (QuestionRefused, PersonNotFound):
            return  # Anyone else's ✅, or not an answer: ignored silently.
        await announce(client, accepted)

    @guarded
    async def unaccept_by_reaction(
        ack: AsyncAck, event: dict, body: dict, client: AsyncWebClient
    ) -> None:
        team_id, user_id = body["team_id"], event["user"]
        try:
            asker = (await profiles(services, client, team_id, [user_id]))[user_id]
        except PersonNotFound:
            await ack()
            return
        undone = await services.run(
            services.questions.unaccept,
            team_id,
            event["item"]["channel"],
            event["item"]["ts"],
            asker,
            body["event_id"],
            slack_time(body),
        )
        if undone is not None:
            services.forwarder.wake()
        await ack()

    # Routed questions: two ways to say no -------------------------------------------------

    @guarded
    async def decline(ack: AsyncAck, body: dict, context: AsyncBoltContext) -> None:
        question_id, user_id = body["actions"][0]["value"], body["user"]["id"]
        question = await services.run(services.routing.not_my_area, question_id, user_id)
        context["declined"] = {"question": question.id if question else None}
        await ack()

    @guarded
    async def reroute(
        body: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        question_id = (context.get("declined") or {}).get("question")
        slug = await services.run(
            services.routing.declined_skill, body["actions"][0]["value"], body["user"]["id"]
        )
        await respond(text=declined_text(slug or "this"), replace_original=True)
        if question_id:
            question = await services.run(services.questions.get, question_id)
            if question is not None:
                await route_question(services, client, question, count=1)

    @guarded
    async def pause(ack: AsyncAck, body: dict, context: AsyncBoltContext) -> None:
        until = await services.run(
            services.routing.pause, body["user"]["team_id"], body["user"]["id"]
        )
        context["paused_until"] = int(until.timestamp())
        await ack()

    @guarded
    async def confirm_pause(respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await respond(text=paused_text(context["paused_until"]), replace_original=True)

    app.command("/ask")(ack=ask, lazy=[post_question])
    app.action(DECLINE_ACTION)(ack=decline, lazy=[reroute])
    app.action(PAUSE_ACTION)(ack=pause, lazy=[confirm_pause])
    app.event("message")(ack=ack_event, lazy=[follow_thread])
    app.shortcut(ACCEPT_SHORTCUT)(ack=accept_by_shortcut, lazy=[announce_by_shortcut])
    app.event("reaction_added", matchers=[is_accept_reaction])(
        ack=ack_event, lazy=[accept_by_reaction]
    )
    app.event("reaction_removed", matchers=[is_accept_reaction])(unaccept_by_reaction)


async def publish_question(services: Services, client: AsyncWebClient, question_id: str) -> str:
    """Posts a stored question in the Q&A channel; returns what to tell the asker. A question
    Slack would not take is withdrawn (its statement voided), so trying again asks it once."""
    channel = services.settings.qa_channel
    question = await services.run(services.questions.get, question_id)
    if question is None or channel is None:
        return NOT_SET_UP
    try:
        posted = await client.chat_postMessage(
            channel=channel,
            text=question_text(question.asker_id, question.text, question.addressed_to),
            blocks=question_blocks(
                question.asker_id, question.text, question.tags, question.addressed_to
            ),
        )
    except SlackApiError as error:
        log.warning("question %s not posted: %s", question.id, error_code(error))
        await services.run(services.questions.unposted, question.id)
        services.forwarder.wake()
        if error_code(error) in UNREACHABLE_BY_BOT:
            return unposted_text(channel)
        return SLACK_REFUSED
    link = await client.chat_getPermalink(channel=channel, message_ts=posted["ts"])
    await services.run(services.questions.posted, question.id, posted["ts"], link.get("permalink"))
    question.ts, question.permalink = posted["ts"], link.get("permalink")
    await route_question(services, client, question)
    similar = await services.run(services.questions.similar, question.team_id, question)
    return posted_text(channel, link.get("permalink"), similar)


async def route_question(
    services: Services, client: AsyncWebClient, question: Question, count: int = ROUTED_AT_ONCE
) -> int:
    """DMs the question to the next people who know its skills; returns how many got it."""
    routed = await services.run(services.routing.route, question, count)
    for person in routed:
        await send_dm(
            client,
            person.user_id,
            text=routed_text(question.asker_id, question.text),
            blocks=routed_blocks(
                question.asker_id, question.text, person.slug, question.permalink, question.id
            ),
        )
    return len(routed)


async def send_dm(client: AsyncWebClient, user_id: str, **message: Any) -> None:
    """DMs go to the `D…` channel `conversations.open` gives."""
    opened = await client.conversations_open(users=user_id)
    await client.chat_postMessage(channel=opened["channel"]["id"], **message)


async def nudge_questions(services: Services, client: AsyncWebClient) -> int:
    """The tick's Q&A job: questions past `QA_NUDGE_HOURS` with no answer go to the next
    experts; those with answers but none accepted remind the asker. Each question once."""
    nudges = await services.run(services.routing.due_nudges)
    for nudge in nudges:
        question = nudge.question
        try:
            if nudge.remind_asker:
                await send_dm(
                    client,
                    question.asker_id,
                    text=reminder_text(question.permalink, nudge.answers),
                )
            elif question.ts:
                await route_question(services, client, question)
        except Exception:
            log.exception("nudge for question %s failed", question.id)
    return len(nudges)
