"""Repositories, on SQLite and PostgreSQL (erasure: test_erasure.py)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.database import Database
from storage.models import Kudos, Person
from storage.repositories import events, kudos, people, workspaces

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEAM = "T0ACME"


def a_kudos(
    kudos_id: str,
    giver: str = "U0ANN",
    receiver: str = "U0BOB",
    source_key: str = "trigger-1",
    team: str = TEAM,
) -> Kudos:
    return Kudos(
        id=kudos_id,
        team_id=team,
        giver_id=giver,
        receiver_id=receiver,
        reason="for the clear incident write-up",
        tags=["teamwork", "écriture"],
        channel_id="C0GENERAL",
        source="command",
        source_key=source_key,
        give_statement_id=f"give-{kudos_id}",
        receive_statement_id=f"receive-{kudos_id}",
        created_at=NOW,
    )


def person(user_id: str, name: str, team: str = TEAM) -> Person:
    return Person(team_id=team, user_id=user_id, full_name=name, refreshed_at=NOW)


# Events ----------------------------------------------------------------------------------------


def test_a_redelivered_slack_event_is_claimed_only_once(database: Database) -> None:
    with database.transaction() as session:
        first = events.claim_event(session, TEAM, "Ev01", NOW)
    with database.transaction() as session:
        redelivery = events.claim_event(session, TEAM, "Ev01", NOW + timedelta(seconds=3))
    with database.transaction() as session:
        other_event = events.claim_event(session, TEAM, "Ev02", NOW)
        other_team = events.claim_event(session, "T0OTHER", "Ev01", NOW)

    assert (first, redelivery) == (True, False)
    assert (other_event, other_team) == (True, True)


def test_an_event_claim_rolled_back_with_its_effect_can_be_claimed_again(
    database: Database,
) -> None:
    try:
        with database.transaction() as session:
            assert events.claim_event(session, TEAM, "Ev01", NOW)
            raise RuntimeError("the handler failed after claiming")
    except RuntimeError:
        pass

    with database.transaction() as session:
        assert events.claim_event(session, TEAM, "Ev01", NOW)


# Workspaces ------------------------------------------------------------------------------------


def test_the_workspace_keeps_its_first_home_page_forever(database: Database) -> None:
    with database.transaction() as session:
        first = workspaces.remember(session, TEAM, "https://acme.slack.com/", None, "B1", NOW)
    with database.transaction() as session:
        renamed = workspaces.remember(
            session, TEAM, "https://acme-corp.slack.com/", None, "B2", NOW + timedelta(days=30)
        )

    assert first.home_page == "https://acme.slack.com/"
    assert renamed.home_page == "https://acme.slack.com/"
    assert renamed.created_at == NOW
    assert renamed.bot_user_id == "B2"
    with database.reading() as session:
        stored = workspaces.first(session)
    assert stored is not None
    assert (stored.team_id, stored.home_page, stored.bot_user_id) == (
        TEAM,
        "https://acme.slack.com/",
        "B2",
    )


# People ----------------------------------------------------------------------------------------


def test_people_are_saved_read_back_updated_and_deleted(database: Database) -> None:
    with database.transaction() as session:
        people.save(session, person("U0ANN", "Ann"))
        people.save(session, person("U0BOB", "Bob"))
        people.save(session, person("U0ANN", "Ann elsewhere", team="T0OTHER"))
    with database.transaction() as session:
        people.save(session, person("U0BOB", "Robert"))

    with database.reading() as session:
        found = people.get_many(session, TEAM, ["U0ANN", "U0BOB", "U0NOBODY", "U0ANN"])
        nothing = people.get_many(session, TEAM, [])
    assert {uid: p.full_name for uid, p in found.items()} == {
        "U0ANN": "Ann",
        "U0BOB": "Robert",
    }
    assert found["U0ANN"].refreshed_at == NOW
    assert nothing == {}

    with database.transaction() as session:
        assert people.delete_person(session, TEAM, "U0ANN") == 1
        assert people.delete_person(session, TEAM, "U0ANN") == 0
    with database.reading() as session:
        assert set(people.get_many(session, TEAM, ["U0ANN", "U0BOB"])) == {"U0BOB"}
        assert set(people.get_many(session, "T0OTHER", ["U0ANN"])) == {"U0ANN"}


def test_two_processes_caching_the_same_new_person_at_once_both_succeed(
    database: Database,
) -> None:
    """The second waits on the first's uncommitted row, then refreshes it (no duplicate key)."""
    failures: list[BaseException] = []
    with database.transaction() as first:
        people.save(first, person("U0NEW", "New Starter"))

        def second_process() -> None:
            try:
                with database.transaction() as second:
                    people.save(second, person("U0NEW", "New Starter (refreshed)"))
            except BaseException as error:
                failures.append(error)

        other = threading.Thread(target=second_process)
        other.start()
        other.join(timeout=0.5)  # it is waiting for the first transaction now
    other.join(timeout=10)

    assert failures == []
    with database.reading() as session:
        [cached] = people.get_many(session, TEAM, ["U0NEW"]).values()
    assert cached.full_name == "New Starter (refreshed)"


