"""Erasure's storage rules on SQLite and PostgreSQL: what it removes from the outbox, what it
voids, and that a forwarder running at the same time can never send what it dropped."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlmodel import select

from bot.domain.erasure import forget_person, forget_workspace
from bot.domain.people import Profile
from bot.xapi import vocabulary
from bot.xapi.statements import (
    BuiltStatement,
    KudosFacts,
    StatementBuilder,
    StatementBuilders,
    XapiIdentity,
)
from storage.database import Database
from storage.models import OUTBOX_DEAD, Kudos, OutboxStatement, Person
from storage.repositories import kudos, outbox, people
from storage.repositories.outbox import NewStatement

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
TEAM = "T0ACME"
BOT = "U0GUILDBOT"
LEASE = timedelta(minutes=2)
ANN = Profile("U0ANN", "Ann", "ann@example.com")
BOB = Profile("U0BOB", "Bob", "bob@example.com")
CAT = Profile("U0CAT", "Cat")
ANNA = Profile("U0ANNA", "Anna")


def builder(actor_mode: str = "account") -> StatementBuilder:
    return StatementBuilder(
        XapiIdentity(
            TEAM,
            "https://acme.slack.com/",
            "https://guild.example.com/xapi",
            actor_mode=actor_mode,
            bot_user_id=BOT,
        )
    )


def builders(actor_mode: str = "account") -> StatementBuilders:
    """The workspace's builder, as the services hold it."""
    return StatementBuilders(builder(actor_mode).identity)


def queue(database: Database, *statements: BuiltStatement) -> None:
    with database.transaction() as session:
        outbox.add(
            session,
            [
                NewStatement(s.id, TEAM, s.actor_id, s.body, s.timestamp, s.voiding)
                for s in statements
            ],
            NOW,
        )


def give(
    database: Database,
    kudos_id: str,
    giver: Profile,
    receiver: Profile,
    actor_mode: str = "account",
) -> Kudos:
    """A kudos with its give/receive statements, as the kudos service records it."""
    give_statement, receive_statement = builder(actor_mode).kudos_given(
        KudosFacts(
            kudos_id=kudos_id,
            giver=giver.learner,
            receiver=receiver.learner,
            reason="for the clear write-up",
            values=(),
            skills=(),
            channel_id="C0GEN",
            permalink=None,
            timestamp=NOW,
        )
    )
    row = Kudos(
        id=kudos_id,
        team_id=TEAM,
        giver_id=giver.user_id,
        receiver_id=receiver.user_id,
        reason="for the clear write-up",
        channel_id="C0GEN",
        source="command",
        source_key=f"trigger-{kudos_id}",
        give_statement_id=give_statement.id,
        receive_statement_id=receive_statement.id,
        created_at=NOW,
    )
    with database.transaction() as session:
        assert kudos.add(session, **row.model_dump())
    queue(database, give_statement, receive_statement)
    return row


def profile(database: Database, who: Profile) -> None:
    with database.transaction() as session:
        people.save(
            session,
            Person(
                team_id=TEAM,
                user_id=who.user_id,
                full_name=who.name,
                email=who.email,
                refreshed_at=NOW,
            ),
        )


def outbox_rows(database: Database) -> dict[str, OutboxStatement]:
    with database.reading() as session:
        return {r.statement_id: r for r in session.exec(select(OutboxStatement))}


def voided_targets(database: Database) -> set[str]:
    return {
        json.loads(row.body)["object"]["id"]
        for row in outbox_rows(database).values()
        if row.voiding
    }


def claim(database: Database, now: datetime = NOW) -> list[str]:
    with database.transaction() as session:
        return [s.statement_id for s in outbox.claim_batch(session, now, 50, LEASE)]


# What goes, what is voided ----------------------------------------------------------------------


def test_forgetting_a_person_voids_what_left_drops_the_rest_and_spares_others(
    database: Database,
) -> None:
    ann_gave = give(database, "k-ann-bob", ANN, BOB)
    ann_got = give(database, "k-cat-ann", CAT, ANN)
    others = give(database, "k-bob-cat", BOB, CAT)
    profile(database, ANN)
    profile(database, BOB)
    before = outbox_rows(database)
    others_statements = {others.give_statement_id, others.receive_statement_id}
    with database.transaction() as session:
        # Delivered.
        outbox.mark_sent(session, [ann_gave.give_statement_id], NOW)
        # Tried once, answer lost: it may be in the LRS.
        outbox.release(session, [ann_got.give_statement_id], NOW, "timeout")
        # Rejected by the LRS: it never got in.
        outbox.mark_dead(session, ann_got.receive_statement_id, "400")
        # ann_gave.receive_statement_id never left.

    erasure = forget_person(database, builders(), TEAM, "U0ANN", LATER)

    assert (erasure.kudos_deleted, erasure.statements_voided, erasure.statements_dropped) == (
        2,
        2,
        2,
    )
    after = outbox_rows(database)
    voids = {sid: row for sid, row in after.items() if row.voiding}
    for row in voids.values():
        body = json.loads(row.body)
        assert body["verb"]["id"] == vocabulary.VOIDED.id
        assert body["actor"]["account"]["name"] == BOT
        assert row.status == "pending" and row.actor_id == BOT
    assert voided_targets(database) == {ann_gave.give_statement_id, ann_got.give_statement_id}
    # Local copies of every statement about Ann are gone; Bob→Cat is untouched.
    assert set(after) - set(voids) == others_statements
    assert all(after[sid].body == before[sid].body for sid in others_statements)
    with database.reading() as session:
        assert kudos.involving(session, TEAM, "U0ANN") == []
        assert [k.id for k in kudos.involving(session, TEAM, "U0CAT")] == [others.id]
        assert set(people.get_many(session, TEAM, ["U0ANN", "U0BOB"])) == {"U0BOB"}
    assert OUTBOX_DEAD not in {row.status for row in after.values()}


