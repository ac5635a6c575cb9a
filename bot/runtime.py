"""Start-up, serving and graceful shutdown of one guildbot process."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Gate, TrackedLazyRunner, build_bolt_app, build_web_app
from bot.clock import Clock, utcnow
from bot.config import ConfigError, Settings
from bot.domain.channels import ChannelNames
from bot.domain.communities import CommunityService
from bot.domain.digest import DigestService
from bot.domain.effects import EffectQueue
from bot.domain.experts import ExpertFinder
from bot.domain.faq import FaqSearch
from bot.domain.gaps import KnowledgeGaps
from bot.domain.home import HomeService
from bot.domain.kudos import KudosService
from bot.domain.lunchlearn import LunchLearnService
from bot.domain.people import PeopleDirectory
from bot.domain.questions import QuestionService
from bot.domain.resources import ResourceService
from bot.domain.routing import Router
from bot.domain.skill_names import SkillNamesByTeam
from bot.domain.skills import SkillsService
from bot.domain.suggestions import SuggestionService
from bot.domain.workspace import data_key
from bot.domain.workspace_settings import WorkspaceSettingsService
from bot.executor import BlockingExecutor
from bot.health import Health
from bot.installations import Installed, installed_workspaces, oauth_settings
from bot.lrs.http import Lrs, LrsIdentity
from bot.scheduler import cron_trigger, start_tick
from bot.services import Services
from bot.slack_client import build_web_client, slack_session
from bot.slack_edge import SERVER_LIMITS
from bot.xapi.forwarder import Forwarder, LrsConfig
from bot.xapi.statements import StatementBuilder, StatementBuilders, XapiIdentity
from handlers import tick_jobs
from handlers.effects import EffectRunner
from storage.database import POOL_SIZE, Database
from storage.migrate import upgrade
from storage.repositories import workspaces

log = logging.getLogger("guildbot")

GIL_SWITCH_INTERVAL_S = 0.001
LRS_WORKERS = POOL_SIZE // 2
# Group-commit writer threads (bot/executor.py). SQLite takes one writer at a time; on
# PostgreSQL a few overlap their round trips to the server.
SQLITE_WRITERS = 1
POSTGRES_WRITERS = 3
SHUTDOWN_FLUSH_S = 5.0


class StartupError(RuntimeError):
    """Start-up cannot go on; the message is one line for the operator."""


@dataclass(frozen=True)
class WorkspaceFacts:
    team_id: str
    home_page: str
    activity_base: str
    bot_user_id: str | None
    name: str | None = None
    """The workspace's name as Slack gives it today (activity names only, never an id)."""


def required_scopes(settings: Settings) -> set[str]:
    scopes = {
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        # Reaction kudos: the events, and reading the reacted-to message (thread, author kind).
        "reactions:read",
        "channels:history",
        "groups:history",
        # DMs to people who must act (e.g. a giver whose kudos an admin removed).
        "im:write",
        # Calendar files for lunch-and-learns, sent to the person's DM.
        "files:write",
        # Communities: creating their channels, inviting and removing members, joining a
        # linked channel, and the member_joined_channel / member_left_channel events.
        "channels:manage",
        "channels:join",
        "channels:read",
        "groups:read",
    }
    if settings.xapi_actor == "email":
        scopes.add("users:read.email")
    return scopes


async def discover_workspace(
    settings: Settings, client: AsyncWebClient, database: Database, clock: Clock
) -> WorkspaceFacts:
    """Asks Slack who we are, checks the token's scopes and fixes the xAPI home page."""
    try:
        identity = await client.auth_test()
    except SlackApiError as error:
        raise StartupError(
            f"SLACK_BOT_TOKEN was refused by Slack ({error.response.get('error')}): "
            "expected the bot token of an installed app (OAuth & Permissions)"
        ) from None
    except Exception as error:
        raise StartupError(
            f"SLACK_API_URL: could not reach Slack at {settings.slack_api_url} "
            f"({type(error).__name__}); check the network or the URL"
        ) from None
    granted = identity.headers.get("x-oauth-scopes") or identity.headers.get("X-OAuth-Scopes")
    if granted is not None:
        missing = required_scopes(settings) - {s.strip() for s in granted.split(",")}
        if missing:
            raise StartupError(
                f"SLACK_BOT_TOKEN lacks the scopes {', '.join(sorted(missing))}: add them under "
                "OAuth & Permissions (see app_manifest.yml) and reinstall the app"
            )
    enterprise_id = identity.get("enterprise_id") or None
    # A token installed org-wide is the org's: auth.test names the org's URL, and requests
    # from each of its workspaces are keyed by the org (`data_key`), as with OAuth.
    org_wide = bool(identity.get("is_enterprise_install"))
    if enterprise_id and not org_wide and not settings.xapi_homepage:
        raise StartupError(
            "XAPI_HOMEPAGE is not set: expected your Enterprise Grid org's URL, e.g. "
            "https://acme.enterprise.slack.com/ (user ids are org-wide on Grid)"
        )
    team_id = data_key(identity["team_id"], enterprise_id, org_wide) or identity["team_id"]

    def remember() -> str:
        with database.transaction() as session:
            stored = workspaces.remember(
                session,
                team_id=team_id,
                home_page=settings.xapi_homepage or identity["url"],
                enterprise_id=enterprise_id,
                bot_user_id=identity.get("user_id"),
                now=clock(),
            )
            return stored.home_page

    stored_home_page = await asyncio.to_thread(remember)
    return workspace_facts(
        settings, team_id, stored_home_page, identity.get("user_id"), identity.get("team")
    )


