"""Tables. Every row that belongs to a workspace carries `team_id`.

Changing a table here needs a migration in `storage/migrations/versions/`; a test compares the
two and fails when they drift.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Workspace(SQLModel, table=True):
    """What the bot learned about its workspace at first start; `home_page` never changes after."""

    __tablename__ = "workspace"

    team_id: str = Field(primary_key=True, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32)
    home_page: str = Field(max_length=255)
    bot_user_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Person(SQLModel, table=True):
    """A cache of Slack profile fields the bot needs (names for xAPI actors, time zones, bots)."""

    __tablename__ = "person"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    full_name: str = Field(default="", max_length=255)
    """Slack's `real_name` (the name Slack shows), else the display name, else the user id."""
    email: str | None = Field(default=None, max_length=255)
    tz: str = Field(default="UTC", max_length=64)
    is_bot: bool = False
    deleted: bool = False
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class SlackChannel(SQLModel, table=True):
    """A channel's name, as the last Slack request from it gave it (for xAPI activity names)."""

    __tablename__ = "slack_channel"

    team_id: str = Field(primary_key=True, max_length=32)
    channel_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=255)
    seen_at: datetime = Field(sa_type=UTCDateTime)


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled: Slack retries an event it thinks was lost."""

    __tablename__ = "processed_event"

    team_id: str = Field(primary_key=True, max_length=32)
    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime)


class Kudos(SQLModel, table=True):
    """One recognition from one giver to one receiver."""

    __tablename__ = "kudos"
    __table_args__ = (
        # One source (a slash command's trigger, a reaction event) yields at most one kudos per
        # receiver, so a redelivered request can never count twice.
        UniqueConstraint("team_id", "source_key", "receiver_id", name="uq_kudos_source"),
        Index("ix_kudos_giver_created", "team_id", "giver_id", "created_at"),
        Index("ix_kudos_receiver_created", "team_id", "receiver_id", "created_at"),
        Index("ix_kudos_message", "team_id", "channel_id", "message_ts"),
        Index("ix_kudos_post", "team_id", "channel_id", "post_ts"),
    )

    id: str = Field(primary_key=True, max_length=36)
    team_id: str = Field(max_length=32)
    giver_id: str = Field(max_length=32)
    receiver_id: str = Field(max_length=32)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel_id: str = Field(max_length=32)
    source: str = Field(max_length=16)
    source_key: str = Field(max_length=128)
    message_ts: str | None = Field(default=None, max_length=32)
    """The message the kudos is for (reactions and the Give kudos shortcut); None for /kudos."""
    post_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=512)
    give_statement_id: str = Field(max_length=36)
    receive_statement_id: str = Field(max_length=36)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Skill(SQLModel, table=True):
    """The workspace's skill catalogue: every canonical skill someone declared."""

    __tablename__ = "skill"

    team_id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PersonSkill(SQLModel, table=True):
    """A skill a person declared, at a level (`learning`, `practitioner`, `expert`)."""

    __tablename__ = "person_skill"
    __table_args__ = (Index("ix_person_skill_slug", "team_id", "slug"),)

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(primary_key=True, max_length=64)
    level: str = Field(max_length=16)
    declared_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Endorsement(SQLModel, table=True):
    """One person vouching for another's skill; at most one per endorser, person and skill."""

    __tablename__ = "endorsement"
    __table_args__ = (
        Index("ix_endorsement_subject", "team_id", "slug", "user_id"),
        Index("ix_endorsement_endorser", "team_id", "endorser_id"),
    )

    team_id: str = Field(primary_key=True, max_length=32)
    endorser_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(primary_key=True, max_length=64)
    statement_id: str = Field(max_length=36)
    created_at: datetime = Field(sa_type=UTCDateTime)