# Kudos -----------------------------------------------------------------------------------------


def test_a_kudos_is_recorded_once_per_source_and_receiver(database: Database) -> None:
    with database.transaction() as session:
        assert kudos.add(session, **a_kudos("k1").model_dump())
    with database.transaction() as session:
        # The same slash command delivered again (new id, same trigger and receiver).
        assert not kudos.add(session, **a_kudos("k1-again").model_dump())
        assert kudos.add(session, **a_kudos("k2", receiver="U0CAT").model_dump())
        assert kudos.add(session, **a_kudos("k3", source_key="trigger-2").model_dump())
        assert kudos.add(session, **a_kudos("k4", team="T0OTHER").model_dump())

    with database.reading() as session:
        stored = {k.id: k for k in session.exec(select(Kudos))}
    assert set(stored) == {"k1", "k2", "k3", "k4"}
    assert stored["k1"].tags == ["teamwork", "écriture"]
    assert stored["k1"].created_at == NOW


def test_kudos_involving_someone_are_the_ones_they_gave_or_received(
    database: Database,
) -> None:
    with database.transaction() as session:
        kudos.add(
            session,
            **a_kudos("given", giver="U0ANN", receiver="U0BOB", source_key="s1").model_dump(),
        )
        kudos.add(
            session,
            **a_kudos("received", giver="U0CAT", receiver="U0ANN", source_key="s2").model_dump(),
        )
        kudos.add(
            session,
            **a_kudos("others", giver="U0BOB", receiver="U0CAT", source_key="s3").model_dump(),
        )
        kudos.add(session, **a_kudos("elsewhere", team="T0OTHER", source_key="s4").model_dump())

    with database.reading() as session:
        anns = {k.id for k in kudos.involving(session, TEAM, "U0ANN")}

    assert anns == {"given", "received"}


def test_kudos_can_be_fetched_annotated_with_their_post_and_deleted(
    database: Database,
) -> None:
    with database.transaction() as session:
        kudos.add(session, **a_kudos("k1", source_key="s1").model_dump())
        kudos.add(session, **a_kudos("k2", source_key="s2").model_dump())
    with database.transaction() as session:
        kudos.set_post(session, ["k1"], "1709370000.000100")

    with database.reading() as session:
        fetched = {k.id: k for k in kudos.get_many(session, ["k1", "k2", "missing"])}
    assert fetched["k1"].post_ts == "1709370000.000100"
    assert fetched["k2"].post_ts is None

    with database.transaction() as session:
        assert kudos.delete_many(session, ["k1"]) == 1
        assert kudos.delete_many(session, []) == 0
    with database.reading() as session:
        assert [k.id for k in kudos.get_many(session, ["k1", "k2"])] == ["k2"]


def test_a_givers_quota_is_checked_by_one_transaction_at_a_time(database: Database) -> None:
    """The quota check and the insert hold the giver's lock: a second transaction for the same
    giver waits until the first commits, so it counts the first one's kudos."""
    first_locked, counted = threading.Event(), []
    day = (NOW - timedelta(hours=1), NOW + timedelta(hours=1))

    def first() -> None:
        with database.transaction() as session:
            kudos.lock_giver(session, TEAM, "U0ANN")
            first_locked.set()
            time.sleep(0.3)  # the second one is waiting meanwhile
            kudos.add(session, **a_kudos("k1").model_dump())

    def second() -> None:
        first_locked.wait(5)
        with database.transaction() as session:
            kudos.lock_giver(session, TEAM, "U0ANN")
            counted.append(kudos.count_given(session, TEAM, "U0ANN", *day))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert counted == [1]
