"""`guildbot` command line: run the bot, and the operator's tools.

guildbot [run]                       start the bot (same as python -m bot)
guildbot start                       the bot when SLACK_BOT_TOKEN is set, else the playground
guildbot playground [--lrs-endpoint URL --lrs-key K --lrs-secret S]
                                     the real bot against a local stand-in of Slack, with a page
guildbot status                      the database, the outbox, each process's forwarder
guildbot db upgrade                  apply database migrations
guildbot outbox status [--team T…]   pending / dead-lettered statements, with reasons
guildbot outbox retry-dead [--team T…]
                                     queue dead-lettered statements again
guildbot export --since DATE [--team T…]
                                     statements as JSON lines on stdout
guildbot report --since DATE [--team T…]
                                     counts per person and per skill tag for L&D (CSV or JSON)
guildbot forget --user U…            erase a person (voids what reached the LRS)
guildbot forget --team T…            erase a whole workspace (voids what reached the LRS)
guildbot lrs credentials add NAME [--read-only] | list | revoke NAME
                                     HTTP Basic keys of the inbuilt LRS (/xapi/)
guildbot lrs replay --to URL         send everything the inbuilt LRS holds to another LRS

The operator's commands (status, db, outbox, export, report, forget, lrs) need only the database,
never Slack settings; `--dir PATH` points them at a playground's data. `--team T…` restricts
outbox, export and report to one workspace (without it: every workspace's data).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

from bot import operations
from bot.clock import utcnow
from bot.config import ConfigError, Settings, load_log_settings, load_settings
from bot.domain import erasure
from bot.domain.reporting import build_report
from bot.health import replicas
from bot.logs import configure_logging
from bot.lrs import credentials as lrs_credentials
from bot.lrs.replay import ReplayStopped, Target, replay
from bot.runtime import StartupError, build_services, serve, workspace_facts
from bot.views.chart import activity_chart, activity_legend
from bot.xapi.statements import StatementBuilders
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories import workspaces

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        configure_logging(*load_log_settings())
        code: int = args.action(args)
        sys.stdout.flush()  # a reader that has gone shows here, not at the interpreter's exit
        return code
    except (ConfigError, StartupError) as problem:
        print(f"guildbot: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        # The reader stopped early (`guildbot report … | head`): end quietly, as other
        # command-line tools do. What is still buffered goes nowhere instead of failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guildbot", description="Social learning in Slack.")
    # The commands below `data` only read or change the database: no Slack settings needed.
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--dir",
        metavar="PATH",
        help="use the data of the playground in PATH (e.g. .playground) instead of DATABASE_URL",
    )
    # For the commands below `data` that read or change every workspace's data.
    one_team = argparse.ArgumentParser(add_help=False)
    one_team.add_argument(
        "--team",
        metavar="T…",
        help="only this workspace's data (its Slack team id, e.g. T012AB3CD); default: all",
    )
    parser.set_defaults(action=_run)
    commands = parser.add_subparsers(title="commands")
    commands.add_parser("run", help="start the bot").set_defaults(action=_run)
    start = commands.add_parser(
        "start", help="start the bot, or the playground when no Slack token is configured"
    )
    _playground_options(start)
    start.set_defaults(action=_start, lrs_endpoint=None, lrs_key=None, lrs_secret=None)
    playground = commands.add_parser(
        "playground", help="try guildbot without Slack: the real bot, a stand-in Slack, a page"
    )
    _playground_options(playground)
    _playground_lrs_options(playground)
    playground.set_defaults(action=_playground)

    commands.add_parser(
        "status",
        parents=[data],
        help="the database, the outbox, each process's forwarder, dead letters",
    ).set_defaults(action=_status)

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    db.add_parser("upgrade", parents=[data], help="apply migrations").set_defaults(
        action=_db_upgrade
    )

    outbox = commands.add_parser("outbox", help="the xAPI outbox").add_subparsers(required=True)
    outbox.add_parser(
        "status", parents=[data, one_team], help="pending and dead-lettered statements"
    ).set_defaults(action=_outbox_status)
    outbox.add_parser(
        "retry-dead", parents=[data, one_team], help="queue dead-lettered statements again"
    ).set_defaults(action=_outbox_retry_dead)

    export = commands.add_parser(
        "export", parents=[data, one_team], help="statements as JSON lines on stdout"
    )
    export.add_argument("--since", required=True, type=_date, help="YYYY-MM-DD (UTC), inclusive")
    export.add_argument("--until", type=_date, help="YYYY-MM-DD (UTC), exclusive")
    export.set_defaults(action=_export)

    report = commands.add_parser(
        "report",
        parents=[data, one_team],
        help="counts per person and per skill tag for L&D (aggregates only)",
    )
    report.add_argument("--since", required=True, type=_date, help="YYYY-MM-DD (UTC), inclusive")
    report.add_argument("--until", type=_date, help="YYYY-MM-DD (UTC), exclusive; default now")
    report.add_argument("--format", choices=("csv", "json"), default="csv", help="default csv")
    report.add_argument(
        "--chart", metavar="FILE.png", help="also write a PNG chart of weekly activity"
    )
    report.set_defaults(action=_report)

    forget = commands.add_parser("forget", parents=[data], help="erase a person or a workspace")
    whom = forget.add_mutually_exclusive_group(required=True)
    whom.add_argument("--user", help="a person's Slack user id, e.g. U012AB3CD")
    whom.add_argument("--team", help="a workspace's Slack team id, e.g. T012AB3CD: all its data")
    forget.set_defaults(action=_forget)
    _lrs_commands(commands, data)
    return parser


def _lrs_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], data: argparse.ArgumentParser
) -> None:
    lrs = commands.add_parser("lrs", help="the inbuilt LRS (xAPI under /xapi/)").add_subparsers(
        required=True
    )
    keys = lrs.add_parser("credentials", help="its HTTP Basic keys").add_subparsers(required=True)
    add = keys.add_parser(
        "add", parents=[data], help="make a key (its secret is shown once, then only hashed)"
    )
    add.add_argument("name", help="who the key is for, e.g. dashboard")
    add.add_argument(
        "--read-only", action="store_true", help="it can read but not write (for analytics tools)"
    )
    add.set_defaults(action=_lrs_key_add)
    keys.add_parser("list", parents=[data], help="the keys, without secrets").set_defaults(
        action=_lrs_key_list
    )
    revoke = keys.add_parser("revoke", parents=[data], help="refuse a key from now on")
    revoke.add_argument("name", help="the key's name (or the key itself)")
    revoke.set_defaults(action=_lrs_key_revoke)
    replay = lrs.add_parser(
        "replay",
        parents=[data],
        help="send every stored statement to another LRS (LRS_KEY, LRS_SECRET: its credentials)",
    )
    replay.add_argument(
        "--to", required=True, metavar="URL", help="e.g. https://lrs.example.com/xAPI/"
    )
    replay.set_defaults(action=_lrs_replay)


def _date(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date: expected YYYY-MM-DD") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _data_settings(args: argparse.Namespace) -> Settings:
    """Settings for the commands that only touch the database: Slack settings are not needed,
    and `--dir` points at a playground's data instead of DATABASE_URL."""
    if args.dir is None:
        return load_settings(slack=False)
    from bot.playground.server import DATABASE_FILE, data_environment

    directory = Path(args.dir)
    if not (directory / DATABASE_FILE).is_file():
        raise ConfigError(
            f"--dir {args.dir}: no playground data there (no {DATABASE_FILE}); "
            f"it is made by `guildbot playground --dir {args.dir}`"
        )
    return load_settings({**os.environ, **data_environment(directory)}, slack=False)


