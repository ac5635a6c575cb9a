"""The database writer's share of a kudos, without HTTP, Slack or the event loop.

`bench/ack_latency.py` measures a whole kudos, and on this project's machines its figures move
by a fifth from one run to the next. This runs only what the group-commit writer runs for a
`/kudos` before its ack (`KudosService.give`: the quota, the kudos, its two statements in the
outbox and the inbuilt LRS, the recognition owed), in batches as the writer takes them, on a
SQLite file and on a scratch PostgreSQL database, and prints the CPU time per kudos of each
round. Compare two trees by running it in each, alternately.

    .venv/bin/python bench/kudos_writer.py [--kudos 4000] [--batch 8] [--rounds 3] [--postgres URL]

`--pages`: then, on SQLite, which pages one more transaction of `--batch` kudos writes to the
write-ahead log (a commit writes each changed page whole, and the checkpoint copies it again),
by the table or index each belongs to.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import struct
import sys
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._databases import postgres_database, sqlite_database  # noqa: E402
from bench._servers import GIVER_COUNT  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.domain.kudos import GiveKudos, KudosService  # noqa: E402
from bot.domain.people import Profile  # noqa: E402
from bot.domain.skill_names import SkillNamesByTeam  # noqa: E402
from bot.domain.skills import SkillsService  # noqa: E402
from bot.xapi.statements import StatementBuilders, XapiIdentity  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.repositories import channels as channels_repo  # noqa: E402

TEAM = "T0GUILD"
CHANNEL = "C0GENERAL"
GIVERS = [Profile(f"U0GIVER{n:02d}", f"Giver {n}") for n in range(GIVER_COUNT)]
BOB = Profile("U0BOB", "Bob", "bob@example.com")
# As `ack_latency.py`'s bot is set: the environment's defaults, givers never out of kudos.
SETTINGS = load_settings(
    {"KUDOS_DAILY_LIMIT": "10000000", "KUDOS_MANAGER_DAILY_LIMIT": "10000000"},
    env_file=None,
    slack=False,
).workspace_defaults


def kudos_service(database: Database) -> KudosService:
    statements = StatementBuilders(
        XapiIdentity(
            team_id=TEAM,
            home_page="https://acme.slack.com/",
            activity_base="https://guild.example.com/xapi",
        )
    )
    now = lambda: datetime.now(UTC)  # noqa: E731
    skills = SkillsService(database, statements, now, SkillNamesByTeam())
    return KudosService(database, statements, now, skills)


def requests(label: str, count: int) -> list[GiveKudos]:
    """A `/kudos <@U0BOB> …` each, the givers taking turns as in `ack_latency.py`."""
    return [
        GiveKudos(
            team_id=TEAM,
            giver=GIVERS[n % len(GIVERS)],
            receivers=(BOB,),
            reason=f"for the great demo number {n}",
            values=(),
            channel_id=CHANNEL,
            source="command",
            source_key=f"bench.{label}.{n}",
        )
        for n in range(count)
    ]


def cpu_per_kudos(
    database: Database, kudos: KudosService, label: str, args: argparse.Namespace
) -> float:
    """Gives `--kudos` kudos, `--batch` to a transaction; the process's CPU ms per kudos."""
    given = requests(label, args.kudos)
    started = time.process_time()
    give(database, kudos, given, args.batch)
    return 1000 * (time.process_time() - started) / args.kudos


def give(database: Database, kudos: KudosService, given: list[GiveKudos], batch: int) -> None:
    """As the group-commit writer does: `batch` kudos to a transaction."""
    for start in range(0, len(given), batch):
        with database.batch() as session:
            for request in given[start : start + batch]:
                kudos.give(request, SETTINGS)
                session.expunge_all()


def pages_written(
    database: Database, kudos: KudosService, args: argparse.Namespace
) -> Counter[str]:
    """The pages one transaction of `--batch` kudos writes to SQLite's log, by b-tree: the log
    is emptied first, and each frame's header names its page."""
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    give(database, kudos, requests("pages", args.batch), args.batch)
    path = database.engine.url.database or ""
    log = Path(path + "-wal").read_bytes()
    (page_size,) = struct.unpack(">I", log[8:12])
    frame = 24 + page_size  # a frame: its header (the page number first), then the page
    pages = {struct.unpack(">I", log[at : at + 4])[0] for at in range(32, len(log), frame)}
    with closing(sqlite3.connect(path)) as connection:  # dbstat: the b-tree of each page
        owner = dict(connection.execute("SELECT pageno, name FROM dbstat"))
    return Counter(owner.get(page, "(free)") for page in pages)


def run(name: str, database: Database, args: argparse.Namespace) -> None:
    upgrade(database)
    with database.transaction() as session:
        channels_repo.remember(session, TEAM, CHANNEL, "general", datetime.now(UTC))
    kudos = kudos_service(database)
    cpu_per_kudos(database, kudos, "warm-up", argparse.Namespace(**{**vars(args), "kudos": 200}))
    figures = [cpu_per_kudos(database, kudos, f"round{n}", args) for n in range(args.rounds)]
    shown = " / ".join(f"{f:.3f}" for f in figures)
    print(
        f"{name:>10}: {statistics.median(figures):.3f} ms CPU per kudos "
        f"(median of {args.rounds}: {shown}), {args.batch} to a transaction",
        flush=True,
    )
    if args.pages and database.is_sqlite:
        pages = pages_written(database, kudos, args)
        print(f"{'':>10}  pages one transaction of {args.batch} writes: {pages.total()}")
        for btree, count in pages.most_common():
            print(f"{count:>16}  {btree}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=4000, help="kudos per round")
    parser.add_argument("--batch", type=int, default=8, help="kudos per transaction")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run there too")
    parser.add_argument("--cpu", type=int, default=0, help="the core to run on")
    parser.add_argument(
        "--pages", action="store_true", help="SQLite: the pages a transaction writes, by b-tree"
    )
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    with sqlite_database() as database:
        run("SQLite", database, args)
    if args.postgres:
        with postgres_database(args.postgres) as database:
            if database is not None:
                run("PostgreSQL", database, args)


if __name__ == "__main__":
    main()