class KudosSkill(SQLModel, table=True):
    """A kudos value that names a skill: evidence for the receiver in expert ranking.

    Receiver and time are copied from the (immutable) kudos so one person's evidence for one
    skill is a single index range; whether it still stands is read from `kudos.revoked_at`.
    """

    __tablename__ = "kudos_skill"
    __table_args__ = (Index("ix_kudos_skill_receiver", "team_id", "slug", "receiver_id"),)

    kudos_id: str = Field(primary_key=True, max_length=36)
    slug: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32)
    receiver_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class SkillStanding(SQLModel, table=True):
    """A person's expert score for one skill, kept up to date with its evidence.

    `/expert` reads the top rows through one index instead of adding up every piece of
    evidence per search. Evidence is weighted by age, so a row also says when its score next
    changes by time alone (`rescore_at`); rows past it are rescored before ranking.
    """

    __tablename__ = "skill_standing"
    __table_args__ = (
        Index("ix_skill_standing_rank", "team_id", "slug", "score", "pieces", "user_id"),
        Index("ix_skill_standing_rescore", "team_id", "slug", "rescore_at"),
        Index("ix_skill_standing_due", "rescore_at"),
    )

    team_id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=32)
    score: float
    pieces: int
    level: str | None = Field(default=None, max_length=16)
    endorsements: int = 0
    kudos: int = 0
    answers: int = 0
    sessions: int = 0
    contributions: int = 0
    """Days the person contributed to a community with the skill."""
    rescore_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SkillOptOut(SQLModel, table=True):
    """People who asked `/skills forget me`: left out of rankings until they declare a skill."""

    __tablename__ = "skill_opt_out"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    opted_out_at: datetime = Field(sa_type=UTCDateTime)


class SkillStatement(SQLModel, table=True):
    """Which skill statements concern whom, so `/skills forget me` can void them all."""

    __tablename__ = "skill_statement"
    __table_args__ = (Index("ix_skill_statement_person", "team_id", "user_id"),)

    statement_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)


