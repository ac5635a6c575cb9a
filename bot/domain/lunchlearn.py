"""Lunch-and-learn: scheduling, RSVPs with a capacity and a waitlist, cancellation.

A session is stored with its `scheduled` statement and its time-based jobs (reminders, the
check-in window, the start, the feedback prompt) in one transaction; the database tick does
the jobs. Every RSVP change is serialised per session, so the capacity always holds.

What a change owes Slack (the announcement, its redraws, DMs, calendar files) is owed in the
same transaction as the change, and so is what a job owes in the transaction that claims it
(see bot/domain/effects.py): a crash or a Slack outage delays it and never loses it.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.clock import Clock, occurred
from bot.domain import standing, text
from bot.domain.effects import Effect, owe, owe_latest
from bot.domain.people import Profile, stored_learners
from bot.domain.refused import FieldsRefused, Refused
from bot.domain.rows import copied
from bot.domain.skills import SkillsService
from bot.domain.workspace import WorkspaceSettings
from bot.views import mrkdwn
from bot.xapi import vocabulary as v
from bot.xapi.statements import (
    BuiltStatement,
    CommunityFacts,
    Learner,
    SessionFacts,
    StatementBuilders,
    derived_id,
    queued,
)
from storage.database import Database
from storage.models import LunchSession, Rsvp, SessionJob
from storage.repositories import channels as channels_repo
from storage.repositories import communities as communities_repo
from storage.repositories import lunchlearn as sessions_repo
from storage.repositories import outbox as outbox_repo

CHECKIN_OPENS = timedelta(minutes=15)
CHECKIN_CLOSES = timedelta(minutes=30)
MAX_TITLE = 150
# Letters and digits without 0/O and 1/I, so ids and codes read aloud without confusion.
SHORT_ID_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1")
CODE_LENGTH = 6
CODE_TRIES = 5
"""Wrong check-in codes a person may enter per session (32^6 codes: guessing is hopeless)."""
TOO_MANY_CODES = (
    f"That's {CODE_TRIES} wrong codes, so I can't take another one for this session. "
    "Please ask the presenter for help."
)

# What lunch-and-learns owe Slack (see bot/domain/effects.py). Payloads name the session
# and the person by id; the words are rendered from the session as it is when they are sent.
ANNOUNCE = "lunch.announce"
"""Post the announcement of a session just scheduled (or tell the organiser why not)."""
REDRAW = "lunch.redraw"
"""Redraw the announcement as the session is now; one pending per session (`owe_latest`)."""
PROMOTED = "lunch.promoted"
"""Tell someone a place freed up and it is theirs."""
LEFT = "lunch.left"
"""Tell the organiser someone can't come any more."""
CANCELLED = "lunch.cancelled"
"""Tell someone going or waiting that the session was cancelled."""
CALENDAR = "lunch.calendar"
"""Send someone the session's calendar file, at the SEQUENCE in the payload."""
CODE = "lunch.code"
"""Give the presenter the check-in code as the session starts."""
REMINDER = "lunch.reminder"
"""Remind someone going that the session starts soon."""
FEEDBACK = "lunch.feedback"
"""Ask someone who checked in for a rating."""

GOING, WAITLIST, NOT_GOING = "going", "waitlist", "not going"
NONE = "none"
"""Only took the calendar file (or checked in without an RSVP)."""


class SessionRefused(Refused):
    """The request cannot be done; the message says why."""


NOT_HERE = "That session isn't one of this workspace's."


class FormErrors(FieldsRefused):
    """Problems with the scheduling form, per field."""


@dataclass(frozen=True)
class SessionDraft:
    title: str
    description: str
    tags: tuple[str, ...]
    presenter_id: str
    starts_at: datetime
    duration_minutes: int
    place: str
    capacity: int | None
    channel_id: str

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class Counts:
    going: int
    waitlist: int


