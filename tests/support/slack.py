"""A stand-in for Slack: its Web API (recording calls, failing on demand), response URLs,
and correctly signed requests the way Slack sends them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM_ID = "T0GUILD"
WORKSPACE_URL = "https://acme.slack.com/"
BOT_USER_ID = "UBOT0001"
# guildbot's own xAPI agent (the bot user's account): the actor of every voiding statement.
GUILDBOT = {
    "objectType": "Agent",
    "name": "guildbot",
    "account": {"name": BOT_USER_ID, "homePage": WORKSPACE_URL},
}
DEFAULT_SCOPES = (
    "commands,chat:write,chat:write.public,users:read,reactions:read,channels:history,"
    "groups:history,im:write,files:write,channels:manage,channels:join,channels:read,groups:read"
)


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: v0 HMAC-SHA256 over `v0:<timestamp>:<body>`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def block_action_body(
    action_id: str,
    value: str,
    user_id: str,
    response_url: str,
    team_id: str = TEAM_ID,
    at: float | None = None,
    org: Org | None = None,
) -> str:
    """A button press, as Slack posts it: form-encoded `payload` JSON; pressed `at` (epoch
    seconds; default now); in a workspace of `org`, installed org-wide, it names the org."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "team_id": team_id, "name": user_id.lower()},
        "api_app_id": "A0GUILD",
        "container": {"type": "message", "is_ephemeral": True},
        "trigger_id": f"{time.time_ns()}.{user_id}.trigger",
        "channel": {"id": "C0GENERAL", "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": f"{time.time() if at is None else at:.6f}",
            }
        ],
    }
    if org is not None:
        payload["team"] |= {"enterprise_id": org.id, "enterprise_name": org.name}
        payload |= {"enterprise": {"id": org.id, "name": org.name}, "is_enterprise_install": True}
    return urlencode({"payload": json.dumps(payload)})


def slash_command_body(
    command: str,
    text: str,
    user_id: str,
    channel_id: str = "C0GENERAL",
    response_url: str = "",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    org: Org | None = None,
) -> str:
    """A slash command, as Slack posts it; from a workspace of `org`, where guildbot is
    installed org-wide, it names the org too and says the install is org-wide."""
    body = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0GUILD",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{time.time_ns()}.{user_id}.trigger",
    }
    if org is not None:
        body |= {"enterprise_id": org.id, "enterprise_name": org.name}
        body["is_enterprise_install"] = "true"
    return urlencode(body)


def event_body(
    event: dict[str, Any], event_id: str, team_id: str = TEAM_ID, org: Org | None = None
) -> str:
    """An Events API delivery (JSON), as Slack posts it; a retry reuses the event id. To an
    org-wide install (`org`), the event names the workspace it happened in (`team_id`) and
    the org, and its authorization is the org's, with no workspace."""
    authorization: dict[str, Any] = {"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}
    body: dict[str, Any] = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A0GUILD",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "is_ext_shared_channel": False,
    }
    if org is not None:
        body["enterprise_id"] = org.id
        authorization = {
            "enterprise_id": org.id,
            "team_id": None,
            "user_id": BOT_USER_ID,
            "is_bot": True,
            "is_enterprise_install": True,
        }
    body["authorizations"] = [authorization]
    return json.dumps(body)


def reaction_event(
    kind: str, user: str, reaction: str, channel: str, ts: str, item_user: str | None
) -> dict[str, Any]:
    """`reaction_added` / `reaction_removed` on a message (its `event_ts` is added when it
    is delivered: `BotHarness.event` stamps the test's clock)."""
    event: dict[str, Any] = {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
    }
    if item_user:
        event["item_user"] = item_user
    return event


def message_shortcut_body(
    callback_id: str,
    user_id: str,
    message: dict[str, Any],
    channel: str,
    response_url: str,
    team_id: str = TEAM_ID,
    at: float | None = None,
) -> str:
    """A message shortcut (`message_action`), form-encoded like every interaction."""
    payload = {
        "type": "message_action",
        "callback_id": callback_id,
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "team_id": team_id, "name": user_id.lower()},
        "channel": {"id": channel, "name": "general"},
        "message": message,
        "message_ts": message["ts"],
        "trigger_id": f"{time.time_ns()}.{user_id}.trigger",
        "response_url": response_url,
        "action_ts": f"{time.time() if at is None else at:.6f}",
    }
    return urlencode({"payload": json.dumps(payload)})


