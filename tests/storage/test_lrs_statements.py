"""The inbuilt LRS's statement store (storage/repositories/lrs_statements.py), on SQLite and
PostgreSQL: voiding in either order, statements found through the statements they refer to,
filters, paging, and erasure."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from storage.database import Database
from storage.repositories import lrs_keys, lrs_statements
from storage.repositories.lrs_statements import Attachment, NewLrsStatement, StatementFilter

ADA = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
BEN = {"objectType": "Agent", "name": "Ben", "account": {"homePage": "https://e.com", "name": "b"}}
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
MEETING = "https://example.com/meetings/1"
APP = {"objectType": "Agent", "account": {"homePage": "https://lrs.example.com", "name": "app"}}


def statement(**changes: Any) -> dict[str, Any]:
    made = {
        "id": str(uuid.uuid4()),
        "actor": ADA,
        "verb": {"id": ATTENDED},
        "object": {"objectType": "Activity", "id": MEETING},
    }
    made.update(changes)
    return made


def voiding(target: dict[str, Any]) -> dict[str, Any]:
    return statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target["id"]})


def store(
    database: Database, *made: dict[str, Any], attachments: tuple[Attachment, ...] = ()
) -> None:
    with database.transaction() as session:
        lrs_statements.keep_attachments(session, attachments)
        lrs_statements.store(
            session,
            [
                NewLrsStatement(s["id"], json.dumps(s), s, APP, [a.sha2 for a in attachments])
                for s in made
            ],
            ignore_known=False,
        )


def found(database: Database, *keys: str, **options: Any) -> list[str]:
    with database.reading() as session:
        rows = lrs_statements.find(session, StatementFilter(keys, **options), 100)
    return [json.loads(r.body)["id"] for r in rows]


def agent_key(agent: dict[str, Any], related: bool = False) -> str:
    kind = lrs_keys.RELATED_AGENT if related else lrs_keys.AGENT
    return kind + lrs_keys.digest(str(lrs_keys.agent_identity(agent)))


def voided(database: Database, statement_id: str) -> bool:
    with database.reading() as session:
        return lrs_statements.by_ids(session, [statement_id])[statement_id].voided


@pytest.mark.parametrize("voiding_first", [False, True], ids=["target-first", "voiding-first"])
def test_a_voided_statement_leaves_queries_whichever_arrived_first(
    database: Database, voiding_first: bool
) -> None:
    target = statement()
    void = voiding(target)

    for made in [void, target] if voiding_first else [target, void]:
        store(database, made)

    assert voided(database, target["id"])
    assert not voided(database, void["id"])
    # The voiding statement is found by the voided one's filters: readers learn it is gone.
    assert found(database, agent_key(ADA)) == [void["id"]]


def test_a_voiding_statement_is_never_voided(database: Database) -> None:
    target = statement()
    first = voiding(target)
    second = voiding(first)

    store(database, target, first, second)

    assert voided(database, target["id"])
    assert not voided(database, first["id"])
    assert not voided(database, second["id"])


def test_a_statement_referring_to_another_is_found_by_its_filters_through_a_chain(
    database: Database,
) -> None:
    target = statement(context={"registration": "aa97b177-9383-4934-8543-0f91a7a02836"})
    middle = statement(
        actor=BEN,
        verb={"id": "https://e.com/liked"},
        object={"objectType": "StatementRef", "id": target["id"]},
    )
    outer = statement(
        actor=BEN,
        verb={"id": "https://e.com/saw"},
        object={"objectType": "StatementRef", "id": middle["id"]},
    )

    store(database, outer)
    store(database, middle)
    store(database, target)  # arrives last: the two referring to it learn its keys

    registration = lrs_keys.registration_key(target["context"]["registration"])
    assert set(found(database, registration)) == {target["id"], middle["id"], outer["id"]}
    assert set(found(database, lrs_keys.key(lrs_keys.ACTIVITY, MEETING))) == {
        target["id"],
        middle["id"],
        outer["id"],
    }
    assert found(database, lrs_keys.key(lrs_keys.VERB, "https://e.com/saw")) == [outer["id"]]


def test_agents_are_found_as_actor_object_group_member_and_related_roles(
    database: Database,
) -> None:
    by_group = statement(actor={"objectType": "Group", "member": [ADA, BEN]})
    as_object = statement(actor=BEN, object=ADA)
    as_instructor = statement(actor=BEN, context={"instructor": ADA})
    in_substatement = statement(
        actor=BEN,
        object={
            "objectType": "SubStatement",
            "actor": ADA,
            "verb": {"id": ATTENDED},
            "object": {"id": MEETING},
        },
    )
    store(database, by_group, as_object, as_instructor, in_substatement)

    assert set(found(database, agent_key(ADA))) == {by_group["id"], as_object["id"]}
    assert set(found(database, agent_key(ADA, related=True))) == {
        by_group["id"],
        as_object["id"],
        as_instructor["id"],
        in_substatement["id"],
    }
    # The authority is a related agent too.
    assert len(found(database, agent_key(APP, related=True))) == 4


def test_context_activities_are_found_only_as_related_activities(database: Database) -> None:
    course = "https://example.com/courses/1"
    inside = statement(context={"contextActivities": {"parent": [{"id": course}]}})
    store(database, inside, statement(object={"id": course}))

    assert len(found(database, lrs_keys.key(lrs_keys.ACTIVITY, course))) == 1
    assert set(found(database, lrs_keys.key(lrs_keys.RELATED_ACTIVITY, course))) >= {inside["id"]}


def test_pages_follow_the_order_stored_both_ways_and_filters_combine(database: Database) -> None:
    made = [statement(verb={"id": f"https://e.com/v{n % 2}"}) for n in range(5)]
    for one in made:
        store(database, one)
    ids = [s["id"] for s in made]
    with database.reading() as session:
        newest_two = lrs_statements.find(session, StatementFilter(), 2)

    assert [json.loads(r.body)["id"] for r in newest_two] == ids[::-1][:2]
    assert found(database, after=newest_two[-1].seq) == ids[::-1][2:]
    assert found(database, ascending=True) == ids
    assert found(database, agent_key(ADA), lrs_keys.key(lrs_keys.VERB, "https://e.com/v0")) == [
        ids[4],
        ids[2],
        ids[0],
    ]


def test_since_and_until_compare_the_moment_stored(database: Database) -> None:
    store(database, early := statement())
    with database.reading() as session:
        [row] = lrs_statements.find(session, StatementFilter(), 1)
    store(database, late := statement())

    assert found(database, since=row.stored) == [late["id"]]
    assert found(database, until=row.stored) == [early["id"]]
    assert found(database, since=row.stored + timedelta(days=1)) == []


def test_erasing_statements_drops_their_keys_and_attachments_nobody_else_carries(
    database: Database,
) -> None:
    shared = Attachment("aa" * 32, "text/plain", b"shared")
    own = Attachment("bb" * 32, "text/plain", b"own")
    keep = statement(actor=BEN)
    store(database, keep, attachments=(shared,))
    store(database, about := statement(), attachments=(shared, own))

    with database.transaction() as session:
        assert (
            lrs_statements.delete_about_agents(
                session, [lrs_keys.digest(str(lrs_keys.agent_identity(ADA)))]
            )
            == 1
        )

    assert found(database) == [keep["id"]]
    assert found(database, agent_key(ADA)) == []
    with database.reading() as session:
        left = lrs_statements.attachments_by_statement(session, [1, 2])
        assert lrs_statements.by_ids(session, [about["id"]]) == {}
    assert [a.sha2 for files in left.values() for a in files] == [shared.sha2]


def test_guildbot_statements_queued_again_are_kept_once(database: Database) -> None:
    own = statement()
    body = json.dumps(own)
    with database.transaction() as session:
        lrs_statements.store_own(session, [(own["id"], body), (own["id"], body)])
    with database.transaction() as session:
        lrs_statements.store_own(session, [(own["id"], body)])

    with database.reading() as session:
        assert lrs_statements.count(session) == 1
        assert lrs_statements.by_ids(session, [own["id"]])[own["id"]].authority is None


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_consistency_waits_for_a_transaction_still_writing(database: Database) -> None:
    """A statement stored by a transaction that has not committed yet gets a `stored` time no
    earlier than its start: readers are told they are consistent only until then."""
    writing, release = threading.Event(), threading.Event()
    started: list[datetime] = []

    def slow_writer() -> None:
        with database.transaction() as session:
            started.append(session.execute(text("SELECT now()")).scalar_one())
            lrs_statements.store_own(session, [(s["id"], json.dumps(s)) for s in [statement()]])
            writing.set()
            release.wait(10)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert writing.wait(10)
        with database.reading() as session:
            through = lrs_statements.consistent_through(session)
            assert lrs_statements.count(session) == 0
        assert through <= started[0].astimezone(UTC)
    finally:
        release.set()
        thread.join()
    with database.reading() as session:
        assert lrs_statements.consistent_through(session) > started[0]


def test_erasing_the_last_statement_about_an_activity_forgets_its_definition(
    database: Database,
) -> None:
    profile = {"id": "https://e.com/people/U0ADA", "definition": {"name": {"en": "Ada"}}}
    shared = {"id": MEETING, "definition": {"name": {"en": "Meeting"}}}
    context = {"contextActivities": {"other": [profile]}}
    store(database, about := statement(object=shared, context=context))
    store(database, statement(actor=BEN, object=shared))

    with database.transaction() as session:
        lrs_statements.delete_statements(session, [about["id"]])

    with database.reading() as session:
        assert lrs_statements.definitions(session, profile["id"]) == []
        assert lrs_statements.definitions(session, MEETING) == [shared["definition"]]
