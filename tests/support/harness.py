"""The real guildbot app (Bolt + aiohttp web app + database) on loopback, for handler tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Gate, TrackedLazyRunner, build_bolt_app, build_web_app
from bot.clock import Clock, utcnow
from bot.config import Settings, load_settings
from bot.runtime import build_services, discover_workspace
from bot.services import Services
from bot.slack_client import build_web_client, slack_session
from handlers.effects import EffectRunner
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories import workspaces
from tests.support.slack import (
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    block_action_body,
    block_suggestion_body,
    event_body,
    message_shortcut_body,
    sign,
    slash_command_body,
    view_action_body,
    view_submission_body,
)


def bot_env(tmp_path: Path, slack: FakeSlack, **overrides: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'guildbot.db'}",
    }
    env.update(overrides)
    return env


class BotHarness:
    def __init__(self, settings: Settings, slack: FakeSlack, clock: Clock = utcnow) -> None:
        self.settings = settings
        self.slack = slack
        self.clock = clock
        self.services: Services
        self.lazy: TrackedLazyRunner
        self.effects: EffectRunner
        self.slack_client: AsyncWebClient
        self._server: TestServer
        self._http: ClientSession

    async def start(self) -> BotHarness:
        database = Database(self.settings.database_url)
        upgrade(database)
        # One pooled session for Slack's Web API, as `python -m bot` has.
        self._slack_session = slack_session()
        client = build_web_client(self.settings, self._slack_session)
        self.slack_client = client
        workspace = await discover_workspace(self.settings, client, database, self.clock)
        self.services = build_services(self.settings, database, workspace, self.clock)
        bolt, self.lazy, self.effects = build_bolt_app(self.services, client)
        self._server = TestServer(build_web_app(bolt, self.services, Gate()), host="127.0.0.1")
        await self._server.start_server()
        self._http = ClientSession()
        return self

    @property
    def database(self) -> Database:
        return self.services.database

    @property
    def team_id(self) -> str:
        """The workspace of the bot token (single-token mode)."""
        return self.services.statements.default.identity.team_id

    def installed_too(self, team_id: str) -> None:
        """Another workspace is stored, as an install stores it (for `--team`)."""
        with self.database.transaction() as session:
            workspaces.remember(
                session,
                team_id=team_id,
                home_page=f"https://{team_id.lower()}.slack.com/",
                enterprise_id=None,
                bot_user_id=None,
                now=self.clock(),
            )

    async def installed(self) -> list[tuple[str, AsyncWebClient]]:
        """Where the tick works (`handlers.tick_jobs`): this workspace, with its client."""
        return [(self.team_id, self.slack_client)]

    @property
    def url(self) -> str:
        return str(self._server.make_url("/slack/events"))

    def address(self, path: str) -> str:
        """The URL of another path of the web app (e.g. /xapi/)."""
        return str(self._server.make_url(path))

    async def post(
        self,
        body: str,
        headers: dict[str, str],
        content_type: str = "application/x-www-form-urlencoded",
    ) -> tuple[int, Any]:
        headers = {"Content-Type": content_type, **headers}
        async with self._http.post(self.url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            if response.content_type == "application/json":
                return response.status, json.loads(text)
            # Bolt answers a text-only ack as text/plain, which Slack shows like {"text": …}.
            return response.status, {"text": text} if response.status == 200 else text

    async def command(
        self, command: str, text: str, user: str, channel: str = "C0GENERAL", **kwargs: Any
    ) -> tuple[int, Any]:
        """Sends a signed slash command and waits for its lazy work (the posts) to finish."""
        body = slash_command_body(
            command, text, user, channel, response_url=self.slack.response_url, **kwargs
        )
        result = await self.post(body, sign(body))
        await self.settle()
        return result

    async def press(self, action_id: str, value: str, user: str) -> tuple[int, Any]:
        """Presses a button (signed block_actions) and waits for its lazy work."""
        body = block_action_body(
            action_id, value, user, self.slack.response_url, at=self.clock().timestamp()
        )
        result = await self.post(body, sign(body))
        await self.settle()
        return result

    async def event(self, event: dict[str, Any], event_id: str) -> tuple[int, Any]:
        """Delivers an Events API event (signed JSON) and waits for its lazy work.

        Sending the same `event_id` again is what Slack's retries look like. An event without
        `event_ts` happens at the test clock's time.
        """
        body = event_body({"event_ts": f"{self.clock().timestamp():.6f}", **event}, event_id)
        result = await self.post(body, sign(body), content_type="application/json")
        await self.settle()
        return result

    async def shortcut(
        self, callback_id: str, user: str, message: dict[str, Any], channel: str = "C0GENERAL"
    ) -> tuple[int, Any]:
        """Runs a message shortcut on `message` and waits for its lazy work."""
        body = message_shortcut_body(
            callback_id,
            user,
            message,
            channel,
            self.slack.response_url,
            at=self.clock().timestamp(),
        )
        result = await self.post(body, sign(body))
        await self.settle()
        return result

    async def submit(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        user: str,
        view_id: str = "V0FORM",
        team_id: str = TEAM_ID,
    ) -> tuple[int, Any]:
        """Submits a modal as `user` (of `team_id`) filled it in, and waits for the lazy work
        after the ack."""
        body = view_submission_body(view, view_id, values, user, team_id)
        result = await self.post(body, sign(body))
        await self.settle()
        return result

    async def view_action(
        self, view: dict[str, Any], action: dict[str, Any], values: dict[str, Any], user: str
    ) -> tuple[int, Any]:
        """Changes an element inside an open modal and waits for the lazy work (views.update)."""
        body = view_action_body(view, action, values, user)
        result = await self.post(body, sign(body))
        await self.settle()
        return result

    async def suggest(
        self, view: dict[str, Any], action_id: str, block_id: str, typed: str, user: str
    ) -> tuple[int, Any]:
        """Types into an external select: Slack's block_suggestion request and its options."""
        body = block_suggestion_body(view, action_id, block_id, typed, user)
        return await self.post(body, sign(body))

    def opened_views(self) -> list[dict[str, Any]]:
        return [call["view"] for call in self.slack.calls_to("views.open")]

    async def settle(self) -> None:
        await self.lazy.wait(10)

    async def close(self) -> None:
        await self.settle()
        await self._http.close()
        await self._server.close()
        await self._slack_session.close()
        await self.services.forwarder.close()
        self.services.executor.shutdown()
        self.services.lrs.executor.shutdown()
        self.services.database.dispose()


def settings_for(tmp_path: Path, slack: FakeSlack, **overrides: str) -> Settings:
    return load_settings(bot_env(tmp_path, slack, **overrides), env_file=None)
