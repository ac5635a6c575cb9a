"""An event whose durable write failed is not acknowledged, so Slack redelivers it.

The bot runs on PostgreSQL. The database stops taking connections and the bot's sessions are
ended: a `reaction_removed` then gets a 5xx. Once the database is back, Slack's redelivery
(`X-Slack-Retry-Num: 1`) revokes the kudos once, and the voiding statements reach the real LRS
once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlmodel import select

from storage.database import Database
from storage.models import Kudos, OutboxStatement
from tests.support.blackbox import StartBot, deliver, lrs_env, new_person
from tests.support.databases import postgres_url, scratch_postgres
from tests.support.lrs import RealLrs
from tests.support.process import BotProcess, eventually
from tests.support.slack import FakeSlack, reaction_event

pytestmark = [pytest.mark.postgres, pytest.mark.lrs]


@pytest.fixture
def bot_database() -> Iterator[str]:
    with scratch_postgres(postgres_url()) as url:
        yield url


def set_connections(url: str, allowed: bool) -> None:
    """Lets clients connect to the database again, or refuses them and ends every session."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()


def rows(bot: BotProcess) -> tuple[list[Kudos], list[OutboxStatement]]:
    database: Database = bot.database()
    try:
        with database.reading() as session:
            return list(session.exec(select(Kudos))), list(session.exec(select(OutboxStatement)))
    finally:
        database.dispose()


def delivered(bot: BotProcess) -> bool:
    _, outbox = rows(bot)
    assert all(r.status != "dead" for r in outbox)
    return all(r.status == "sent" for r in outbox)


async def test_a_removal_whose_write_failed_gets_a_5xx_and_its_redelivery_revokes_once(
    start_bot: StartBot, slack: FakeSlack, real_lrs: RealLrs, bot_database: str
) -> None:
    reactor, author = new_person(slack, "Reactor"), new_person(slack, "Author")
    bot = await start_bot(DATABASE_URL=bot_database, **lrs_env(real_lrs.endpoint))
    ts = slack.write("C0GENERAL", author, "The migration notes, step by step")
    slack.react("C0GENERAL", ts, "trophy", reactor)
    added = reaction_event("reaction_added", reactor, "trophy", "C0GENERAL", ts, author)
    assert await deliver(bot, added, "EvDB1") == 200
    await eventually(lambda: rows(bot)[0] and rows(bot)[0][0].post_ts, what="the kudos post")
    await eventually(lambda: delivered(bot), timeout=20, what="the kudos to reach the LRS")
    [kudos], _ = rows(bot)

    slack.react("C0GENERAL", ts, "trophy", reactor, add=False)
    removed = {**added, "type": "reaction_removed"}
    set_connections(bot_database, allowed=False)
    try:
        status = await deliver(bot, removed, "EvDB2")
    finally:
        set_connections(bot_database, allowed=True)

    assert status == 500
    assert "event EvDB2 not acknowledged" in bot.stderr()
    [still], _ = rows(bot)
    assert still.revoked_at is None

    assert await deliver(bot, removed, "EvDB2", retry=1) == 200
    assert await deliver(bot, removed, "EvDB2", retry=2) == 200

    await eventually(lambda: delivered(bot), timeout=20, what="the voiding statements")
    [revoked], outbox = rows(bot)
    assert revoked.revoked_at is not None
    voids = [r for r in outbox if r.voiding]
    assert len(voids) == 2
    for statement_id in (kudos.give_statement_id, kudos.receive_statement_id):
        status, stored = await real_lrs.voided_statement(statement_id)
        assert status == 200 and stored["id"] == statement_id
    for void in voids:
        status, stored = await real_lrs.statement(void.statement_id)
        assert status == 200 and stored["object"]["objectType"] == "StatementRef"
