"""Q&A: asking, answering in the thread, accepting an answer.

A question is stored (with its `asked` statement, and owing its post) before `/ask` is
acknowledged, then posted in the Q&A channel; replies in its thread by anyone but the asker
are answers. Accepting one resolves the question and makes the answer evidence for its author
in `/expert`. What each step owes Slack is recorded with it (see bot/domain/effects.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlmodel import Session

from bot.clock import Clock, occurred
from bot.domain import standing, text
from bot.domain.effects import Effect, owe
from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.domain.routing import update_dms_effect
from bot.domain.rows import copied
from bot.domain.skill_names import fold
from bot.domain.skills import SkillsService
from bot.xapi.statements import (
    AnswerFacts,
    BuiltStatement,
    Learner,
    QuestionFacts,
    StatementBuilders,
    derived_id,
    queued,
)
from storage.database import Database
from storage.models import Answer, Question
from storage.repositories import channels as channels_repo
from storage.repositories import events as events_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import questions as questions_repo

MIN_QUESTION_WORDS = 3
MAX_SUGGESTED_TAGS = 3
SIMILAR = 3
ASK_EXAMPLE = "/ask How do I rotate the staging database password? #postgresql"
_WORDS = re.compile(r"[\w+#.\-]+")

# What Q&A owes Slack.
PUBLISH = "questions.publish"
"""Post the question in the Q&A channel, route it to people who know, tell the asker."""
REPLY = "questions.reply"
"""A reply in a question's thread: read it and store it as an answer."""
REPLY_EDITED = "questions.reply_edited"
"""A reply was edited: read it again and keep its new text."""
REPLY_DELETED = "questions.reply_deleted"
"""A reply was deleted: an answer's statement is voided (and its acceptance, if any)."""
CHECK_MARK = "questions.check_mark"
"""Someone reacted ✅ to a message in the Q&A channel: the asker's ✅ accepts an answer."""
ACCEPTED = "questions.accepted"
"""Say in the question's thread that the asker accepted an answer."""
THREAD_EVENTS = (REPLY, REPLY_EDITED, REPLY_DELETED, CHECK_MARK)


class QuestionRefused(Refused):
    """The request cannot be done; the message says why (and how to do it right)."""


@dataclass(frozen=True)
class AskIntent:
    text: str
    tags: tuple[str, ...]
    """Canonical skill names typed as `#tags`, or suggested from the words when none were."""


@dataclass(frozen=True)
class ReplyTo:
    """Where the asker hears how the posting went: the command's response URL, or the Ask
    form (a modal) to update."""

    response_url: str | None = None
    view_id: str | None = None


@dataclass
class AskedQuestion:
    """A question as the domain hands it out (its stored row stays in storage)."""

    id: str
    team_id: str
    asker_id: str
    text: str
    tags: tuple[str, ...]
    addressed_to: str | None
    channel_id: str
    ts: str | None
    """Its message in the Q&A channel, once posted."""
    permalink: str | None
    status: str

    @classmethod
    def of(cls, row: Question) -> AskedQuestion:
        return copied(cls, row, tags=tuple(row.tags))


def _asked(row: Question | None) -> AskedQuestion | None:
    return AskedQuestion.of(row) if row is not None else None


@dataclass(frozen=True)
class Asked:
    question: AskedQuestion
    new: bool
    effects: tuple[str, ...] = ()
    """Posting it (and routing it), to do right away."""


@dataclass(frozen=True)
class Accepted:
    question_id: str
    answer_id: str
    replaced_id: str | None
    """The answer accepted before, if any."""
    new: bool = True
    """False when this answer was already the accepted one."""
    effects: tuple[str, ...] = ()
    """The thanks in the thread and the routed DMs' update, to do right away."""


