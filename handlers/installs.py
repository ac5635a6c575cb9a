"""A workspace uninstalls guildbot, or revokes its tokens: the tokens are no longer used.

Bolt's own listeners delete the installation (distributed with OAuth; with one bot token
there is none to delete). The workspace's data stays, as the README states, until
`guildbot forget --team T…` erases it.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.services import Services
from handlers.effects import EffectRunner

log = logging.getLogger("guildbot.handlers.installs")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    store = app.installation_store
    revocations = (
        AsyncTokenRevocationListeners(store) if isinstance(store, AsyncInstallationStore) else None
    )

    async def uninstalled(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        where = installed_in(context)
        log.info("uninstalled from workspace %s", where, extra={"team": where})
        if revocations is not None:
            await revocations.handle_app_uninstalled_events(context)

    async def revoked(ack: AsyncAck, event: dict, context: AsyncBoltContext) -> None:
        await ack()
        where = installed_in(context)
        log.info("tokens revoked in workspace %s", where, extra={"team": where})
        if revocations is not None:
            await revocations.handle_tokens_revoked_events(event, context)

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)


def installed_in(context: AsyncBoltContext) -> str | None:
    """Where the installation is: a workspace, or an org (an org-wide install's events name
    no workspace)."""
    return context.team_id or context.enterprise_id
