"""Expert scores: how evidence for a skill adds up, kept current as evidence changes.

Points per piece of evidence (README, "How /expert ranks"): the declared level (learning 1,
practitioner 2, expert 3), each endorsement 1, each kudos naming the skill 1, each accepted
answer to a question tagged with it 2, each lunch-and-learn presented on it 3, each day of
contributing to a community with the skill 0.25. All but the
declaration are weighted by age: up to 90 days old × 1, up to a year × 0.5, older × 0.25. A
declaration is current by nature and never decays.

Every change of evidence rescores the (skill, person) pairs it touches in the same
transaction, so `/expert` only reads the top rows. Time alone also changes scores; each row
says when (`rescore_at`), and ranking rescores due rows first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session

from storage.models import SkillStanding
from storage.repositories import skills as skills_repo

LEVEL_POINTS = {"learning": 1.0, "practitioner": 2.0, "expert": 3.0}
ENDORSEMENT_POINTS = 1.0
KUDOS_POINTS = 1.0
ANSWER_POINTS = 2.0
SESSION_POINTS = 3.0
CONTRIBUTION_POINTS = 0.25
"""Per day of contributing to a community with the skill: light evidence, below the rest."""
RECENT = timedelta(days=90)
YEAR = timedelta(days=365)
JUST_PAST = timedelta(microseconds=1)
"""A rescore is due just past a band's boundary, so it sees the piece in its new band."""


RECENT_WEIGHT = 1.0
THIS_YEAR_WEIGHT = 0.5
OLDER_WEIGHT = 0.25


def bands(now: datetime) -> skills_repo.Bands:
    """The age bands as of `now`: a piece exactly on a boundary counts in the newer band."""
    return skills_repo.Bands(now - RECENT, now - YEAR)


def _points(weight: float, dated: skills_repo.Dated) -> float:
    return weight * (
        dated.recent * RECENT_WEIGHT
        + dated.this_year * THIS_YEAR_WEIGHT
        + dated.older * OLDER_WEIGHT
    )


def score(
    team_id: str, slug: str, user_id: str, evidence: skills_repo.Evidence
) -> SkillStanding | None:
    """The standing this evidence (counted in `bands(now)`) earns, or None when there is
    none."""
    weighted = (
        (ENDORSEMENT_POINTS, evidence.endorsed),
        (KUDOS_POINTS, evidence.kudos),
        (ANSWER_POINTS, evidence.answers),
        (SESSION_POINTS, evidence.sessions),
        (CONTRIBUTION_POINTS, evidence.contributed),
    )
    pieces = sum(dated.count for _, dated in weighted)
    if evidence.level is None and not pieces:
        return None
    points = LEVEL_POINTS.get(evidence.level or "", 0.0)
    points += sum(_points(weight, dated) for weight, dated in weighted)
    # When the earliest piece of a band drops to the next one.
    changes = [d.first_recent + RECENT for _, d in weighted if d.first_recent is not None]
    changes += [d.first_this_year + YEAR for _, d in weighted if d.first_this_year is not None]
    return SkillStanding(
        team_id=team_id,
        slug=slug,
        user_id=user_id,
        score=round(points, 6),
        pieces=pieces + (evidence.level is not None),
        level=evidence.level,
        endorsements=evidence.endorsed.count,
        kudos=evidence.kudos.count,
        answers=evidence.answers.count,
        sessions=evidence.sessions.count,
        contributions=evidence.contributed.count,
        rescore_at=min(changes) + JUST_PAST if changes else None,
    )


def refresh(
    session: Session, team_id: str, pairs: Iterable[tuple[str, str]], now: datetime
) -> None:
    """Rescores each (skill, person) pair from its evidence; people who opted out have none."""
    wanted = sorted(set(pairs))
    skills_repo.lock_standings(session, team_id, wanted)
    _rescore(session, team_id, wanted, now)


def add_kudos(
    session: Session, team_id: str, pairs: Iterable[tuple[str, str]], now: datetime
) -> None:
    """A kudos given `now` names these (skill, receiver) pairs. A standing is exact until its
    `rescore_at`, so one still current takes the new kudos as it is (a kudos more, fully
    weighted) without reading the receiver's evidence again, which only grows; the others are
    rescored from their evidence. The kudos' link to each skill is stored already."""
    wanted = sorted(set(pairs))
    skills_repo.lock_standings(session, team_id, wanted)
    stale = []
    for slug, user_id in wanted:
        current = skills_repo.standing(session, team_id, slug, user_id)
        if current is None or (current.rescore_at is not None and current.rescore_at <= now):
            stale.append((slug, user_id))
            continue
        leaves_recent = now + RECENT + JUST_PAST
        current.score = round(current.score + KUDOS_POINTS * RECENT_WEIGHT, 6)
        current.pieces += 1
        current.kudos += 1
        current.rescore_at = min(current.rescore_at or leaves_recent, leaves_recent)
        skills_repo.save_standing(session, current)
    _rescore(session, team_id, stale, now)


def _rescore(session: Session, team_id: str, wanted: list[tuple[str, str]], now: datetime) -> None:
    if not wanted:
        return
    by_skill: dict[str, list[str]] = {}
    for slug, user_id in wanted:
        by_skill.setdefault(slug, []).append(user_id)
    left_out = skills_repo.opted_out_among(session, team_id, [u for _, u in wanted])
    for slug, user_ids in by_skill.items():
        found = skills_repo.evidence(session, team_id, slug, user_ids, bands(now))
        for user_id in user_ids:
            standing = None
            if user_id not in left_out:
                standing = score(team_id, slug, user_id, found[user_id])
            if standing is None:
                skills_repo.delete_standing(session, team_id, slug, user_id)
            else:
                skills_repo.save_standing(session, standing)


def refresh_person(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    """Rescores every skill the person has any evidence for (e.g. on coming back after
    `/skills forget me`)."""
    slugs = skills_repo.skills_with_evidence(session, team_id, user_id)
    refresh(session, team_id, ((slug, user_id) for slug in slugs), now)