@dataclass(frozen=True)
class Reopened:
    """An acceptance undone (the ✅ taken back, the answer deleted)."""

    answer_id: str
    effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerDeleted:
    answer_id: str
    reopened: bool
    effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class AcceptedNotice:
    """The thanks in a question's thread for its accepted answer."""

    asker_id: str
    answerer_id: str
    channel_id: str
    thread_ts: str


class QuestionService:
    def __init__(
        self,
        database: Database,
        statements: StatementBuilders,
        clock: Clock,
        skills: SkillsService,
        nudge_after: timedelta,
    ) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock
        self._skills = skills
        self._nudge_after = nudge_after

    # Asking ---------------------------------------------------------------------------------

    def read(self, team_id: str, typed: str, topic: str | None = None) -> AskIntent:
        """The question and its tags from `/ask` text (plus `topic`, from an /expert search);
        raises `QuestionRefused` with a hint."""
        try:
            parsed = text.read(typed)
        except text.TextProblem as problem:
            raise QuestionRefused(str(problem)) from None
        words = " ".join(t.raw for t in parsed.tokens if t.kind != "tag").strip()
        if len(words.split()) < MIN_QUESTION_WORDS:
            raise QuestionRefused(
                f"Ask a question of at least {MIN_QUESTION_WORDS} words, so people can answer "
                f"it. For example: `{ASK_EXAMPLE}`"
            )
        names = self._skills.names.for_team(team_id)
        tags = [topic, *parsed.tags] if topic else parsed.tags
        typed_tags = tuple(dict.fromkeys(t for t in (names.canonical(x) for x in tags) if t))
        return AskIntent(words, typed_tags or self.suggest_tags(team_id, words))

    def suggest_tags(self, team_id: str, question: str) -> tuple[str, ...]:
        """Known skills the question's words name (aliases included), in order of mention."""
        catalogue = self._skills.catalogue.all(team_id)
        names = self._skills.names.for_team(team_id)
        # Short words ("go", "ai", "pm") are too often plain English to stand for a skill.
        words = [
            names.canonical(w) if len(w) > 2 else fold(w)
            for w in _WORDS.findall(text.as_typed(question))
        ]
        pairs = [names.canonical(f"{a}-{b}") for a, b in pairwise(words)]
        found = [w for w in [*pairs, *words] if w in catalogue]
        return tuple(dict.fromkeys(found))[:MAX_SUGGESTED_TAGS]

    def ask(
        self,
        team_id: str,
        asker: Profile,
        intent: AskIntent,
        channel_id: str,
        source_key: str,
        addressed_to: str | None = None,
        reply_to: ReplyTo | None = None,
    ) -> Asked:
        """Stores the question and its `asked` statement, and owes its post, once per
        `source_key`."""
        now = self._clock()
        question_id = derived_id(team_id, "question", source_key)
        with self._database.transaction() as session:
            skills = self._skills.skills_named(session, team_id, intent.tags)
            asked = self._statements.for_team(team_id).asked(
                QuestionFacts(
                    question_id,
                    asker.learner,
                    intent.text,
                    skills,
                    channel_id,
                    now,
                    channels_repo.name_of(session, team_id, channel_id),
                )
            )
            question = Question(
                id=question_id,
                team_id=team_id,
                asker_id=asker.user_id,
                text=intent.text,
                tags=list(intent.tags),
                addressed_to=addressed_to,
                channel_id=channel_id,
                asked_statement_id=asked.id,
                created_at=now,
                # The tick looks again after QA_NUDGE_HOURS: re-route, or remind the asker.
                nudge_at=now + self._nudge_after,
            )
            new = questions_repo.add(session, question)
            if not new:
                stored = questions_repo.get(session, question_id) or question
                return Asked(AskedQuestion.of(stored), False)
            questions_repo.add_skills(session, team_id, question_id, skills)
            outbox_repo.add(session, queued(team_id, [asked]), now)
            effects = owe(session, [_publish(team_id, question_id, reply_to or ReplyTo())], now)
            return Asked(AskedQuestion.of(question), True, tuple(effects))

    def get(self, question_id: str) -> AskedQuestion | None:
        with self._database.reading() as session:
            return _asked(questions_repo.get(session, question_id))

    def posted(self, question_id: str, ts: str, permalink: str | None) -> None:
        """Remembers the question's message: replies in its thread are answers."""
        with self._database.transaction() as session:
            questions_repo.set_message(session, question_id, ts, permalink)

    def similar(self, team_id: str, question_id: str) -> list[AskedQuestion]:
        """Resolved questions on the same skills, newest first."""
        with self._database.reading() as session:
            slugs = questions_repo.skills_of(session, question_id)
            rows = questions_repo.resolved_with_skills(
                session, team_id, slugs, question_id, SIMILAR
            )
            return [AskedQuestion.of(row) for row in rows]

    def unposted(self, question_id: str) -> None:
        """The question could not be posted: it is withdrawn and its `asked` voided."""
        now = self._clock()
        with self._database.transaction() as session:
            question = questions_repo.get(session, question_id)
            if question is None:
                return
            questions_repo.delete(session, question)
            statements = self._statements.for_team(question.team_id)
            void = statements.voiding(question.asked_statement_id, now, "unposted")
            outbox_repo.add(session, queued(question.team_id, [void]), now)

    def thread_of(self, team_id: str, channel_id: str, thread_ts: str) -> AskedQuestion | None:
        with self._database.reading() as session:
            return _asked(questions_repo.by_message(session, team_id, channel_id, thread_ts))

    def owe_event(
        self, kind: str, team_id: str, event_id: str, payload: dict[str, str]
    ) -> list[str]:
        """Before the ack of an event in the Q&A channel that may touch an answer (a reply,
        an edit, a deletion, a ✅): owes its processing, so an acknowledged event is never
        lost with the process. `payload` names the message (ids, never its text)."""
        assert kind in THREAD_EVENTS, kind
        effect = Effect(kind, f"{kind}:{team_id}:{event_id}", team_id, payload)
        with self._database.transaction() as session:
            return owe(session, [effect], self._clock())

    # Answers --------------------------------------------------------------------------------

    def record_answer(
        self,
        question: AskedQuestion,
        author: Profile,
        ts: str,
        typed: str,
        permalink: str | None,
        at: datetime | None = None,
    ) -> str | None:
        """Stores a reply as an answer with its `answered` statement (made `at`, when Slack
        says it was posted), and returns the answer's id; None for the asker's own replies
        and for a redelivered message."""
        if author.user_id == question.asker_id or author.is_bot:
            return None
        now = self._clock()
        answer_id = derived_id(question.team_id, "answer", question.channel_id, ts)
        with self._database.transaction() as session:
            skills = questions_repo.skills_of(session, question.id)
            answered = self._statements.for_team(question.team_id).answered(
                self._answer_facts(
                    session,
                    question,
                    answer_id,
                    author.learner,
                    typed,
                    permalink,
                    skills,
                    occurred(now, at),
                )
            )
            answer = Answer(
                id=answer_id,
                team_id=question.team_id,
                question_id=question.id,
                author_id=author.user_id,
                channel_id=question.channel_id,
                ts=ts,
                permalink=permalink,
                text=text.clean(typed),
                answered_statement_id=answered.id,
                created_at=now,
            )
            if not questions_repo.add_answer(session, answer):
                return None
            outbox_repo.add(session, queued(question.team_id, [answered]), now)
        return answer_id

    def is_answer(self, team_id: str, channel_id: str, ts: str) -> bool:
        with self._database.reading() as session:
            answer = questions_repo.answer_by_message(session, team_id, channel_id, ts)
        return answer is not None and answer.deleted_at is None

    def edit_answer(self, team_id: str, channel_id: str, ts: str, typed: str) -> bool:
        """An edited answer keeps its statement; only the stored text changes."""
        now = self._clock()
        with self._database.transaction() as session:
            answer = questions_repo.answer_by_message(session, team_id, channel_id, ts)
            if answer is None or answer.deleted_at is not None:
                return False
            questions_repo.mark_answer_edited(session, answer, text.clean(typed), now)
        return True

    def delete_answer(
        self, team_id: str, channel_id: str, ts: str, at: datetime | None = None
    ) -> AnswerDeleted | None:
        """A deleted answer's statement is voided; if it was accepted, the question reopens,
        the acceptance is voided too and the routed DMs are owed an update."""
        now = self._clock()
        cause = f"deleted:{ts}"
        with self._database.transaction() as session:
            answer = questions_repo.answer_by_message(session, team_id, channel_id, ts)
            if answer is None or answer.deleted_at is not None:
                return None
            question = questions_repo.get(session, answer.question_id)
            answer.deleted_at = now
            questions_repo.save(session, answer)
            when = occurred(now, at)
            statements = self._statements.for_team(team_id)
            voids = [statements.voiding(answer.answered_statement_id, when, cause)]
            if question is None or question.accepted_answer_id != answer.id:
                outbox_repo.add(session, queued(team_id, voids), now)
                return AnswerDeleted(answer.id, False)
            voids += self._reopen(session, question, answer, cause, now, when)
            outbox_repo.add(session, queued(team_id, voids), now)
            effects = owe(session, [update_dms_effect(team_id, question.id, cause)], now)
        return AnswerDeleted(answer.id, True, tuple(effects))

    # Accepting ------------------------------------------------------------------------------

    def accept(
        self,
        team_id: str,
        channel_id: str,
        ts: str,
        asker: Profile,
        cause: str,
        event_id: str | None = None,
        at: datetime | None = None,
    ) -> Accepted:
        """The asker accepts the reply at `ts`; a later acceptance replaces an earlier one.
        Raises `QuestionRefused` for anyone else, or for a message that is not an answer.
        With `event_id` (a ✅ reaction) a redelivered event changes nothing."""
        now = self._clock()
        when = occurred(now, at)
        with self._database.transaction() as session:
            answer, question = self._answer_and_question(session, team_id, channel_id, ts)
            if asker.user_id != question.asker_id:
                raise QuestionRefused(
                    f"Only <@{question.asker_id}>, who asked, can accept an answer to this "
                    "question. Thank the person with kudos instead!"
                )
            redelivered = event_id is not None and not events_repo.claim_event(
                session, team_id, event_id, now
            )
            if redelivered or question.accepted_answer_id == answer.id:
                return Accepted(question.id, answer.id, None, new=False)
            voids = []
            replaced = None
            if question.accepted_answer_id:
                replaced = questions_repo.get_answer(session, question.accepted_answer_id)
                if replaced is not None:
                    voids = self._reopen(session, question, replaced, cause, now, when)
            skills = questions_repo.skills_of(session, question.id)
            facts = self._answer_facts(
                session,
                question,
                answer.id,
                Learner(answer.author_id),
                answer.text,
                answer.permalink,
                skills,
                now,
            )
            accept = self._statements.for_team(team_id).accepted(asker.learner, facts, cause, when)
            answer.accepted_at = now
            question.status = "resolved"
            question.resolved_at = now
            question.accepted_answer_id = answer.id
            question.accept_statement_id = accept.id
            questions_repo.save(session, answer)
            questions_repo.save(session, question)
            session.flush()
            outbox_repo.add(session, queued(team_id, [*voids, accept]), now)
            standing.refresh(session, team_id, [(s, answer.author_id) for s in skills], now)
            thanks = Effect(
                ACCEPTED,
                f"{ACCEPTED}:{team_id}:{cause}",
                team_id,
                {"question": question.id, "answer": answer.id},
            )
            effects = owe(session, [thanks, update_dms_effect(team_id, question.id, cause)], now)
        return Accepted(
            question.id, answer.id, replaced.id if replaced else None, effects=tuple(effects)
        )

    def accepted_notice(self, question_id: str, answer_id: str) -> AcceptedNotice | None:
        """The thanks to post for an accepted answer; None once it is no longer the accepted
        one (taken back, replaced, deleted or erased before the thanks went out)."""
        with self._database.reading() as session:
            question = questions_repo.get(session, question_id)
            answer = questions_repo.get_answer(session, answer_id)
        if question is None or answer is None or question.accepted_answer_id != answer_id:
            return None
        if not question.ts:
            return None
        return AcceptedNotice(question.asker_id, answer.author_id, question.channel_id, question.ts)

    def unaccept(
        self,
        team_id: str,
        channel_id: str,
        ts: str,
        asker: Profile,
        event_id: str,
        at: datetime | None = None,
    ) -> Reopened | None:
        """The asker took their ✅ back: the question reopens, the acceptance is voided, the
        routed DMs are owed an update. The event id is claimed, so a redelivered removal
        can't undo a later acceptance."""
        now = self._clock()
        cause = event_id
        with self._database.transaction() as session:
            try:
                answer, question = self._answer_and_question(session, team_id, channel_id, ts)
            except QuestionRefused:
                return None
            if asker.user_id != question.asker_id or question.accepted_answer_id != answer.id:
                return None
            if not events_repo.claim_event(session, team_id, event_id, now):
                return None
            voids = self._reopen(session, question, answer, cause, now, occurred(now, at))
            outbox_repo.add(session, queued(team_id, voids), now)
            effects = owe(session, [update_dms_effect(team_id, question.id, cause)], now)
        return Reopened(answer.id, tuple(effects))

    def _answer_and_question(
        self, session: Session, team_id: str, channel_id: str, ts: str
    ) -> tuple[Answer, Question]:
        answer = questions_repo.answer_by_message(session, team_id, channel_id, ts)
        question = questions_repo.get(session, answer.question_id) if answer else None
        if answer is None or question is None or answer.deleted_at is not None:
            raise QuestionRefused(
                "That message isn't an answer in a question's thread, so it can't be accepted."
            )
        return answer, question

    def _reopen(
        self,
        session: Session,
        question: Question,
        answer: Answer,
        cause: str,
        now: datetime,
        at: datetime,
    ) -> list[BuiltStatement]:
        """Undoes an acceptance: question open again, its `accept` voided (`at` the time it
        was undone), evidence rescored."""
        voids = []
        if question.accept_statement_id:
            statements = self._statements.for_team(question.team_id)
            voids.append(statements.voiding(question.accept_statement_id, at, cause))
        answer.accepted_at = None
        question.status = "open"
        question.resolved_at = None
        question.accepted_answer_id = None
        question.accept_statement_id = None
        questions_repo.save(session, answer)
        questions_repo.save(session, question)
        session.flush()
        skills = questions_repo.skills_of(session, question.id)
        standing.refresh(session, question.team_id, [(s, answer.author_id) for s in skills], now)
        return voids

    @staticmethod
    def _answer_facts(
        session: Session,
        question: Question | AskedQuestion,
        answer_id: str,
        author: Learner,
        typed: str,
        permalink: str | None,
        skills: Sequence[str],
        now: datetime,
    ) -> AnswerFacts:
        return AnswerFacts(
            answer_id=answer_id,
            question_id=question.id,
            question_permalink=question.permalink,
            answerer=author,
            text=typed,
            permalink=permalink,
            skills=skills,
            channel_id=question.channel_id,
            timestamp=now,
            channel_name=channels_repo.name_of(session, question.team_id, question.channel_id),
        )


def _publish(team_id: str, question_id: str, reply_to: ReplyTo) -> Effect:
    payload: dict[str, str] = {"question": question_id}
    if reply_to.response_url:
        payload["response_url"] = reply_to.response_url
    if reply_to.view_id:
        payload["view"] = reply_to.view_id
    return Effect(PUBLISH, f"{PUBLISH}:{team_id}:{question_id}", team_id, payload)