class Question(SQLModel, table=True):
    """A question asked with `/ask`, posted as its own message in the Q&A channel."""

    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "ts", name="uq_question_message"),
        Index("ix_question_status", "team_id", "status", "created_at"),
        Index("ix_question_nudge", "nudge_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    team_id: str = Field(max_length=32)
    asker_id: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    addressed_to: str | None = Field(default=None, max_length=32)
    """Someone the asker picked (Ask on an /expert result); mentioned in the post."""
    channel_id: str = Field(max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    """The question's message, once posted; replies in its thread are answers."""
    permalink: str | None = Field(default=None, max_length=512)
    status: str = Field(default="open", max_length=16)
    accepted_answer_id: str | None = Field(default=None, max_length=36)
    accept_statement_id: str | None = Field(default=None, max_length=36)
    asked_statement_id: str = Field(max_length=36)
    created_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nudge_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the database tick looks at it again (re-route, or remind the asker); once."""


class QuestionSkill(SQLModel, table=True):
    """A question's tag that names a skill: its accepted answer is evidence for the answerer."""

    __tablename__ = "question_skill"
    __table_args__ = (Index("ix_question_skill_slug", "team_id", "slug"),)

    question_id: str = Field(primary_key=True, max_length=36)
    slug: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32)


class Answer(SQLModel, table=True):
    """A reply in a question's thread by someone other than the asker."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "ts", name="uq_answer_message"),
        Index("ix_answer_question", "question_id"),
        Index("ix_answer_author", "team_id", "author_id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    team_id: str = Field(max_length=32)
    question_id: str = Field(max_length=36)
    author_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    permalink: str | None = Field(default=None, max_length=512)
    text: str = Field(sa_column=Column(Text, nullable=False))
    answered_statement_id: str = Field(max_length=36)
    created_at: datetime = Field(sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuestionRoute(SQLModel, table=True):
    """A question sent by DM to someone who knows one of its skills."""

    __tablename__ = "question_route"
    __table_args__ = (Index("ix_question_route_person", "team_id", "user_id", "routed_at"),)

    question_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    slug: str = Field(max_length=64)
    routed_at: datetime = Field(sa_type=UTCDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cause: str | None = Field(default=None, max_length=48)
    """The routing step that chose them ("publish", "nudge", "declined:U…"): a retried step
    finds the people it chose and routes no one new."""
    dm_channel: str | None = Field(default=None, max_length=32)
    dm_ts: str | None = Field(default=None, max_length=32)
    """The DM that told them, once sent: updated when the question is answered or reopens."""


class RoutePause(SQLModel, table=True):
    """Someone who asked for no routed questions for a while."""

    __tablename__ = "route_pause"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    paused_until: datetime = Field(sa_type=UTCDateTime)


class RouteDecline(SQLModel, table=True):
    """A skill someone said is not their area: no more questions on it are routed to them."""

    __tablename__ = "route_decline"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(primary_key=True, max_length=64)
    declined_at: datetime = Field(sa_type=UTCDateTime)


class LunchSession(SQLModel, table=True):
    """A lunch-and-learn session, announced in a channel."""

    __tablename__ = "lunch_session"
    __table_args__ = (
        UniqueConstraint("team_id", "short_id", name="uq_lunch_session_short_id"),
        Index("ix_lunch_session_starts", "team_id", "starts_at"),
        Index("ix_lunch_session_community", "community_id", "starts_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    """Also the xAPI registration that groups the session's statements."""
    team_id: str = Field(max_length=32)
    short_id: str = Field(max_length=8)
    """What people type in `/lunchlearn cancel <id>`."""
    title: str = Field(max_length=150)
    description: str = Field(sa_column=Column(Text, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    organiser_id: str | None = Field(default=None, max_length=32)
    presenter_id: str | None = Field(default=None, max_length=32)
    """None (both): a former colleague, erased with `guildbot forget`; the session stays."""
    starts_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    place: str = Field(max_length=500)
    capacity: int | None = None
    channel_id: str = Field(max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    sequence: int = 0
    """The calendar file's SEQUENCE: raised on every change."""
    checkin_code: str | None = Field(default=None, max_length=8)
    status: str = Field(default="scheduled", max_length=16)
    scheduled_statement_id: str = Field(max_length=36)
    gap_slug: str | None = Field(default=None, max_length=64)
    """The knowledge gap it was scheduled from: a skill on every statement about it."""
    community_id: str | None = Field(default=None, max_length=36)
    """The community it was scheduled from: in every statement about it, with its skills."""
    presented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SessionSkill(SQLModel, table=True):
    """A session tag that names a skill: presenting it is evidence for the presenter."""

    __tablename__ = "session_skill"
    __table_args__ = (Index("ix_session_skill_slug", "team_id", "slug"),)

    session_id: str = Field(primary_key=True, max_length=36)
    slug: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32)


class Rsvp(SQLModel, table=True):
    """Someone's answer to a session: going, waitlisted, or not going (after saying going)."""

    __tablename__ = "rsvp"
    __table_args__ = (Index("ix_rsvp_person", "team_id", "user_id"),)

    session_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    status: str = Field(max_length=16)
    """"going", "waitlist" or "not going"."""
    since: datetime = Field(sa_type=UTCDateTime)
    """When they took their place: the waitlist is promoted in this order."""
    registered_statement_id: str | None = Field(default=None, max_length=36)
    attended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rated_statement_id: str | None = Field(default=None, max_length=36)
    """The `rated` statement standing for the rating (a changed rating voids it)."""
    calendar_sequence: int | None = None
    """The calendar file they were last sent (None: they never asked for one)."""
    checkin_failures: int = 0
    """Wrong check-in codes entered; at the limit, even the right one is refused."""


class SessionJob(SQLModel, table=True):
    """Time-based work for a session (reminders, check-in window, start, feedback), claimed
    once by the database tick."""

    __tablename__ = "session_job"
    __table_args__ = (Index("ix_session_job_due", "done_at", "due_at"),)

    session_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    due_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxStatement(SQLModel, table=True):
    """An xAPI statement waiting for (or done with) delivery to the LRS.

    `body` holds the exact bytes sent, serialised once: a resend is byte-identical, so an LRS that
    compares re-POSTs accepts it as the same statement.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_seq", "status", "seq"),
        Index("ix_outbox_timestamp", "statement_timestamp"),
        Index("ix_outbox_actor", "team_id", "actor_id"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    statement_id: str = Field(max_length=36, unique=True)
    team_id: str = Field(max_length=32)
    actor_id: str = Field(max_length=32)
    voiding: bool = False
    body: str = Field(sa_column=Column(Text, nullable=False))
    statement_timestamp: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=8)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Which claim holds the lease: a forwarder acts on rows only while they carry its token.
    claim_token: str | None = Field(default=None, max_length=36)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProcessStatus(SQLModel, table=True):
    """Each running process's latest health check (every few seconds): what `guildbot status`
    shows per replica, since the forwarder's state lives in the process."""

    __tablename__ = "process_status"

    process_id: str = Field(primary_key=True, max_length=64)
    checked_at: datetime = Field(sa_type=UTCDateTime)
    forwarder_state: str = Field(max_length=16)
    forwarder_detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SlackEffect(SQLModel, table=True):
    """A Slack effect an acknowledged action owes (a post, a DM, a redraw), kept until done.

    Written in the same transaction as the state change that owes it; done right after the
    ack, or by the database tick from any process when that failed. `payload` names what to
    act on (ids), never message text: the text is rendered from the state when it is done.
    """

    __tablename__ = "slack_effect"
    __table_args__ = (Index("ix_slack_effect_due", "status", "next_attempt_at"),)

    seq: int | None = Field(default=None, primary_key=True)
    # The same request owes the same effect once, however often Slack delivers it.
    key: str = Field(max_length=200, unique=True)
    team_id: str = Field(max_length=32)
    kind: str = Field(max_length=40)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=8)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    # Past this moment the effect no longer makes sense (an ephemeral reply): dropped.
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: str | None = Field(default=None, max_length=36)
    # Owed again while being done (a redraw whose state changed meanwhile): once it is done,
    # it is done once more, by whoever held it, so redraws of one thing never race.
    owed_again: bool = False
    result: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


EFFECT_PENDING = "pending"
EFFECT_DONE = "done"
EFFECT_DEAD = "dead"
EFFECT_DROPPED = "dropped"


OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"
OUTBOX_DEAD = "dead"
OUTBOX_ERASED = "erased"
"""Erased while a forwarder was sending it: body and actor blanked, the row kept only so
voiding statements still wait behind that send; removed when the send ends."""

metadata = SQLModel.metadata

# Slack installations (OAuth distribution), read and written by slack_sdk's SQLAlchemy stores.
# Declared from slack_sdk's own definitions: should an upgrade of slack_sdk change their shape,
# the migration test fails (the tables come from migration 0040) instead of a query at run time.
slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    metadata, "slack_installations"
)
slack_bots = SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    metadata, "slack_oauth_states"
)


