"""Expert standings (bot/domain/standing.py): how evidence adds up, and how every change of
evidence, and time alone, keeps the `skill_standing` rows `/expert` reads current. On SQLite and
PostgreSQL, through the services the bot runs (built as bot/runtime.py builds them).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.domain import standing
from bot.domain.erasure import forget_person
from bot.domain.experts import ExpertFinder, Ranked
from bot.domain.kudos import GiveKudos, KudosService
from bot.domain.people import Profile
from bot.domain.skill_names import SkillNamesByTeam
from bot.domain.skills import SkillsRefused, SkillsService
from bot.domain.workspace import LndAdmins, WorkspaceSettings
from bot.xapi.statements import StatementBuilders, XapiIdentity
from storage.database import Database
from storage.models import Endorsement, Kudos, Person, PersonSkill, SkillStanding
from storage.repositories import kudos as kudos_repo
from storage.repositories import people as people_repo
from storage.repositories import skills as skills_repo
from tests.support.clock import SettableClock

TEAM = "T0ACME"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# Givers here are never short of kudos.
GENEROUS = WorkspaceSettings(
    qa_channel=None,
    digest_channel=None,
    digest_cron="0 9 * * 1",
    lnd_admins=LndAdmins(),
    kudos_emoji="trophy",
    kudos_managers=frozenset(),
    kudos_daily_limit=100,
    kudos_manager_daily_limit=100,
    lunchlearn_reminders=(),
    lunchlearn_checkin_code=False,
)
RECENT = timedelta(days=90)
YEAR = timedelta(days=365)
MICROSECOND = timedelta(microseconds=1)

ANN = Profile("U0ANN", "Ann", "ann@example.com")
BOB = Profile("U0BOB", "Bob", "bob@example.com")
CAT = Profile("U0CAT", "Cat")
DAN = Profile("U0DAN", "Dan")
EVE = Profile("U0EVE", "Eve")


# Helpers ---------------------------------------------------------------------------------------


def statement_builders() -> StatementBuilders:
    return StatementBuilders(
        XapiIdentity(
            team_id=TEAM,
            home_page="https://acme.slack.com/",
            activity_base="https://guild.example.com/xapi",
        )
    )


@dataclass
class Guild:
    """The services behind `/skills`, `/kudos` and `/expert`, on one database and clock."""

    database: Database
    clock: SettableClock
    statements: StatementBuilders
    skills: SkillsService
    kudos: KudosService
    experts: ExpertFinder
    _keys: itertools.count[int]

    def give(self, giver: Profile, receiver: Profile, *values: str) -> str:
        """One `/kudos` naming `values`; returns its source key (for undo)."""
        key = f"trigger-{next(self._keys)}"
        given = self.kudos.give(
            GiveKudos(
                team_id=TEAM,
                giver=giver,
                receivers=(receiver,),
                reason="for the clear incident write-up",
                values=values,
                channel_id="C0GENERAL",
                source="command",
                source_key=key,
            ),
            GENEROUS,
        )
        assert given.newly_recorded
        return key

    def declare(self, person: Profile, *wanted: tuple[str, str]) -> None:
        self.skills.declare(TEAM, person, list(wanted), "test")

    def endorse(self, endorser: Profile, person: Profile, slug: str) -> None:
        assert self.skills.endorse(TEAM, endorser, person, slug, "test")

    def rank(self, slug: str) -> list[Ranked]:
        return self.experts.rank(TEAM, slug)


def guild(database: Database, now: datetime = T0) -> Guild:
    clock = SettableClock(now)
    statements = statement_builders()
    names = SkillNamesByTeam()
    skills = SkillsService(database, statements, clock, names)
    return Guild(
        database=database,
        clock=clock,
        statements=statements,
        skills=skills,
        kudos=KudosService(database, statements, clock, skills),
        experts=ExpertFinder(database, statements, clock, names, skills.catalogue),
        _keys=itertools.count(1),
    )


def standings(database: Database) -> dict[tuple[str, str], SkillStanding]:
    """Every stored standing of the team, by (skill, person)."""
    with database.reading() as session:
        rows = session.exec(select(SkillStanding).where(SkillStanding.team_id == TEAM))
        return {(r.slug, r.user_id): r for r in rows}


def scores(database: Database) -> dict[tuple[str, str], float]:
    return {pair: row.score for pair, row in standings(database).items()}


def declared(session: Session, user_id: str, slug: str, level: str, when: datetime = NOW) -> None:
    skills_repo.save_declaration(
        session,
        PersonSkill(
            team_id=TEAM, user_id=user_id, slug=slug, level=level, declared_at=when, updated_at=when
        ),
    )


def endorsed(session: Session, endorser: str, user_id: str, slug: str, when: datetime) -> None:
    skills_repo.add_endorsement(
        session,
        Endorsement(
            team_id=TEAM,
            endorser_id=endorser,
            user_id=user_id,
            slug=slug,
            statement_id=f"st-{endorser}-{user_id}-{slug}",
            created_at=when,
        ),
    )


def kudos_for(
    session: Session, kudos_id: str, receiver: str, slug: str, when: datetime, giver: str = "U0G"
) -> None:
    """A kudos row and its skill link, stored the way `KudosService` stores them."""
    session.add(
        Kudos(
            id=kudos_id,
            team_id=TEAM,
            giver_id=giver,
            receiver_id=receiver,
            reason="for the clear incident write-up",
            tags=[slug],
            channel_id="C0GENERAL",
            source="command",
            source_key=f"trigger-{kudos_id}",
            give_statement_id=f"give-{kudos_id}",
            receive_statement_id=f"receive-{kudos_id}",
            created_at=when,
        )
    )
    session.flush()
    skills_repo.add_kudos_skills(session, TEAM, kudos_id, receiver, [slug], when)


def cached(person: Profile) -> Person:
    return Person(
        team_id=TEAM,
        user_id=person.user_id,
        full_name=person.name,
        email=person.email,
        refreshed_at=T0,
    )


def refresh(database: Database, pairs: list[tuple[str, str]], now: datetime = NOW) -> None:
    with database.transaction() as session:
        standing.refresh(session, TEAM, pairs, now)


# Scoring, without a database --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "weight"),
    [
        (timedelta(0), 1.0),
        (RECENT - MICROSECOND, 1.0),
        (RECENT, 1.0),
        (RECENT + MICROSECOND, 0.5),
        (YEAR, 0.5),
        (YEAR + MICROSECOND, 0.25),
        (timedelta(days=3000), 0.25),
    ],
)
def test_age_bands_count_their_boundary_in_the_newer_band(age: timedelta, weight: float) -> None:
    one_kudos = skills_repo.Dated.of([NOW - age], standing.bands(NOW))

    scored = standing.score(TEAM, "python", "U0ANN", skills_repo.Evidence(None, kudos=one_kudos))

    assert scored is not None
    assert scored.score == weight * standing.KUDOS_POINTS


def test_a_standing_is_rescored_when_the_earliest_piece_of_a_band_leaves_it() -> None:
    now_bands = standing.bands(NOW)
    evidence = skills_repo.Evidence(
        None,
        endorsed=skills_repo.Dated.of(
            [NOW - timedelta(days=80), NOW - YEAR + timedelta(days=20)], now_bands
        ),
        kudos=skills_repo.Dated.of(
            [NOW - timedelta(days=10), NOW - timedelta(days=100)], now_bands
        ),
    )

    scored = standing.score(TEAM, "python", "U0ANN", evidence)

    assert scored is not None
    # The endorsement 80 days old turns 90 first; the other is a year old 20 days from now.
    assert scored.rescore_at == NOW + timedelta(days=10) + MICROSECOND
    assert (scored.endorsements, scored.kudos, scored.pieces) == (2, 2, 4)
    assert scored.score == 1 + 0.5 + 1 + 0.5


def test_no_evidence_is_no_standing() -> None:
    nothing = skills_repo.Evidence(None)

    assert standing.score(TEAM, "python", "U0ANN", nothing) is None


# Scores ------------------------------------------------------------------------------------------


def test_evidence_counts_fully_when_recent_half_within_a_year_and_a_quarter_when_older(
    database: Database,
) -> None:
    ages = {
        "NOW": timedelta(0),
        "D89": timedelta(days=89),
        "D90": RECENT,  # exactly at the `recent` cut-off: still recent
        "D90P": RECENT + MICROSECOND,
        "D91": timedelta(days=91),
        "D365": YEAR,  # exactly at the `year` cut-off: still within the year
        "D365P": YEAR + MICROSECOND,
        "D366": timedelta(days=366),
        "D3000": timedelta(days=3000),
    }
    with database.transaction() as session:
        for name, age in ages.items():
            endorsed(session, "U0GIVER", f"U0E{name}", "python", NOW - age)
            kudos_for(session, f"k-{name}", f"U0K{name}", "python", NOW - age)
        # A declaration is current by nature, however old.
        declared(session, "U0OLDEXPERT", "python", "expert", when=NOW - timedelta(days=3000))
        # Mixed ages add up: 1 + 0.5 + 0.25 (endorsements) + 1 + 0.25 (kudos) + 1 (learning).
        declared(session, "U0MIX", "python", "learning")
        endorsed(session, "U0A", "U0MIX", "python", NOW - timedelta(days=1))
        endorsed(session, "U0B", "U0MIX", "python", NOW - timedelta(days=100))
        endorsed(session, "U0C", "U0MIX", "python", NOW - timedelta(days=1000))
        kudos_for(session, "k-mix-1", "U0MIX", "python", NOW - timedelta(days=2))
        kudos_for(session, "k-mix-2", "U0MIX", "python", NOW - timedelta(days=500))
    people = [f"U0{kind}{name}" for kind in "EK" for name in ages] + ["U0OLDEXPERT", "U0MIX"]
    refresh(database, [("python", user) for user in people])

    weights = {"NOW": 1.0, "D89": 1.0, "D90": 1.0, "D90P": 0.5, "D91": 0.5, "D365": 0.5}
    weights |= {"D365P": 0.25, "D366": 0.25, "D3000": 0.25}
    expected = {("python", f"U0E{name}"): w for name, w in weights.items()}
    expected |= {("python", f"U0K{name}"): w for name, w in weights.items()}
    expected |= {("python", "U0OLDEXPERT"): 3.0, ("python", "U0MIX"): 4.0}
    assert scores(database) == expected
    mix = standings(database)[("python", "U0MIX")]
    assert (mix.pieces, mix.level, mix.endorsements, mix.kudos) == (6, "learning", 3, 2)
    expert = standings(database)[("python", "U0OLDEXPERT")]
    assert (expert.pieces, expert.level, expert.endorsements, expert.kudos) == (1, "expert", 0, 0)
    kudos_only = standings(database)[("python", "U0KNOW")]
    assert (kudos_only.pieces, kudos_only.level, kudos_only.kudos) == (1, None, 1)


@pytest.mark.parametrize(("level", "points"), [("learning", 1), ("practitioner", 2), ("expert", 3)])
def test_each_level_is_worth_its_points(database: Database, level: str, points: int) -> None:
    with database.transaction() as session:
        declared(session, "U0ANN", "python", level)
    refresh(database, [("python", "U0ANN")])

    row = standings(database)[("python", "U0ANN")]

    assert (row.score, row.pieces, row.level, row.rescore_at) == (points, 1, level, None)


def test_evidence_for_another_skill_or_workspace_does_not_count(database: Database) -> None:
    with database.transaction() as session:
        declared(session, "U0ANN", "python", "practitioner")
        endorsed(session, "U0BOB", "U0ANN", "react", NOW)
        kudos_for(session, "k-react", "U0ANN", "react", NOW)
        kudos_for(session, "k-given", "U0BOB", "python", NOW, giver="U0ANN")
        skills_repo.add_endorsement(
            session,
            Endorsement(
                team_id="T0OTHER",
                endorser_id="U0BOB",
                user_id="U0ANN",
                slug="python",
                statement_id="st-other",
                created_at=NOW,
            ),
        )
    refresh(database, [("python", "U0ANN"), ("react", "U0ANN"), ("python", "U0BOB")])

    assert scores(database) == {
        ("python", "U0ANN"): 2.0,
        ("react", "U0ANN"): 2.0,
        ("python", "U0BOB"): 1.0,
    }


def test_a_pair_with_no_evidence_left_loses_its_standing(database: Database) -> None:
    with database.transaction() as session:
        kudos_for(session, "k1", "U0ANN", "python", NOW)
    refresh(database, [("python", "U0ANN")])
    assert scores(database) == {("python", "U0ANN"): 1.0}

    with database.transaction() as session:
        skills_repo.delete_kudos_skills(session, ["k1"])
    refresh(database, [("python", "U0ANN"), ("python", "U0NOBODY")])

    assert standings(database) == {}


# Revoked kudos ---------------------------------------------------------------------------------


def test_revoked_kudos_do_not_count(database: Database) -> None:
    with database.transaction() as session:
        declared(session, "U0ANN", "python", "practitioner")
        kudos_for(session, "k1", "U0ANN", "python", NOW)
        kudos_for(session, "k2", "U0ANN", "python", NOW)
        kudos_for(session, "k3", "U0BOB", "python", NOW)
    refresh(database, [("python", "U0ANN"), ("python", "U0BOB")])
    assert scores(database) == {("python", "U0ANN"): 4.0, ("python", "U0BOB"): 1.0}

    later = NOW + timedelta(minutes=5)
    with database.transaction() as session:
        kudos_repo.mark_revoked(session, ["k1", "k3"], later)
        pairs = skills_repo.kudos_skill_pairs(session, ["k1", "k3"])
        standing.refresh(session, TEAM, pairs, later)

    assert scores(database) == {("python", "U0ANN"): 3.0}
    assert standings(database)[("python", "U0ANN")].kudos == 1


def test_kudos_undone_through_the_service_stop_counting_at_once(database: Database) -> None:
    app = guild(database)
    app.declare(BOB, ("python", "practitioner"))
    app.give(ANN, BOB, "python")
    undone = app.give(CAT, BOB, "python", "sql")
    app.give(DAN, EVE, "sql")
    assert scores(database) == {
        ("python", "U0BOB"): 4.0,
        ("sql", "U0BOB"): 1.0,
        ("sql", "U0EVE"): 1.0,
    }

    app.clock.now += timedelta(minutes=2)
    app.kudos.undo(TEAM, undone, CAT)

    assert scores(database) == {("python", "U0BOB"): 3.0, ("sql", "U0EVE"): 1.0}
    assert [(r.user_id, r.score, r.kudos) for r in app.rank("python")] == [("U0BOB", 3.0, 1)]
    assert [r.user_id for r in app.rank("sql")] == ["U0EVE"]


# When a standing next changes by time alone ----------------------------------------------------


def test_rescore_at_is_just_past_the_first_moment_a_piece_drops_a_band(
    database: Database,
) -> None:
    with database.transaction() as session:
        declared(session, "U0ANN", "python", "expert")
        endorsed(session, "U0B", "U0ANN", "python", NOW - timedelta(days=100))  # → 0.25 in 265 d
        kudos_for(session, "k1", "U0ANN", "python", NOW - timedelta(days=10))  # → 0.5 in 80 d
        kudos_for(session, "k2", "U0ANN", "python", NOW - timedelta(days=400))  # never again
        # Exactly at a boundary now: it counts in the higher band until just after it.
        kudos_for(session, "k3", "U0BOB", "python", NOW - RECENT)
        endorsed(session, "U0C", "U0CAT", "python", NOW - YEAR)
        # Every piece older than a year: nothing left to change.
        declared(session, "U0DAN", "python", "learning")
        endorsed(session, "U0D", "U0DAN", "python", NOW - timedelta(days=366))
        kudos_for(session, "k4", "U0DAN", "python", NOW - timedelta(days=1000))
        # Only a declaration: never changes by time.
        declared(session, "U0EVE", "python", "practitioner")
    refresh(database, [("python", u) for u in ("U0ANN", "U0BOB", "U0CAT", "U0DAN", "U0EVE")])

    rows = standings(database)
    assert rows[("python", "U0ANN")].score == 3.0 + 0.5 + 1.0 + 0.25
    assert rows[("python", "U0ANN")].rescore_at == NOW + timedelta(days=80) + MICROSECOND
    assert (rows[("python", "U0BOB")].score, rows[("python", "U0BOB")].rescore_at) == (
        1.0,
        NOW + MICROSECOND,
    )
    assert (rows[("python", "U0CAT")].score, rows[("python", "U0CAT")].rescore_at) == (
        0.5,
        NOW + MICROSECOND,
    )
    assert (rows[("python", "U0DAN")].score, rows[("python", "U0DAN")].rescore_at) == (1.5, None)
    assert (rows[("python", "U0EVE")].score, rows[("python", "U0EVE")].rescore_at) == (2.0, None)


def test_ranking_rescores_rows_whose_evidence_aged_past_90_days_then_past_a_year(
    database: Database,
) -> None:
    app = guild(database)
    app.declare(ANN, ("python", "practitioner"))
    app.endorse(DAN, ANN, "python")
    app.give(CAT, BOB, "python")
    app.give(DAN, BOB, "python")
    assert app.rank("python") == [
        Ranked("U0ANN", 3.0, "practitioner", endorsements=1, kudos=0),
        Ranked("U0BOB", 2.0, None, endorsements=0, kudos=2),
    ]
    assert standings(database)[("python", "U0BOB")].rescore_at == T0 + RECENT + MICROSECOND

    # Exactly 90 days on, the evidence is still recent.
    app.clock.now = T0 + RECENT
    assert [(r.user_id, r.score) for r in app.rank("python")] == [("U0ANN", 3.0), ("U0BOB", 2.0)]

    # Just past it every piece counts half: Bob 2 × 0.5, Ann 2 + 0.5.
    app.clock.now = T0 + RECENT + timedelta(seconds=1)
    assert app.rank("python") == [
        Ranked("U0ANN", 2.5, "practitioner", endorsements=1, kudos=0),
        Ranked("U0BOB", 1.0, None, endorsements=0, kudos=2),
    ]
    rows = standings(database)
    # The rescore was stored, with the next boundary.
    assert rows[("python", "U0BOB")].score == 1.0
    assert rows[("python", "U0BOB")].rescore_at == T0 + YEAR + MICROSECOND
    assert rows[("python", "U0ANN")].rescore_at == T0 + YEAR + MICROSECOND

    app.clock.now = T0 + YEAR
    assert [(r.user_id, r.score) for r in app.rank("python")] == [("U0ANN", 2.5), ("U0BOB", 1.0)]

    # Past a year: a quarter each, and nothing left to change by time.
    app.clock.now = T0 + YEAR + timedelta(seconds=1)
    assert [(r.user_id, r.score) for r in app.rank("python")] == [("U0ANN", 2.25), ("U0BOB", 0.5)]
    assert {pair: row.rescore_at for pair, row in standings(database).items()} == {
        ("python", "U0ANN"): None,
        ("python", "U0BOB"): None,
    }
    app.clock.now = T0 + timedelta(days=3000)
    assert [(r.user_id, r.score) for r in app.rank("python")] == [("U0ANN", 2.25), ("U0BOB", 0.5)]


def test_ranking_rescores_only_the_skill_searched(database: Database) -> None:
    app = guild(database)
    app.give(CAT, BOB, "python", "sql")

    app.clock.now = T0 + timedelta(days=100)
    assert [(r.user_id, r.score) for r in app.rank("python")] == [("U0BOB", 0.5)]

    # Not searched yet: still as last scored, due.
    sql = standings(database)[("sql", "U0BOB")]
    assert (sql.score, sql.rescore_at) == (1.0, T0 + RECENT + MICROSECOND)
    assert [(r.user_id, r.score) for r in app.rank("sql")] == [("U0BOB", 0.5)]


# Every change of evidence rescores ---------------------------------------------------------------


def test_declaring_endorsing_withdrawing_and_removing_rescore_at_once(database: Database) -> None:
    app = guild(database)

    def bob() -> float | None:
        row = standings(database).get(("python", "U0BOB"))
        return None if row is None else row.score

    app.declare(BOB, ("python", "learning"))
    assert bob() == 1.0
    app.declare(BOB, ("python", "expert"))
    assert bob() == 3.0
    app.endorse(ANN, BOB, "python")
    app.endorse(CAT, BOB, "python")
    assert bob() == 5.0
    assert app.skills.withdraw(TEAM, ANN, "U0BOB", "python", "test")
    assert bob() == 4.0
    app.skills.remove(TEAM, BOB, ["python"], "test")
    # Cat's endorsement still stands.
    assert bob() == 1.0
    assert standings(database)[("python", "U0BOB")].level is None
    assert app.skills.withdraw(TEAM, CAT, "U0BOB", "python", "test")
    assert bob() is None


# Opting out and coming back --------------------------------------------------------------------


def test_people_who_opted_out_have_no_standing_until_they_declare_again(
    database: Database,
) -> None:
    app = guild(database)
    app.declare(BOB, ("python", "practitioner"))
    app.endorse(CAT, BOB, "python")
    app.give(ANN, BOB, "sql")
    app.declare(DAN, ("sql", "learning"))
    assert scores(database) == {
        ("python", "U0BOB"): 3.0,
        ("sql", "U0BOB"): 1.0,
        ("sql", "U0DAN"): 1.0,
    }

    forgotten = app.skills.forget(TEAM, BOB)

    assert (forgotten.skills, forgotten.endorsements) == (1, 1)
    assert scores(database) == {("sql", "U0DAN"): 1.0}
    assert app.rank("python") == []
    assert [r.user_id for r in app.rank("sql")] == ["U0DAN"]

    # Kudos still reach them, but count for nothing while they are out; nor can they be
    # endorsed.
    app.give(CAT, BOB, "sql")
    assert ("sql", "U0BOB") not in standings(database)
    with pytest.raises(SkillsRefused):
        app.skills.endorse(TEAM, EVE, BOB, "sql", "test")

    app.clock.now += timedelta(days=1)
    app.declare(BOB, ("react", "expert"))

    # Back: the new skill, and what kudos said about them (the forgotten declaration and
    # endorsement stay forgotten).
    assert scores(database) == {
        ("react", "U0BOB"): 3.0,
        ("sql", "U0BOB"): 2.0,
        ("sql", "U0DAN"): 1.0,
    }
    assert app.rank("sql") == [
        Ranked("U0BOB", 2.0, None, endorsements=0, kudos=2),
        Ranked("U0DAN", 1.0, "learning", endorsements=0, kudos=0),
    ]
    assert app.rank("python") == []


def test_forgetting_takes_the_endorsements_someone_gave_out_of_others_standings(
    database: Database,
) -> None:
    app = guild(database)
    app.declare(ANN, ("python", "expert"))
    app.declare(BOB, ("python", "practitioner"))
    app.give(DAN, CAT, "react")
    app.endorse(ANN, BOB, "python")
    app.endorse(DAN, BOB, "python")
    app.endorse(ANN, CAT, "react")
    app.endorse(BOB, ANN, "python")
    assert scores(database) == {
        ("python", "U0ANN"): 4.0,
        ("python", "U0BOB"): 4.0,
        ("react", "U0CAT"): 2.0,
    }

    app.skills.forget(TEAM, ANN)

    assert scores(database) == {("python", "U0BOB"): 3.0, ("react", "U0CAT"): 1.0}
    bob = standings(database)[("python", "U0BOB")]
    assert (bob.pieces, bob.endorsements) == (2, 1)
    assert [(r.user_id, r.score) for r in app.rank("python")] == [("U0BOB", 3.0)]


# Erasure ---------------------------------------------------------------------------------------


def test_erasing_a_person_rescores_everyone_their_kudos_and_endorsements_counted_for(
    database: Database,
) -> None:
    app = guild(database)
    app.declare(ANN, ("python", "expert"))
    app.declare(CAT, ("python", "learning"))
    app.give(ANN, BOB, "python")
    app.give(DAN, BOB, "python")
    app.give(ANN, EVE, "sql")
    app.endorse(ANN, CAT, "python")
    app.give(BOB, ANN, "python")
    with database.transaction() as session:
        for person in (ANN, BOB, CAT):
            people_repo.save(session, cached(person))
    assert scores(database) == {
        ("python", "U0ANN"): 4.0,
        ("python", "U0BOB"): 2.0,
        ("python", "U0CAT"): 2.0,
        ("sql", "U0EVE"): 1.0,
    }

    later = T0 + timedelta(hours=1)
    forget_person(database, app.statements, TEAM, "U0ANN", later)

    # Ann's own standings are gone; Bob keeps Dan's kudos, Cat her declaration; Eve had only
    # Ann's kudos.
    assert scores(database) == {("python", "U0BOB"): 1.0, ("python", "U0CAT"): 1.0}
    rows = standings(database)
    assert (rows[("python", "U0BOB")].kudos, rows[("python", "U0CAT")].endorsements) == (1, 0)
    app.clock.now = later
    assert [(r.user_id, r.score) for r in app.rank("python")] == [
        ("U0CAT", 1.0),
        ("U0BOB", 1.0),
    ]
    assert app.rank("sql") == []


def test_a_kudos_leaves_the_standing_a_rescore_from_all_evidence_would(
    database: Database,
) -> None:
    app = guild(database)
    app.declare(BOB, ("python", "practitioner"))
    app.endorse(ANN, BOB, "python")
    for day in (0, 1, 89, 90, 91, 200, 365, 366, 400, 800):
        app.clock.now = T0 + timedelta(days=day)
        for giver in (CAT, DAN):  # the second finds a standing just rescored
            app.give(giver, BOB, "python")
            with database.reading() as session:
                evidence = skills_repo.evidence(
                    session, TEAM, "python", ["U0BOB"], standing.bands(app.clock.now)
                )["U0BOB"]
            rescored = standing.score(TEAM, "python", "U0BOB", evidence)
            assert rescored is not None
            assert standings(database)[("python", "U0BOB")].model_dump() == rescored.model_dump()


def test_a_kudos_for_a_current_standing_does_not_read_the_receivers_evidence(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = guild(database)
    app.give(CAT, BOB, "python")
    app.clock.now = T0 + timedelta(days=30)
    reads = []
    real = skills_repo.evidence
    monkeypatch.setattr(
        skills_repo, "evidence", lambda *args: reads.append(args[2:4]) or real(*args)
    )

    app.give(DAN, BOB, "python")  # Bob's standing is current until 90 days after the first
    app.clock.now = T0 + RECENT + MICROSECOND
    app.give(ANN, BOB, "python")  # the first kudos has aged: rescored from the evidence

    assert reads == [("python", ["U0BOB"])]
    assert scores(database) == {("python", "U0BOB"): 0.5 + 1 + 1}


# Concurrent changes of one pair's evidence -----------------------------------------------------


def _hold_the_first_refresh(
    monkeypatch: pytest.MonkeyPatch, holding: threading.Event, release: threading.Event
) -> None:
    """The kudos' rescore in the thread named "first" writes its row, then waits
    (uncommitted)."""
    real = standing.add_kudos

    def add_kudos(session: Session, team_id: str, pairs: Any, now: datetime) -> None:
        real(session, team_id, pairs, now)
        if threading.current_thread().name == "first":
            session.flush()
            holding.set()
            assert release.wait(20)

    monkeypatch.setattr(standing, "add_kudos", add_kudos)


def _wait_until_someone_waits_for_a_lock(database: Database) -> None:
    if database.dialect != "postgresql":
        # SQLite: the second writer queues for the write transaction itself.
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # A new transaction per look: pg_stat_activity is a snapshot per transaction.
        with database.engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first")


def _two_kudos_at_once(
    app: Guild, monkeypatch: pytest.MonkeyPatch, first: Profile, second: Profile
) -> dict[str, BaseException]:
    """`first` and `second` give Bob kudos naming #python at the same time; returns failures."""
    holding, release = threading.Event(), threading.Event()
    _hold_the_first_refresh(monkeypatch, holding, release)
    failures: dict[str, BaseException] = {}

    def give(giver: Profile) -> None:
        try:
            app.give(giver, BOB, "python")
        except BaseException as error:
            failures[threading.current_thread().name] = error

    threads = {
        name: threading.Thread(target=give, args=(giver,), name=name)
        for name, giver in (("first", first), ("second", second))
    }
    threads["first"].start()
    assert holding.wait(10)
    threads["second"].start()
    try:
        _wait_until_someone_waits_for_a_lock(app.database)
    finally:
        release.set()
        for thread in threads.values():
            thread.join(20)
    return failures


