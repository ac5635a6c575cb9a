"""The skills repository (storage/repositories/skills.py), on SQLite and PostgreSQL.

The catalogue, declarations, endorsements, kudos that name a skill, opting out, statement
links, the evidence behind a standing, and `rank()`, which only reads stored standings (how
they are scored is tests/storage/test_skill_standing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from storage.database import Database
from storage.models import (
    Community,
    CommunitySkill,
    Contribution,
    Endorsement,
    Kudos,
    Person,
    PersonSkill,
    Skill,
    SkillStanding,
)
from storage.repositories import skills

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BANDS = skills.Bands(NOW - timedelta(days=90), NOW - timedelta(days=365))
MICROSECOND = timedelta(microseconds=1)
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
    skills.add_kudos_skills(session, team, kudos_id, receiver, slugs, when)


def cached_person(
    session: Session, user_id: str, *, deleted: bool = False, is_bot: bool = False, team: str = TEAM
) -> None:
    session.add(
        Person(
            team_id=team,
            user_id=user_id,
            full_name=user_id,
            deleted=deleted,
            is_bot=is_bot,
            refreshed_at=NOW,
        )
    )


def a_standing(
    user_id: str,
    score: float,
    pieces: int = 1,
    *,
    slug: str = "python",
    team: str = TEAM,
    level: str | None = None,
    endorsements: int = 0,
    kudos: int = 0,
    rescore_at: datetime | None = None,
) -> SkillStanding:
    return SkillStanding(
        team_id=team,
        slug=slug,
        user_id=user_id,
        score=score,
        pieces=pieces,
        level=level,
        endorsements=endorsements,
        kudos=kudos,
        rescore_at=rescore_at,
    )


def store(database: Database, standings: Sequence[SkillStanding]) -> None:
    with database.transaction() as session:
        for row in standings:
            skills.save_standing(session, row)


def ranked(
    database: Database, slug: str = "python", team: str = TEAM, limit: int = 10
) -> list[tuple[str, float, int]]:
    with database.reading() as session:
        return [(r.user_id, r.score, r.pieces) for r in skills.rank(session, team, slug, limit)]


def all_standings(database: Database) -> set[tuple[str, str, str, float]]:
    with database.reading() as session:
        rows = session.exec(select(SkillStanding))
        return {(r.team_id, r.slug, r.user_id, r.score) for r in rows}


# Ranking: reading stored standings -------------------------------------------------------------


def test_rank_returns_the_stored_standings_as_they_are(database: Database) -> None:
    rescore = NOW + timedelta(days=3)
    store(
        database,
        [
            a_standing(
                "U0ANN",
                4.5,
                4,
                level="expert",
                endorsements=1,
                kudos=2,
                rescore_at=rescore,
            )
        ],
    )

    with database.reading() as session:
        [row] = skills.rank(session, TEAM, "python", 5)

    assert (row.team_id, row.slug, row.user_id) == (TEAM, "python", "U0ANN")
    assert (row.score, row.pieces, row.level, row.endorsements, row.kudos) == (
        4.5,
        4,
        "expert",
        1,
        2,
    )
    assert row.rescore_at == rescore


def test_higher_scores_first_then_more_pieces_then_user_id_descending(
    database: Database,
) -> None:
    # Stored out of order on purpose: the order must come from the query.
    store(
        database,
        [
            a_standing("U0DAN", 2.0, 1),
            a_standing("U0ANN", 2.0, 2),
            a_standing("U0EVE", 2.0, 1),
            a_standing("U0FAY", 0.25, 1),
            a_standing("U0BOB", 5.5, 3),
            a_standing("U0CAT", 2.5, 1),
            a_standing("U0GIL", 2.0, 1),
        ],
    )

    assert ranked(database) == [
        ("U0BOB", 5.5, 3),
        ("U0CAT", 2.5, 1),
        # Equal scores: more pieces of evidence first, then user ids, highest first (every
        # column descending, so the rank index is read backwards).
        ("U0ANN", 2.0, 2),
        ("U0GIL", 2.0, 1),
        ("U0EVE", 2.0, 1),
        ("U0DAN", 2.0, 1),
        ("U0FAY", 0.25, 1),
    ]


def test_people_who_left_or_are_bots_are_not_ranked(database: Database) -> None:
    store(
        database,
        [a_standing(user, 3.0) for user in ("U0ANN", "U0BOB", "U0CAT", "U0DAN", "U0EVE")],
    )
    with database.transaction() as session:
        cached_person(session, "U0ANN")
        cached_person(session, "U0BOB", deleted=True)
        cached_person(session, "U0CAT", is_bot=True)
        cached_person(session, "U0DAN", deleted=True, is_bot=True)
        # U0EVE has no cached profile at all: ranked. Leaving another workspace changes nothing.
        cached_person(session, "U0EVE", deleted=True, team=OTHER)
        cached_person(session, "U0ANN", is_bot=True, team=OTHER)

    assert [user for user, _, _ in ranked(database)] == ["U0EVE", "U0ANN"]

    # The same people are ranked in the other workspace by what *its* cache says.
    store(database, [a_standing(user, 3.0, team=OTHER) for user in ("U0ANN", "U0BOB", "U0EVE")])
    assert [user for user, _, _ in ranked(database, team=OTHER)] == ["U0BOB"]


def test_another_workspaces_or_skills_standings_never_leak_into_a_ranking(
    database: Database,
) -> None:
    store(
        database,
        [
            a_standing("U0DAN", 1.0),
            a_standing("U0ANN", 3.0, team=OTHER),
            a_standing("U0BOB", 9.0, slug="react"),
            a_standing("U0CAT", 9.0, slug="python-3"),
        ],
    )

    assert ranked(database) == [("U0DAN", 1.0, 1)]
    assert ranked(database, team=OTHER) == [("U0ANN", 3.0, 1)]
    assert ranked(database, "react") == [("U0BOB", 9.0, 1)]
    assert ranked(database, team="T0NOBODY") == []
    assert ranked(database, "cobol") == []


def test_the_limit_is_respected(database: Database) -> None:
    store(database, [a_standing(f"U0P{n}", float(n)) for n in range(8)])
    with database.transaction() as session:
        # Left-out people do not use up places.
        cached_person(session, "U0P7", deleted=True)

    assert [user for user, _, _ in ranked(database, limit=3)] == ["U0P6", "U0P5", "U0P4"]
    assert len(ranked(database, limit=100)) == 7
    assert ranked(database, limit=0) == []


# Standings: saving, deleting, what is due ------------------------------------------------------


def test_a_standing_is_replaced_deleted_and_deleted_per_person(database: Database) -> None:
    store(
        database,
        [
            a_standing("U0ANN", 1.0),
            a_standing("U0ANN", 2.0, slug="react"),
            a_standing("U0BOB", 3.0),
            a_standing("U0ANN", 4.0, team=OTHER),
        ],
    )
    store(database, [a_standing("U0ANN", 1.5, 2, rescore_at=NOW)])
    assert all_standings(database) == {
        (TEAM, "python", "U0ANN", 1.5),
        (TEAM, "react", "U0ANN", 2.0),
        (TEAM, "python", "U0BOB", 3.0),
        (OTHER, "python", "U0ANN", 4.0),
    }

    with database.transaction() as session:
        skills.delete_standing(session, TEAM, "python", "U0BOB")
        # Nothing to delete: harmless.
        skills.delete_standing(session, TEAM, "python", "U0NOBODY")
    with database.transaction() as session:
        skills.delete_standings_of(session, TEAM, "U0ANN")
        skills.delete_standings_of(session, TEAM, "U0NOBODY")

    assert all_standings(database) == {(OTHER, "python", "U0ANN", 4.0)}


def test_due_for_rescore_is_every_row_of_the_skill_whose_time_has_come(
    database: Database,
) -> None:
    store(
        database,
        [
            a_standing("U0PAST", 1.0, rescore_at=NOW - timedelta(days=2)),
            a_standing("U0EXACT", 1.0, rescore_at=NOW),
            a_standing("U0MICRO", 1.0, rescore_at=NOW + timedelta(microseconds=1)),
            a_standing("U0LATER", 1.0, rescore_at=NOW + timedelta(days=2)),
            a_standing("U0NEVER", 3.0, rescore_at=None),
            a_standing("U0REACT", 1.0, slug="react", rescore_at=NOW - timedelta(days=2)),
            a_standing("U0ELSE", 1.0, team=OTHER, rescore_at=NOW - timedelta(days=2)),
        ],
    )

    with database.reading() as session:
        assert sorted(skills.due_for_rescore(session, TEAM, "python", NOW)) == [
            "U0EXACT",
            "U0PAST",
        ]
        assert skills.due_for_rescore(session, TEAM, "react", NOW) == ["U0REACT"]
        assert skills.due_for_rescore(session, TEAM, "cobol", NOW) == []
        assert skills.due_for_rescore(session, OTHER, "python", NOW) == ["U0ELSE"]
        later = NOW + timedelta(days=30)
        assert sorted(skills.due_for_rescore(session, TEAM, "python", later)) == [
            "U0EXACT",
            "U0LATER",
            "U0MICRO",
            "U0PAST",
        ]


# Evidence ---------------------------------------------------------------------------------------


def test_evidence_is_the_level_and_the_standing_endorsements_and_kudos_by_age(
    database: Database,
) -> None:
    old = NOW - timedelta(days=400)
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "expert", when=old)
        endorse(session, "U0BOB", "U0ANN", "python", when=NOW - timedelta(days=1))
        endorse(session, "U0CAT", "U0ANN", "python", when=old)
        kudos(session, "k1", "U0ANN", ("python", "sql"), when=NOW - timedelta(days=2))
        # None of these: revoked, another skill, given rather than received, another workspace.
        kudos(session, "k-revoked", "U0ANN", ("python",), revoked=True)
        endorse(session, "U0BOB", "U0ANN", "react")
        kudos(session, "k-react", "U0ANN", ("react",))
        kudos(session, "k-gave", "U0BOB", ("python",), giver="U0ANN")
        endorse(session, "U0DAN", "U0ANN", "python", team=OTHER)
        kudos(session, "k-other", "U0ANN", ("python",), team=OTHER)
        declare(session, "U0ANN", "python", "learning", team=OTHER)

    with database.reading() as session:
        found = skills.evidence(session, TEAM, "python", ["U0ANN"], BANDS)["U0ANN"]
        nothing = skills.evidence(session, TEAM, "cobol", ["U0ANN"], BANDS)["U0ANN"]
        evidence_only = skills.evidence(session, TEAM, "sql", ["U0ANN"], BANDS)["U0ANN"]

    two_days_ago = skills.Dated(recent=1, first_recent=NOW - timedelta(days=2))
    assert found.level == "expert"
    assert found.endorsed == skills.Dated(recent=1, older=1, first_recent=NOW - timedelta(days=1))
    assert found.kudos == two_days_ago
    assert found.kudos.first_recent is not None and found.kudos.first_recent.tzinfo is not None
    assert nothing == skills.Evidence(None)
    assert evidence_only == skills.Evidence(None, kudos=two_days_ago)


def test_evidence_on_a_band_boundary_counts_in_the_newer_band(database: Database) -> None:
    recent_since, year_since = BANDS
    times = [
        NOW,
        recent_since,
        recent_since - MICROSECOND,
        year_since,
        year_since - MICROSECOND,
        year_since - timedelta(days=400),
    ]
    with database.transaction() as session:
        for n, at in enumerate(times):
            endorse(session, f"U0END{n}", "U0ANN", "python", when=at)

    with database.reading() as session:
        found = skills.evidence(session, TEAM, "python", ["U0ANN"], BANDS)["U0ANN"]

    assert found.endorsed == skills.Dated(2, 2, 2, recent_since, year_since)
    assert found.endorsed == skills.Dated.of(times, BANDS)


def test_contributing_counts_once_a_day_as_utc_sees_it(database: Database) -> None:
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    with database.transaction() as session:
        session.add(Community(id="c1", team_id=TEAM, name="py", created_at=midnight))
        session.add(CommunitySkill(community_id="c1", slug="python", team_id=TEAM))
        for n, at in enumerate(
            [
                midnight - timedelta(minutes=1),  # 28 February
                midnight,  # 1 March, twice
                midnight + timedelta(hours=23, minutes=59),
                midnight + timedelta(days=1, minutes=1),  # 2 March
            ]
        ):
            session.add(
                Contribution(
                    team_id=TEAM,
                    channel_id="C0PY",
                    ts=f"{n}.0",
                    community_id="c1",
                    user_id="U0ANN",
                    permalink="https://acme.slack.com/archives/C0PY",
                    at=at,
                )
            )

    with database.reading() as session:
        if database.dialect == "postgresql":
            # Days are UTC days whatever the connection's time zone.
            session.exec(text("SET LOCAL TIME ZONE 'America/New_York'"))  # type: ignore[call-overload]
        found = skills.evidence(session, TEAM, "python", ["U0ANN"], BANDS)["U0ANN"]

    assert found.contributed == skills.Dated(recent=3, first_recent=midnight - timedelta(minutes=1))


def test_skills_with_evidence_are_those_declared_endorsed_or_named_by_kudos(
    database: Database,
) -> None:
    with database.transaction() as session:
        declare(session, "U0ANN", "python", "expert")
        endorse(session, "U0BOB", "U0ANN", "react")
        endorse(session, "U0BOB", "U0ANN", "python")
        kudos(session, "k1", "U0ANN", ("sql", "python"))
        # A revoked kudos is still a link: a refresh finds it has no weight.
        kudos(session, "k2", "U0ANN", ("golang",), revoked=True)
        # Not Ann's evidence.
        endorse(session, "U0ANN", "U0BOB", "rust")
        kudos(session, "k3", "U0BOB", ("excel",), giver="U0ANN")
        declare(session, "U0ANN", "cobol", "expert", team=OTHER)

    with database.reading() as session:
        assert skills.skills_with_evidence(session, TEAM, "U0ANN") == {
            "python",
            "react",
            "sql",
            "golang",
        }
        assert skills.skills_with_evidence(session, TEAM, "U0NOBODY") == set()
        assert skills.skills_with_evidence(session, OTHER, "U0ANN") == {"cobol"}


def test_endorsements_given_are_the_skill_and_person_of_each(database: Database) -> None:
    with database.transaction() as session:
        endorse(session, "U0ANN", "U0BOB", "python")
        endorse(session, "U0ANN", "U0BOB", "react")
        endorse(session, "U0ANN", "U0CAT", "python")
        endorse(session, "U0BOB", "U0ANN", "python")  # received, not given
        endorse(session, "U0ANN", "U0DAN", "python", team=OTHER)

    with database.reading() as session:
        assert sorted(skills.endorsements_given(session, TEAM, "U0ANN")) == [
            ("python", "U0BOB"),
            ("python", "U0CAT"),
            ("react", "U0BOB"),
        ]
        assert skills.endorsements_given(session, OTHER, "U0ANN") == [("python", "U0DAN")]
        assert skills.endorsements_given(session, TEAM, "U0CAT") == []


def test_kudos_skill_pairs_are_the_skill_and_receiver_of_each_link(database: Database) -> None:
    with database.transaction() as session:
        kudos(session, "k1", "U0ANN", ("python", "sql"))
        kudos(session, "k2", "U0BOB", ("python",), revoked=True)
        kudos(session, "k3", "U0CAT", ())
        kudos(session, "k4", "U0DAN", ("react",))

    with database.reading() as session:
        assert sorted(skills.kudos_skill_pairs(session, ["k1", "k2", "k3", "k-unknown"])) == [
            ("python", "U0ANN"),
            ("python", "U0BOB"),
            ("sql", "U0ANN"),
        ]
        assert skills.kudos_skill_pairs(session, []) == []


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


# Declarations ---------------------------------------------------------------------------------


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
        # Linking again changes nothing, not even the copied receiver and date.
        skills.add_kudos_skills(session, TEAM, "k1", "U0CAT", ["python"], NOW + timedelta(days=1))

    with database.reading() as session:
        assert skills.kudos_received_by_skill(session, TEAM, "U0ANN") == {"python": 2, "sql": 1}
        assert skills.kudos_received_by_skill(session, TEAM, "U0CAT") == {}
        assert skills.kudos_received_by_skill(session, OTHER, "U0ANN") == {"python": 1}
        ann = skills.evidence(session, TEAM, "python", ["U0ANN"], BANDS)["U0ANN"]
        cat = skills.evidence(session, TEAM, "python", ["U0CAT"], BANDS)["U0CAT"]
        assert ann.kudos == skills.Dated(recent=2, first_recent=NOW)
        assert cat.kudos == skills.Dated()

    with database.transaction() as session:
        skills.delete_kudos_skills(session, ["k1"])
        skills.delete_kudos_skills(session, [])
    with database.reading() as session:
        assert skills.kudos_received_by_skill(session, TEAM, "U0ANN") == {"python": 1}


# Opting out ------------------------------------------------------------------------------------


def test_opting_out_twice_is_harmless_and_opting_in_undoes_it(database: Database) -> None:
    with database.transaction() as session:
        skills.opt_out(session, TEAM, "U0ANN", NOW)
    with database.transaction() as session:
        skills.opt_out(session, TEAM, "U0ANN", NOW + timedelta(days=1))
    with database.reading() as session:
        assert skills.opted_out(session, TEAM, "U0ANN")
        assert not skills.opted_out(session, OTHER, "U0ANN")
        assert not skills.opted_out(session, TEAM, "U0BOB")

    with database.transaction() as session:
        skills.opt_in(session, TEAM, "U0ANN")
        skills.opt_in(session, TEAM, "U0NEVER")
    with database.reading() as session:
        assert not skills.opted_out(session, TEAM, "U0ANN")


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
