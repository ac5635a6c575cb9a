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
    slack = playground.slack

    async def index(_: web.Request) -> web.Response:
        # The run's token travels inside the page: another origin can load it but never read it.
        html = (STATIC / "index.html").read_text().replace(TOKEN_SLOT, playground.guard.token)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": "frame-ancestors 'none'",  # no clickjacking either
            },
        )

    async def archives(request: web.Request) -> web.Response:
        raw = request.match_info["p"].removeprefix("p")
        ts = f"{raw[:-6]}.{raw[-6:]}"
        raise web.HTTPFound(f"/?channel={request.match_info['channel']}&ts={ts}")

    async def state(request: web.Request) -> web.Response:
        user = request.query.get("user") or playground.slack.people[0].id
        since = request.query.get("since")
        if since is not None and since.isdigit():
            await playground.wait_change(int(since), LONG_POLL_S)
        snapshot = slack.snapshot(user)
        snapshot["statements"] = await asyncio.to_thread(playground.statements)
        snapshot["lrs"] = playground.settings.lrs_endpoint
        snapshot["inbuilt_lrs"] = playground.inbuilt_lrs_url
        snapshot["kudos_emoji"] = playground.settings.kudos_emoji
        snapshot["qa_channel"] = playground.settings.qa_channel
        snapshot["seeded"] = playground.options.seed
        snapshot["data_dir"] = str(playground.options.directory)
        return web.json_response(snapshot)

    async def report(request: web.Request) -> web.Response:
        """What `guildbot report --dir <this playground>` gives for the same period: JSON (the
        default), CSV or the PNG chart. From the first statement made here unless `since`."""
        try:
            since = _day(request.query.get("since"))
            until = _day(request.query.get("until")) or utcnow()
        except ValueError:
            return web.Response(status=400, text="since and until are dates: YYYY-MM-DD\n")
        if since is None:
            first = await asyncio.to_thread(playground.first_activity)
            since = datetime.combine((first or until).astimezone(UTC).date(), time(), UTC)
        if until <= since:
            return web.Response(status=400, text="until must be after since\n")
        built = await asyncio.to_thread(build_report, playground.database, since, until)
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

    def answer(outcome: Outcome, **extra: Any) -> web.Response:
        return web.json_response({**outcome.to_json(), **extra})

    async def typed(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(
            await slack.type_message(
                data["user"], data["channel"], data.get("text", ""), data.get("thread_ts")
            )
        )

    async def react(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(
            await slack.react(
                data["user"], data["channel"], data["ts"], data["name"], bool(data["add"])
            )
        )

    async def click(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(
            await slack.click(
                data["user"],
                data["action"],
                channel=data.get("channel"),
                ts=data.get("ts"),
                ephemeral=data.get("ephemeral"),
                view_id=data.get("view_id"),
                values=data.get("values"),
            )
        )

    async def shortcut(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(
            await slack.shortcut(data["user"], data["callback_id"], data["channel"], data["ts"])
        )

    async def submit(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(await slack.submit(data["user"], data["view_id"], data.get("values") or {}))

    async def close(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(await slack.close_view(data["user"], data["view_id"]))

    async def suggest(request: web.Request) -> web.Response:
        data = await request.json()
        outcome, options = await slack.suggest(
            data["user"],
            data["view_id"],
            data["action_id"],
            data["block_id"],
            data.get("value", ""),
        )
        return answer(outcome, options=options)

    async def home(request: web.Request) -> web.Response:
        data = await request.json()
        return answer(await slack.open_home(data["user"]))

    async def dismiss(request: web.Request) -> web.Response:
        data = await request.json()
        slack.dismiss(data["user"], data["id"])
        return answer(Outcome(0))

    async def favicon(_: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/static/favicon.svg")

    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/archives/{channel}/{p}", archives)
    app.router.add_get("/pg/state", state)
    app.router.add_get("/pg/report", report)
    app.router.add_post("/pg/type", typed)
    app.router.add_post("/pg/react", react)
    app.router.add_post("/pg/click", click)
    app.router.add_post("/pg/shortcut", shortcut)
    app.router.add_post("/pg/submit", submit)
    app.router.add_post("/pg/close", close)
    app.router.add_post("/pg/suggest", suggest)
    app.router.add_post("/pg/home", home)
    app.router.add_post("/pg/dismiss", dismiss)


def _day(raw: str | None) -> datetime | None:
    """A YYYY-MM-DD query value as midnight UTC, as `guildbot report` reads its dates."""
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