def workspace_facts(
    settings: Settings,
    team_id: str,
    stored_home_page: str,
    bot_user_id: str | None,
    name: str | None = None,
) -> WorkspaceFacts:
    """The home page and activity base in force: settings win, else what was stored at first
    start (never what Slack reports today, so a renamed workspace keeps its ids)."""
    return WorkspaceFacts(
        team_id=team_id,
        home_page=settings.xapi_homepage or stored_home_page,
        activity_base=settings.xapi_activity_base or stored_home_page.rstrip("/") + "/guildbot",
        bot_user_id=bot_user_id,
        name=name,
    )


def distribution_facts(settings: Settings) -> WorkspaceFacts:
    """The process's own identity when distributed with OAuth, for what belongs to no one
    workspace (the inbuilt LRS's authority): XAPI_HOMEPAGE, else Slack's own site."""
    api = urlsplit(settings.slack_api_url)
    slack_site = f"{api.scheme}://{api.netloc.removeprefix('api.')}/"
    return workspace_facts(settings, "", slack_site, None)


def identity_of(services: Services, facts: WorkspaceFacts) -> XapiIdentity:
    """A workspace's own xAPI identity: the process's, with the workspace's facts."""
    return replace(
        services.statements.default.identity,
        team_id=facts.team_id,
        home_page=facts.home_page,
        activity_base=facts.activity_base,
        bot_user_id=facts.bot_user_id,
        workspace_name=facts.name,
    )


async def known_workspaces(services: Services) -> None:
    """Every workspace installed so far, for requests and statements to find their own
    identity."""

    def stored() -> list[WorkspaceFacts]:
        with services.database.transaction() as session:
            rows = workspaces.every(session)
        return [
            workspace_facts(services.settings, row.team_id, row.home_page, row.bot_user_id)
            for row in rows
        ]

    for facts in await services.run(stored):
        services.statements.remember(identity_of(services, facts))


def remember_installs(
    services: Services, client: AsyncWebClient
) -> Callable[[Installation], Awaitable[None]]:
    """On each install: the workspace is stored (its home page fixed for good, as at a
    single-token start) and known to requests from then on."""

    async def installed(installation: Installation) -> None:
        team_id = installation.team_id or installation.enterprise_id or ""
        about = await client.auth_test(token=installation.bot_token)
        home_page = services.settings.xapi_homepage or installation.enterprise_url or about["url"]

        def remember() -> str:
            with services.database.transaction() as session:
                return workspaces.remember(
                    session,
                    team_id=team_id,
                    home_page=home_page,
                    enterprise_id=installation.enterprise_id,
                    bot_user_id=installation.bot_user_id,
                    now=services.clock(),
                ).home_page

        stored = await services.run(remember)
        facts = workspace_facts(
            services.settings, team_id, stored, installation.bot_user_id, about.get("team")
        )
        services.statements.remember(identity_of(services, facts))
        if installation.user_id:
            # With no L&D admins yet, the installer is the first (and sets the others).
            await services.run(services.workspace_settings.installed, team_id, installation.user_id)
        log.info("installed in workspace %s", team_id, extra={"team": team_id})

    return installed


