"""Statements run straight on the driver (storage/prepared.py) store and read what SQLAlchemy's
own execution would, inside the session's transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.database import Database
from storage.models import Kudos, SkillStanding, SlackEffect
from storage.prepared import MANY_ROWS, Prepared

NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
KUDOS = Kudos.__table__  # type: ignore[attr-defined]
EFFECT = SlackEffect.__table__  # type: ignore[attr-defined]


def kudos_row(n: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"k{n}",
        "team_id": "T1",
        "giver_id": "U0ANN",
        "receiver_id": "U0BOB",
        "reason": f'for the <release> & the "notes" #{n}',
        "tags": ["teamwork", "ünïcode"],
        "channel_id": "C1",
        "source": "command",
        "source_key": f"s{n}",
        "give_statement_id": f"g{n}",
        "receive_statement_id": f"r{n}",
        "created_at": NOW + timedelta(minutes=n),
    }
    row.update(overrides)
    return row


def insert_or_ignore(database: Database) -> Prepared:
    maker = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    return Prepared(maker(KUDOS).on_conflict_do_nothing().returning(KUDOS.c.id))


def test_rows_written_on_the_driver_read_back_through_the_orm_as_written(
    database: Database,
) -> None:
    with database.transaction() as session:
        new = insert_or_ignore(database).rows(session, kudos_row(1))
    with database.reading() as session:
        stored = session.get(Kudos, "k1")
    assert new == [("k1",)]
    assert stored is not None
    assert stored.model_dump() == {
        **kudos_row(1),
        "message_ts": None,
        "post_ts": None,
        "permalink": None,
        "revoked_at": None,
    }


def test_a_duplicate_is_ignored_and_says_so(database: Database) -> None:
    insert = insert_or_ignore(database)
    with database.transaction() as session:
        first = insert.rows(session, kudos_row(1))
        again = insert.rows(session, kudos_row(1, reason="changed"))
    with database.reading() as session:
        stored = session.get(Kudos, "k1")
    assert (first, again) == ([("k1",)], [])
    assert stored is not None and stored.reason.endswith("#1")


def test_numbers_come_back_as_their_column_types_read_them(database: Database) -> None:
    standing = SkillStanding(
        team_id="T1", slug="python", user_id="U0ANN", score=2.25, pieces=3, level="expert"
    )
    with database.transaction() as session:
        session.add(standing)
    table = SkillStanding.__table__  # type: ignore[attr-defined]
    read = Prepared(
        select(table.c.score, table.c.pieces, func.sum(table.c.score)).group_by(
            table.c.score, table.c.pieces
        )
    )
    with database.reading() as session:
        rows = read.rows(session, {})
        again = read.rows(session, {})
    assert rows == again == [(2.25, 3, 2.25)]
    assert [type(v) for v in rows[0]] == [float, int, float]


def test_a_read_sees_rows_the_same_session_added_through_the_orm(database: Database) -> None:
    ids = Prepared(select(KUDOS.c.id).where(KUDOS.c.team_id == bindparam("team_id")))
    with database.transaction() as session:
        session.add(Kudos(**kudos_row(1)))  # pending: not flushed yet
        seen = ids.rows(session, {"team_id": "T1"})
        with session.no_autoflush:
            session.add(Kudos(**kudos_row(2)))
            unflushed = ids.rows(session, {"team_id": "T1"})
    assert seen == [("k1",)]
    assert unflushed == [("k1",)]  # as `Session.execute` inside `no_autoflush`


def test_times_compare_and_come_back_aware_as_through_sqlalchemy(database: Database) -> None:
    with database.transaction() as session:
        for n in range(4):
            insert_or_ignore(database).rows(session, kudos_row(n))
    between = Prepared(
        select(KUDOS.c.id, KUDOS.c.created_at, KUDOS.c.tags)
        .where(
            KUDOS.c.created_at >= bindparam("since"),
            KUDOS.c.created_at < bindparam("until"),
        )
        .order_by(KUDOS.c.created_at)
    )
    window = {"since": NOW + timedelta(minutes=1), "until": NOW + timedelta(minutes=3)}
    with database.reading() as session:
        found = between.rows(session, window)
        through_sqlalchemy = session.execute(
            select(KUDOS.c.id, KUDOS.c.created_at, KUDOS.c.tags)
            .where(KUDOS.c.created_at >= window["since"], KUDOS.c.created_at < window["until"])
            .order_by(KUDOS.c.created_at)
        ).all()
    assert found == [tuple(row) for row in through_sqlalchemy]
    assert found == [
        ("k1", NOW + timedelta(minutes=1), ["teamwork", "ünïcode"]),
        ("k2", NOW + timedelta(minutes=2), ["teamwork", "ünïcode"]),
    ]


@pytest.mark.parametrize("ids", [["k2"], ["k0", "k3"], ["k3", "nope", "k1", "k2"]])
def test_in_lists_of_any_length_find_the_same_rows(database: Database, ids: list[str]) -> None:
    with database.transaction() as session:
        for n in range(4):
            insert_or_ignore(database).rows(session, kudos_row(n))
    among = Prepared(
        select(KUDOS.c.id).where(col(KUDOS.c.id).in_(bindparam("ids", expanding=True)))
    )
    with database.reading() as session:
        found = {row[0] for row in among.rows(session, {"ids": ids})}
    assert found == {i for i in ids if i != "nope"}


def test_an_update_changes_only_the_rows_named_and_counts_them(database: Database) -> None:
    with database.transaction() as session:
        for n in range(3):
            insert_or_ignore(database).rows(session, kudos_row(n))
    set_post = Prepared(
        update(KUDOS)
        .where(col(KUDOS.c.id).in_(bindparam("ids", expanding=True)))
        .values(post_ts=bindparam("ts"))
    )
    with database.transaction() as session:
        touched = set_post.run(session, {"ids": ["k0", "k2"], "ts": "1700.1"})
    with database.reading() as session:
        posts = {row[0]: row[1] for row in session.execute(select(KUDOS.c.id, KUDOS.c.post_ts))}
    assert touched == 2
    assert posts == {"k0": "1700.1", "k1": None, "k2": "1700.1"}


def test_columns_left_out_take_their_python_defaults(database: Database) -> None:
    maker = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    owe = Prepared(maker(EFFECT).on_conflict_do_nothing().returning(EFFECT.c.key))
    with database.transaction() as session:
        owe.rows(
            session,
            {
                "key": "kudos.recognition:T1:s1",
                "team_id": "T1",
                "kind": "kudos.recognition",
                "payload": '{"kudos": ["k1"]}',
                "next_attempt_at": NOW,
                "created_at": NOW,
            },
        )
    with database.reading() as session:
        effect = session.exec(select(SlackEffect)).one()[0]
    assert (effect.status, effect.attempts, effect.owed_again) == ("pending", 0, False)


def test_many_rows_in_one_call(database: Database) -> None:
    maker = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    insert = Prepared(maker(KUDOS).on_conflict_do_nothing())
    with database.transaction() as session:
        insert.run_many(session, [kudos_row(n) for n in range(5)])
    with database.reading() as session:
        assert len(session.execute(select(KUDOS.c.id)).all()) == 5


def test_many_rows_return_those_that_were_new_however_many_statements_they_take(
    database: Database,
) -> None:
    count = 2 * MANY_ROWS + 5
    with database.transaction() as session:
        insert_or_ignore(database).rows(session, kudos_row(7))
        new = insert_or_ignore(database).rows_many(
            session, [kudos_row(n) for n in range(count)] + [kudos_row(3)]
        )
    with database.reading() as session:
        stored = session.execute(select(KUDOS.c.id, KUDOS.c.created_at)).all()
    assert sorted(id_ for (id_,) in new) == sorted(f"k{n}" for n in range(count) if n != 7)
    assert sorted(stored) == sorted((f"k{n}", kudos_row(n)["created_at"]) for n in range(count))


def test_a_driver_error_is_sqlalchemys_and_the_transaction_is_undone(database: Database) -> None:
    plain_insert = Prepared(KUDOS.insert())
    with pytest.raises(IntegrityError), database.transaction() as session:
        plain_insert.run(session, kudos_row(1))
        plain_insert.run(session, kudos_row(1))  # the same primary key
    with database.reading() as session:
        assert session.execute(select(KUDOS.c.id)).all() == []


def test_values_the_statement_holds_are_bound_with_those_of_the_call(database: Database) -> None:
    with database.transaction() as session:
        for n in range(3):
            insert_or_ignore(database).rows(
                session, kudos_row(n, source="reaction" if n else "command")
            )
    reacted = Prepared(
        select(KUDOS.c.id).where(
            KUDOS.c.source == "reaction", col(KUDOS.c.id).in_(bindparam("ids", expanding=True))
        )
    )
    with database.reading() as session:
        found = reacted.rows(session, {"ids": ["k0", "k1"]})
    assert found == [("k1",)]


def test_a_default_computed_per_row_must_be_passed(database: Database) -> None:
    """Compiled once, a function's default would be the same for every row: refused."""
    table = Table(
        "stamped",
        MetaData(),
        Column("id", String, primary_key=True),
        Column("token", String, default=lambda: secrets.token_hex(4)),
    )
    with pytest.raises(TypeError, match="token"), database.transaction() as session:
        Prepared(table.insert()).run(session, {"id": "a"})