@dataclass(frozen=True)
class RsvpOutcome:
    status: str
    """What the person now is: "going", "waitlist" or "not going"."""
    changed: bool
    promoted: str | None = None
    """Who moved up from the waitlist to take the freed place."""
    counts: Counts = field(default_factory=lambda: Counts(0, 0))
    effects: tuple[str, ...] = ()
    """What Slack is owed (the redraw, DMs), to do right away."""


@dataclass(frozen=True)
class Lunch:
    """A session as the domain hands it out (its stored row stays in storage)."""

    id: str
    team_id: str
    short_id: str
    title: str
    description: str
    tags: tuple[str, ...]
    organiser_id: str | None
    presenter_id: str | None
    """None (both): a former colleague, erased with `guildbot forget`; the session stays."""
    starts_at: datetime
    duration_minutes: int
    place: str
    channel_id: str
    capacity: int | None = None
    message_ts: str | None = None
    """Its announcement, once posted."""
    sequence: int = 0
    """The calendar file's SEQUENCE: raised on every change."""
    checkin_code: str | None = None
    status: str = "scheduled"

    @classmethod
    def of(cls, row: LunchSession) -> Lunch:
        return copied(cls, row, tags=tuple(row.tags))


@dataclass(frozen=True)
class Scheduled:
    session: Lunch
    effects: tuple[str, ...] = ()
    """The announcement, to post right away (nothing when the form was sent again)."""


@dataclass(frozen=True)
class Cancelled:
    session: Lunch
    told: tuple[str, ...]
    """Everyone who was going or waiting: each is owed a DM."""
    effects: tuple[str, ...] = ()


def read_form(values: dict[str, str | None], now: datetime, tags: tuple[str, ...]) -> SessionDraft:
    """The scheduling form's fields, checked; raises `FormErrors` naming each bad field."""
    errors: dict[str, str] = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = "Give the session a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title under {MAX_TITLE} characters."
    starts_at = _read_start(values.get("start"), now, errors)
    duration = _whole_number(values.get("duration"))
    if duration is None or duration < 1:
        errors["duration"] = "The duration is a whole number of minutes, at least 1."
    capacity = _read_capacity(values.get("capacity"), errors)
    errors.update(_missing(values))
    if errors:
        raise FormErrors(errors)
    assert starts_at is not None and duration is not None
    return SessionDraft(
        title=title,
        description=(values.get("description") or "").strip(),
        tags=tags,
        presenter_id=values["presenter"] or "",
        starts_at=starts_at,
        duration_minutes=duration,
        place=(values.get("place") or "").strip(),
        capacity=capacity,
        channel_id=values["channel"] or "",
    )


def _read_start(starts: str | None, now: datetime, errors: dict[str, str]) -> datetime | None:
    """When the session starts, from the form's date-time picker (a Unix time)."""
    if not starts:
        errors["start"] = "Pick when the session starts."
        return None
    starts_at = datetime.fromtimestamp(int(starts), now.tzinfo)
    if starts_at <= now:
        errors["start"] = "Pick a time in the future."
    return starts_at


def _read_capacity(raw: str | None, errors: dict[str, str]) -> int | None:
    """How many people may come; None (no limit) when left empty."""
    if not raw:
        return None
    capacity = _whole_number(raw)
    if capacity is None or capacity < 1:
        errors["capacity"] = "Leave it empty for no limit, or allow at least 1 person."
    return capacity


def _missing(values: dict[str, str | None]) -> dict[str, str]:
    """The form's other required fields left empty."""
    required = {
        "presenter": "Pick who presents.",
        "place": "Say where it happens: a room or a call link.",
        "channel": "Pick the channel to announce it in.",
    }
    return {
        name: message for name, message in required.items() if not (values.get(name) or "").strip()
    }


