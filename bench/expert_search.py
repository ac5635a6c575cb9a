"""`/expert` query latency on SQLite and PostgreSQL at the issue's sizes.

Seeds one workspace with 50,000 people, 200,000 declared skills, 20,000 endorsements and
20,000 kudos that each name a skill, over ~1,000 skills whose popularity follows a Zipf law
(the most popular, `python`, is declared by tens of thousands of people, the rarest by a handful).
Some people are cached as deleted or bots, some opted out, a few kudos are revoked; evidence
dates spread over three years so every recency weight is used. Each (skill, person) standing
(`skill_standing`, what `/expert` reads) is computed in Python with `bot.domain.standing.score()`
from the seeded evidence, as `standing.refresh` would (people who opted out get none). Seeding
uses bulk inserts (SQLAlchemy core executemany) into a migrated SQLite file in a temporary
directory and into a scratch PostgreSQL database (created like tests/support/databases.py does,
dropped afterwards); a sample of the stored standings is then checked against
`standing.score(skills_repo.evidence(...))` read back from the database.

Then it times the domain calls behind `/expert`, each in its own unit of work as the handler
runs them: `ExpertFinder.rank(team_id, slug)` for skills drawn with the same skew people declare
with (so popular skills are searched most), after a warm-up, and `ExpertFinder.match` for exact,
alias, close and unknown topics. It prints p50/p95/p99/max in ms per database, and the plans
of the queries `rank` sends for the slowest skill when p99 is over the budget (20 ms) or
`--explain` asks for it.
Last, it moves the clock `--idle-days` on and times the first `rank` of the most popular skills,
which rescores every row whose evidence aged into a lower band meanwhile (and the second, which
has nothing left to rescore).

    .venv/bin/python bench/expert_search.py [--postgres URL] [--no-postgres] [--people 50000]
        [--declarations 200000] [--endorsements 20000] [--kudos 20000] [--skills 1000]
        [--queries 500] [--seed 1] [--idle-days 30] [--explain]

Exit status 0 when p99 of `rank` is within budget on every database measured, else 1.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the repository root holds `bot`, `storage` and `tests`.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, event, func, select, text  # noqa: E402

from bench._databases import postgres_database, sqlite_database  # noqa: E402
from bot.domain import standing  # noqa: E402
from bot.domain.experts import TOP, ExpertFinder  # noqa: E402
from bot.domain.skill_names import SHIPPED_ALIASES, SkillNamesByTeam  # noqa: E402
from bot.domain.skills import SkillsService  # noqa: E402
from bot.xapi.statements import StatementBuilders, XapiIdentity  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Endorsement,
    Kudos,
    KudosSkill,
    Person,
    PersonSkill,
    Skill,
    SkillOptOut,
    SkillStanding,
)
from storage.repositories import skills as skills_repo  # noqa: E402

TEAM = "T0BENCH"
BUDGET_MS = 20.0
CHUNK = 5_000
WARMUP = 50
MATCH_ROUNDS = 100
CHECKED_STANDINGS = 500
IDLE_SKILLS = 10
LEVELS = ("learning", "practitioner", "expert")
LEVEL_WEIGHTS = (0.3, 0.5, 0.2)
DELETED_SHARE, BOT_SHARE, OPTED_OUT_SHARE, REVOKED_SHARE = 0.02, 0.01, 0.005, 0.03
EVIDENCE_ONLY_SHARE = 0.2  # kudos naming a skill the receiver never declared
HISTORY = timedelta(days=3 * 365)

# The head of the distribution: real names, most popular first (and the shipped aliases'
# canonical names, so alias topics match). The tail is generated.
POPULAR = [
    "python",
    "javascript",
    "sql",
    "excel",
    "public-speaking",
    "project-management",
    "react",
    "typescript",
    "amazon-web-services",
    "kubernetes",
    "java",
    "machine-learning",
    "user-experience",
    "golang",
    "postgresql",
    "terraform",
    "csharp",
    "nodejs",
    "docker",
    "google-cloud",
    "microsoft-azure",
    "cplusplus",
    "continuous-integration",
    "rust",
    "user-interface",
    "artificial-intelligence",
    "data-analysis",
    "figma",
    "negotiation",
    "technical-writing",
]
_PREFIXES = [
    "data",
    "cloud",
    "web",
    "mobile",
    "api",
    "security",
    "network",
    "game",
    "embedded",
    "quantum",
    "finance",
    "legal",
    "sales",
    "marketing",
    "design",
    "hr",
    "product",
    "support",
    "research",
    "devops",
]
_SUFFIXES = [
    "design",
    "testing",
    "ops",
    "architecture",
    "analytics",
    "modelling",
    "governance",
    "automation",
    "strategy",
    "migration",
    "monitoring",
    "review",
    "planning",
    "reporting",
    "compliance",
    "tuning",
    "platform",
    "pipelines",
    "onboarding",
    "accessibility",
    "localisation",
    "pricing",
    "forecasting",
    "audits",
    "budgeting",
    "coaching",
    "mentoring",
    "interviewing",
    "storytelling",
    "visualisation",
    "scraping",
    "caching",
    "scheduling",
    "recovery",
    "hardening",
    "scaling",
    "benchmarking",
    "profiling",
    "debugging",
    "refactoring",
    "documentation",
    "estimation",
    "facilitation",
    "negotiation",
    "partnerships",
]


# Data --------------------------------------------------------------------------------------------


def skill_names(count: int) -> list[str]:
    """`count` distinct canonical names, most popular first."""
    names = list(dict.fromkeys([*POPULAR, *SHIPPED_ALIASES]))
    for prefix, suffix in itertools.product(_PREFIXES, _SUFFIXES):
        names.append(f"{prefix}-{suffix}")
    names = list(dict.fromkeys(names))
    n = len(names)
    while len(names) < count:
        names.append(f"skill-{n:05d}")
        n += 1
    return names[:count]


class Zipf:
    """Draws indexes 0..n-1 with probability ∝ 1 / (i + 1) ** s."""

    def __init__(self, n: int, s: float, rng: random.Random) -> None:
        weights = [1.0 / (i + 1) ** s for i in range(n)]
        self._cumulative = list(itertools.accumulate(weights))
        self._rng = rng

    def draw(self) -> int:
        return bisect.bisect(self._cumulative, self._rng.random() * self._cumulative[-1])


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Seed:
    """Rows for each table, as plain dicts for executemany."""

    skills: list[str]
    now: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    declarations_per_skill: Counter[str] = field(default_factory=Counter)
    evidence_per_skill: Counter[str] = field(default_factory=Counter)


def generate(args: argparse.Namespace, now: datetime) -> Seed:
    rng = random.Random(args.seed)
    seed = Seed(skill_names(args.skills), now)
    zipf = Zipf(len(seed.skills), args.zipf, rng)
    users = [f"U{n:08d}" for n in range(args.people)]

    def moment(within: timedelta) -> datetime:
        return now - timedelta(seconds=rng.random() * within.total_seconds())

    seed.tables["skill"] = [
        {"team_id": TEAM, "slug": slug, "created_at": now - HISTORY} for slug in seed.skills
    ]
    people = []
    for user_id in users:
        roll = rng.random()
        people.append(
            {
                "team_id": TEAM,
                "user_id": user_id,
                "display_name": f"Person {user_id}",
                "email": None,
                "tz": "UTC",
                "deleted": roll < DELETED_SHARE,
                "is_bot": DELETED_SHARE <= roll < DELETED_SHARE + BOT_SHARE,
                "refreshed_at": now,
            }
        )
    seed.tables["person"] = people
    seed.tables["skill_opt_out"] = [
        {"team_id": TEAM, "user_id": user_id, "opted_out_at": moment(HISTORY)}
        for user_id in rng.sample(users, int(len(users) * OPTED_OUT_SHARE))
    ]

    wanted = min(args.declarations, args.people * len(seed.skills) // 2)
    pairs: dict[tuple[str, str], None] = {}
    while len(pairs) < wanted:
        pairs.setdefault((rng.choice(users), seed.skills[zipf.draw()]), None)
    declarations = list(pairs)
    seed.tables["person_skill"] = []
    for user_id, slug in declarations:
        declared_at = moment(HISTORY)
        seed.tables["person_skill"].append(
            {
                "team_id": TEAM,
                "user_id": user_id,
                "slug": slug,
                "level": rng.choices(LEVELS, LEVEL_WEIGHTS)[0],
                "declared_at": declared_at,
                "updated_at": declared_at,
            }
        )
        seed.declarations_per_skill[slug] += 1

    # Endorsements go to declared skills: popular skills collect most of them.
    endorsements: dict[tuple[str, str, str], dict[str, Any]] = {}
    while len(endorsements) < min(args.endorsements, len(declarations) * (args.people - 1) // 2):
        user_id, slug = rng.choice(declarations)
        endorser = rng.choice(users)
        if endorser != user_id:
            endorsements.setdefault(
                (endorser, user_id, slug),
                {
                    "team_id": TEAM,
                    "endorser_id": endorser,
                    "user_id": user_id,
                    "slug": slug,
                    "statement_id": _uuid(rng),
                    "created_at": moment(HISTORY),
                },
            )
    seed.tables["endorsement"] = list(endorsements.values())
    seed.evidence_per_skill.update(row["slug"] for row in endorsements.values())

    seed.tables["kudos"], seed.tables["kudos_skill"] = [], []
    for n in range(args.kudos):
        if rng.random() < EVIDENCE_ONLY_SHARE:
            receiver, slug = rng.choice(users), seed.skills[zipf.draw()]
        else:
            receiver, slug = rng.choice(declarations)
        giver = rng.choice(users)
        kudos_id = _uuid(rng)
        created_at = moment(HISTORY)
        seed.tables["kudos"].append(
            {
                "id": kudos_id,
                "team_id": TEAM,
                "giver_id": giver,
                "receiver_id": receiver,
                "reason": f"for the help with {slug}",
                "tags": [slug],
                "channel_id": "C0BENCH",
                "source": "command",
                "source_key": f"bench-{n}",
                "message_ts": None,
                "post_ts": None,
                "permalink": None,
                "give_statement_id": _uuid(rng),
                "receive_statement_id": _uuid(rng),
                "created_at": created_at,
                "revoked_at": created_at + timedelta(minutes=3)
                if rng.random() < REVOKED_SHARE
                else None,
            }
        )
        seed.tables["kudos_skill"].append(
            {
                "kudos_id": kudos_id,
                "slug": slug,
                "team_id": TEAM,
                "receiver_id": receiver,
                "created_at": created_at,
            }
        )
        seed.evidence_per_skill[slug] += 1
    seed.tables["skill_standing"] = standings(seed)
    return seed


def standings(seed: Seed) -> list[dict[str, Any]]:
    """Every (skill, person) standing, scored by `standing.score()` from the seeded evidence
    exactly as `standing.refresh` scores it from the database (one refresh per pair would take
    minutes at these sizes)."""
    levels = {(r["slug"], r["user_id"]): r["level"] for r in seed.tables["person_skill"]}
    endorsed: dict[tuple[str, str], list[datetime]] = {}
    for r in seed.tables["endorsement"]:
        endorsed.setdefault((r["slug"], r["user_id"]), []).append(r["created_at"])
    revoked = {k["id"] for k in seed.tables["kudos"] if k["revoked_at"] is not None}
    kudos: dict[tuple[str, str], list[datetime]] = {}
    for r in seed.tables["kudos_skill"]:
        # Revoked kudos keep their link but count for nothing (as `skills_repo.evidence`).
        pair = kudos.setdefault((r["slug"], r["receiver_id"]), [])
        if r["kudos_id"] not in revoked:
            pair.append(r["created_at"])
    opted_out = {r["user_id"] for r in seed.tables["skill_opt_out"]}
    bands = standing.bands(seed.now)
    rows = []
    for slug, user_id in dict.fromkeys([*levels, *endorsed, *kudos]):
        if user_id in opted_out:
            continue
        evidence = skills_repo.Evidence(
            levels.get((slug, user_id)),
            skills_repo.Dated.of(endorsed.get((slug, user_id), ()), bands),
            skills_repo.Dated.of(kudos.get((slug, user_id), ()), bands),
        )
        row = standing.score(TEAM, slug, user_id, evidence)
        if row is not None:
            rows.append(row.model_dump())
    return rows


MODELS = {
    "skill": Skill,
    "person": Person,
    "skill_opt_out": SkillOptOut,
    "person_skill": PersonSkill,
    "endorsement": Endorsement,
    "kudos": Kudos,
    "kudos_skill": KudosSkill,
    "skill_standing": SkillStanding,
}


def insert(database: Database, seed: Seed) -> dict[str, int]:
    """Bulk inserts (executemany, one transaction per table); returns the row counts."""
    for name, model in MODELS.items():
        table = model.__table__  # type: ignore[attr-defined]
        rows = seed.tables[name]
        with database.engine.begin() as connection:
            for start in range(0, len(rows), CHUNK):
                connection.execute(table.insert(), rows[start : start + CHUNK])
    if database.dialect == "postgresql":
        # Autovacuum analyses a freshly loaded table within a minute; do it now.
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    counts = {}
    with database.engine.connect() as connection:
        for name, model in MODELS.items():
            table = model.__table__  # type: ignore[attr-defined]
            counts[name] = connection.execute(select(func.count()).select_from(table)).scalar_one()
    return counts


def check_standings(database: Database, seed: Seed, rng: random.Random) -> str:
    """Stored standings of sampled pairs against `standing.score()` of their evidence as the
    database returns it (what `standing.refresh` would store); stops the bench on a difference."""
    pairs = [(r["slug"], r["user_id"]) for r in seed.tables["person_skill"]]
    pairs += [(r["slug"], r["receiver_id"]) for r in seed.tables["kudos_skill"]]
    sample = rng.sample(pairs, min(CHECKED_STANDINGS, len(pairs)))
    fields = ("score", "pieces", "level", "endorsements", "kudos", "rescore_at")
    differ = []
    with database.reading() as session:
        for slug, user_id in sample:
            stored = session.get(SkillStanding, (TEAM, slug, user_id))
            expected = None
            if not skills_repo.opted_out(session, TEAM, user_id):
                evidence = skills_repo.evidence(
                    session, TEAM, slug, [user_id], standing.bands(seed.now)
                )[user_id]
                expected = standing.score(TEAM, slug, user_id, evidence)
            got = None if stored is None else tuple(getattr(stored, f) for f in fields)
            wanted = None if expected is None else tuple(getattr(expected, f) for f in fields)
            if got != wanted:
                differ.append(f"{slug}/{user_id}: stored {got}, evidence says {wanted}")
    if differ:
        raise SystemExit("standings differ from their evidence:\n  " + "\n  ".join(differ[:10]))
    return f"{len(sample)} sampled standings match standing.score() of their stored evidence"


# Measuring ---------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (nan for no samples)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


HEADER = f"    {'':<26} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"


def row(label: str, samples: Sequence[float]) -> str:
    return (
        f"    {label:<26} {len(samples):>5} {percentile(samples, 0.5):>8.2f} "
        f"{percentile(samples, 0.95):>8.2f} {percentile(samples, 0.99):>8.2f} "
        f"{max(samples, default=math.nan):>8.2f}"
    )


def rank_class(index: int) -> str:
    if index < 0:
        return "not a skill"
    if index < 10:
        return "top 10 skills"
    if index < 100:
        return "skills 11-100"
    return "skills 101+"


@dataclass
class Outcome:
    dialect: str
    p99_ms: float
    slowest: str


class Clock:
    """The bench's clock: real time, moved on by `idle`."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def finder_for(database: Database, clock: Clock) -> ExpertFinder:
    """Built the way bot/runtime.py::build_services builds it."""
    statements = StatementBuilders(
        XapiIdentity(TEAM, "https://bench.slack.com/", "https://guild.example.com/xapi")
    )
    names = SkillNamesByTeam()
    skills = SkillsService(database, statements, clock, names)
    return ExpertFinder(database, statements, clock, names, skills.catalogue)