def test_forgetting_twice_queues_no_second_round_of_voiding(database: Database) -> None:
    row = give(database, "k-ann-bob", ANN, BOB)
    with database.transaction() as session:
        outbox.mark_sent(session, [row.give_statement_id, row.receive_statement_id], NOW)

    first = forget_person(database, builders(), TEAM, "U0ANN", LATER)
    second = forget_person(database, builders(), TEAM, "U0ANN", LATER + timedelta(hours=1))

    assert first.statements_voided == 2
    assert (second.kudos_deleted, second.statements_voided, second.statements_dropped) == (
        0,
        0,
        0,
    )
    assert len(outbox_rows(database)) == 2


def test_statements_others_made_about_the_person_go_and_look_alike_ids_stay(
    database: Database,
) -> None:
    endorsed = builder().endorsed(BOB.learner, ANN.learner, "python", "T1", NOW)
    of_anna = builder().endorsed(BOB.learner, ANNA.learner, "python", "T2", NOW)
    queue(database, endorsed, of_anna)
    with database.transaction() as session:
        outbox.mark_sent(session, [endorsed.id, of_anna.id], NOW)

    erasure = forget_person(database, builders(), TEAM, "U0ANN", LATER)

    # Bob's endorsement names Ann (an agent in an extension, her profile activity): voided.
    assert (erasure.statements_voided, erasure.statements_dropped) == (1, 0)
    assert voided_targets(database) == {endorsed.id}
    assert of_anna.id in outbox_rows(database)


def test_with_email_actors_statements_naming_her_address_go_too(database: Database) -> None:
    profile(database, ANN)
    got = give(database, "k-bob-ann", BOB, ANN, actor_mode="email")
    assert "U0ANN" not in outbox_rows(database)[got.give_statement_id].body

    erasure = forget_person(database, builders("email"), TEAM, "U0ANN", LATER)

    assert erasure.statements_dropped == 2
    assert not any("ann@example.com" in r.body for r in outbox_rows(database).values())


def test_voiding_statements_the_person_made_go_and_guildbot_voids_in_their_place(
    database: Database,
) -> None:
    """Before guildbot voided in its own name, an L&D admin's removal named the admin."""
    others = give(database, "k-bob-cat", BOB, CAT)
    sent_void, pending_void = (
        BuiltStatement(
            id=f"void-{n}",
            actor_id="U0ANN",
            body=json.dumps(
                {
                    "id": f"void-{n}",
                    "actor": {"account": {"homePage": "https://acme.slack.com/", "name": "U0ANN"}},
                    "verb": {"id": vocabulary.VOIDED.id},
                    "object": {"objectType": "StatementRef", "id": target},
                }
            ),
            timestamp=NOW,
            voiding=True,
        )
        for n, target in ((1, others.give_statement_id), (2, others.receive_statement_id))
    )
    queue(database, sent_void, pending_void)
    with database.transaction() as session:
        outbox.mark_sent(session, [others.give_statement_id, others.receive_statement_id], NOW)
        outbox.mark_sent(session, [sent_void.id], NOW)

    erasure = forget_person(database, builders(), TEAM, "U0ANN", LATER)

    after = outbox_rows(database)
    assert sent_void.id not in after and pending_void.id not in after
    assert not any("U0ANN" in r.body for r in after.values())
    # The delivered one did its work; the other's target is voided by guildbot instead.
    assert voided_targets(database) == {others.receive_statement_id}
    assert erasure.statements_voided == 1


# Against a forwarder running at the same time ---------------------------------------------------