def _whole_number(raw: str | None) -> int | None:
    try:
        return int((raw or "").strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class JobsDone:
    """What one tick's session jobs did."""

    count: int
    """Jobs done (a claimed job for a cancelled session, or a stale reminder, does nothing)."""
    effects: tuple[str, ...] = ()
    """What they owe Slack, owed with their claim, to do right away."""
    recorded: bool = False
    """A statement was recorded (a session started)."""


class LunchLearnService:
    def __init__(
        self,
        database: Database,
        statements: StatementBuilders,
        clock: Clock,
        skills: SkillsService,
    ) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock
        self._skills = skills

    def check_admin(self, user_id: str, settings: WorkspaceSettings) -> None:
        settings.lnd_admins.check(
            user_id,
            "Only L&D admins schedule and cancel lunch-and-learns. Ask {who} to set one up.",
        )

    # Scheduling -----------------------------------------------------------------------------

    def schedule(
        self,
        team_id: str,
        organiser: Profile,
        settings: WorkspaceSettings,
        draft: SessionDraft,
        source_key: str,
        from_gap: str | None = None,
        from_community: str | None = None,
    ) -> Scheduled:
        """Stores the session, its `scheduled` statement, its jobs and its announcement (owed);
        once per `source_key`. A session created from a knowledge gap references the gap's
        skill in its statement; one scheduled from a community (`from_community`, its id as
        a form echoed it: ignored unless it is one of the workspace's) is tagged with it and
        its skills. The workspace's `settings` say who may, when reminders go, and whether
        checking in takes a code."""
        self.check_admin(organiser.user_id, settings)
        now = self._clock()
        session_id = derived_id(team_id, "lunch-session", source_key)
        with self._database.transaction() as db:
            existing = sessions_repo.get(db, session_id)
            if existing is not None:
                return Scheduled(Lunch.of(existing))
            skills = self._skills.skills_named(db, team_id, draft.tags)
            community = communities_repo.get(db, from_community) if from_community else None
            if community is not None and community.team_id == team_id:
                community_skills = communities_repo.skills_of(db, [community.id])[community.id]
                skills = list(dict.fromkeys([*skills, *community_skills]))
            else:
                community = None
            lunch = LunchSession(
                id=session_id,
                team_id=team_id,
                short_id=self._free_short_id(db, team_id),
                title=draft.title,
                description=draft.description,
                tags=list(draft.tags),
                organiser_id=organiser.user_id,
                presenter_id=draft.presenter_id,
                starts_at=draft.starts_at,
                duration_minutes=draft.duration_minutes,
                place=draft.place,
                capacity=draft.capacity,
                channel_id=draft.channel_id,
                checkin_code=_code() if settings.lunchlearn_checkin_code else None,
                scheduled_statement_id="",
                gap_slug=from_gap or None,
                community_id=community.id if community else None,
                created_at=now,
            )
            scheduled = self._statements.for_team(team_id).session_event(
                v.SCHEDULE, organiser.learner, _facts(db, lunch, skills), "scheduled", now
            )
            lunch.scheduled_statement_id = scheduled.id
            sessions_repo.add(db, lunch)
            sessions_repo.add_skills(db, team_id, session_id, skills)
            for kind, due in self._jobs(draft, settings.lunchlearn_reminders, now):
                sessions_repo.add_job(
                    db, SessionJob(session_id=session_id, kind=kind, team_id=team_id, due_at=due)
                )
            outbox_repo.add(db, queued(team_id, [scheduled]), now)
            payload = {"session": session_id, "organiser": organiser.user_id}
            announce = Effect(ANNOUNCE, f"{ANNOUNCE}:{team_id}:{session_id}", team_id, payload)
            effects = owe(db, [announce], now)
        return Scheduled(Lunch.of(lunch), tuple(effects))

    def _jobs(
        self, draft: SessionDraft, offsets: Sequence[int], now: datetime
    ) -> list[tuple[str, datetime]]:
        # A reminder already past when the session is scheduled is skipped.
        reminders = [
            (f"reminder:{minutes}", draft.starts_at - timedelta(minutes=minutes))
            for minutes in offsets
            if draft.starts_at - timedelta(minutes=minutes) > now
        ]
        return [
            *reminders,
            ("checkin-open", max(draft.starts_at - CHECKIN_OPENS, now)),
            ("start", draft.starts_at),
            ("end", draft.ends_at),
            ("checkin-close", draft.ends_at + CHECKIN_CLOSES),
        ]

    @staticmethod
    def _free_short_id(db: Session, team_id: str) -> str:
        while True:
            candidate = "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(4))
            if sessions_repo.by_short_id(db, team_id, candidate) is None:
                return candidate

    def checkin_open(self, lunch: Lunch) -> bool:
        """Check-in runs from 15 minutes before the start to 30 minutes after the end."""
        now = self._clock()
        ends = lunch.starts_at + timedelta(minutes=lunch.duration_minutes)
        return (
            lunch.status == "scheduled"
            and lunch.starts_at - CHECKIN_OPENS <= now < ends + CHECKIN_CLOSES
        )

    def announced(self, session_id: str, ts: str) -> None:
        with self._database.transaction() as db:
            sessions_repo.set_message(db, session_id, ts)

    # RSVPs ----------------------------------------------------------------------------------

    def going(self, session_id: str, person: Profile, at: datetime | None = None) -> RsvpOutcome:
        """Takes a place, or a waitlist spot when the session is full. `at`: when Slack says
        the button was pressed."""
        now = self._clock()
        with self._database.transaction() as db:
            lunch = self._open_session(db, session_id, now)
            sessions_repo.lock_session(db, session_id)
            current = sessions_repo.rsvp(db, session_id, person.user_id)
            if current is not None and current.status in (GOING, WAITLIST):
                return RsvpOutcome(current.status, False, None, self._counts(db, session_id))
            counts = self._counts(db, session_id)
            full = lunch.capacity is not None and counts.going >= lunch.capacity
            # An existing row keeps its check-in, rating and calendar file.
            rsvp = current or Rsvp(
                session_id=session_id,
                user_id=person.user_id,
                team_id=lunch.team_id,
                status=NONE,
                since=now,
            )
            rsvp.status = WAITLIST if full else GOING
            rsvp.since = now
            if not full:
                rsvp.registered_statement_id = self._record(
                    db,
                    lunch,
                    v.REGISTERED,
                    person.learner,
                    f"going:{now.isoformat()}",
                    occurred(now, at),
                )
            sessions_repo.save_rsvp(db, rsvp)
            effects = owe_latest(db, [_redraw(lunch)], now)
            return RsvpOutcome(
                rsvp.status, True, None, self._counts(db, session_id), tuple(effects)
            )

    def not_going(
        self, session_id: str, person: Profile, at: datetime | None = None
    ) -> RsvpOutcome:
        """Gives up a place (the first on the waitlist takes it) or a waitlist spot."""
        now = self._clock()
        with self._database.transaction() as db:
            lunch = self._open_session(db, session_id, now)
            sessions_repo.lock_session(db, session_id)
            current = sessions_repo.rsvp(db, session_id, person.user_id)
            if current is None or current.status == NOT_GOING:
                return RsvpOutcome(NOT_GOING, False, None, self._counts(db, session_id))
            was_going = current.status == GOING
            current.status = NOT_GOING
            current.since = now
            sessions_repo.save_rsvp(db, current)
            promoted = None
            if was_going:
                when = occurred(now, at)
                self._record(
                    db, lunch, v.UNREGISTERED, person.learner, f"cancel:{now.isoformat()}", when
                )
                promoted = self._promote(db, lunch, now, when)
            effects = owe_latest(db, [_redraw(lunch)], now)
            effects += owe(db, _told_of_leaving(lunch, person.user_id, promoted, now), now)
            counts = self._counts(db, session_id)
            return RsvpOutcome(NOT_GOING, True, promoted, counts, tuple(effects))

    def _promote(self, db: Session, lunch: LunchSession, now: datetime, at: datetime) -> str | None:
        first = sessions_repo.first_waitlisted(db, lunch.id)
        if first is None:
            return None
        first.status = GOING
        promoted = stored_learners(db, lunch.team_id, [first.user_id])[first.user_id]
        first.registered_statement_id = self._record(
            db, lunch, v.REGISTERED, promoted, f"promoted:{now.isoformat()}", at
        )
        sessions_repo.save_rsvp(db, first)
        return first.user_id

    def _open_session(self, db: Session, session_id: str, now: datetime) -> LunchSession:
        lunch = sessions_repo.get(db, session_id)
        if lunch is None or lunch.status == "cancelled":
            raise SessionRefused("This session was cancelled.")
        if lunch.starts_at + timedelta(minutes=lunch.duration_minutes) <= now:
            raise SessionRefused("This session is over.")
        return lunch

    def _counts(self, db: Session, session_id: str) -> Counts:
        counts = sessions_repo.counts(db, session_id)
        return Counts(counts.get(GOING, 0), counts.get(WAITLIST, 0))

    def counts(self, session_id: str) -> Counts:
        with self._database.reading() as db:
            return self._counts(db, session_id)

    # Reading --------------------------------------------------------------------------------

    def get(self, session_id: str) -> Lunch | None:
        with self._database.reading() as db:
            row = sessions_repo.get(db, session_id)
            return Lunch.of(row) if row is not None else None

    def upcoming(self, team_id: str, viewer_id: str) -> list[tuple[Lunch, str | None]]:
        """Sessions not over and not cancelled, soonest first, with the viewer's RSVP."""
        now = self._clock()
        with self._database.reading() as db:
            sessions = sessions_repo.upcoming(db, team_id, now)
            mine = sessions_repo.rsvps_of(db, viewer_id, [s.id for s in sessions])
            return [(Lunch.of(s), mine.get(s.id)) for s in sessions]

    # Cancelling -----------------------------------------------------------------------------

    def cancel(
        self, team_id: str, short_id: str, admin: Profile, settings: WorkspaceSettings
    ) -> Cancelled:
        """Cancels a session (L&D only). Everyone going or waitlisted is owed a DM, and
        everyone with the calendar file the cancelled one."""
        self.check_admin(admin.user_id, settings)
        now = self._clock()
        with self._database.transaction() as db:
            lunch = sessions_repo.by_short_id(db, team_id, short_id.strip().upper())
            if lunch is None:
                raise SessionRefused(
                    f"I don't know a session {mrkdwn.code(text.as_typed(short_id))}. "
                    "`/lunchlearn list` shows each session's id."
                )
            if lunch.status == "cancelled":
                raise SessionRefused(f"“{mrkdwn.escape(lunch.title)}” was already cancelled.")
            sessions_repo.lock_session(db, lunch.id)
            lunch.status = "cancelled"
            lunch.cancelled_at = now
            lunch.sequence += 1
            sessions_repo.save(db, lunch)
            sessions_repo.drop_jobs(db, lunch.id)
            self._record(db, lunch, v.CANCEL, admin.learner, "cancelled", now)
            told = sessions_repo.people_with(db, lunch.id, (GOING, WAITLIST))
            holders = sessions_repo.calendar_holders(db, lunch.id)
            owed = [_dm(CANCELLED, lunch, user_id) for user_id in told]
            owed += [_calendar(lunch, user_id) for user_id in holders]
            effects = owe_latest(db, [_redraw(lunch)], now) + owe(db, owed, now)
        return Cancelled(Lunch.of(lunch), tuple(told), tuple(effects))

    # The tick ---------------------------------------------------------------------------------

    def due_jobs(self, team_id: str, limit: int = 50) -> JobsDone:
        """The workspace's reminders, check-in window, start and feedback prompt that fell due,
        each claimed once however many processes tick, and what they owe Slack owed in the
        same transaction: a Slack failure after the claim delays a DM, never loses it."""
        now = self._clock()
        done, recorded = 0, False
        owed: list[Effect] = []
        redraws: list[Effect] = []
        with self._database.transaction() as db:
            claimed = sessions_repo.claim_due_jobs(db, team_id, now, limit)
            # Several reminders of one session due at once (the bot was down): only the last.
            latest = {
                job.session_id: job
                for job in sorted(
                    (j for j in claimed if j.kind.startswith("reminder:")),
                    key=lambda j: -int(j.kind.split(":", 1)[1]),
                )
            }
            for job in claimed:
                lunch = sessions_repo.get(db, job.session_id)
                if lunch is None or lunch.status == "cancelled":
                    continue
                if job.kind.startswith("reminder:"):
                    # Missed while every process was down: still useful until the start.
                    if now >= lunch.starts_at or latest[job.session_id] is not job:
                        continue
                    going = sessions_repo.people_with(db, lunch.id, (GOING,))
                    owed += [_reminder(lunch, job.kind, user_id) for user_id in going]
                elif job.kind == "start":
                    self._record_start(db, lunch, now)
                    recorded = True
                    if lunch.checkin_code and lunch.presenter_id:
                        owed.append(_code_for_presenter(lunch, lunch.presenter_id))
                elif job.kind == "end":
                    attendees = sessions_repo.attendees(db, lunch.id)
                    owed += [_dm(FEEDBACK, lunch, user_id) for user_id in attendees]
                else:  # the check-in window opens or closes: the button comes or goes
                    redraws.append(_redraw(lunch))
                done += 1
            effects = owe(db, owed, now) + owe_latest(db, redraws, now)
        return JobsDone(done, tuple(effects), recorded)

    # Helpers --------------------------------------------------------------------------------

    def _record(
        self,
        db: Session,
        lunch: LunchSession,
        verb: v.Verb,
        actor: Learner,
        cause: str,
        now: datetime,
        rating: int | None = None,
        comment: str | None = None,
    ) -> str:
        """Queues one statement about the session, made at `now` (its timestamp)."""
        facts = _facts(db, lunch, sessions_repo.skills_of(db, lunch.id))
        built: BuiltStatement = self._statements.for_team(lunch.team_id).session_event(
            verb, actor, facts, cause, now, rating, comment
        )
        outbox_repo.add(db, queued(lunch.team_id, [built]), now)
        return built.id

    def _record_start(self, db: Session, lunch: LunchSession, now: datetime) -> None:
        """The session started: its presenter is recorded (evidence for its skills)."""
        if lunch.presented_at is not None:
            return
        lunch.presented_at = now
        sessions_repo.save(db, lunch)
        db.flush()
        if lunch.presenter_id is None:
            return  # a former colleague: nobody to record or credit
        presenter = stored_learners(db, lunch.team_id, [lunch.presenter_id])[lunch.presenter_id]
        self._record(db, lunch, v.PRESENT, presenter, "presented", now)
        skills = sessions_repo.skills_of(db, lunch.id)
        standing.refresh(db, lunch.team_id, [(s, lunch.presenter_id) for s in skills], now)

    # Calendar files -------------------------------------------------------------------------

    def calendar_taken(self, session_id: str, person: Profile) -> list[str]:
        """Owes the person the session's calendar file at its current SEQUENCE, and remembers
        they have it, so a change sends them the new one. Asking again for the same SEQUENCE
        owes nothing more (a double click sends one file)."""
        now = self._clock()
        with self._database.transaction() as db:
            lunch = sessions_repo.get(db, session_id)
            if lunch is None:
                raise SessionRefused("I can't find that session any more.")
            current = sessions_repo.rsvp(db, session_id, person.user_id) or Rsvp(
                session_id=session_id,
                user_id=person.user_id,
                team_id=lunch.team_id,
                status=NONE,
                since=now,
            )
            current.calendar_sequence = lunch.sequence
            sessions_repo.save_rsvp(db, current)
            return owe(db, [_calendar(lunch, person.user_id)], now)

    def status_of(self, session_id: str, user_id: str) -> str | None:
        """The person's RSVP ("going", "waitlist", "not going", "none"), None without one."""
        with self._database.reading() as db:
            rsvp = sessions_repo.rsvp(db, session_id, user_id)
        return rsvp.status if rsvp else None

    # Attendance and feedback ----------------------------------------------------------------

    def check_in(
        self, session_id: str, person: Profile, code: str | None = None, at: datetime | None = None
    ) -> bool:
        """Records attendance inside the check-in window; True the first time. Raises
        `SessionRefused` outside the window or with a wrong code; a wrong code is counted
        (in the database, so the limit holds across replicas) before the refusal."""
        now = self._clock()
        with self._database.transaction() as db:
            lunch = sessions_repo.get(db, session_id)
            if lunch is None or lunch.status == "cancelled":
                raise SessionRefused("This session was cancelled.")
            ends = lunch.starts_at + timedelta(minutes=lunch.duration_minutes)
            if now < lunch.starts_at - CHECKIN_OPENS:
                raise SessionRefused("Check-in opens 15 minutes before the start. See you then!")
            if now >= ends + CHECKIN_CLOSES:
                raise SessionRefused("Check-in for this session has closed.")
            # One person's tries, pressed at once on several replicas, are counted one by one.
            sessions_repo.lock_session(db, session_id)
            rsvp = sessions_repo.rsvp(db, session_id, person.user_id) or Rsvp(
                session_id=session_id,
                user_id=person.user_id,
                team_id=lunch.team_id,
                status=NONE,
                since=now,
            )
            if rsvp.attended_at is not None:
                return False
            refusal = _code_refusal(lunch, rsvp, code)
            if refusal is None:
                rsvp.attended_at = now
                self._record(db, lunch, v.ATTENDED, person.learner, "attended", occurred(now, at))
            sessions_repo.save_rsvp(db, rsvp)
            if refusal is None:
                return True
        raise SessionRefused(refusal)

    def check_workspace(self, team_id: str, session_id: str) -> None:
        """Refuses a session of another workspace: the id comes from a button or a form,
        which the client sends back, so it is never taken on trust."""
        lunch = self.get(session_id)
        if lunch is not None and lunch.team_id != team_id:
            raise SessionRefused(NOT_HERE)

    def needs_code(self, session_id: str) -> bool:
        lunch = self.get(session_id)
        return bool(lunch and lunch.checkin_code)

    def rate(self, session_id: str, person: Profile, rating: int, comment: str | None) -> None:
        """Feedback from someone who checked in: a 1–5 rating and an optional comment."""
        if rating not in range(1, 6):
            raise SessionRefused("Pick a rating from 1 to 5.")
        now = self._clock()
        with self._database.transaction() as db:
            lunch = sessions_repo.get(db, session_id)
            current = sessions_repo.rsvp(db, session_id, person.user_id)
            if lunch is None or current is None or current.attended_at is None:
                raise SessionRefused("Only people who checked in can rate a session.")
            previous = current.rating, current.comment
            current.rating = rating
            current.comment = (comment or "").strip() or None
            if previous == (current.rating, current.comment):
                return
            if previous[0] is None:
                cause = "rated"
            else:
                # A changed rating replaces the one the LRS holds.
                cause = f"rated:{now.isoformat()}"
                statements = self._statements.for_team(lunch.team_id)
                rated = current.rated_statement_id or statements.session_statement_id(
                    v.RATED, lunch.id, person.user_id, "rated"
                )
                void = statements.voiding(rated, now, cause)
                outbox_repo.add(db, queued(lunch.team_id, [void]), now)
            current.rated_statement_id = self._record(
                db, lunch, v.RATED, person.learner, cause, now, rating, current.comment
            )
            sessions_repo.save_rsvp(db, current)


def _facts(db: Session, lunch: LunchSession, skills: Sequence[str]) -> SessionFacts:
    """What every statement about the session says of it: its topics and the knowledge gap
    it was scheduled from as skills, its presenter, when it is planned, its channel."""
    gap = [lunch.gap_slug] if lunch.gap_slug and lunch.gap_slug not in skills else []
    presenter = None
    if lunch.presenter_id is not None:
        presenter = stored_learners(db, lunch.team_id, [lunch.presenter_id])[lunch.presenter_id]
    return SessionFacts(
        lunch.id,
        lunch.title,
        [*skills, *gap],
        lunch.channel_id,
        presenter=presenter,
        starts_at=lunch.starts_at,
        duration_minutes=lunch.duration_minutes,
        channel_name=channels_repo.name_of(db, lunch.team_id, lunch.channel_id),
        community=_community_of(db, lunch),
    )


def _community_of(db: Session, lunch: LunchSession) -> CommunityFacts | None:
    described = communities_repo.described(db, lunch.community_id)
    return CommunityFacts(*described) if described else None


def _redraw(lunch: LunchSession) -> Effect:
    """Keyed by the session, not the request: redraws owed before one is done are one."""
    key = f"{REDRAW}:{lunch.team_id}:{lunch.id}"
    return Effect(REDRAW, key, lunch.team_id, {"session": lunch.id})


def _dm(
    kind: str,
    lunch: LunchSession,
    user_id: str,
    unique: Sequence[str] = (),
    payload: dict[str, object] | None = None,
    expires_at: datetime | None = None,
) -> Effect:
    """A DM (or file) about the session to one person; `unique` sets apart DMs of one kind
    owed to them more than once for the session."""
    key = ":".join([kind, lunch.team_id, lunch.id, user_id, *unique])
    body = {"session": lunch.id, "user": user_id, **(payload or {})}
    return Effect(kind, key, lunch.team_id, body, expires_at)


def _told_of_leaving(
    lunch: LunchSession, user_id: str, promoted: str | None, now: datetime
) -> list[Effect]:
    """The person who moved up is told the place is theirs; the organiser that someone left
    (unless they left themselves, or were erased). A person can leave, come back and leave
    again: the moment keeps each time's DMs apart."""
    moment = now.isoformat()
    told = []
    if promoted:
        told.append(_dm(PROMOTED, lunch, promoted, [moment]))
    organiser = lunch.organiser_id
    if organiser is not None and organiser != user_id:
        payload = {"left": user_id, "promoted": promoted}
        told.append(_dm(LEFT, lunch, organiser, [user_id, moment], payload))
    return told


def _calendar(lunch: LunchSession, user_id: str) -> Effect:
    return _dm(CALENDAR, lunch, user_id, [str(lunch.sequence)], {"sequence": lunch.sequence})


def _reminder(lunch: LunchSession, job_kind: str, user_id: str) -> Effect:
    # A reminder after the start would be noise: dropped (and logged) past it.
    return _dm(REMINDER, lunch, user_id, [job_kind], expires_at=lunch.starts_at)


def _code_for_presenter(lunch: LunchSession, presenter_id: str) -> Effect:
    closes = lunch.starts_at + timedelta(minutes=lunch.duration_minutes) + CHECKIN_CLOSES
    return _dm(CODE, lunch, presenter_id, expires_at=closes)


def _code() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(CODE_LENGTH))


def _code_refusal(lunch: LunchSession, rsvp: Rsvp, typed: str | None) -> str | None:
    """None when the session needs no code or the code is right and tries are left; else
    what to tell the person. A wrong code counts against their tries (on `rsvp`)."""
    if not lunch.checkin_code:
        return None
    if rsvp.checkin_failures >= CODE_TRIES:
        return TOO_MANY_CODES
    # Read aloud, it may be typed in lower case or in groups.
    if "".join((typed or "").split()).replace("-", "").upper() == lunch.checkin_code:
        return None
    rsvp.checkin_failures += 1
    left = CODE_TRIES - rsvp.checkin_failures
    if left == 0:
        return TOO_MANY_CODES
    tries = "1 try" if left == 1 else f"{left} tries"
    return (
        f"That isn't the session's code ({tries} left). The presenter announces it in the session."
    )