def build_services(
    settings: Settings,
    database: Database,
    workspace: WorkspaceFacts,
    clock: Clock = utcnow,
) -> Services:
    writers = SQLITE_WRITERS if database.is_sqlite else POSTGRES_WRITERS
    executor = BlockingExecutor(POOL_SIZE, database, writers=writers)
    statements = StatementBuilders(
        XapiIdentity(
            team_id=workspace.team_id,
            home_page=workspace.home_page,
            activity_base=workspace.activity_base,
            actor_mode=settings.xapi_actor,
            include_text=settings.xapi_include_text,
            bot_user_id=workspace.bot_user_id,
            workspace_name=workspace.name,
        )
    )
    lrs = (
        LrsConfig(
            endpoint=settings.lrs_endpoint,
            key=settings.lrs_key or "",
            secret=settings.lrs_secret or "",
            version=settings.xapi_version,
        )
        if settings.lrs_endpoint
        else None
    )
    workspace_settings = WorkspaceSettingsService(database, clock, settings.workspace_defaults)
    workspace_settings.load()
    # The alias file's names in every workspace, its own aliases (an L&D setting) added over them.
    names = SkillNamesByTeam.from_file(
        settings.skill_aliases_file, lambda team_id: workspace_settings.of(team_id).skill_aliases
    )
    skills = SkillsService(database, statements, clock, names)
    experts = ExpertFinder(database, statements, clock, names, skills.catalogue)
    gaps = KnowledgeGaps(database, clock)
    kudos = KudosService(database, statements, clock, skills)
    lunchlearn = LunchLearnService(database, statements, clock, skills)
    forwarder = Forwarder(database, executor, lrs, clock=clock)
    return Services(
        settings=settings,
        database=database,
        executor=executor,
        clock=clock,
        statements=statements,
        forwarder=forwarder,
        people=PeopleDirectory(database, clock),
        channels=ChannelNames(database, clock),
        kudos=kudos,
        skills=skills,
        experts=experts,
        questions=QuestionService(
            database, statements, clock, skills, timedelta(hours=settings.qa_nudge_hours)
        ),
        routing=Router(database, clock, experts, settings.qa_max_routed_per_day),
        lunchlearn=lunchlearn,
        home=HomeService(database, clock, skills, kudos, lunchlearn),
        communities=CommunityService(database, statements, clock, names),
        resources=ResourceService(database, statements, clock, names),
        suggestions=SuggestionService(database, clock),
        effects=EffectQueue(database, clock),
        faq=FaqSearch(database, statements, clock),
        gaps=gaps,
        digest=DigestService(
            database,
            clock,
            gaps,
            settings.timezone,
        ),
        health=Health(database, executor, forwarder),
        lrs=inbuilt_lrs(settings, database, statements.default, workspace),
        workspace_settings=workspace_settings,
    )


def inbuilt_lrs(
    settings: Settings, database: Database, statements: StatementBuilder, workspace: WorkspaceFacts
) -> Lrs:
    """The inbuilt LRS: the LRS when none is configured, else a read-only local copy (its
    statements stay readable; writes go to the LRS that is the record). Its threads are its
    own, at most half the database connections: however busy readers keep it, Slack's acks
    still get threads and connections."""
    identity = LrsIdentity(
        own_authority=json.loads(statements.actor(statements.guildbot).to_json()),
        credential_home_page=workspace.activity_base.rstrip("/") + "/lrs/keys",
    )
    executor = BlockingExecutor(LRS_WORKERS)
    return Lrs(database, executor, identity, read_only=settings.lrs_configured)


async def start_services(
    settings: Settings, database: Database, client: AsyncWebClient
) -> tuple[WorkspaceFacts, Services, AsyncOAuthSettings | None]:
    """The services, for the one workspace of SLACK_BOT_TOKEN (asking Slack who it is), or
    distributed with OAuth (each installed workspace known from the database)."""
    if not settings.oauth:
        workspace = await discover_workspace(settings, client, database, utcnow)
        return workspace, build_services(settings, database, workspace), None
    workspace = distribution_facts(settings)
    services = build_services(settings, database, workspace)
    await known_workspaces(services)
    oauth = oauth_settings(
        settings,
        database,
        services.executor,
        required_scopes(settings),
        client,
        remember_installs(services, client),
    )
    return workspace, services, oauth


def installed_in(
    settings: Settings,
    services: Services,
    workspace: WorkspaceFacts,
    client: AsyncWebClient,
    oauth: AsyncOAuthSettings | None,
) -> Installed:
    """Where the tick works: the one workspace of SLACK_BOT_TOKEN, or each one with a bot in
    the installation store, with its own token."""
    if oauth is None:

        async def the_one() -> list[tuple[str, AsyncWebClient]]:
            return [(workspace.team_id, client)]

        return the_one
    return installed_workspaces(
        settings, services.database, services.executor, oauth.installation_store, client
    )


