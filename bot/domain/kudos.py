"""Kudos: who may recognise whom, and what one recognition records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.clock import Clock, occurred
from bot.domain import standing, text
from bot.domain.effects import Effect, owe, owe_claimed
from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.domain.skills import SkillsService
from bot.domain.workspace import WorkspaceSettings
from bot.views import mrkdwn
from bot.xapi.statements import KudosFacts, StatementBuilders, derived_id, queued
from storage.database import Database, batchable
from storage.models import Kudos
from storage.repositories import channels as channels_repo
from storage.repositories import events as events_repo
from storage.repositories import kudos as kudos_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import questions as questions_repo
from storage.repositories import skills as skills_repo

MIN_REASON_WORDS = 3
# What kudos owe Slack (see bot/domain/effects.py).
RECOGNITION = "kudos.recognition"
"""Post the recognition of these kudos (and confirm to the giver when the form asked)."""
UNPOST = "kudos.unpost"
"""Delete the recognition of kudos taken back."""
REMOVED_NOTICE = "kudos.removed_notice"
"""Tell the giver an L&D admin removed their kudos."""
REACTION = "kudos.reaction"
"""Read the message someone reacted to with the kudos emoji, and give kudos for it."""
# A private confirmation with Undo makes sense only while Undo does.
USAGE = "/kudos @person [@another …] <why, in a few words> [#value …]"
EXAMPLE = "/kudos @Dana for the clear incident write-up #teamwork"


class KudosRefused(Refused):
    """The kudos cannot be given; the message tells the giver how to do it right."""


@dataclass(frozen=True)
class KudosIntent:
    """What the giver asked for, read from the command text."""

    receiver_ids: tuple[str, ...]
    reason: str
    values: tuple[str, ...]


def read_intent(command_text: str) -> KudosIntent:
    """`@a [@b …] <reason> [#value …]`, read leniently; raises `KudosRefused` with a hint."""
    try:
        parsed = text.read(command_text)
    except text.TextProblem as problem:
        raise KudosRefused(str(problem)) from None
    receivers = parsed.leading_users
    if not receivers:
        raise KudosRefused(
            f"Start with the person you want to thank, picked with @. For example: `{EXAMPLE}`"
        )
    reason = parsed.words_after_leading_users().strip()
    check_reason(reason, f" For example: `{EXAMPLE}`")
    return KudosIntent(receivers, reason, parsed.tags)


def check_reason(reason: str, example: str = "") -> None:
    if len(reason.split()) < MIN_REASON_WORDS:
        raise KudosRefused(
            f"Add a reason of at least {MIN_REASON_WORDS} words, so people know what it was for."
            + example
        )


def read_values(typed: str) -> tuple[str, ...]:
    """Values typed into a form field: `#teamwork, python` → ("teamwork", "python")."""
    words = typed.replace(",", " ").split()
    return tuple(dict.fromkeys(v for v in (text.normalise_tag(w.lstrip("#")) for w in words) if v))


def check_receivers(giver_id: str, receivers: Sequence[Profile]) -> None:
    """Refuses self-kudos and kudos to bots or deactivated accounts."""
    for person in receivers:
        if person.user_id == giver_id:
            raise KudosRefused(
                "Kudos are for recognising others, so you can't give them to yourself."
            )
        if person.is_bot:
            raise KudosRefused(
                f"<@{person.user_id}> is an app, and kudos are for people. "
                "Thank the person behind it instead."
            )
        if person.deleted:
            raise KudosRefused(
                f"<@{person.user_id}> is no longer in this workspace, so they can't receive kudos."
            )


@dataclass(frozen=True)
class Announce:
    """Where the recognition goes: a channel, as a thread reply when `thread_ts` is set. The
    request's response URL reaches the channel when the bot cannot post there; `confirm`
    asks for a private confirmation with Undo after the post (the message shortcut)."""

    channel_id: str
    thread_ts: str | None = None
    response_url: str | None = None
    confirm: bool = False


@dataclass(frozen=True)
class GiveKudos:
    team_id: str
    giver: Profile
    receivers: tuple[Profile, ...]
    reason: str
    values: tuple[str, ...]
    channel_id: str
    source: str
    """How it was given: "command", "reaction" or "shortcut"."""
    source_key: str
    """Unique per request (a command's trigger id, an event id): a redelivery records nothing new."""
    permalink: str | None = None
    message_ts: str | None = None
    """The message the kudos is for, in `channel_id` (reactions and the message shortcut)."""
    announce: Announce | None = None
    """Where to post the recognition; by default the channel it was given in."""
    given_at: datetime | None = None
    """When Slack says it was given (a reaction's `event_ts`); else when it was received."""


@dataclass(frozen=True)
class Quota:
    """How many kudos a giver may still give today, in their own time zone."""

    limit: int
    used: int
    resets_at: datetime

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


class QuotaExceeded(Exception):
    def __init__(self, quota: Quota, wanted: int) -> None:
        super().__init__(f"quota exceeded: {quota.used}/{quota.limit}, wanted {wanted}")
        self.quota = quota
        self.wanted = wanted


def _zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """Midnight to midnight of `moment`'s day in the zone `tz_name` (UTC when unknown), in UTC."""
    zone = _zone(tz_name)
    local = moment.astimezone(zone)
    start = datetime.combine(local.date(), time.min, tzinfo=zone)
    end = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


UNDO_WINDOW = timedelta(minutes=10)


class UndoRefused(KudosRefused):
    """The kudos stands; the message says why."""


@dataclass(frozen=True)
class Revoked:
    """Kudos just revoked, with where their recognition was posted (to delete it)."""

    giver_id: str
    receiver_ids: tuple[str, ...]
    channel_id: str
    post_ts: str | None
    reason: str
    effects: tuple[str, ...] = ()
    """What Slack is owed (deleting the post, telling the giver), to do right away."""

    @classmethod
    def of(cls, kudos: Sequence[Kudos], effects: Sequence[str] = ()) -> Revoked:
        first = kudos[0]
        return cls(
            first.giver_id,
            tuple(k.receiver_id for k in kudos),
            first.channel_id,
            first.post_ts,
            first.reason,
            tuple(effects),
        )


def _unpost(team_id: str, kudos: Sequence[Kudos], cause: str) -> list[Effect]:
    """Deleting the recognition of revoked kudos, if it was posted (if not, its post will
    find them revoked and not happen)."""
    first = kudos[0]
    if not first.post_ts:
        return []
    payload = {"channel": first.channel_id, "ts": first.post_ts}
    return [Effect(UNPOST, f"{UNPOST}:{team_id}:{cause}", team_id, payload)]


PERIODS = ("week", "month", "all")
LEADERBOARD_SIZE = 5


def period_start(period: str, now: datetime, tz_name: str) -> datetime | None:
    """Start of this calendar week (Monday) or month in the viewer's zone, in UTC; None = all."""
    if period == "all":
        return None
    day_start, _ = local_day(now, tz_name)
    local = day_start.astimezone(_zone(tz_name))
    if period == "week":
        local -= timedelta(days=local.weekday())
    else:
        local = local.replace(day=1)
    # Rebuild from the date so a DST change inside the period can't shift midnight.
    return datetime.combine(local.date(), time.min, tzinfo=_zone(tz_name)).astimezone(UTC)


def read_period(option: str) -> str:
    period = option.strip().lower() or "week"
    if period not in PERIODS:
        raise KudosRefused(
            f"I don't know the period “{mrkdwn.render(option.strip())}”. "
            "Try `/kudos leaderboard week`, "
            "`/kudos leaderboard month` or `/kudos leaderboard all`."
        )
    return period


@dataclass(frozen=True)
class Standing:
    user_id: str
    count: int


@dataclass(frozen=True)
class Leaderboard:
    period: str
    receivers: tuple[Standing, ...]
    givers: tuple[Standing, ...]


@dataclass(frozen=True)
class KudosGiven:
    kudos_ids: tuple[str, ...]
    newly_recorded: bool
    quota: Quota
    effects: tuple[str, ...] = ()
    """What Slack is owed (the recognition), to do right away."""


@dataclass(frozen=True)
class Recognition:
    """What a recognition post says: the kudos of one request still standing."""

    kudos_ids: tuple[str, ...]
    giver_id: str
    receiver_ids: tuple[str, ...]
    reason: str
    values: tuple[str, ...]


class KudosService:
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

    @batchable
    def give(self, request: GiveKudos, settings: WorkspaceSettings) -> KudosGiven:
        """Stores one kudos per receiver with its `give` and `receive` statements, atomically.

        Raises `QuotaExceeded` (storing nothing) when the giver has fewer kudos left today
        than receivers (the workspace's `settings` say how many a day). The quota check and
        the insert share one transaction, serialised per giver, so concurrent requests can
        never overspend it.
        """
        now = self._clock()
        giver = request.giver
        day_start, day_end = local_day(now, giver.tz)
        kudos_ids = [
            derived_id(request.team_id, "kudos", request.source_key, r.user_id)
            for r in request.receivers
        ]
        with self._database.transaction() as session:
            kudos_repo.lock_giver(session, request.team_id, giver.user_id)
            used = kudos_repo.count_given(
                session, request.team_id, giver.user_id, day_start, day_end
            )
            quota = Quota(settings.kudos_limit(giver.user_id), used, day_end)
            if kudos_repo.existing(session, kudos_ids) or self._reacted_already(session, request):
                # A redelivered request: it was counted the first time.
                return KudosGiven(tuple(kudos_ids), False, quota)
            if used + len(request.receivers) > quota.limit:
                raise QuotaExceeded(quota, len(request.receivers))
            skills = self._skills.skills_named(session, request.team_id, request.values)
            for kudos_id, receiver in zip(kudos_ids, request.receivers, strict=True):
                self._record(
                    session,
                    request,
                    kudos_id,
                    receiver,
                    skills,
                    now,
                    occurred(now, request.given_at),
                )
            left = Quota(quota.limit, used + len(kudos_ids), day_end)
            # Done right after the ack by this process: owed already claimed.
            effects = owe_claimed(session, [self._recognition(request, kudos_ids, left)], now)
        return KudosGiven(tuple(kudos_ids), True, left, tuple(effects))

    @staticmethod
    def _recognition(request: GiveKudos, kudos_ids: Sequence[str], left: Quota) -> Effect:
        announce = request.announce or Announce(request.channel_id)
        payload: dict[str, object] = {"kudos": list(kudos_ids), "channel": announce.channel_id}
        if announce.thread_ts:
            payload["thread_ts"] = announce.thread_ts
        if announce.response_url:
            payload["response_url"] = announce.response_url
        if announce.confirm:
            payload["confirm"] = {"source_key": request.source_key, "left": left.left}
        return Effect(
            RECOGNITION,
            f"{RECOGNITION}:{request.team_id}:{request.source_key}",
            request.team_id,
            payload,
        )

    @batchable
    def recognition(self, kudos_ids: Sequence[str]) -> Recognition | None:
        """The recognition to post for these kudos; None when none still stands (undone,
        removed or erased before it was posted)."""
        with self._database.reading() as session:
            standing_kudos = kudos_repo.standing(session, kudos_ids)
        if not standing_kudos:
            return None
        first = standing_kudos[0]
        return Recognition(
            tuple(k.id for k in standing_kudos),
            first.giver_id,
            tuple(k.receiver_id for k in standing_kudos),
            first.reason,
            first.tags,
        )

    def owe_reaction(
        self,
        team_id: str,
        channel_id: str,
        message_ts: str,
        reactor_id: str,
        author_id: str,
        event_id: str,
        event_ts: str | None = None,
    ) -> list[str]:
        """Before the ack of a kudos reaction: owes reading its message and giving the kudos,
        so an acknowledged reaction is never lost with the process. `event_ts`: when Slack
        says the reaction was added, the time of the kudos."""
        payload = {
            "channel": channel_id,
            "ts": message_ts,
            "reactor": reactor_id,
            "author": author_id,
            "event_id": event_id,
        }
        if event_ts:
            payload["event_ts"] = event_ts
        effect = Effect(REACTION, f"{REACTION}:{team_id}:{event_id}", team_id, payload)
        with self._database.transaction() as session:
            return owe(session, [effect], self._clock())

    @staticmethod
    def _answer_statement(session: Session, request: GiveKudos) -> str | None:
        """Kudos for an answer link to the answer's `answered` statement."""
        if request.message_ts is None:
            return None
        answer = questions_repo.answer_by_message(
            session, request.team_id, request.channel_id, request.message_ts
        )
        return answer.answered_statement_id if answer and answer.deleted_at is None else None

    @staticmethod
    def _reacted_already(session: Session, request: GiveKudos) -> bool:
        """One person's reactions count once per message (skin-tone variants are one emoji)."""
        if request.source != "reaction" or request.message_ts is None:
            return False
        return bool(
            kudos_repo.standing_for_message(
                session,
                request.team_id,
                request.channel_id,
                request.message_ts,
                request.giver.user_id,
                "reaction",
            )
        )

    def _record(
        self,
        session: Session,
        request: GiveKudos,
        kudos_id: str,
        receiver: Profile,
        skills: Sequence[str],
        now: datetime,
        given_at: datetime,
    ) -> None:
        give, receive = self._statements.for_team(request.team_id).kudos_given(
            KudosFacts(
                kudos_id=kudos_id,
                giver=request.giver.learner,
                receiver=receiver.learner,
                reason=request.reason,
                values=request.values,
                skills=skills,
                channel_id=request.channel_id,
                permalink=request.permalink,
                timestamp=given_at,
                message_ts=request.message_ts,
                for_statement=self._answer_statement(session, request),
                channel_name=channels_repo.name_of(session, request.team_id, request.channel_id),
            )
        )
        kudos_repo.add(
            session,
            id=kudos_id,
            team_id=request.team_id,
            giver_id=request.giver.user_id,
            receiver_id=receiver.user_id,
            reason=request.reason,
            tags=list(request.values),
            channel_id=request.channel_id,
            source=request.source,
            source_key=request.source_key,
            message_ts=request.message_ts,
            permalink=request.permalink,
            give_statement_id=give.id,
            receive_statement_id=receive.id,
            created_at=now,
        )
        outbox_repo.add(session, queued(request.team_id, (give, receive)), now)
        # Values that name a skill are evidence for the receiver in /expert.
        skills_repo.add_kudos_skills(
            session, request.team_id, kudos_id, receiver.user_id, skills, now
        )
        standing.add_kudos(session, request.team_id, [(s, receiver.user_id) for s in skills], now)

    def quota(self, team_id: str, giver: Profile, settings: WorkspaceSettings) -> Quota:
        """What the giver may still give today, in their own time zone."""
        day_start, day_end = local_day(self._clock(), giver.tz)
        with self._database.reading() as session:
            used = kudos_repo.count_given(session, team_id, giver.user_id, day_start, day_end)
        return Quota(settings.kudos_limit(giver.user_id), used, day_end)

    def undo(
        self, team_id: str, source_key: str, requester: Profile, at: datetime | None = None
    ) -> Revoked:
        """The giver takes back what one request gave, within `UNDO_WINDOW`.

        The kudos are marked revoked (their quota comes back) and their `give` and `receive`
        statements are voided, in one transaction. Raises `UndoRefused` otherwise.
        """
        now = self._clock()
        with self._database.transaction() as session:
            given = kudos_repo.from_source(session, team_id, source_key)
            if not given or given[0].giver_id != requester.user_id:
                raise UndoRefused("Only the person who gave these kudos can undo them.")
            standing = [k for k in given if k.revoked_at is None]
            if not standing:
                raise UndoRefused("Those kudos were already undone.")
            if now - given[0].created_at > UNDO_WINDOW:
                minutes = int(UNDO_WINDOW.total_seconds() // 60)
                raise UndoRefused(
                    f"Kudos can be undone for {minutes} minutes after giving them, so these stand. "
                    "If they must go, ask an L&D admin."
                )
            kudos_repo.mark_revoked(session, [k.id for k in standing], now)
            cause = f"undo:{source_key}"
            self._void(session, team_id, standing, cause, now, occurred(now, at))
            effects = owe(session, _unpost(team_id, standing, cause), now)
        return Revoked.of(standing, effects)

    def withdraw_reaction(
        self,
        team_id: str,
        channel_id: str,
        message_ts: str,
        remover: Profile,
        event_id: str,
        at: datetime | None = None,
    ) -> Revoked | None:
        """The reactor removed their kudos reaction: revoke what it gave and void its statements.

        None when there is nothing standing. The event id is claimed in the same transaction, so
        a redelivered removal can never revoke kudos given by a later reaction.
        """
        now = self._clock()
        with self._database.transaction() as session:
            if not events_repo.claim_event(session, team_id, event_id, now):
                return None
            standing = kudos_repo.standing_for_message(
                session, team_id, channel_id, message_ts, remover.user_id, "reaction"
            )
            if not standing:
                return None
            kudos_repo.mark_revoked(session, [k.id for k in standing], now)
            cause = f"reaction:{event_id}"
            self._void(session, team_id, standing, cause, now, occurred(now, at))
            effects = owe(session, _unpost(team_id, standing, cause), now)
        return Revoked.of(standing, effects)

    def remove(
        self,
        team_id: str,
        channel_id: str,
        post_ts: str,
        admin: Profile,
        settings: WorkspaceSettings,
        at: datetime | None = None,
    ) -> Revoked:
        """An L&D admin removes the kudos a recognition post announced; raises `KudosRefused`."""
        settings.lnd_admins.check(
            admin.user_id, "Only L&D admins can remove kudos. If these shouldn't stand, ask {who}."
        )
        now = self._clock()
        with self._database.transaction() as session:
            announced = kudos_repo.from_post(session, team_id, channel_id, post_ts)
            if not announced:
                raise KudosRefused(
                    "That message isn't a kudos recognition I posted, so there is nothing to remove."
                )
            standing = [k for k in announced if k.revoked_at is None]
            if not standing:
                raise KudosRefused("Those kudos were already taken back.")
            kudos_repo.mark_revoked(session, [k.id for k in standing], now)
            cause = f"removed:{post_ts}"
            self._void(session, team_id, standing, cause, now, occurred(now, at))
            notice = Effect(
                REMOVED_NOTICE,
                f"{REMOVED_NOTICE}:{team_id}:{cause}",
                team_id,
                {"kudos": [k.id for k in standing], "admin": admin.user_id},
            )
            effects = owe(session, [*_unpost(team_id, standing, cause), notice], now)
        return Revoked.of(standing, effects)

    def _void(
        self,
        session: Session,
        team_id: str,
        kudos: Sequence[Kudos],
        cause: str,
        now: datetime,
        at: datetime,
    ) -> None:
        """Voids the kudos' statements, `at` the time they were taken back."""
        voids = [
            self._statements.for_team(team_id).voiding(statement_id, at, cause)
            for k in kudos
            for statement_id in (k.give_statement_id, k.receive_statement_id)
        ]
        outbox_repo.add(session, queued(team_id, voids), now)
        # Revoked kudos no longer count as skill evidence.
        pairs = skills_repo.kudos_skill_pairs(session, [k.id for k in kudos])
        standing.refresh(session, team_id, pairs, now)

    def leaderboard(self, team_id: str, period: str, viewer_tz: str) -> Leaderboard:
        since = period_start(period, self._clock(), viewer_tz)
        with self._database.reading() as session:
            ranked = {
                by: tuple(
                    Standing(user_id, count)
                    for user_id, count, _ in kudos_repo.leaders(
                        session, team_id, since, by, LEADERBOARD_SIZE
                    )
                )
                for by in ("receiver", "giver")
            }
        return Leaderboard(period, ranked["receiver"], ranked["giver"])

    @batchable
    def record_post(
        self, team_id: str, kudos_ids: Sequence[str], channel_id: str, post_ts: str
    ) -> list[str]:
        """Remembers where the recognition was posted (undo and removal need it). When the
        kudos were taken back (or erased) while it was being posted, the post must go too:
        that is owed, claimed by this process; returns its key."""
        with self._database.transaction() as session:
            kudos_repo.set_post(session, kudos_ids, post_ts)
            if kudos_repo.any_standing(session, kudos_ids):
                return []
            payload = {"channel": channel_id, "ts": post_ts}
            late = Effect(UNPOST, f"{UNPOST}:{team_id}:late:{post_ts}", team_id, payload)
            return owe_claimed(session, [late], self._clock())

    def removed(self, kudos_ids: Sequence[str]) -> Revoked | None:
        """What the giver is told of kudos an admin removed (None once erased)."""
        with self._database.reading() as session:
            kudos = kudos_repo.by_ids(session, kudos_ids)
        return Revoked.of(kudos) if kudos else None