class DigestRun(SQLModel, table=True):
    """One digest per workspace and period: the row is the claim, so with several replicas
    only the process that inserted it (or took over its lapsed lease) posts."""

    __tablename__ = "digest_run"

    team_id: str = Field(primary_key=True, max_length=32)
    period_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    channel_id: str = Field(max_length=32)
    attempts: int = 0
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """While set and in the future, one process is posting (or waiting to retry) it."""
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ts: str | None = Field(default=None, max_length=32)


# The inbuilt LRS (xAPI 1.0.3 under /xapi/) -------------------------------------------------------


class LrsStatement(SQLModel, table=True):
    """A statement the inbuilt LRS holds: guildbot's own (stored with its outbox row, in the same
    transaction) or one a client posted to `/xapi/statements`.

    `body` is the statement as it came, without what the LRS sets (`stored`, `authority`,
    `version` when absent): those are added when it is read, so a replay sends the same bytes.
    `seq` is the order of storing: queries and `more` pages walk it.
    """

    __tablename__ = "lrs_statement"
    __table_args__ = (
        Index("ix_lrs_statement_target", "target_id"),
        Index("ix_lrs_statement_stored", "stored"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    statement_id: str = Field(max_length=36, unique=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    stored: datetime = Field(sa_type=UTCDateTime)
    authority: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The credential's agent as JSON; None for guildbot's own statements."""
    target_id: str | None = Field(default=None, max_length=36)
    """The statement this one's object refers to (`StatementRef`), voiding or not."""
    voiding: bool = False
    voided: bool = False
    fills: int = 0
    """What the LRS adds when it hands the statement out: 1 `version`, 2 `timestamp` (= stored)."""


class LrsStatementKey(SQLModel, table=True):
    """What a statement can be found by: one row per filter value (`bot.lrs` lists the kinds).

    `key` is a kind letter and a digest of the value (an agent's identifier, a verb or activity
    IRI, a registration), so one index answers every filter, newest first, however long the IRI.
    """

    __tablename__ = "lrs_statement_key"
    __table_args__ = (Index("ix_lrs_statement_key_seq", "seq"),)

    key: str = Field(primary_key=True, max_length=33)
    seq: int = Field(primary_key=True, foreign_key="lrs_statement.seq", ondelete="CASCADE")


class LrsAttachment(SQLModel, table=True):
    """An attachment's bytes, once per content hash (`sha2`), whatever statements carry it."""

    __tablename__ = "lrs_attachment"

    sha2: str = Field(primary_key=True, max_length=128)
    content_type: str = Field(max_length=255)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LrsStatementAttachment(SQLModel, table=True):
    """Which stored attachments a statement carries (its `attachments` without `fileUrl`)."""

    __tablename__ = "lrs_statement_attachment"
    __table_args__ = (Index("ix_lrs_statement_attachment_sha2", "sha2"),)

    seq: int = Field(primary_key=True, foreign_key="lrs_statement.seq", ondelete="CASCADE")
    sha2: str = Field(primary_key=True, max_length=128)


class LrsActivityDefinition(SQLModel, table=True):
    """Each distinct definition statements gave an activity; `GET activities` merges them."""

    __tablename__ = "lrs_activity_definition"

    activity_key: str = Field(primary_key=True, max_length=32)
    definition_hash: str = Field(primary_key=True, max_length=32)
    activity_id: str = Field(sa_column=Column(Text, nullable=False))
    definition: str = Field(sa_column=Column(Text, nullable=False))
    seen_at: datetime = Field(sa_type=UTCDateTime)


class LrsDocument(SQLModel, table=True):
    """A state, activity profile or agent profile document.

    `key` digests what identifies the document (kind, activity, agent, registration, id);
    `scope` what a list or a delete without an id covers (kind, activity and/or agent).
    """

    __tablename__ = "lrs_document"
    __table_args__ = (
        Index("ix_lrs_document_scope", "scope", "updated"),
        Index("ix_lrs_document_agent", "agent_key"),
    )

    key: str = Field(primary_key=True, max_length=32)
    scope: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    agent_key: str | None = Field(default=None, max_length=32)
    registration: str | None = Field(default=None, max_length=36)
    document_id: str = Field(sa_column=Column(Text, nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_type: str = Field(max_length=255)
    etag: str = Field(max_length=40)
    updated: datetime = Field(sa_type=UTCDateTime)


class LrsCredential(SQLModel, table=True):
    """An HTTP Basic key of the inbuilt LRS. Only a hash of the secret is kept."""

    __tablename__ = "lrs_credential"

    key: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100, unique=True)
    secret_hash: str = Field(max_length=64)
    read_only: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)


# Communities of practice and shared resources (migration 0030) ----------------------------------


class Community(SQLModel, table=True):
    """A community of practice: a Slack channel with a name, a description and topic skills.
    `channel_id` is None while the bot is still creating its channel."""

    __tablename__ = "community"
    __table_args__ = (
        UniqueConstraint("team_id", "name", name="uq_community_name"),
        UniqueConstraint("team_id", "channel_id", name="uq_community_channel"),
    )

    id: str = Field(primary_key=True, max_length=36)
    team_id: str = Field(max_length=32)
    name: str = Field(max_length=80)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    channel_id: str | None = Field(default=None, max_length=32)
    created_by: str | None = Field(default=None, max_length=32)
    """Who created or linked it; None once they are forgotten."""
    created_at: datetime = Field(sa_type=UTCDateTime)


class CommunitySkill(SQLModel, table=True):
    __tablename__ = "community_skill"
    __table_args__ = (Index("ix_community_skill_slug", "team_id", "slug"),)

    community_id: str = Field(primary_key=True, max_length=36)
    slug: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32)


class CommunityMember(SQLModel, table=True):
    """A member of a community now (leaving deletes the row); owners are members too."""

    __tablename__ = "community_member"
    __table_args__ = (Index("ix_community_member_user", "team_id", "user_id"),)

    community_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    owner: bool = False
    joined_at: datetime = Field(sa_type=UTCDateTime)


class Contribution(SQLModel, table=True):
    """A message or thread reply in a community's channel: who, when and its permalink,
    never its text. `statement_id` is set for those within the daily statement cap."""

    __tablename__ = "contribution"
    __table_args__ = (
        Index("ix_contribution_author", "community_id", "user_id", "at"),
        Index("ix_contribution_recent", "community_id", "at"),
        Index("ix_contribution_user", "team_id", "user_id"),
    )

    team_id: str = Field(primary_key=True, max_length=32)
    channel_id: str = Field(primary_key=True, max_length=32)
    ts: str = Field(primary_key=True, max_length=32)
    community_id: str = Field(max_length=36)
    user_id: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    permalink: str = Field(max_length=512)
    at: datetime = Field(sa_type=UTCDateTime)
    statement_id: str | None = Field(default=None, max_length=36)


class Resource(SQLModel, table=True):
    """A link or file shared in a community's channel or with `/share`, once per URL or file.
    `seq` follows sharing order (the search index's rowid on SQLite); `tags` holds its skills
    as words for the full-text index (migration 0030)."""

    __tablename__ = "resource"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_resource_key"),
        Index("ix_resource_recent", "team_id", "seq"),
        Index("ix_resource_community", "community_id", "seq"),
        Index("ix_resource_message", "team_id", "channel_id", "message_ts"),
        Index("ix_resource_sharer", "team_id", "shared_by"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=36, unique=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=512)
    """The URL, or `file:<Slack file id>`: what makes two shares one resource."""
    url: str = Field(max_length=2048)
    title: str = Field(max_length=255)
    kind: str = Field(max_length=16)
    tags: str = Field(default="", max_length=1024)
    community_id: str | None = Field(default=None, max_length=36)
    channel_id: str = Field(max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    shared_by: str | None = Field(default=None, max_length=32)
    shared_at: datetime = Field(sa_type=UTCDateTime)
    opens: int = 0
    """People who opened it (each counted once)."""
    reactions: int = 0


class ResourceOpen(SQLModel, table=True):
    """Who opened a resource with its Open button, how often and when last."""

    __tablename__ = "resource_open"
    __table_args__ = (Index("ix_resource_open_user", "team_id", "user_id"),)

    resource_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    count: int = 1
    first_at: datetime = Field(sa_type=UTCDateTime)
    last_at: datetime = Field(sa_type=UTCDateTime)


class Suggestion(SQLModel, table=True):
    """Someone to learn from, or a community to join, suggested to a learner, with why in
    words (made from evidence, never from what anyone typed). Refreshed daily."""

    __tablename__ = "suggestion"

    team_id: str = Field(primary_key=True, max_length=32)
    learner_id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=16)
    """`person` or `community`."""
    target_id: str = Field(primary_key=True, max_length=36)
    slug: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    score: float
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class SuggestionRun(SQLModel, table=True):
    """When a learner's suggestions were last worked out (none found counts too)."""

    __tablename__ = "suggestion_run"
    __table_args__ = (Index("ix_suggestion_run_due", "refreshed_at"),)

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class SuggestionOptOut(SQLModel, table=True):
    """Someone who wants no suggestions, and to be suggested to nobody."""

    __tablename__ = "suggestion_opt_out"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    opted_out_at: datetime = Field(sa_type=UTCDateTime)


class WorkspaceSetting(SQLModel, table=True):
    """A setting an L&D admin stored for their workspace; a setting with no row here is the
    environment's (`value` is its JSON, so `null` is a setting stored as unset)."""

    __tablename__ = "workspace_setting"

    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(sa_column=Column(Text, nullable=False))
    changed_by: str = Field(max_length=32)
    changed_at: datetime = Field(sa_type=UTCDateTime)


class WorkspaceSettingChange(SQLModel, table=True):
    """One change of a workspace setting: who made it, when, and the values before and after
    (JSON; the old value is what was in force, the environment's when none was stored)."""

    __tablename__ = "workspace_setting_change"
    __table_args__ = (Index("ix_workspace_setting_change_team", "team_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    name: str = Field(max_length=40)
    old_value: str = Field(sa_column=Column(Text, nullable=False))
    new_value: str = Field(sa_column=Column(Text, nullable=False))
    changed_by: str = Field(max_length=32)
    changed_at: datetime = Field(sa_type=UTCDateTime)