def measure(dialect: str, database: Database, seed: Seed, args: argparse.Namespace) -> Outcome:
    clock = Clock()
    finder = finder_for(database, clock)
    rng = random.Random(args.seed + 1)
    zipf = Zipf(len(seed.skills), args.zipf, rng)
    index = {slug: i for i, slug in enumerate(seed.skills)}

    warmup = [*seed.skills[:10], *(seed.skills[zipf.draw()] for _ in range(WARMUP))]
    for slug in warmup:
        finder.rank(TEAM, slug)

    # Searched with the skew people declare with, plus a few topics no one has.
    queries = [seed.skills[zipf.draw()] for _ in range(args.queries)]
    for n in range(0, len(queries), 50):
        queries[n] = f"no-such-skill-{n}"
    samples: list[tuple[str, float]] = []
    found = 0
    for slug in queries:
        started = time.perf_counter()
        experts = finder.rank(TEAM, slug)
        samples.append((slug, (time.perf_counter() - started) * 1000))
        found += bool(experts)
    everything = [ms for _, ms in samples]

    print(f"  ExpertFinder.rank(team, slug), top {TOP}: {len(samples)} queries, ms")
    print(HEADER)
    print(row("all", everything))
    print_classes(samples, index)
    per_skill: dict[str, list[float]] = {}
    for slug, ms in samples:
        per_skill.setdefault(slug, []).append(ms)
    for slug in seed.skills[:3]:
        declared = seed.declarations_per_skill[slug]
        evidence = seed.evidence_per_skill[slug]
        label = f"{slug} ({declared:,}+{evidence:,})"
        print(row(label, per_skill.get(slug, [])))
    print(f"    ({found} of {len(queries)} queries found someone; a skill's figures in brackets")
    print("     are its declarations + endorsements and kudos)")

    measure_matches(finder, seed)

    worst = max(per_skill, key=lambda slug: percentile(per_skill[slug], 0.5))
    p99 = percentile(everything, 0.99)
    within = p99 <= BUDGET_MS
    print(
        f"  p99 rank {p99:.2f} ms ≤ {BUDGET_MS:g} ms: {'yes' if within else 'NO'} "
        f"(slowest skill by median: {worst})"
    )
    if args.explain or not within:
        explain(database, finder, worst)
    if args.idle_days:
        idle(database, finder, clock, seed, args.idle_days)
    return Outcome(dialect, p99, worst)


