"""The skills repository (storage/repositories/skills.py), on SQLite and PostgreSQL.

Most of it is `rank()`, the evidence query behind `/expert`: declared level points, endorsements
and kudos that name the skill, weighted by age, best first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from storage.database import Database
from storage.models import Endorsement, Kudos, Person, PersonSkill, Skill
from storage.repositories import skills
from storage.repositories.skills import Ranked

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECENT_SINCE = NOW - timedelta(days=90)
YEAR_SINCE = NOW - timedelta(days=365)
TEAM = "T0ACME"
OTHER = "T0OTHER"


# Helpers ---------------------------------------------------------------------------------------


def declare(
    session: Session,
    user_id: str,
    slug: str,
    level: str,
    team: str = TEAM,
    when: datetime = NOW,
) -> None:
    skills.save_declaration(
        session,
        PersonSkill(
            team_id=team, user_id=user_id, slug=slug, level=level, declared_at=when, updated_at=when
        ),
    )


def an_endorsement(
    endorser: str, user_id: str, slug: str, when: datetime = NOW, team: str = TEAM
) -> Endorsement:
    return Endorsement(
        team_id=team,
        endorser_id=endorser,
        user_id=user_id,
        slug=slug,
        statement_id=f"st-{team}-{endorser}-{user_id}-{slug}",
        created_at=when,
    )


def endorse(
    session: Session,
    endorser: str,
    user_id: str,
    slug: str,
    when: datetime = NOW,
    team: str = TEAM,
) -> bool:
    return skills.add_endorsement(session, an_endorsement(endorser, user_id, slug, when, team))


def kudos(
    session: Session,
    kudos_id: str,
    receiver: str,
    slugs: tuple[str, ...],
    *,
    giver: str = "U0GIVER",
    when: datetime = NOW,
    revoked: bool = False,
    team: str = TEAM,
) -> None:
    """A kudos row and the links for the skills it names, as the kudos service stores them."""
    session.add(
        Kudos(
            id=kudos_id,
            team_id=team,
            giver_id=giver,
            receiver_id=receiver,
            reason="for the clear incident write-up",
            tags=list(slugs),
            channel_id="C0GENERAL",
            source="command",
            source_key=f"trigger-{kudos_id}",
            give_statement_id=f"give-{kudos_id}",
            receive_statement_id=f"receive-{kudos_id}",
            created_at=when,
            revoked_at=when + timedelta(minutes=5) if revoked else None,
        )
    )
    session.flush()
    skills.add_kudos_skills(session, team, kudos_id, slugs)


def cached_person(
    session: Session, user_id: str, *, deleted: bool = False, is_bot: bool = False, team: str = TEAM
) -> None:
    session.add(
        Person(
            team_id=team,
            user_id=user_id,
            display_name=user_id,
            deleted=deleted,
            is_bot=is_bot,
            refreshed_at=NOW,
        )
    )


def ranked(database: Database, slug: str, team: str = TEAM, limit: int = 10) -> list[Ranked]:
    with database.reading() as session:
        return skills.rank(session, team, slug, RECENT_SINCE, YEAR_SINCE, limit)


def order(ranking: list[Ranked]) -> list[tuple[str, float]]:
    return [(r.user_id, r.score) for r in ranking]


# Ranking: what decides -------------------------------------------------------------------------


def test_at_the_same_level_endorsements_decide(database: Database) -> None:
    with database.transaction() as session:
        for user in ("U0ANN", "U0BOB", "U0CAT"):
            declare(session, user, "python", "practitioner")
        endorse(session, "U0DAN", "U0BOB", "python")
        endorse(session, "U0EVE", "U0BOB", "python")
        endorse(session, "U0DAN", "U0CAT", "python")
        # Endorsements of another skill are no evidence for this one.
        endorse(session, "U0DAN", "U0ANN", "react")
        endorse(session, "U0EVE", "U0ANN", "react")
        endorse(session, "U0FAY", "U0ANN", "react")

    ranking = ranked(database, "python")

    assert ranking == [
        Ranked("U0BOB", 4.0, "practitioner", endorsements=2, kudos=0),
        Ranked("U0CAT", 3.0, "practitioner", endorsements=1, kudos=0),
        Ranked("U0ANN", 2.0, "practitioner", endorsements=0, kudos=0),
    ]


def test_at_the_same_level_standing_kudos_that_name_the_skill_decide(database: Database) -> None:
    with database.transaction() as session:
        for user in ("U0ANN", "U0BOB", "U0CAT"):
            declare(session, user, "python", "practitioner")
        kudos(session, "k-bob-1", "U0BOB", ("python",))
        kudos(session, "k-bob-2", "U0BOB", ("python", "sql"))
        kudos(session, "k-ann-1", "U0ANN", ("python",))
        # No evidence: a revoked kudos, a kudos naming another skill, a kudos naming none,
        # a kudos Cat gave rather than received.
        kudos(session, "k-ann-revoked", "U0ANN", ("python",), revoked=True)
        kudos(session, "k-ann-revoked-2", "U0ANN", ("python",), revoked=True)
        kudos(session, "k-cat-sql", "U0CAT", ("sql",))
        kudos(session, "k-cat-plain", "U0CAT", ())
        kudos(session, "k-cat-gave", "U0ANN", ("python",), giver="U0CAT")

    ranking = ranked(database, "python")

    assert ranking == [
        Ranked("U0ANN", 4.0, "practitioner", endorsements=0, kudos=2),
        Ranked("U0BOB", 4.0, "practitioner", endorsements=0, kudos=2),
        Ranked("U0CAT", 2.0, "practitioner", endorsements=0, kudos=0),
    ]


def test_the_level_decides_when_the_other_evidence_is_equal(database: Database) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "learning")
        declare(session, "U0BOB", "python", "expert")
        declare(session, "U0CAT", "python", "practitioner")
        for user in ("U0ANN", "U0BOB", "U0CAT"):
            endorse(session, "U0DAN", user, "python")
            kudos(session, f"k-{user}", user, ("python",))

    ranking = ranked(database, "python")

    assert ranking == [
        Ranked("U0BOB", 5.0, "expert", endorsements=1, kudos=1),
        Ranked("U0CAT", 4.0, "practitioner", endorsements=1, kudos=1),
        Ranked("U0ANN", 3.0, "learning", endorsements=1, kudos=1),
    ]


def test_equal_scores_go_to_more_pieces_of_evidence_then_a_stable_order(
    database: Database,
) -> None:
    with database.transaction() as session:
        # Inserted out of order on purpose: the order must come from the query.
        declare(session, "U0EVE", "python", "practitioner")
        declare(session, "U0DAN", "python", "practitioner")
        declare(session, "U0ANN", "python", "learning")
        endorse(session, "U0BOB", "U0ANN", "python")

    ranking = ranked(database, "python")

    # All score 2: Ann with two pieces (a declaration and an endorsement), then by user id.
    assert order(ranking) == [("U0ANN", 2.0), ("U0DAN", 2.0), ("U0EVE", 2.0)]


def test_evidence_counts_fully_when_recent_half_within_a_year_and_a_quarter_when_older(
    database: Database,
) -> None:
    ages = {
        "NOW": timedelta(0),
        "D89": timedelta(days=89),
        "D90": timedelta(days=90),  # exactly at the `recent` cut-off: still recent
        "D91": timedelta(days=91),
        "D365": timedelta(days=365),  # exactly at the `year` cut-off: still within the year
        "D366": timedelta(days=366),
        "D3000": timedelta(days=3000),
    }
    with database.transaction() as session:
        for name, age in ages.items():
            endorse(session, "U0GIVER", f"U0E{name}", "python", when=NOW - age)
            kudos(session, f"k-{name}", f"U0K{name}", ("python",), when=NOW - age)
        # A declaration is current by nature, however old.
        declare(session, "U0OLDEXPERT", "python", "expert", when=NOW - timedelta(days=3000))
        # Mixed ages add up: 1 + 0.5 + 0.25 (endorsements) + 1 + 0.25 (kudos) + 1 (learning).
        declare(session, "U0MIX", "python", "learning")
        endorse(session, "U0A", "U0MIX", "python", when=NOW - timedelta(days=1))
        endorse(session, "U0B", "U0MIX", "python", when=NOW - timedelta(days=100))
        endorse(session, "U0C", "U0MIX", "python", when=NOW - timedelta(days=1000))
        kudos(session, "k-mix-1", "U0MIX", ("python",), when=NOW - timedelta(days=2))
        kudos(session, "k-mix-2", "U0MIX", ("python",), when=NOW - timedelta(days=500))

    scores = {r.user_id: r.score for r in ranked(database, "python", limit=100)}

    weights = {"NOW": 1.0, "D89": 1.0, "D90": 1.0, "D91": 0.5, "D365": 0.5}
    weights |= {"D366": 0.25, "D3000": 0.25}
    expected = {f"U0E{name}": w for name, w in weights.items()}
    expected |= {f"U0K{name}": w for name, w in weights.items()}
    expected |= {"U0OLDEXPERT": 3.0, "U0MIX": 4.0}
    assert scores == expected


def test_people_who_opted_out_left_or_are_bots_are_not_ranked(database: Database) -> None:
    with database.transaction() as session:
        for user in ("U0ANN", "U0BOB", "U0CAT", "U0DAN", "U0EVE"):
            declare(session, user, "python", "expert")
            endorse(session, "U0GIVER", user, "python")
        skills.opt_out(session, TEAM, "U0ANN", NOW)
        cached_person(session, "U0BOB", deleted=True)
        cached_person(session, "U0CAT", is_bot=True)
        cached_person(session, "U0DAN")
        # U0EVE has no cached profile at all: ranked.
        # Evidence-only people are left out the same way.
        kudos(session, "k-gone", "U0GONE", ("python",))
        cached_person(session, "U0GONE", deleted=True)
        # Opting out or leaving in another workspace changes nothing here.
        skills.opt_out(session, OTHER, "U0DAN", NOW)
        cached_person(session, "U0EVE", deleted=True, team=OTHER)

    assert [r.user_id for r in ranked(database, "python")] == ["U0DAN", "U0EVE"]

    with database.transaction() as session:
        skills.opt_in(session, TEAM, "U0ANN")
    assert [r.user_id for r in ranked(database, "python")] == ["U0ANN", "U0DAN", "U0EVE"]


def test_another_workspaces_evidence_never_leaks_into_a_ranking(database: Database) -> None:
    with database.transaction() as session:
        declare(session, "U0DAN", "python", "learning")
        declare(session, "U0ANN", "python", "expert", team=OTHER)
        endorse(session, "U0CAT", "U0DAN", "python", team=OTHER)
        endorse(session, "U0CAT", "U0BOB", "python", team=OTHER)
        kudos(session, "k-other-dan", "U0DAN", ("python",), team=OTHER)
        kudos(session, "k-other-cat", "U0CAT", ("python",), team=OTHER)

    assert ranked(database, "python") == [Ranked("U0DAN", 1.0, "learning", 0, 0)]
    assert ranked(database, "python", team=OTHER) == [
        Ranked("U0ANN", 3.0, "expert", 0, 0),
        Ranked("U0DAN", 2.0, None, 1, 1),
        Ranked("U0BOB", 1.0, None, 1, 0),
        Ranked("U0CAT", 1.0, None, 0, 1),
    ]
    assert ranked(database, "python", team="T0NOBODY") == []


def test_the_limit_is_respected(database: Database) -> None:
    with database.transaction() as session:
        for n in range(8):
            declare(session, f"U0P{n}", "python", "practitioner")
            for e in range(n):
                endorse(session, f"U0E{e}", f"U0P{n}", "python")

    assert [r.user_id for r in ranked(database, "python", limit=3)] == ["U0P7", "U0P6", "U0P5"]
    assert len(ranked(database, "python", limit=100)) == 8
    assert ranked(database, "python", limit=0) == []


def test_people_with_evidence_but_no_declaration_are_ranked_without_a_level(
    database: Database,
) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "practitioner")
        for n in range(3):
            kudos(session, f"k-bob-{n}", "U0BOB", ("python",))
        endorse(session, "U0ANN", "U0CAT", "python", when=NOW - timedelta(days=200))

    assert ranked(database, "python") == [
        Ranked("U0BOB", 3.0, None, endorsements=0, kudos=3),
        Ranked("U0ANN", 2.0, "practitioner", endorsements=0, kudos=0),
        Ranked("U0CAT", 0.5, None, endorsements=1, kudos=0),
    ]


def test_a_skill_nobody_has_ranks_nobody(database: Database) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "expert")

    assert ranked(database, "cobol") == []


# Catalogue -------------------------------------------------------------------------------------


def test_the_catalogue_keeps_each_skill_once_with_its_first_date(database: Database) -> None:
    later = NOW + timedelta(days=1)
    with database.transaction() as session:
        skills.add_to_catalogue(session, TEAM, ["python", "react"], NOW)
        skills.add_to_catalogue(session, OTHER, ["cobol"], NOW)
    with database.transaction() as session:
        skills.add_to_catalogue(session, TEAM, ["python", "golang", "golang"], later)
        skills.add_to_catalogue(session, TEAM, [], later)

    with database.reading() as session:
        assert sorted(skills.catalogue(session, TEAM)) == ["golang", "python", "react"]
        assert skills.catalogue(session, OTHER) == ["cobol"]
        python = session.get(Skill, (TEAM, "python"))
        assert python is not None
        assert python.created_at == NOW
        assert skills.known(session, TEAM, ["python", "rust", "python", "cobol"]) == {"python"}
        assert skills.known(session, TEAM, []) == set()
        assert skills.known(session, OTHER, ["cobol", "python"]) == {"cobol"}


def test_declarations_are_saved_updated_and_removed(database: Database) -> None:
    later = NOW + timedelta(days=1)
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "learning")
        declare(session, "U0ANN", "react", "expert")
        declare(session, "U0ANN", "sql", "expert")
        declare(session, "U0ANN", "python", "expert", team=OTHER)
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "practitioner", when=later)
        skills.remove_declarations(session, TEAM, "U0ANN", ["sql", "cobol"])

    with database.reading() as session:
        mine = skills.declared(session, TEAM, "U0ANN")
        elsewhere = skills.declared(session, OTHER, "U0ANN")
    assert [(d.slug, d.level) for d in mine] == [("python", "practitioner"), ("react", "expert")]
    assert mine[0].updated_at == later
    assert [(d.slug, d.level) for d in elsewhere] == [("python", "expert")]


# Endorsements ----------------------------------------------------------------------------------


def test_an_endorsement_is_recorded_once_and_kept_as_it_was(database: Database) -> None:
    with database.transaction() as session:
        assert endorse(session, "U0ANN", "U0BOB", "python")
    with database.transaction() as session:
        again = an_endorsement("U0ANN", "U0BOB", "python", when=NOW + timedelta(days=3))
        again.statement_id = "another-statement"
        assert not skills.add_endorsement(session, again)
        assert endorse(session, "U0ANN", "U0BOB", "react")
        assert endorse(session, "U0CAT", "U0BOB", "python")
        assert endorse(session, "U0ANN", "U0BOB", "python", team=OTHER)

    with database.reading() as session:
        kept = skills.endorsement(session, TEAM, "U0ANN", "U0BOB", "python")
        assert kept is not None
        assert (kept.statement_id, kept.created_at) == (f"st-{TEAM}-U0ANN-U0BOB-python", NOW)
        assert skills.endorsement(session, TEAM, "U0BOB", "U0ANN", "python") is None
        endorsers = skills.endorsers(session, TEAM, "U0BOB")
        assert {slug: sorted(who) for slug, who in endorsers.items()} == {
            "python": ["U0ANN", "U0CAT"],
            "react": ["U0ANN"],
        }
        assert skills.endorsed_by(
            session, TEAM, "U0ANN", "python", ["U0BOB", "U0CAT", "U0DAN"]
        ) == {"U0BOB"}
        assert skills.endorsed_by(session, TEAM, "U0ANN", "python", []) == set()


def test_endorsements_involving_someone_are_those_they_gave_or_received(
    database: Database,
) -> None:
    with database.transaction() as session:
        endorse(session, "U0ANN", "U0BOB", "python")  # given
        endorse(session, "U0CAT", "U0ANN", "react")  # received
        endorse(session, "U0BOB", "U0CAT", "python")  # others'
        endorse(session, "U0ANN", "U0BOB", "python", team=OTHER)  # another workspace

    with database.reading() as session:
        involving = skills.endorsements_involving(session, TEAM, "U0ANN")

    assert sorted((e.endorser_id, e.user_id, e.slug, e.team_id) for e in involving) == [
        ("U0ANN", "U0BOB", "python", TEAM),
        ("U0CAT", "U0ANN", "react", TEAM),
    ]


def test_an_endorsement_can_be_deleted(database: Database) -> None:
    with database.transaction() as session:
        endorse(session, "U0ANN", "U0BOB", "python")
    with database.transaction() as session:
        row = skills.endorsement(session, TEAM, "U0ANN", "U0BOB", "python")
        assert row is not None
        skills.delete_endorsement(session, row)

    with database.reading() as session:
        assert skills.endorsement(session, TEAM, "U0ANN", "U0BOB", "python") is None


def test_deleting_a_persons_skills_spares_everyone_else(database: Database) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "expert")
        declare(session, "U0ANN", "react", "learning")
        declare(session, "U0BOB", "python", "practitioner")
        declare(session, "U0ANN", "python", "expert", team=OTHER)
        endorse(session, "U0ANN", "U0BOB", "python")  # given
        endorse(session, "U0CAT", "U0ANN", "python")  # received
        endorse(session, "U0CAT", "U0BOB", "python")  # others'
        endorse(session, "U0CAT", "U0ANN", "python", team=OTHER)  # another workspace

    with database.transaction() as session:
        skills.delete_person_skills(session, TEAM, "U0ANN")

    with database.reading() as session:
        assert skills.declared(session, TEAM, "U0ANN") == []
        assert [d.user_id for d in skills.declared(session, TEAM, "U0BOB")] == ["U0BOB"]
        assert [d.slug for d in skills.declared(session, OTHER, "U0ANN")] == ["python"]
        assert skills.endorsements_involving(session, TEAM, "U0ANN") == []
        assert [
            (e.endorser_id, e.user_id)
            for e in skills.endorsements_involving(session, TEAM, "U0BOB")
        ] == [("U0CAT", "U0BOB")]
        assert len(skills.endorsements_involving(session, OTHER, "U0ANN")) == 1


# Kudos that name a skill -----------------------------------------------------------------------


def test_kudos_received_by_skill_counts_only_standing_kudos_received(database: Database) -> None:
    with database.transaction() as session:
        kudos(session, "k1", "U0ANN", ("python", "sql"))
        kudos(session, "k2", "U0ANN", ("python",))
        kudos(session, "k3", "U0ANN", ("python",), revoked=True)
        kudos(session, "k4", "U0BOB", ("python",), giver="U0ANN")  # given, not received
        kudos(session, "k5", "U0ANN", ())
        kudos(session, "k6", "U0ANN", ("python",), team=OTHER)
    with database.transaction() as session:
        # Linking again changes nothing.
        skills.add_kudos_skills(session, TEAM, "k1", ["python"])

    with database.reading() as session:
        assert skills.kudos_received_by_skill(session, TEAM, "U0ANN") == {"python": 2, "sql": 1}
        assert skills.kudos_received_by_skill(session, TEAM, "U0CAT") == {}
        assert skills.kudos_received_by_skill(session, OTHER, "U0ANN") == {"python": 1}

    with database.transaction() as session:
        skills.delete_kudos_skills(session, ["k1"])
        skills.delete_kudos_skills(session, [])
    with database.reading() as session:
        assert skills.kudos_received_by_skill(session, TEAM, "U0ANN") == {"python": 1}


# Opting out ------------------------------------------------------------------------------------


def test_opting_out_twice_is_harmless_and_opting_in_undoes_it(database: Database) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "expert")
        skills.opt_out(session, TEAM, "U0ANN", NOW)
    with database.transaction() as session:
        skills.opt_out(session, TEAM, "U0ANN", NOW + timedelta(days=1))
    assert ranked(database, "python") == []

    with database.transaction() as session:
        skills.opt_in(session, TEAM, "U0ANN")
        skills.opt_in(session, TEAM, "U0NEVER")
    assert [r.user_id for r in ranked(database, "python")] == ["U0ANN"]


# Which statements concern whom -----------------------------------------------------------------


def test_statements_are_linked_to_the_people_they_concern_and_unlinked(
    database: Database,
) -> None:
    with database.transaction() as session:
        skills.link_statement(session, TEAM, "s-endorse", ["U0ANN", "U0BOB", "U0ANN"])
        skills.link_statement(session, TEAM, "s-declare", ["U0ANN"])
        skills.link_statement(session, OTHER, "s-elsewhere", ["U0ANN"])
    with database.transaction() as session:
        # A redelivery links nothing twice.
        skills.link_statement(session, TEAM, "s-endorse", ["U0BOB"])
        skills.link_statement(session, TEAM, "s-none", [])

    with database.reading() as session:
        assert sorted(skills.statements_about(session, TEAM, "U0ANN")) == [
            "s-declare",
            "s-endorse",
        ]
        assert skills.statements_about(session, TEAM, "U0BOB") == ["s-endorse"]
        assert skills.statements_about(session, OTHER, "U0ANN") == ["s-elsewhere"]
        assert skills.statements_about(session, TEAM, "U0CAT") == []

    with database.transaction() as session:
        skills.unlink_statements(session, ["s-endorse", "s-unknown"])
        skills.unlink_statements(session, [])

    with database.reading() as session:
        assert skills.statements_about(session, TEAM, "U0ANN") == ["s-declare"]
        assert skills.statements_about(session, TEAM, "U0BOB") == []
        assert skills.statements_about(session, OTHER, "U0ANN") == ["s-elsewhere"]


@pytest.mark.parametrize("level", ["learning", "practitioner", "expert"])
def test_each_level_is_worth_its_points(database: Database, level: str) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", level)

    [only] = ranked(database, "python")

    assert (only.score, only.level) == (skills.LEVEL_POINTS[level], level)
