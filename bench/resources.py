"""`/resources` query latency on SQLite (FTS5) and PostgreSQL (GIN expression index) at
100,000 shared resources.

Seeds one workspace with `--resources` resources (plus 5 % in another workspace): titles
made from templates over a vocabulary drawn with a Zipf skew (a few topics in most titles, a
long tail in few), one to three skills each (likewise skewed), rare tokens in some titles
(ticket ids, code names), opens and reactions skewed the same way, shared over three years.
Rows go in with SQLAlchemy core executemany, so the SQLite index is filled by the very
triggers of migration 0030 that keep it in production; `ANALYZE` runs after the load on
PostgreSQL, as autovacuum would. SQLite is a migrated file in a temporary directory,
PostgreSQL a scratch database on `--postgres` (skipped, saying why, when unreachable, or with
`--no-postgres`).

Then it times `ResourceService.search(team, typed)`, the domain call behind `/resources`
(its own unit of work, as the handler does), for `--queries` queries after a warm-up: a
common skill (`python`, matched by tens of thousands), a skill alias, two words, a title as
someone remembers it, a rare token and a word nobody used. It prints p50/p95/p99/max in ms
per kind and overall.

    .venv/bin/python bench/resources.py [--postgres URL] [--no-postgres] [--resources 100000]
        [--queries 500] [--seed 1]

Exit status 0 when p99 is within budget (30 ms) on every database measured, else 1.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench._databases import postgres_database, sqlite_database  # noqa: E402
from bot.domain.resources import ResourceService  # noqa: E402
from bot.domain.skill_names import SkillNames  # noqa: E402
from bot.xapi.statements import StatementBuilder, XapiIdentity  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Resource  # noqa: E402

TEAM = "T0BENCH"
OTHER_TEAM = "T0OTHER"
BUDGET_MS = 30.0
CHUNK = 5_000
WARMUP = 50
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HISTORY = timedelta(days=3 * 365)

SKILLS = [
    "python",
    "kubernetes",
    "javascript",
    "docker",
    "postgresql",
    "terraform",
    "react",
    "security",
    "machine-learning",
    "go",
    "rust",
    "aws",
    "observability",
    "kafka",
    "java",
    "public-speaking",
    "product-management",
    "design",
    "statistics",
    "elixir",
    "haskell",
    "c++",
    "accessibility",
    "testing",
    "incident-response",
    "graphql",
    "ios",
    "android",
]
WORDS = [
    "guide",
    "introduction",
    "tips",
    "deep",
    "dive",
    "patterns",
    "production",
    "testing",
    "performance",
    "migration",
    "debugging",
    "security",
    "design",
    "handbook",
    "talk",
    "workshop",
    "notes",
    "cheatsheet",
    "tutorial",
    "architecture",
    "scaling",
    "monitoring",
    "caching",
    "async",
    "types",
    "memory",
    "profiling",
    "deployment",
    "review",
    "checklist",
    "pitfalls",
    "lessons",
    "postmortem",
    "roadmap",
    "primer",
    "reference",
    "playbook",
]
TEMPLATES = [
    "{w1} {w2} for {s}",
    "{s} {w1}: {w2} and {w3}",
    "A {w1} to {s} {w2}",
    "{s} in {w1}",
    "{w1} {s} {w2} {rare}",
]


def zipf(items: Sequence[str], rng: random.Random, s: float = 1.1) -> str:
    weights = [1 / (rank + 1) ** s for rank in range(len(items))]
    return rng.choices(items, weights)[0]


def rows(count: int, seed: int, team: str, offset: int) -> Iterable[dict[str, Any]]:
    rng = random.Random(seed)
    for n in range(count):
        skills = list(dict.fromkeys(zipf(SKILLS, rng) for _ in range(rng.randint(1, 3))))
        fields = {
            "w1": zipf(WORDS, rng),
            "w2": zipf(WORDS, rng),
            "w3": zipf(WORDS, rng),
            "s": skills[0].replace("-", " "),
            "rare": f"INC-{rng.randint(1000, 99999)}" if rng.random() < 0.3 else "",
        }
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "team_id": team,
            "key": f"https://example.com/{team}/{offset + n}",
            "url": f"https://example.com/{offset + n}",
            "title": rng.choice(TEMPLATES).format(**fields).strip(),
            "kind": rng.choice(["link", "link", "document", "video"]),
            "tags": " ".join(skills),
            "community_id": None,
            "channel_id": "C0BENCH",
            "message_ts": None,
            "shared_by": f"U{rng.randint(0, 2000):06d}",
            # Oldest first, as they were shared.
            "shared_at": NOW - HISTORY + HISTORY * (n / count),
            "opens": int(rng.paretovariate(1.5)) - 1,
            "reactions": int(rng.paretovariate(2.0)) - 1,
        }


def seed(database: Database, count: int, seed_: int) -> None:
    loads = [(TEAM, count, 0), (OTHER_TEAM, count // 20, count)]
    for team, total, offset in loads:
        batch: list[dict[str, Any]] = []
        for row in rows(total, seed_ + offset, team, offset):
            batch.append(row)
            if len(batch) == CHUNK:
                _insert(database, batch)
                batch = []
        if batch:
            _insert(database, batch)
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def _insert(database: Database, batch: list[dict[str, Any]]) -> None:
    with database.engine.begin() as connection:
        connection.execute(insert(Resource), batch)


def queries(count: int, seed_: int) -> list[tuple[str, str]]:
    rng = random.Random(seed_)
    kinds = [
        ("common skill", lambda: "python"),
        ("skill", lambda: zipf(SKILLS, rng)),
        ("alias", lambda: rng.choice(["k8s", "js", "postgres", "ml"])),
        ("two words", lambda: f"{zipf(WORDS, rng)} {zipf(SKILLS, rng)}"),
        ("title", lambda: f"{zipf(WORDS, rng)} {zipf(WORDS, rng)} {zipf(SKILLS, rng)}"),
        ("rare token", lambda: f"INC-{rng.randint(1000, 99999)}"),
        ("nothing", lambda: rng.choice(["knitting", "sourdough", "origami"])),
    ]
    return [(kind, make()) for kind, make in (rng.choice(kinds) for _ in range(count))]


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def measure(database: Database, args: argparse.Namespace) -> float:
    identity = XapiIdentity(TEAM, "https://bench.slack.com/", "https://bench.slack.com/guildbot")
    service = ResourceService(database, StatementBuilder(identity), lambda: NOW, SkillNames())
    asked = queries(args.queries + WARMUP, args.seed)
    for _, typed in asked[:WARMUP]:
        service.search(TEAM, typed)
    by_kind: dict[str, list[float]] = {}
    for kind, typed in asked[WARMUP:]:
        started = time.perf_counter()
        service.search(TEAM, typed)
        by_kind.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    every = [ms for samples in by_kind.values() for ms in samples]
    print(f"    {'kind':<14} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms)")
    for kind, samples in [*sorted(by_kind.items()), ("all", every)]:
        print(
            f"    {kind:<14} {len(samples):>5} {percentile(samples, 0.5):>8.2f} "
            f"{percentile(samples, 0.95):>8.2f} {percentile(samples, 0.99):>8.2f} "
            f"{max(samples):>8.2f}"
        )
    return percentile(every, 0.99)


def run(name: str, database: Database, args: argparse.Namespace) -> bool:
    upgrade(database)
    started = time.perf_counter()
    seed(database, args.resources, args.seed)
    print(f"{name}: {args.resources:,} resources seeded in {time.perf_counter() - started:.0f} s")
    p99 = measure(database, args)
    within = p99 <= BUDGET_MS
    print(
        f"{name}: p99 {p99:.2f} ms, {'within' if within else 'OVER'} the {BUDGET_MS:.0f} ms budget"
    )
    return within


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(list(argv) if argv is not None else None)
    outcomes = []
    with sqlite_database() as database:
        outcomes.append(run("sqlite", database, args))
    if not args.no_postgres:
        with postgres_database(args.postgres) as database:
            if database is not None:
                outcomes.append(run("postgresql", database, args))
    sys.exit(0 if all(outcomes) else 1)


if __name__ == "__main__":
    main()
