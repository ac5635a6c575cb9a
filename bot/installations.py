"""Where Slack installations live when guildbot is distributed with OAuth: slack_sdk's SQLAlchemy
installation and OAuth state stores, on guildbot's own database (tables from migration 0040).

Those stores are synchronous; Bolt's async app wants async ones. These adapters run each call on
the blocking executor, as every repository call is run, so a slow database never holds up the
event loop.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from logging import Logger
from urllib.parse import urlsplit

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.executor import BlockingExecutor
from storage.database import Database
from storage.models import slack_bots, slack_installations
from storage.repositories import installations as installations_repo
from storage.repositories import oauth_states
from storage.repositories.installations import InstalledTeam

LOG = logging.getLogger("guildbot.installations")

ROTATE_BEFORE_MIN = 120
"""A rotating token is refreshed when it expires within this (Bolt's default)."""
STATE_EXPIRES_S = 600
"""How long an install link's state is good for: Slack's consent screen, read at leisure."""


class InstallationStore(AsyncInstallationStore):
    """Installations and their bots, per app (`client_id`), workspace and org."""

    def __init__(self, client_id: str, database: Database, executor: BlockingExecutor) -> None:
        self._store = SQLAlchemyInstallationStore(
            client_id=client_id,
            engine=database.engine,
            installations_table_name=slack_installations.name,
            bots_table_name=slack_bots.name,
            logger=LOG,
        )
        self._run = executor.run

    @property
    def logger(self) -> Logger:
        return LOG

    async def async_save(self, installation: Installation) -> None:
        await self._run(self._store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await self._run(self._store.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await self._run(
            self._store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self._run(
            self._store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._run(self._store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._run(
            self._store.delete_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
        )


class OAuthStateStore(AsyncOAuthStateStore):
    """The one-time `state` of each install link, so a callback proves it began here: in
    slack_sdk's table, through guildbot's own transactions (`storage.repositories.oauth_states`
    says why)."""

    def __init__(
        self, database: Database, executor: BlockingExecutor, clock: Clock = utcnow
    ) -> None:
        self._database = database
        self._run = executor.run
        self._clock = clock

    @property
    def logger(self) -> Logger:
        return LOG

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        return await self._run(self._issue)

    async def async_consume(self, state: str) -> bool:
        return await self._run(self._consume, state)

    def _issue(self) -> str:
        state = secrets.token_urlsafe(24)
        expires_at = self._clock() + timedelta(seconds=STATE_EXPIRES_S)
        with self._database.transaction() as session:
            oauth_states.issue(session, state, expires_at)
        return state

    def _consume(self, state: str) -> bool:
        with self._database.transaction() as session:
            return oauth_states.consume(session, state, self._clock())


def oauth_settings(
    settings: Settings,
    database: Database,
    executor: BlockingExecutor,
    scopes: Iterable[str],
    client: AsyncWebClient,
    installed: Callable[[Installation], Awaitable[None]],
) -> AsyncOAuthSettings:
    """Bolt's own OAuth flow on guildbot's stores: `GET /slack/install` and
    `/slack/oauth_redirect`; `installed` is told of each successful install before the
    installer sees the success page. Bolt's authorize then finds each request's token (and
    refreshes rotating tokens before they expire)."""
    assert settings.slack_client_id and settings.slack_client_secret

    async def succeeded(args: AsyncSuccessArgs) -> BoltResponse:
        await installed(args.installation)
        return await args.default.success(args)

    async def failed(args: AsyncFailureArgs) -> BoltResponse:
        LOG.warning("an install failed: %s", args.reason)
        return await args.default.failure(args)

    api = urlsplit(settings.slack_api_url)
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=sorted(scopes),
        authorization_url=f"{api.scheme}://{api.netloc}/oauth/v2/authorize",
        installation_store=InstallationStore(settings.slack_client_id, database, executor),
        state_store=OAuthStateStore(database, executor),
        state_expiration_seconds=STATE_EXPIRES_S,
        callback_options=AsyncCallbackOptions(success=succeeded, failure=failed),
        logger=LOG,
    )
    # Bolt's own authorize, but refreshing rotating tokens on SLACK_API_URL (its default
    # client is slack.com's), and remembering each token's auth.test instead of asking
    # Slack again before every ack.
    oauth.authorize = AsyncInstallationStoreAuthorize(
        logger=LOG,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        installation_store=oauth.installation_store,
        cache_enabled=True,
        client=client,
    )
    return oauth


WorkspaceClient = Callable[[InstalledTeam], Awaitable[AsyncWebClient | None]]
"""A workspace's own Slack client; None when guildbot is no longer installed there."""
Installed = Callable[[], Awaitable[list[tuple[str, AsyncWebClient]]]]
"""The workspaces guildbot is installed in right now (team ids), each with its own client."""


def workspace_clients(
    settings: Settings, store: AsyncInstallationStore, client: AsyncWebClient
) -> WorkspaceClient:
    """For work not answering a request (the tick): a workspace's own client (an org-wide
    install's for an org's data), its rotating token refreshed first, as Bolt's authorize
    does for requests; None when guildbot is no longer installed there."""
    assert settings.slack_client_id and settings.slack_client_secret
    rotator = AsyncTokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        client=client,
    )

    async def client_of(team: InstalledTeam) -> AsyncWebClient | None:
        bot = await store.async_find_bot(
            enterprise_id=team.enterprise_id,
            team_id=team.team_id,
            is_enterprise_install=team.org_wide,
        )
        if bot is None:
            return None
        refreshed = await rotator.perform_bot_token_rotation(
            bot=bot, minutes_before_expiration=ROTATE_BEFORE_MIN
        )
        if refreshed is not None:
            await store.async_save_bot(refreshed)
            bot = refreshed
        return AsyncWebClient(
            token=bot.bot_token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=client.retry_handlers,
        )

    return client_of


def installed_workspaces(
    settings: Settings,
    database: Database,
    executor: BlockingExecutor,
    store: AsyncInstallationStore,
    client: AsyncWebClient,
) -> Installed:
    """For the tick: each workspace with a bot in the installation store, with its own
    client. A workspace that uninstalled guildbot has no bot left, so none of its work is
    claimed (it waits, in case guildbot is reinstalled) and its tokens are never used."""
    assert settings.slack_client_id
    client_id = settings.slack_client_id
    client_of = workspace_clients(settings, store, client)

    def teams() -> list[InstalledTeam]:
        with database.reading() as session:
            return installations_repo.installed(session, client_id)

    async def installed() -> list[tuple[str, AsyncWebClient]]:
        found = []
        for team in await executor.run(teams):
            try:
                own = await client_of(team)
            except Exception:
                # Its token could not be refreshed (Slack slow or down): the next tick tries.
                LOG.warning(
                    "no client for workspace %s this tick: its token could not be refreshed",
                    team.team_id,
                    exc_info=True,
                    extra={"team": team.team_id},
                )
                continue
            if own is not None:  # else uninstalled since it was listed
                found.append((team.team_id, own))
        return found

    return installed