def print_classes(samples: list[tuple[str, float]], index: dict[str, int]) -> None:
    """The rank times by how popular the searched skill is."""
    classes: dict[str, list[float]] = {}
    for slug, ms in samples:
        classes.setdefault(rank_class(index.get(slug, -1)), []).append(ms)
    for label in ("top 10 skills", "skills 11-100", "skills 101+", "not a skill"):
        if label in classes:
            print(row(label, classes[label]))


def measure_matches(finder: ExpertFinder, seed: Seed) -> None:
    """How long matching a typed topic to a skill takes, by how it matches."""
    print(f"  ExpertFinder.match(team, topic): {MATCH_ROUNDS} rounds per kind, ms")
    print(HEADER)
    topics = {
        "exact": ["python", "kubernetes", seed.skills[-1]],
        "alias": ["k8s", "JS", "py", "Postgres"],
        "close": ["pyhton", "kubernets", "javascirpt"],
        "none": ["underwater basket weaving", "zzz"],
    }
    for kind, typed in topics.items():
        matches = [finder.match(TEAM, t) for t in typed]
        wrong = [m.typed for m in matches if (m.how or "none") != kind]
        times = [timed(lambda t=t: finder.match(TEAM, t)) for t in typed * MATCH_ROUNDS]
        note = f"  (matched otherwise: {', '.join(wrong)})" if wrong else ""
        print(row(kind, times) + note)