def _open_database(settings: Settings) -> Database:
    database = Database(settings.database_url)
    upgrade(database)
    return database


def _run(_: argparse.Namespace) -> int:
    settings = load_settings()
    # Non-zero when shutdown had to cut short work that was not recorded for the next process.
    return 0 if asyncio.run(serve(settings)) else 1


def _playground_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, help="the page's port on localhost (default: PORT, else 3000)"
    )
    parser.add_argument("--dir", default=".playground", help="where the playground keeps its data")
    parser.add_argument(
        "--no-seed", action="store_true", help="start empty: no seed skills or question"
    )


def _playground_lrs_options(parser: argparse.ArgumentParser) -> None:
    # The playground never takes the operator's LRS_* settings: an LRS is named here or not used.
    lrs = parser.add_argument_group(
        "LRS", "send the statements to this LRS (default: none; they stay in the outbox)"
    )
    lrs.add_argument("--lrs-endpoint", metavar="URL", help="e.g. http://localhost:8080/xAPI/")
    lrs.add_argument("--lrs-key", metavar="KEY", help="the LRS client's Basic-auth key")
    lrs.add_argument("--lrs-secret", metavar="SECRET", help="the LRS client's Basic-auth secret")


def _check_playground_lrs(args: argparse.Namespace) -> None:
    """One line naming the option when the LRS given is unusable; the values are never echoed."""
    if args.lrs_endpoint is None:
        if args.lrs_key or args.lrs_secret:
            raise ConfigError("--lrs-key and --lrs-secret need --lrs-endpoint, the LRS to send to")
        return
    parsed = urlparse(args.lrs_endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError("--lrs-endpoint is not a URL: expected e.g. http://localhost:8080/xAPI/")
    if parsed.username is not None or parsed.password is not None:
        raise ConfigError(
            "--lrs-endpoint must not hold credentials: give them as --lrs-key and --lrs-secret"
        )
    if not (args.lrs_key and args.lrs_secret):
        raise ConfigError(
            "--lrs-endpoint needs --lrs-key and --lrs-secret (the LRS client's Basic-auth pair)"
        )


def _slack_configured() -> bool:
    """A bot token in the environment or the .env file: the operator means the real Slack."""
    values: dict[str, str | None] = {}
    if Path(".env").is_file():
        values.update(dotenv_values(".env"))
    values.update(os.environ)
    return bool((values.get("SLACK_BOT_TOKEN") or "").strip())


def _start(args: argparse.Namespace) -> int:
    if _slack_configured():
        return _run(args)
    print(
        "guildbot: no Slack settings (SLACK_BOT_TOKEN is not set): starting the playground. "
        "See README.md to connect a real workspace.",
        file=sys.stderr,
    )
    return _playground(args)


def _playground(args: argparse.Namespace) -> int:
    from bot.playground.server import DEFAULT_PORT, PlaygroundOptions, run_playground

    port = args.port
    if port is None:
        raw = (os.environ.get("PORT") or "").strip()
        port = int(raw) if raw.isdigit() else DEFAULT_PORT
    _check_playground_lrs(args)
    options = PlaygroundOptions(
        directory=Path(args.dir),
        port=port,
        seed=not args.no_seed,
        lrs_endpoint=args.lrs_endpoint,
        lrs_key=args.lrs_key,
        lrs_secret=args.lrs_secret,
    )
    asyncio.run(run_playground(options))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    _open_database(_data_settings(args))
    print("database is up to date")
    return 0


TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")


def _team(database: Database, team_id: str | None) -> str | None:
    """The workspace `--team` names (None: every workspace); an unknown one is refused."""
    if team_id is None:
        return None
    if not TEAM_ID.match(team_id):
        raise ConfigError(f"--team {team_id!r} is not a Slack team id: expected e.g. T012AB3CD")
    with database.reading() as session:
        known = sorted(w.team_id for w in workspaces.every(session))
    if team_id not in known:
        raise ConfigError(
            f"--team {team_id}: no workspace {team_id} in this database "
            f"(it has {', '.join(known) or 'none yet'})"
        )
    return team_id


def _outbox_status(args: argparse.Namespace) -> int:
    database = _open_database(_data_settings(args))
    team_id = _team(database, args.team)
    counts = operations.outbox_counts(database, team_id)
    print(f"pending: {counts.pending}")
    print(f"sent:    {counts.sent}")
    print(f"dead:    {counts.dead}")
    if counts.oldest_pending_at:
        print(f"oldest pending since: {counts.oldest_pending_at.isoformat()}")
    if counts.last_sent_at:
        print(f"last delivery: {counts.last_sent_at.isoformat()}")
    for letter in operations.dead_letters(database, team_id=team_id):
        print(f"dead {letter.statement_id}: {letter.reason}")
    return 0


def _status(args: argparse.Namespace) -> int:
    """What public /healthz keeps to itself, for the operator (exit 1: no database)."""
    settings = _data_settings(args)
    try:
        database = _open_database(settings)
        counts = operations.outbox_counts(database)
        processes = replicas(database)
        dead = operations.dead_letters(database)
        stored, keys = operations.inbuilt_lrs_counts(database)
    except Exception as error:
        print(f"database: unavailable ({type(error).__name__})")
        return EXIT_FAILED
    now = utcnow()
    print("database: ok")
    oldest = (
        f" (oldest since {_when(counts.oldest_pending_at)})" if counts.oldest_pending_at else ""
    )
    last = f" (last delivery {_when(counts.last_sent_at)})" if counts.last_sent_at else ""
    print(f"outbox: {counts.pending} pending{oldest}, {counts.sent} sent{last}, {counts.dead} dead")
    copy = " (a read-only copy: LRS_ENDPOINT is the LRS)" if settings.lrs_configured else ""
    print(f"inbuilt LRS: {stored} statement(s) stored, {keys} key(s){copy}")
    for process in processes:
        stopped = " (no check since: stopped?)" if process.stale(now) else ""
        detail = f": {process.forwarder_detail}" if process.forwarder_detail else ""
        print(
            f"process {process.process_id}: checked {_when(process.checked_at)}{stopped}, "
            f"forwarder {process.forwarder_state}{detail}"
        )
    if not processes:
        print("process: none running (none checked in during the last day)")
    for letter in dead:
        print(f"dead {letter.statement_id}: {letter.reason}")
    return 0


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _outbox_retry_dead(args: argparse.Namespace) -> int:
    database = _open_database(_data_settings(args))
    team_id = _team(database, args.team)
    queued = operations.retry_dead(database, utcnow(), team_id)
    of = f" of {team_id}" if team_id else ""
    print(f"{queued} dead-lettered statement(s){of} queued again; a running bot sends them shortly")
    return 0


def _export(args: argparse.Namespace) -> int:
    database = _open_database(_data_settings(args))
    team_id = _team(database, args.team)
    for body in operations.export_statements(database, args.since, args.until, team_id):
        sys.stdout.write(body + "\n")
    return 0


def _report(args: argparse.Namespace) -> int:
    database = _open_database(_data_settings(args))
    team_id = _team(database, args.team)
    until = args.until or utcnow()
    if until <= args.since:
        print("guildbot: --until must be after --since", file=sys.stderr)
        return EXIT_USAGE
    built = build_report(database, args.since, until, team_id)
    if args.chart:
        try:
            Path(args.chart).write_bytes(activity_chart(built.weeks, until))
        except OSError as problem:
            print(
                f"guildbot: could not write the chart to {args.chart}: {problem.strerror}",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print(
            f"weekly activity chart written to {args.chart} ({activity_legend()})",
            file=sys.stderr,
        )
    if args.format == "json":
        json.dump(built.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(built.csv_text())
    return 0


def _forget(args: argparse.Namespace) -> int:
    settings = _data_settings(args)
    database = _open_database(settings)
    with database.reading() as session:
        workspace = workspaces.get(session, args.team) if args.team else workspaces.first(session)
    if workspace is None:
        if args.team:
            print(f"guildbot: no workspace {args.team} in this database", file=sys.stderr)
            return EXIT_USAGE
        print("nothing stored yet: the bot has never started with this database")
        return 0
    facts = workspace_facts(settings, workspace.team_id, workspace.home_page, workspace.bot_user_id)
    services = build_services(settings, database, facts)
    try:
        if args.team:
            wal_cleared = _forget_workspace(database, services.statements, workspace.team_id)
        else:
            wal_cleared = _forget_person(
                database, services.statements, workspace.team_id, args.user
            )
    finally:
        services.executor.shutdown()
    if not wal_cleared:
        print(
            "guildbot: the database's write-ahead log (-wal file) was busy and still holds "
            "old pages; they go at its next checkpoint (or when the bot stops)",
            file=sys.stderr,
        )
    return 0


def _forget_person(
    database: Database, statements: StatementBuilders, team_id: str, user_id: str
) -> bool:
    erased = erasure.forget_person(database, statements, team_id, user_id, utcnow())
    print(
        f"forgot {user_id}: {erased.kudos_deleted} kudos deleted, "
        f"{erased.statements_voided} statement(s) queued for voiding in the LRS, "
        f"{erased.statements_dropped} unsent statement(s) dropped, "
        f"{erased.inbuilt_lrs_deleted} statement(s) other systems stored about them deleted "
        "from the inbuilt LRS"
    )
    return erased.wal_cleared


def _forget_workspace(database: Database, statements: StatementBuilders, team_id: str) -> bool:
    erased = erasure.forget_workspace(database, statements, team_id, utcnow())
    print(
        f"forgot workspace {team_id}: {erased.rows_deleted} row(s) deleted, "
        f"{erased.statements_voided} statement(s) queued for voiding in the LRS, "
        f"{erased.statements_dropped} unsent statement(s) dropped, "
        f"{erased.inbuilt_lrs_deleted} statement(s) other systems stored about its people "
        "deleted from the inbuilt LRS. A bot still running for it stores new data again: "
        "uninstall guildbot from the workspace (or stop it) first."
    )
    return erased.wal_cleared


def _lrs_key_add(args: argparse.Namespace) -> int:
    database = _open_database(_data_settings(args))
    try:
        made = lrs_credentials.add(database, args.name, args.read_only, utcnow())
    except lrs_credentials.CredentialError as problem:
        print(f"guildbot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    access = "read-only" if made.read_only else "read-write"
    print(f"added the {access} key {made.name!r} for the inbuilt LRS (/xapi/ on the bot's address)")
    print(f"key:    {made.key}")
    print(f"secret: {made.secret}")
    print("the secret is shown only now: guildbot keeps only its hash", file=sys.stderr)
    return 0


def _lrs_key_list(args: argparse.Namespace) -> int:
    keys = lrs_credentials.every(_open_database(_data_settings(args)))
    if not keys:
        print("no keys yet: `guildbot lrs credentials add NAME [--read-only]` makes one")
    for key in keys:
        access = "read-only " if key.read_only else "read-write"
        print(f"{key.name}  {key.key}  {access}  added {_when(key.created_at)}")
    return 0


def _lrs_key_revoke(args: argparse.Namespace) -> int:
    try:
        revoked = lrs_credentials.revoke(_open_database(_data_settings(args)), args.name)
    except lrs_credentials.CredentialError as problem:
        print(f"guildbot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(f"revoked the key {revoked.name!r} ({revoked.key}): it is refused from now on")
    return 0


def _lrs_replay(args: argparse.Namespace) -> int:
    database = _open_database(_data_settings(args))
    # The target's credentials come from the environment (or .env), never the command line,
    # which other users of the machine can read.
    credentials = load_settings(slack=False)
    parsed = urlparse(args.to)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            "--to is not a URL: expected the LRS's xAPI base, e.g. https://lrs.example.com/xAPI/"
        )
    if parsed.username is not None or parsed.password is not None:
        raise ConfigError("--to must not hold credentials: set LRS_KEY and LRS_SECRET instead")
    if not (credentials.lrs_key and credentials.lrs_secret):
        raise ConfigError(
            "LRS_KEY and LRS_SECRET are not set: expected the target LRS's credentials"
        )
    target = Target(
        args.to if args.to.endswith("/") else args.to + "/",
        credentials.lrs_key,
        credentials.lrs_secret,
        credentials.xapi_version,
    )

    def progress(sent: int) -> None:
        print(f"\r{sent} statement(s) sent…", end="", file=sys.stderr, flush=True)

    try:
        report = asyncio.run(replay(database, target, progress))
    except ReplayStopped as problem:
        print(f"\nguildbot: replay stopped: {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(file=sys.stderr)
    print(f"replayed {report.sent} statement(s) to {args.to}; {len(report.rejected)} refused")
    for statement_id, reason in report.rejected:
        print(f"refused {statement_id}: {reason}")
    return EXIT_FAILED if report.rejected else 0