class ForwarderDuringErasure:
    """A forwarder that tries to claim a batch while erasure is half-way: after it looked at
    the outbox, before it deleted anything."""

    def __init__(self, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.claimed: list[str] = []
        self._database = database
        self._thread = threading.Thread(target=self._claim)
        original: Callable[..., Any] = outbox.delete_statements

        def delete_after_a_claim(*args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(outbox, "delete_statements", original)
            self._thread.start()
            # PostgreSQL: the claim skips what erasure locked and returns at once. SQLite: it
            # waits for erasure's write transaction and claims after the commit.
            self._thread.join(timeout=1.0)
            return original(*args, **kwargs)

        monkeypatch.setattr(outbox, "delete_statements", delete_after_a_claim)

    def _claim(self) -> None:
        self.claimed += claim(self._database)

    def finished(self) -> list[str]:
        self._thread.join(timeout=10)
        return self.claimed


def test_a_statement_erasure_counts_as_dropped_can_never_be_claimed_by_a_forwarder(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = give(database, "k-ann-bob", ANN, BOB)
    others = give(database, "k-bob-cat", BOB, CAT)
    anns = {ann.give_statement_id, ann.receive_statement_id}
    forwarder = ForwarderDuringErasure(database, monkeypatch)

    erasure = forget_person(database, builders(), TEAM, "U0ANN", NOW)
    claimed = set(forwarder.finished())

    dropped = anns - voided_targets(database)
    assert erasure.statements_dropped == len(dropped) == 2
    # Whatever a forwarder got hold of may reach the LRS: it must be voided, never dropped.
    assert not dropped & claimed, (claimed, dropped)
    assert {others.give_statement_id, others.receive_statement_id} <= set(outbox_rows(database))


def test_a_statement_being_sent_is_voided_and_its_void_waits_for_that_send(
    database: Database,
) -> None:
    row = give(database, "k-ann-bob", ANN, BOB)
    sending = claim(database)
    assert sending == [row.give_statement_id, row.receive_statement_id]

    erasure = forget_person(database, builders(), TEAM, "U0ANN", NOW)

    assert (erasure.statements_voided, erasure.statements_dropped) == (2, 0)
    # Nothing of Ann is left in the row the forwarder is sending, but the row holds the voids
    # back: a second forwarder can't send them ahead of the statements they void.
    erased = [r for r in outbox_rows(database).values() if not r.voiding]
    assert {(r.status, r.body, r.actor_id) for r in erased} == {("erased", "", "")}
    assert claim(database, NOW + timedelta(seconds=1)) == []
    with database.transaction() as session:
        outbox.mark_sent(session, sending, NOW + timedelta(seconds=2))

    rows = outbox_rows(database)
    assert all(r.voiding for r in rows.values())
    assert len(claim(database, NOW + timedelta(seconds=3))) == 2


def test_a_failed_send_of_an_erased_statement_is_not_retried(database: Database) -> None:
    row = give(database, "k-ann-bob", ANN, BOB)
    sending = claim(database)
    forget_person(database, builders(), TEAM, "U0ANN", NOW)

    with database.transaction() as session:
        outbox.release(session, sending, NOW, "LRS answered 503")

    rows = outbox_rows(database)
    assert {r.statement_id for r in rows.values() if not r.voiding} == set()
    assert voided_targets(database) == {row.give_statement_id, row.receive_statement_id}


# A whole workspace ------------------------------------------------------------------------------


def test_forgetting_a_workspace_voids_what_left_and_spares_other_workspaces(
    database: Database,
) -> None:
    delivered = give(database, "k-ann-bob", ANN, BOB)
    unsent = give(database, "k-bob-cat", BOB, CAT)
    profile(database, ANN)
    with database.transaction() as session:
        outbox.mark_sent(
            session, [delivered.give_statement_id, delivered.receive_statement_id], NOW
        )
        people.save(session, Person(team_id="T0OTHER", user_id="U0ZED", refreshed_at=NOW))
    installations = SQLAlchemyInstallationStore("111.222", database.engine)
    for team in (TEAM, "T0OTHER"):
        installations.save(
            Installation(app_id="A0", team_id=team, user_id="U0ANN", bot_token=f"xoxb-{team}")
        )
    sending = claim(database)  # a forwarder is POSTing the unsent kudos right now

    erased = forget_workspace(database, builders(), TEAM, LATER)

    assert (erased.statements_voided, erased.statements_dropped) == (4, 0)
    assert erased.rows_deleted >= 3  # two kudos and Ann's profile
    assert sorted(sending) == sorted([unsent.give_statement_id, unsent.receive_statement_id])
    # Delivered or being sent: each may be in the LRS, so each is voided by guildbot.
    assert voided_targets(database) == {
        delivered.give_statement_id,
        delivered.receive_statement_id,
        *sending,
    }
    with database.reading() as session:
        assert kudos.involving(session, TEAM, "U0BOB") == []
        assert people.get_many(session, TEAM, ["U0ANN"]) == {}
        assert set(people.get_many(session, "T0OTHER", ["U0ZED"])) == {"U0ZED"}
    # Its installation (OAuth) goes with it: its token is never used again.
    assert installations.find_bot(enterprise_id=None, team_id=TEAM) is None
    assert installations.find_bot(enterprise_id=None, team_id="T0OTHER") is not None
