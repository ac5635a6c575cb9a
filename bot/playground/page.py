"""The playground's page: one HTML file and one small script (no build step), and the JSON
endpoints it calls. Every action turns into a signed Slack request to the bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.clock import utcnow
from bot.domain.reporting import build_report
from bot.playground.slack import Outcome
from bot.views.chart import activity_chart

if TYPE_CHECKING:
    from bot.playground.server import Playground

STATIC = Path(__file__).parent / "static"
TOKEN_SLOT = "{{playground_token}}"
LONG_POLL_S = 2.5


def add_page_routes(app: web.Application, playground: Playground) -> None:
    page = _Page(playground)
    app.router.add_get("/", page.index)
    app.router.add_get("/favicon.ico", page.favicon)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/archives/{channel}/{p}", page.archives)
    app.router.add_get("/pg/state", page.state)
    app.router.add_get("/pg/report", page.report)
    app.router.add_post("/pg/type", page.typed)
    app.router.add_post("/pg/react", page.react)
    app.router.add_post("/pg/click", page.click)
    app.router.add_post("/pg/shortcut", page.shortcut)
    app.router.add_post("/pg/submit", page.submit)
    app.router.add_post("/pg/close", page.close)
    app.router.add_post("/pg/suggest", page.suggest)
    app.router.add_post("/pg/home", page.home)
    app.router.add_post("/pg/dismiss", page.dismiss)


class _Page:
    """The page's endpoints, for one playground."""

    def __init__(self, playground: Playground) -> None:
        self.playground = playground
        self.slack = playground.slack

    async def index(self, _: web.Request) -> web.Response:
        # The run's token travels inside the page: another origin can load it but never read it.
        html = (STATIC / "index.html").read_text().replace(TOKEN_SLOT, self.playground.guard.token)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": "frame-ancestors 'none'",  # no clickjacking either
            },
        )

    async def archives(self, request: web.Request) -> web.Response:
        raw = request.match_info["p"].removeprefix("p")
        ts = f"{raw[:-6]}.{raw[-6:]}"
        raise web.HTTPFound(f"/?channel={request.match_info['channel']}&ts={ts}")

    async def state(self, request: web.Request) -> web.Response:
        user = request.query.get("user") or self.slack.people[0].id
        since = request.query.get("since")
        if since is not None and since.isdigit():
            await self.playground.wait_change(int(since), LONG_POLL_S)
        snapshot = self.slack.snapshot(user)
        snapshot["statements"] = await asyncio.to_thread(self.playground.statements)
        snapshot["lrs"] = self.playground.settings.lrs_endpoint
        snapshot["inbuilt_lrs"] = self.playground.inbuilt_lrs_url
        snapshot["kudos_emoji"] = self.playground.settings.kudos_emoji
        snapshot["qa_channel"] = self.playground.settings.qa_channel
        snapshot["seeded"] = self.playground.options.seed
        snapshot["data_dir"] = str(self.playground.options.directory)
        return web.json_response(snapshot)

    async def report(self, request: web.Request) -> web.Response:
        """What `guildbot report --dir <this playground>` gives for the same period: JSON (the
        default), CSV or the PNG chart. From the first statement made here unless `since`."""
        try:
            since = _day(request.query.get("since"))
            until = _day(request.query.get("until")) or utcnow()
        except ValueError:
            return web.Response(status=400, text="since and until are dates: YYYY-MM-DD\n")
        if since is None:
            first = await asyncio.to_thread(self.playground.first_activity)
            since = datetime.combine((first or until).astimezone(UTC).date(), time(), UTC)
        if until <= since:
            return web.Response(status=400, text="until must be after since\n")
        built = await asyncio.to_thread(build_report, self.playground.database, since, until)
        wanted = request.query.get("format", "json")
        if wanted == "csv":
            return web.Response(
                text=built.csv_text(),
                content_type="text/csv",
                headers={"Content-Disposition": 'attachment; filename="guildbot-report.csv"'},
            )
        if wanted == "png":
            chart = await asyncio.to_thread(activity_chart, built.weeks, until)
            return web.Response(body=chart, content_type="image/png")
        return web.json_response(built.as_json())

    async def typed(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(
            await self.slack.type_message(
                data["user"], data["channel"], data.get("text", ""), data.get("thread_ts")
            )
        )

    async def react(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(
            await self.slack.react(
                data["user"], data["channel"], data["ts"], data["name"], bool(data["add"])
            )
        )

    async def click(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(
            await self.slack.click(
                data["user"],
                data["action"],
                channel=data.get("channel"),
                ts=data.get("ts"),
                ephemeral=data.get("ephemeral"),
                view_id=data.get("view_id"),
                values=data.get("values"),
            )
        )

    async def shortcut(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(
            await self.slack.shortcut(
                data["user"], data["callback_id"], data["channel"], data["ts"]
            )
        )

    async def submit(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(
            await self.slack.submit(data["user"], data["view_id"], data.get("values") or {})
        )

    async def close(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(await self.slack.close_view(data["user"], data["view_id"]))

    async def suggest(self, request: web.Request) -> web.Response:
        data = await request.json()
        outcome, options = await self.slack.suggest(
            data["user"],
            data["view_id"],
            data["action_id"],
            data["block_id"],
            data.get("value", ""),
        )
        return _answer(outcome, options=options)

    async def home(self, request: web.Request) -> web.Response:
        data = await request.json()
        return _answer(await self.slack.open_home(data["user"]))

    async def dismiss(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.slack.dismiss(data["user"], data["id"])
        return _answer(Outcome(0))

    async def favicon(self, _: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/static/favicon.svg")


def _answer(outcome: Outcome, **extra: Any) -> web.Response:
    return web.json_response({**outcome.to_json(), **extra})


def _day(raw: str | None) -> datetime | None:
    """A YYYY-MM-DD query value as midnight UTC, as `guildbot report` reads its dates."""
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