def idle(database: Database, finder: ExpertFinder, clock: Clock, seed: Seed, days: int) -> None:
    """The first search of each popular skill after `days` without any rescores it all."""
    clock.offset += timedelta(days=days)
    print(
        f"  after {days} days with no search: ExpertFinder.rank of the {IDLE_SKILLS} most "
        "declared skills, ms"
    )
    print(f"    {'':<26} {'rows due':>8} {'1st rank':>9} {'2nd rank':>9}")
    for slug in seed.skills[:IDLE_SKILLS]:
        with database.reading() as session:
            due = len(skills_repo.due_for_rescore(session, TEAM, slug, clock()))
        first = timed(lambda slug=slug: finder.rank(TEAM, slug))
        second = timed(lambda slug=slug: finder.rank(TEAM, slug))
        print(f"    {slug:<26} {due:>8,} {first:>9.2f} {second:>9.2f}")


def explain(database: Database, finder: ExpertFinder, slug: str) -> None:
    """The plan of every query `ExpertFinder.rank` sends for one skill, exactly as sent."""
    postgres = database.dialect == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    sent: list[tuple[str, Any]] = []

    def capture(
        _conn: Connection, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        finder.rank(TEAM, slug)
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    kind = "EXPLAIN (ANALYZE, BUFFERS)" if postgres else "EXPLAIN QUERY PLAN"
    print(f"  query plans of ExpertFinder.rank({slug!r}) ({kind}):")
    with database.engine.connect() as connection:
        for statement, parameters in sent:
            print("    " + " ".join(statement.split()))
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            if postgres:
                for (line,) in rows:
                    print(f"      {line}")
                continue
            depth: dict[int, int] = {0: 0}
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                print(f"      {'  ' * (depth[node] - 1)}{detail}")


# Databases ---------------------------------------------------------------------------------------


def counts_line(counts: dict[str, int]) -> str:
    return " · ".join(f"{name} {count:,}" for name, count in counts.items())


def run(dialect: str, database: Database, seed: Seed, args: argparse.Namespace) -> Outcome:
    started = time.monotonic()
    upgrade(database)
    counts = insert(database, seed)
    print(f"{dialect}: migrated and seeded in {time.monotonic() - started:.1f} s")
    print(f"  rows: {counts_line(counts)}")
    print(f"  {check_standings(database, seed, random.Random(args.seed + 2))}")
    return measure(dialect, database, seed, args)


def on_sqlite(seed: Seed, args: argparse.Namespace) -> Outcome:
    with sqlite_database() as database:
        return run("sqlite", database, seed, args)


def on_postgres(seed: Seed, args: argparse.Namespace) -> Outcome | None:
    with postgres_database(args.postgres) as database:
        return None if database is None else run("postgresql", database, seed, args)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="/expert query latency on SQLite and PostgreSQL.")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="server to create a scratch database on",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--declarations", type=int, default=200_000, help="person_skill rows")
    parser.add_argument("--endorsements", type=int, default=20_000)
    parser.add_argument("--kudos", type=int, default=20_000, help="kudos, each naming a skill")
    parser.add_argument("--skills", type=int, default=1_000, help="skills in the catalogue")
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity skew exponent")
    parser.add_argument("--queries", type=int, default=500, help="rank() calls measured")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--idle-days",
        type=int,
        default=30,
        help="then time the first search after this many days without one (0: skip)",
    )
    parser.add_argument("--explain", action="store_true", help="always print the query plan")
    args = parser.parse_args(None if argv is None else list(argv))
    if min(args.people, args.skills, args.queries) < 2 or args.declarations < 1:
        parser.error("--people, --skills and --queries must be at least 2, --declarations 1")
    if min(args.endorsements, args.kudos, args.idle_days) < 0:
        parser.error("--endorsements, --kudos and --idle-days cannot be negative")

    started = time.monotonic()
    seed = generate(args, datetime.now(UTC))
    standings_s = time.monotonic() - started
    top = ", ".join(f"{s} {seed.declarations_per_skill[s]:,}" for s in seed.skills[:3])
    rarest = min(seed.declarations_per_skill.values())
    print(
        f"expert search: {args.people:,} people, {len(seed.tables['person_skill']):,} "
        f"declarations, {len(seed.tables['endorsement']):,} endorsements, {args.kudos:,} kudos "
        f"naming a skill, {len(seed.skills):,} skills (Zipf s={args.zipf:g}; most declared: "
        f"{top}; fewest: {rarest}); generated with {len(seed.tables['skill_standing']):,} "
        f"standings in {standings_s:.1f} s"
    )
    outcomes = [on_sqlite(seed, args)]
    if not args.no_postgres:
        outcomes.append(on_postgres(seed, args))
    measured = [o for o in outcomes if o is not None]
    print()
    for outcome in measured:
        verdict = "within" if outcome.p99_ms <= BUDGET_MS else "OVER"
        print(f"{outcome.dialect:<10} p99 rank {outcome.p99_ms:8.2f} ms  {verdict} budget")
    print(f"({time.monotonic() - started:.0f} s in all)")
    sys.exit(0 if all(o.p99_ms <= BUDGET_MS for o in measured) else 1)


if __name__ == "__main__":
    main()