def view_action_body(
    view: dict[str, Any],
    action: dict[str, Any],
    values: dict[str, Any],
    user_id: str,
    team_id: str = TEAM_ID,
) -> str:
    """A change inside an open modal (an element with `dispatch_action`), as block_actions."""
    shown = {**view, "state": {"values": values}}
    payload = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "team_id": team_id, "name": user_id.lower()},
        "api_app_id": "A0GUILD",
        "container": {"type": "view", "view_id": view.get("id")},
        "trigger_id": f"{time.time_ns()}.{user_id}.trigger",
        "view": shown,
        "actions": [{"action_ts": f"{time.time():.6f}", **action}],
    }
    return urlencode({"payload": json.dumps(payload)})


def block_suggestion_body(
    view: dict[str, Any],
    action_id: str,
    block_id: str,
    typed: str,
    user_id: str,
    team_id: str = TEAM_ID,
) -> str:
    """Slack asking for the options of an external select while someone types."""
    payload = {
        "type": "block_suggestion",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "team_id": team_id, "name": user_id.lower()},
        "api_app_id": "A0GUILD",
        "container": {"type": "view", "view_id": view.get("id")},
        "view": view,
        "action_id": action_id,
        "block_id": block_id,
        "value": typed,
        "action_ts": f"{time.time():.6f}",
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    view: dict[str, Any], view_id: str, values: dict[str, Any], user_id: str, team_id: str = TEAM_ID
) -> str:
    """Submitting a modal: the view as opened, with `state.values` as the person filled it."""
    submitted = {**view, "id": view_id, "team_id": team_id, "state": {"values": values}}
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "team_id": team_id, "name": user_id.lower()},
        "api_app_id": "A0GUILD",
        "trigger_id": f"{time.time_ns()}.{user_id}.trigger",
        "view": submitted,
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None = None
    """The bearer token the call was made with (None: none, or the app's client credentials)."""


@dataclass(frozen=True)
class Team:
    """A workspace the app can be installed in."""

    id: str
    url: str
    name: str


@dataclass(frozen=True)
class Org:
    """An Enterprise Grid org: its workspaces share one set of people (user ids are
    org-wide), and an org admin can install the app once for all of them."""

    id: str
    url: str
    """The org's own address (`https://<org>.enterprise.slack.com/`), not a workspace's."""
    name: str
    teams: tuple[Team, ...] = ()


@dataclass
class User:
    id: str
    name: str
    tz: str = "Europe/London"
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None
    real_name: str | None = None
    """The full name Slack shows (`name` is the display name); None: the same as `name`."""

    def to_slack(self) -> dict[str, Any]:
        real_name = self.real_name or self.name
        profile: dict[str, Any] = {"display_name": self.name, "real_name": real_name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name.lower(),
            "real_name": real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "profile": profile,
        }