async def migrated_database(settings: Settings) -> Database:
    """The database, its migrations applied; a start-up error naming DATABASE_URL otherwise."""
    database = Database(settings.database_url)
    try:
        await asyncio.to_thread(upgrade, database)
    except Exception as error:
        raise StartupError(
            f"DATABASE_URL: could not open or migrate the database ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200]})"
        ) from None
    return database


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, host: str | None = None
) -> bool:
    """Runs until SIGTERM or SIGINT (or `stop`, when given: then the caller owns the signals),
    then shuts down in order without losing acked work. `host` overrides the HOST setting."""
    # Database threads hold the GIL for up to the switch interval (5 ms by default) while the
    # event loop waits to answer Slack; 1 ms keeps ack latency close to bare Bolt's.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    # A malformed DIGEST_CRON stops start-up here, before anything else, naming it.
    cron_trigger(settings.digest_cron, settings.timezone)
    database = await migrated_database(settings)
    session = slack_session()
    client = build_web_client(settings, session)
    try:
        workspace, services, oauth = await start_services(settings, database, client)
    except BaseException:
        await session.close()
        raise
    bolt, lazy_runner, effects = build_bolt_app(services, client, oauth)
    installed = installed_in(settings, services, workspace, client, oauth)
    gate = Gate()
    runner = web.AppRunner(
        build_web_app(bolt, services, gate), access_log=None, shutdown_timeout=5, **SERVER_LIMITS
    )
    await runner.setup()
    host = host or settings.host
    await web.TCPSite(runner, host=host, port=settings.port).start()
    socket_handler = None
    if settings.slack_app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(bolt, settings.slack_app_token)
        await socket_handler.connect_async()
    await services.forwarder.start()
    tick = start_tick(tick_jobs(services, effects, installed))
    # Everything built so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise pause request handling.
    gc.freeze()
    address = f"{host or 'every interface'}, port {settings.port}"
    serves = (
        "GET /healthz for health checks (Slack's requests come over Socket Mode's connection)"
        if socket_handler
        else "POST /slack/events for Slack's requests and GET /healthz for health checks"
    )
    if oauth:
        serves += "; GET /slack/install to install it in a workspace"
    serves += "; /xapi/ for the inbuilt LRS" + (
        " (a read-only copy: LRS_ENDPOINT is the LRS)" if settings.lrs_configured else ""
    )
    log.info(
        "guildbot ready: listening on %s: %s; workspace %s",
        address,
        serves,
        workspace.team_id or "each one installed",
        extra={"host": host or "*", "port": settings.port, "team": workspace.team_id},
    )
    if not settings.qa_channel:
        log.warning(
            "QA_CHANNEL is not set: /ask answers that Q&A is not set up in each workspace "
            "whose L&D admins have not picked a Q&A channel in App Home (L&D settings)"
        )

    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()

    log.info("shutting down: no new requests; finishing %d in-flight tasks", lazy_runner.in_flight)
    gate.open = False
    if socket_handler:
        await socket_handler.close_async()
    grace = settings.shutdown_grace
    dropped, _ = await asyncio.gather(
        finish_in_flight(lazy_runner, effects, grace), tick.stop(grace)
    )
    await services.forwarder.flush(SHUTDOWN_FLUSH_S)
    await services.forwarder.close()
    await runner.cleanup()
    await session.close()
    services.executor.shutdown()
    services.lrs.executor.shutdown()
    database.dispose()
    log.info("stopped")
    return dropped == 0


async def finish_in_flight(
    lazy_runner: TrackedLazyRunner, effects: EffectRunner, grace: float
) -> int:
    """Lets work already acknowledged finish for up to `grace` seconds, then hands the Slack
    effects still owed to the next process. Returns how many tasks were cut short with work
    that was not recorded anywhere (0 when nothing acknowledged was dropped)."""
    await lazy_runner.wait(grace)
    cut_short = lazy_runner.in_flight
    try:
        handed_over = await effects.hand_over()
    except Exception:
        # Their leases run out instead: the next process still does them, a little later.
        log.exception("could not hand the Slack effects in flight over; their leases expire")
        handed_over = cut_short
    await lazy_runner.cancel()
    if cut_short:
        log.warning(
            "shutdown grace (%g s) over: %d tasks cut short, %d Slack effects handed over to "
            "the next process",
            grace,
            cut_short,
            handed_over,
        )
    else:
        log.info("every acknowledged request finished")
    return max(cut_short - handed_over, 0)


__all__ = [
    "ConfigError",
    "StartupError",
    "build_services",
    "discover_workspace",
    "serve",
    "workspace_facts",
]
