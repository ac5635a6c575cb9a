"""The xAPI outbox state machine (storage/repositories/outbox.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.database import Database
from storage.models import OUTBOX_DEAD, OUTBOX_PENDING, OUTBOX_SENT, OutboxStatement
from storage.repositories import outbox
from storage.repositories.outbox import ClaimedStatement, NewStatement

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def statement(
    n: int = 0,
    *,
    voiding: bool = False,
    actor: str = "U0ANN",
    when: datetime | None = None,
    target: str | None = None,
) -> NewStatement:
    statement_id = str(uuid.uuid4())
    when = when or NOW + timedelta(seconds=n)
    document: dict[str, object] = {
        "id": statement_id,
        "actor": {"account": {"homePage": "https://acme.slack.com/", "name": actor}},
        "verb": {"id": "http://activitystrea.ms/give", "display": {"en-US": "gave"}},
        "object": {
            "id": f"https://guild.example.com/kudos/{n}",
            "definition": {"name": {"en-US": f"Kudos #{n} – merci ✓ 🏆"}},
        },
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    if voiding:
        document["verb"] = {"id": "http://adlnet.gov/expapi/verbs/voided"}
        document["object"] = {"objectType": "StatementRef", "id": target or str(uuid.uuid4())}
    # Odd spacing and raw non-ASCII on purpose: the outbox must hand back these exact bytes.
    body = json.dumps(document, ensure_ascii=False, indent=1)
    return NewStatement(statement_id, "T0ACME", actor, body, when, voiding)


def add(database: Database, *statements: NewStatement, now: datetime = NOW) -> int:
    with database.transaction() as session:
        return outbox.add(session, statements, now)


def claim(
    database: Database, now: datetime = NOW, limit: int = 50, lease: timedelta = LEASE
) -> list[ClaimedStatement]:
    with database.transaction() as session:
        return outbox.claim_batch(session, now, limit, lease)


def ids(claimed: list[ClaimedStatement]) -> list[str]:
    return [c.statement_id for c in claimed]


def rows(database: Database) -> dict[str, OutboxStatement]:
    with database.reading() as session:
        return {r.statement_id: r for r in session.exec(select(OutboxStatement))}


def mark_sent(database: Database, *statements: NewStatement, now: datetime = NOW) -> None:
    with database.transaction() as session:
        outbox.mark_sent(session, [s.statement_id for s in statements], now)


def release(
    database: Database, statements: list[NewStatement], at: datetime, error: str | None
) -> None:
    with database.transaction() as session:
        outbox.release(session, [s.statement_id for s in statements], at, error)


def test_adding_the_same_statement_id_twice_keeps_the_first(database: Database) -> None:
    first = statement(1)
    again = NewStatement(first.statement_id, "T0ACME", "U0ANN", '{"changed": true}', NOW)

    assert add(database, first) == 1
    assert add(database, again, first) == 0

    stored = rows(database)
    assert list(stored) == [first.statement_id]
    assert stored[first.statement_id].body == first.body
    with database.reading() as session:
        assert outbox.counts(session).pending == 1


def test_claims_come_oldest_first_and_a_claimed_row_is_not_claimed_again(
    database: Database,
) -> None:
    queued = [statement(n) for n in range(5)]
    add(database, *queued)

    first = claim(database, limit=3)
    second = claim(database, limit=3)
    third = claim(database, limit=3)

    assert ids(first) == [s.statement_id for s in queued[:3]]
    assert ids(second) == [s.statement_id for s in queued[3:]]
    assert third == []
    assert all(c.attempts == 0 and not c.voiding for c in first + second)


def test_claimed_bodies_are_byte_identical_to_what_was_added(database: Database) -> None:
    queued = [statement(n) for n in range(3)]
    add(database, *queued)

    claimed = claim(database)

    assert [c.body for c in claimed] == [s.body for s in queued]


def test_voiding_statements_travel_in_batches_of_their_own(database: Database) -> None:
    a, b = statement(1), statement(2)
    void_a, void_b = statement(3, voiding=True), statement(4, voiding=True)
    c = statement(5)
    add(database, a, b, void_a, void_b, c)

    batches = []
    for _ in range(4):
        batch = claim(database)
        batches.append(batch)
        with database.transaction() as session:
            outbox.mark_sent(session, ids(batch), NOW)

    assert [ids(batch) for batch in batches] == [
        [a.statement_id, b.statement_id],
        [void_a.statement_id, void_b.statement_id],
        [c.statement_id],
        [],
    ]
    assert [c.voiding for c in batches[1]] == [True, True]


def test_a_leased_row_is_skipped_until_its_lease_runs_out(database: Database) -> None:
    first, second = statement(1), statement(2)
    add(database, first, second)

    assert ids(claim(database, NOW, limit=1)) == [first.statement_id]
    # Another forwarder while the lease holds: the leased row is not handed out twice.
    assert ids(claim(database, NOW + timedelta(seconds=30), limit=1)) == [second.statement_id]
    assert claim(database, NOW + timedelta(seconds=59)) == []
    # The first forwarder died: once its lease has run out, the row goes out again.
    retaken = claim(database, NOW + LEASE + timedelta(seconds=1), limit=1)
    assert ids(retaken) == [first.statement_id]
    assert retaken[0].body == first.body


def test_nothing_is_claimed_while_the_oldest_pending_row_backs_off(database: Database) -> None:
    oldest, younger = statement(1), statement(2)
    add(database, oldest, younger)
    claim(database, limit=1)
    release(database, [oldest], NOW + timedelta(minutes=5), "HTTP 503 from the LRS")

    assert claim(database, NOW + timedelta(minutes=1)) == []
    after = claim(database, NOW + timedelta(minutes=5))
    assert ids(after) == [oldest.statement_id, younger.statement_id]
    assert after[0].attempts == 1
    assert after[1].attempts == 0


def test_a_voiding_statement_never_overtakes_its_backing_off_target(
    database: Database,
) -> None:
    target = statement(1)
    void = statement(2, voiding=True, target=target.statement_id)
    add(database, target, void)
    claim(database)  # the target alone: voiding rows are a batch of their own
    release(database, [target], NOW + timedelta(seconds=30), "timeout")

    assert claim(database, NOW + timedelta(seconds=10)) == []
    assert ids(claim(database, NOW + timedelta(seconds=30))) == [target.statement_id]
    mark_sent(database, target, now=NOW + timedelta(seconds=31))
    assert ids(claim(database, NOW + timedelta(seconds=31))) == [void.statement_id]


def test_a_voiding_statement_waits_while_another_forwarder_sends_its_target(
    database: Database,
) -> None:
    target, other = statement(1), statement(2)
    void = statement(3, voiding=True, target=target.statement_id)
    add(database, target, other, void)
    assert ids(claim(database, limit=1)) == [target.statement_id]  # replica A, in flight

    # Replica B takes what A does not hold, but not the voiding statement behind A's batch.
    assert ids(claim(database)) == [other.statement_id]
    assert claim(database) == []
    mark_sent(database, target, now=NOW + timedelta(seconds=1))
    # Voiding rows wait for every older statement in flight, not only their own target.
    assert claim(database, NOW + timedelta(seconds=1)) == []
    mark_sent(database, other, now=NOW + timedelta(seconds=2))
    assert ids(claim(database, NOW + timedelta(seconds=2))) == [void.statement_id]


def test_release_counts_an_attempt_only_when_there_was_an_error(database: Database) -> None:
    failed, unsent = statement(1), statement(2)
    add(database, failed, unsent)
    claim(database)

    release(database, [failed], NOW, "HTTP 502 Bad Gateway")
    release(database, [unsent], NOW, None)  # shutting down before the POST

    stored = rows(database)
    assert stored[failed.statement_id].attempts == 1
    assert stored[failed.statement_id].last_error == "HTTP 502 Bad Gateway"
    assert stored[unsent.statement_id].attempts == 0
    assert stored[unsent.statement_id].last_error is None
    assert ids(claim(database)) == [failed.statement_id, unsent.statement_id]


def test_release_leaves_sent_and_dead_rows_alone(database: Database) -> None:
    sent, dead = statement(1), statement(2)
    add(database, sent, dead)
    claim(database)
    mark_sent(database, sent)
    with database.transaction() as session:
        outbox.mark_dead(session, dead.statement_id, "400: bad verb")

    release(database, [sent, dead], NOW, "late failure report")

    stored = rows(database)
    assert stored[sent.statement_id].status == OUTBOX_SENT
    assert stored[dead.statement_id].status == OUTBOX_DEAD
    assert stored[dead.statement_id].last_error == "400: bad verb"
    assert claim(database, NOW + timedelta(hours=1)) == []


def test_sent_rows_are_done(database: Database) -> None:
    first, second = statement(1), statement(2)
    add(database, first, second)
    claim(database)

    mark_sent(database, first, now=NOW + timedelta(seconds=5))

    stored = rows(database)
    assert stored[first.statement_id].status == OUTBOX_SENT
    assert stored[first.statement_id].sent_at == NOW + timedelta(seconds=5)
    assert stored[second.statement_id].status == OUTBOX_PENDING
    # After the lease, only the unsent row comes back.
    assert ids(claim(database, NOW + timedelta(hours=1))) == [second.statement_id]
    with database.reading() as session:
        counts = outbox.counts(session)
    assert (counts.pending, counts.sent, counts.dead) == (1, 1, 0)
    assert counts.last_sent_at == NOW + timedelta(seconds=5)


def test_dead_letters_keep_the_reason_and_come_back_with_retry_dead(
    database: Database,
) -> None:
    rejected, fine = statement(1), statement(2)
    add(database, rejected, fine)
    claim(database)
    with database.transaction() as session:
        outbox.mark_dead(session, rejected.statement_id, "400: object.id is not an IRI")
    mark_sent(database, fine)

    assert claim(database, NOW + timedelta(hours=1)) == []
    with database.reading() as session:
        letters = outbox.dead_letters(session)
        counts = outbox.counts(session)
    assert [(d.statement_id, d.reason) for d in letters] == [
        (rejected.statement_id, "400: object.id is not an IRI")
    ]
    assert letters[0].created_at == NOW
    assert counts.dead == 1

    later = NOW + timedelta(hours=2)
    with database.transaction() as session:
        assert outbox.retry_dead(session, later) == 1
    with database.reading() as session:
        assert outbox.dead_letters(session) == []
        assert outbox.counts(session).dead == 0
    back = claim(database, later)
    assert ids(back) == [rejected.statement_id]
    assert back[0].attempts == 1


def test_dead_letters_are_listed_oldest_first_up_to_the_limit(database: Database) -> None:
    queued = [statement(n) for n in range(4)]
    add(database, *queued)
    with database.transaction() as session:
        for s in reversed(queued):
            outbox.mark_dead(session, s.statement_id, f"rejected {s.statement_id}")

    with database.reading() as session:
        letters = outbox.dead_letters(session, limit=3)

    assert [d.statement_id for d in letters] == [s.statement_id for s in queued[:3]]


def test_counts_of_an_empty_outbox(database: Database) -> None:
    with database.reading() as session:
        counts = outbox.counts(session)

    assert (counts.pending, counts.sent, counts.dead) == (0, 0, 0)
    assert counts.oldest_pending_at is None
    assert counts.last_sent_at is None


def test_counts_report_when_the_oldest_pending_statement_was_queued(
    database: Database,
) -> None:
    add(database, statement(1), now=NOW)
    add(database, statement(2), now=NOW + timedelta(minutes=10))
    add(database, statement(3), now=NOW + timedelta(minutes=20))
    with database.transaction() as session:
        first = outbox.claim_batch(session, NOW + timedelta(minutes=30), 1, LEASE)
        outbox.mark_sent(session, ids(first), NOW + timedelta(minutes=31))

    with database.reading() as session:
        counts = outbox.counts(session)

    assert counts.pending == 2
    assert counts.oldest_pending_at == NOW + timedelta(minutes=10)
    assert counts.oldest_pending_at.tzinfo is not None
    assert counts.last_sent_at == NOW + timedelta(minutes=31)


def test_bodies_since_filters_by_period_and_actor_oldest_first(database: Database) -> None:
    day = timedelta(days=1)
    late = statement(when=NOW + 2 * day)
    early = statement(when=NOW)
    middle = statement(when=NOW + day, actor="U0BOB")
    before = statement(when=NOW - day)
    after = statement(when=NOW + 3 * day)
    add(database, late, early, middle, before, after)  # queued out of time order

    with database.reading() as session:
        period = list(outbox.bodies_since(session, NOW, NOW + 3 * day))
        open_ended = list(outbox.bodies_since(session, NOW + day))
        bobs = list(outbox.bodies_since(session, NOW - day, actor_id="U0BOB"))

    assert period == [early.body, middle.body, late.body]
    assert open_ended == [middle.body, late.body, after.body]
    assert bobs == [middle.body]


def test_concurrent_forwarders_never_claim_the_same_row(database: Database) -> None:
    queued = [statement(n) for n in range(200)]
    add(database, *queued)
    start = threading.Barrier(4)
    claimed: list[list[str]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def forwarder(mine: list[str]) -> None:
        try:
            start.wait(10)
            while batch := claim(database, limit=3, lease=timedelta(hours=1)):
                mine.extend(ids(batch))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=forwarder, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    everything = Counter(sid for mine in claimed for sid in mine)
    assert [sid for sid, n in everything.items() if n > 1] == []
    assert set(everything) == {s.statement_id for s in queued}
    # Each forwarder still sends its own rows in queue order.
    position = {s.statement_id: i for i, s in enumerate(queued)}
    for mine in claimed:
        assert [position[sid] for sid in mine] == sorted(position[sid] for sid in mine)


def test_a_claim_that_outlived_its_lease_can_no_longer_touch_rows_another_claim_took(
    database: Database,
) -> None:
    first, second = statement(1), statement(2)
    add(database, first, second)
    stalled = claim(database)
    later = NOW + LEASE + timedelta(seconds=1)
    taken_over = claim(database, now=later)
    assert ids(taken_over) == ids(stalled)
    old, new = stalled[0].claim_token, taken_over[0].claim_token
    assert old != new

    with database.transaction() as session:
        # The stalled forwarder tries to renew before its next POST: nothing is its own now.
        assert outbox.hold(session, ids(stalled), old, later, LEASE) == set()
        # Nor can it give the rows back or dead-letter them under the new claim's feet.
        outbox.release(session, ids(stalled), later, "timeout", old)
        outbox.mark_dead(session, first.statement_id, "400", old)

    stored = rows(database)
    assert {r.status for r in stored.values()} == {OUTBOX_PENDING}
    assert {r.claim_token for r in stored.values()} == {new}
    assert all(r.attempts == 0 for r in stored.values())
    # The claim that holds them renews its lease.
    with database.transaction() as session:
        renewed = outbox.hold(session, ids(taken_over), new, later + LEASE / 2, LEASE)
    assert renewed == set(ids(taken_over))
    assert claim(database, now=later + LEASE + timedelta(seconds=1)) == []


def test_hold_confirms_only_rows_still_pending_under_the_claim(database: Database) -> None:
    kept, sent, erased = statement(1), statement(2), statement(3)
    add(database, kept, sent, erased)
    claimed = claim(database)
    token = claimed[0].claim_token
    mark_sent(database, sent)
    with database.transaction() as session:
        outbox.delete_statements(session, [erased.statement_id])
        held = outbox.hold(session, ids(claimed), token, NOW, LEASE)

    assert held == {kept.statement_id}