@dataclass
class FakeSlack:
    """Slack's Web API on 127.0.0.1, answering like Slack for the methods guildbot uses."""

    users: dict[str, User] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    scopes: str = DEFAULT_SCOPES
    enterprise_id: str | None = None
    unreachable_channels: set[str] = field(default_factory=set)
    failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=dict
    )
    delay_s: dict[str, float] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """Messages by (channel, ts): those the bot posted and those a test wrote as a person."""
    channels_without_bot: set[str] = field(default_factory=set)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Files uploaded with files_upload_v2, by file id: name, bytes, where they were shared."""
    """The bot can't read these (conversations.replies answers not_in_channel)."""
    channel_names: dict[str, str] = field(default_factory=dict)
    """Channels by name, those conversations.create made and those a test says exist."""
    members: dict[str, set[str]] = field(default_factory=dict)
    """Who is in each channel, as conversations.create/invite/kick/join left it."""
    created_in: dict[str, str | None] = field(default_factory=dict)
    """The workspace (`team_id`) each channel conversations.create made was asked for in."""
    teams: dict[str, Team] = field(default_factory=dict)
    """Workspaces other than the default one (TEAM_ID), by id."""
    tokens: dict[str, str] = field(default_factory=dict)
    """The bot token each install issued, to its team id (an org-wide install's: its org id)."""
    orgs: dict[str, Org] = field(default_factory=dict)
    """Enterprise Grid orgs, by id."""
    install_codes: dict[str, str] = field(default_factory=dict)
    """Codes Slack's consent screen handed out and oauth.v2.access has yet to exchange."""
    base_url: str = ""
    _caller: str | None = None
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _last_ts: float = 0.0
    _runner: web.AppRunner | None = None

    def add_user(self, user_id: str, name: str, **details: Any) -> User:
        user = User(user_id, name, **details)
        self.users[user_id] = user
        return user

    def consent(self, team: Team, installer: str = "U0ADMIN") -> str:
        """Someone in `team` approved the install: the code Slack redirects them back with."""
        self.teams[team.id] = team
        code = f"code-{team.id}-{len(self.install_codes) + len(self.tokens)}"
        self.install_codes[code] = f"{team.id}:{installer}"
        return code

    def consent_org(self, org: Org, installer: str = "W0ADMIN") -> str:
        """An admin of `org` approved installing the app org-wide: the code Slack redirects
        them back with."""
        self.orgs[org.id] = org
        for team in org.teams:
            self.teams[team.id] = team
        code = f"code-{org.id}-{len(self.install_codes) + len(self.tokens)}"
        self.install_codes[code] = f"{org.id}:{installer}"
        return code

    def tokens_of(self, team_id: str) -> set[str]:
        return {token for token, team in self.tokens.items() if team == team_id}

    def fail_next(
        self,
        method: str,
        status: int = 200,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` get this answer instead of the normal one."""
        for _ in range(times):
            self.failures.setdefault(method, []).append(
                (status, body or {"ok": False, "error": "fatal_error"}, headers or {})
            )

    def write(
        self,
        channel: str,
        user: str | None,
        text: str,
        thread_ts: str | None = None,
        bot_id: str | None = None,
    ) -> str:
        """A message someone (or, with `bot_id`, an app) wrote; returns its ts."""
        ts = self._next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": text}
        if user:
            message["user"] = user
        if bot_id:
            message["bot_id"] = bot_id
            message["subtype"] = "bot_message"
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages[(channel, ts)] = message
        return ts

    def react(self, channel: str, ts: str, name: str, user: str, add: bool = True) -> None:
        """Slack's own record of a reaction, which conversations.replies then shows."""
        reactions = self.messages[(channel, ts)].setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if add and user not in entry["users"]:
            entry["users"].append(user)
        if not add and user in entry["users"]:
            entry["users"].remove(user)
        entry["count"] = len(entry["users"])
        if not entry["users"]:
            reactions.remove(entry)

    def _next_ts(self) -> str:
        """Like Slack's: the epoch time of the message, in microseconds, unique per channel
        (here, unique overall and increasing)."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.args for call in self.calls if call.method == method]

    def outgoing(self, calls_from: int = 0, responses_from: int = 0) -> list[tuple[str, Any]]:
        """Everything the bot sent Slack, as (where, payload): every Web API call's arguments
        from `calls_from` on, then every response_url post from `responses_from` on."""
        sent: list[tuple[str, Any]] = [(c.method, c.args) for c in self.calls[calls_from:]]
        sent += [("response_url", body) for body in self.responses[responses_from:]]
        return sent

    @property
    def response_url(self) -> str:
        return self.base_url.replace("/api/", "/respond/") + "hook"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/calls", self._call_counts)
        app.router.add_post("/respond/{hook}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _call_counts(self, _: web.Request) -> web.Response:
        """How many times each Web API method was called (for benchmarks in another process)."""
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.method] = counts.get(call.method, 0) + 1
        return web.json_response(counts)

    async def _upload(self, request: web.Request) -> web.Response:
        self.files[request.match_info["file_id"]]["content"] = await request.read()
        return web.Response(text="OK")

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        self._caller = credential if scheme == "Bearer" else None
        if scheme == "Basic":  # an app's client id and secret (oauth.v2.access)
            args.setdefault("client_id", base64.b64decode(credential).decode().split(":")[0])
        self.calls.append(Call(method, args, self._caller))
        if method in self.delay_s:
            await asyncio.sleep(self.delay_s[method])
        queued = self.failures.get(method)
        if queued:
            status, body, headers = queued.pop(0)
            return web.json_response(body, status=status, headers=headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body, headers = handler(args)
        return web.json_response(body, headers=headers)

    # Methods ---------------------------------------------------------------------------------

    def _oauth_v2_access(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        granted = self.install_codes.pop(args.get("code", ""), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}, {}
        team_id, installer = granted.split(":")
        token = f"xoxb-{team_id}-{len(self.tokens) + 1}"
        self.tokens[token] = team_id
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": "A0GUILD",
            "authed_user": {"id": installer},
            "scope": self.scopes,
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER_ID,
        }
        org = self.orgs.get(team_id)
        if org is not None:
            # Org-wide: no workspace, the org instead (Slack's enterprise/apps reference).
            answer.update(
                team=None, enterprise={"id": org.id, "name": org.name}, is_enterprise_install=True
            )
        else:
            answer.update(
                team={"id": team_id, "name": self.teams[team_id].name},
                enterprise=None,
                is_enterprise_install=False,
            )
        return answer, {}

    def _auth_test(self, _: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        org = self.orgs.get(self.tokens.get(self._caller or "", ""))
        if org is not None:
            # An org-wide token: the org's address and name; its id stands for the team.
            return {
                "ok": True,
                "url": org.url,
                "team": org.name,
                "user": "guildbot",
                "team_id": org.id,
                "user_id": BOT_USER_ID,
                "bot_id": "B0GUILD",
                "enterprise_id": org.id,
                "is_enterprise_install": True,
            }, {"x-oauth-scopes": self.scopes}
        team = self.teams.get(self.tokens.get(self._caller or "", ""))
        if self._caller and self.tokens and team is None:
            return {"ok": False, "error": "invalid_auth"}, {}
        body: dict[str, Any] = {
            "ok": True,
            "url": team.url if team else WORKSPACE_URL,
            "team": team.name if team else "Acme",
            "user": "guildbot",
            "team_id": team.id if team else TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "B0GUILD",
            "is_enterprise_install": False,
        }
        if self.enterprise_id:
            body["enterprise_id"] = self.enterprise_id
        return body, {"x-oauth-scopes": self.scopes}

    def _users_info(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}, {}
        return {"ok": True, "user": user.to_slack()}, {}

    def _chat_postMessage(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel = args.get("channel", "")
        if channel in self.unreachable_channels:
            return {"ok": False, "error": "channel_not_found"}, {}
        ts = self._next_ts()
        message = {"type": "message", "ts": ts, "text": args.get("text"), "bot_id": "B0GUILD"}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        metadata = args.get("metadata")
        if metadata:
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}, {}

    def _chat_delete(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if self.messages.pop((args.get("channel", ""), args.get("ts", "")), None) is None:
            return {"ok": False, "error": "message_not_found"}, {}
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}, {}

    def _files_getUploadURLExternal(
        self, args: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        file_id = f"F{next(self._ts):08d}"
        self.files[file_id] = {"filename": args.get("filename"), "content": b""}
        upload = self.base_url.replace("/api/", "/upload/") + file_id
        return {"ok": True, "upload_url": upload, "file_id": file_id}, {}

    def _files_completeUploadExternal(
        self, args: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        listed = args.get("files")
        listed = json.loads(listed) if isinstance(listed, str) else listed or []
        for item in listed:
            self.files[item["id"]].update(
                title=item.get("title"),
                channel=args.get("channel_id"),
                comment=args.get("initial_comment"),
            )
        return {"ok": True, "files": [{"id": item["id"]} for item in listed]}, {}

    def _chat_update(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        key = (args.get("channel", ""), args.get("ts", ""))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}, {}
        self.messages[key].update({k: args[k] for k in ("text", "blocks") if k in args})
        return {"ok": True, "channel": key[0], "ts": key[1]}, {}

    def _chat_getPermalink(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        link = f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}, {}

    def _conversations_replies(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        if channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}, {}
        message = self.messages.get((channel, ts))
        if message is None:
            return {"ok": False, "error": "thread_not_found"}, {}
        # Like Slack: the thread's parent first, then its replies between oldest and latest.
        parent_ts = message.get("thread_ts") or ts
        parent = self.messages.get((channel, parent_ts), message)
        replies = [
            m
            for (c, m_ts), m in sorted(self.messages.items())
            if c == channel and m.get("thread_ts") == parent_ts and m_ts != parent_ts
        ]
        found = [parent] + [m for m in replies if _in_range(m["ts"], args)]
        return {"ok": True, "messages": _with_metadata(found, args), "has_more": False}, {}

    def _conversations_history(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel = args.get("channel", "")
        if channel in self.channels_without_bot or channel in self.unreachable_channels:
            return {"ok": False, "error": "not_in_channel"}, {}
        # Newest first, top-level messages and thread broadcasts only, like Slack.
        found = [
            m
            for (c, m_ts), m in sorted(self.messages.items(), reverse=True)
            if c == channel and m.get("thread_ts") in (None, m_ts) and _in_range(m_ts, args)
        ]
        return {"ok": True, "messages": _with_metadata(found, args), "has_more": False}, {}

    def _conversations_open(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return {"ok": True, "channel": {"id": "D" + args.get("users", "").lstrip("UW")}}, {}

    def _views_open(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        number = next(self._ts)
        return {"ok": True, "view": {**view, "id": f"V{number:08d}", "hash": f"h{number}"}}, {}

    def _views_publish(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}, {}
        return {"ok": True, "view": {**view, "id": f"V{next(self._ts):08d}"}}, {}

    def _views_update(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        number = next(self._ts)
        return {"ok": True, "view": {**view, "id": args.get("view_id"), "hash": f"h{number}"}}, {}

    def _conversations_create(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        name = args.get("name", "")
        org = self.orgs.get(self.tokens.get(self._caller or "", ""))
        if org is not None and args.get("team_id") not in {team.id for team in org.teams}:
            # An org-wide token must say in which of the org's workspaces (Slack's reference).
            return {"ok": False, "error": "missing_argument"}, {}
        self.created_in[name] = args.get("team_id")
        if name in self.channel_names:
            return {"ok": False, "error": "name_taken"}, {}
        channel_id = f"C{next(self._ts):08d}"
        self.channel_names[name] = channel_id
        self.members[channel_id] = {BOT_USER_ID}
        return {"ok": True, "channel": {"id": channel_id, "name": name}}, {}

    def _conversations_invite(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel, users = args.get("channel", ""), args.get("users", "").split(",")
        members = self.members.setdefault(channel, set())
        if BOT_USER_ID not in members:
            return {"ok": False, "error": "not_in_channel"}, {}
        if all(user in members for user in users):
            return {"ok": False, "error": "already_in_channel"}, {}
        members.update(users)
        return {"ok": True, "channel": {"id": channel}}, {}

    def _conversations_kick(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel, user = args.get("channel", ""), args.get("user", "")
        members = self.members.setdefault(channel, set())
        if user not in members:
            return {"ok": False, "error": "not_in_channel"}, {}
        members.discard(user)
        return {"ok": True}, {}

    def _conversations_join(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        channel = args.get("channel", "")
        if channel.startswith("G"):
            return {"ok": False, "error": "method_not_supported_for_channel_type"}, {}
        self.members.setdefault(channel, set()).add(BOT_USER_ID)
        return {"ok": True, "channel": {"id": channel}}, {}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if args.get("channel", "") in self.unreachable_channels:
            return {"ok": False, "error": "channel_not_found"}, {}
        return {"ok": True, "message_ts": self._next_ts()}, {}


def _in_range(ts: str, args: dict[str, Any]) -> bool:
    oldest, latest = args.get("oldest"), args.get("latest")
    return (oldest is None or float(ts) >= float(oldest)) and (
        latest is None or float(ts) <= float(latest)
    )


def _with_metadata(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """Slack returns message metadata only when asked (`include_all_metadata`)."""
    if str(args.get("include_all_metadata", "")).lower() in ("1", "true"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


async def _arguments(request: web.Request) -> dict[str, Any]:
    """slack_sdk sends arguments as a query string, a form or JSON, depending on the method."""
    args: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json":
        args.update(json.loads(raw or "{}"))
        return args
    args.update(parse_qsl(raw))
    for key in ("blocks", "attachments", "view"):
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args
