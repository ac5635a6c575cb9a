"""Where Slack installations live when guildbot is distributed with OAuth: slack_sdk's SQLAlchemy
installation and OAuth state stores, on guildbot's own database (tables from migration 0040).

Those stores are synchronous; Bolt's async app wants async ones. These adapters run each call on
the blocking executor, as every repository call is run, so a slow database never holds up the
event loop.
"""

from __future__ import annotations

import logging
from logging import Logger

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.executor import BlockingExecutor
from storage.database import Database
from storage.models import slack_bots, slack_installations, slack_oauth_states

LOG = logging.getLogger("guildbot.installations")

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
    """The one-time `state` of each install link, so a callback proves it began here."""

    def __init__(self, database: Database, executor: BlockingExecutor) -> None:
        self._store = SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRES_S,
            engine=database.engine,
            table_name=slack_oauth_states.name,
            logger=LOG,
        )
        self._run = executor.run

    @property
    def logger(self) -> Logger:
        return LOG

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        return await self._run(self._store.issue)

    async def async_consume(self, state: str) -> bool:
        return await self._run(self._store.consume, state)
