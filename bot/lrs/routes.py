"""The inbuilt LRS's routes, under /xapi/ of the bot's web app."""

from __future__ import annotations

from aiohttp import web

from bot.lrs import documents, statements
from bot.lrs.http import PREFIX, Lrs, Resource, about, handler

RESOURCES: dict[str, Resource] = {
    "/statements": statements.resource,
    "/activities": documents.activities,
    "/activities/state": documents.state,
    "/activities/profile": documents.activity_profile,
    "/agents": documents.agents,
    "/agents/profile": documents.agent_profile,
}


def add_routes(app: web.Application, lrs: Lrs) -> None:
    """Mounts the xAPI resources (other paths under /xapi/ stay free for others)."""
    for path, resource in RESOURCES.items():
        app.router.add_route("*", PREFIX + path, handler(lrs, resource))
    app.router.add_route("*", PREFIX + "/about", about)
