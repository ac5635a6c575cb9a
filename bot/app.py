"""Builds the Bolt app and the aiohttp web app that serves it. No listeners live here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.health import DOWN
from bot.lrs.routes import add_routes as add_lrs_routes
from bot.services import Services
from bot.slack_client import PooledWebClient
from bot.slack_edge import MAX_BODY_BYTES, SlackEdge
from bot.xapi import profile
from handlers import register_all
from handlers.effects import EffectRunner
from handlers.seam import BeforeListeners, TrackedLazyRunner


def build_bolt_app(
    services: Services, client: AsyncWebClient, oauth: AsyncOAuthSettings | None = None
) -> tuple[AsyncApp, TrackedLazyRunner, EffectRunner]:
    """`oauth`: distributed with Slack's OAuth flow (`client` then has no token: Bolt gives
    each request a client with its workspace's)."""
    settings = services.settings
    app = AsyncApp(
        client=client,
        oauth_settings=oauth,
        signing_secret=settings.slack_signing_secret,
        # In Socket Mode Slack's frames are not signed; the app token authenticates the socket.
        request_verification_enabled=not settings.socket_mode,
        # Ack after the durable write, so an acked interaction survives a crash.
        process_before_response=True,
        logger=logging.getLogger("guildbot.bolt"),
    )
    lazy_runner = TrackedLazyRunner(logging.getLogger("guildbot.bolt.lazy"))
    app.listener_runner.lazy_listener_runner = lazy_runner
    if isinstance(client, PooledWebClient):
        app.use(PooledClient(client))
    effects = register_all(app, services)
    return app, lazy_runner, effects


class PooledClient(BeforeListeners):
    """Every request uses a client on the app's pooled session. Bolt otherwise builds a client
    per request on the same session (and Bolt's own lazy listeners would get deep copies of
    it, which a session cannot survive; a pooled client's copy is itself). The token is the
    request's workspace's: the app's own, or (distributed with OAuth) the one Bolt's authorize
    found. A class, not a function: a function middleware gets `say` and the like built, with
    Bolt's client, before it can swap it."""

    def __init__(self, client: PooledWebClient) -> None:
        self._client = client

    async def before(self, req: AsyncBoltRequest) -> None:
        req.context["client"] = self._client.with_token(req.context.bot_token)


class Gate:
    """Open while the process takes requests; shutdown closes it first."""

    def __init__(self) -> None:
        self.open = True


def build_web_app(bolt: AsyncApp, services: Services, gate: Gate) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        # Public: the status only, from the last background check (no query per call).
        status = services.health.status
        return web.json_response({"status": status}, status=503 if status == DOWN else 200)

    async def start_health(_: web.Application) -> None:
        await services.health.start()

    async def stop_health(_: web.Application) -> None:
        await services.health.close()

    # Public, like the vocabulary it publishes: read once, served as kept in the repository.
    profile_bytes = profile.load()

    async def xapi_profile(_: web.Request) -> web.Response:
        return web.Response(body=profile_bytes, content_type=profile.MEDIA_TYPE, charset="utf-8")

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_get("/healthz", healthz)
    # The profile first: the inbuilt LRS answers the rest of /xapi/.
    web_app.router.add_get("/xapi/profile", xapi_profile)
    add_lrs_routes(web_app, services.lrs)
    # In Socket Mode requests are not signed: never accept them over HTTP.
    if not services.settings.socket_mode:
        web_app.router.add_post("/slack/events", slack_events_handler(bolt, services, gate))
    if bolt.oauth_flow is not None:
        add_install_routes(web_app, bolt.oauth_flow)
    web_app.on_startup.append(start_health)
    web_app.on_cleanup.append(stop_health)
    return web_app


def add_install_routes(web_app: web.Application, flow: AsyncOAuthFlow) -> None:
    """Bolt's install page and OAuth redirect, served by this web app."""

    def serving(
        step: Callable[[AsyncBoltRequest], Awaitable[BoltResponse]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            bolt_request = AsyncBoltRequest(
                body="", query=request.query_string, headers=request.headers
            )
            return await to_aiohttp_response(await step(bolt_request))

        return handle

    web_app.router.add_get(flow.install_path, serving(flow.handle_installation))
    web_app.router.add_get(flow.redirect_uri_path, serving(flow.handle_callback))


def slack_events_handler(
    bolt: AsyncApp, services: Services, gate: Gate
) -> Callable[[web.Request], Awaitable[web.Response]]:
    edge = SlackEdge(services.settings.slack_signing_secret or "")

    async def slack_events(request: web.Request) -> web.Response:
        if not gate.open:
            # Slack retries events later; a slash command shows the user a failure instead
            # of silently vanishing.
            return web.Response(status=503, text="shutting down")
        body = await edge.body_of(request)
        if isinstance(body, web.Response):
            return body
        bolt_request = AsyncBoltRequest(
            body=body, query=request.query_string, headers=request.headers
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    return slack_events