def test_concurrent_first_kudos_for_one_skill_are_both_recorded(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = guild(database)

    failures = _two_kudos_at_once(app, monkeypatch, ANN, CAT)

    assert failures == {}
    assert scores(database) == {("python", "U0BOB"): 2.0}


def test_concurrent_kudos_for_one_skill_both_count(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = guild(database)
    app.declare(BOB, ("python", "practitioner"))

    failures = _two_kudos_at_once(app, monkeypatch, ANN, CAT)

    assert failures == {}
    with database.reading() as session:
        assert skills_repo.kudos_received_by_skill(session, TEAM, "U0BOB") == {"python": 2}
    # Stored: what the evidence is worth.
    assert scores(database) == {("python", "U0BOB"): 4.0}


def test_the_tick_rescores_aged_standings_before_anyone_searches(database: Database) -> None:
    app = guild(database)
    app.declare(ANN, ("python", "practitioner"))
    app.give(CAT, BOB, "python")
    app.give(DAN, BOB, "sql")
    app.clock.now = T0 + RECENT + timedelta(seconds=1)

    assert app.experts.rescore_due() == 2

    rows = standings(database)
    assert (rows[("python", "U0BOB")].score, rows[("sql", "U0BOB")].score) == (0.5, 0.5)
    assert rows[("python", "U0BOB")].rescore_at == T0 + YEAR + MICROSECOND
    # Nothing left to do until the next boundary.
    assert app.experts.rescore_due() == 0
