"""A production stand-in of Slack for the playground: its Web API with state a page can show,
and the signed requests Slack sends (slash commands, interactions, Events API) to the bot's
one endpoint, POST /slack/events.

State: people, channels with messages and threads, reactions, per-person ephemerals, DMs with
the bot, open modals per person, App Home views, files. Everything the bot does arrives through
the Web API (`/api/<method>`) or a response URL (`/respond/<hook>`); everything a person does
leaves as a correctly signed request, exactly as Slack would send it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientSession, ClientTimeout, web

log = logging.getLogger("guildbot.playground.slack")

TEAM_ID = "T0PLAYGRND"
TEAM_DOMAIN = "playground"
WORKSPACE_URL = "https://playground.guildbot.invalid/"
"""What auth.test reports: the xAPI home page, plainly not a real workspace."""
APP_ID = "A0GUILDBOT"
BOT_USER_ID = "U0GUILDBOT"
BOT_ID = "B0GUILDBOT"
SCOPES = (
    "commands,chat:write,chat:write.public,users:read,users:read.email,reactions:read,"
    "channels:history,groups:history,im:write,files:write,channels:manage,channels:join,"
    "channels:read,groups:read"
)
# Slack refuses custom slash commands in threads with this line.
NOT_IN_THREADS = "{command} is not supported in threads. Sorry!"
LOG_SIZE = 60


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str = ""
    tz: str = "Europe/London"

    def to_slack(self) -> dict[str, Any]:
        handle = self.name.split()[0].lower()
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": handle,
            "real_name": self.name,
            "deleted": False,
            "is_bot": False,
            "tz": self.tz,
            "profile": {
                "display_name": self.name.split()[0],
                "real_name": self.name,
                "title": self.title,
                "email": f"{handle}@playground.guildbot.invalid",
            },
        }


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    topic: str = ""


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature: v0 HMAC-SHA256 over `v0:<timestamp>:<body>`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def dm_id(user_id: str) -> str:
    return "D" + user_id[1:]


@dataclass
class Outcome:
    """What a person's action led to, for the page: the bot's HTTP status and any error."""

    status: int
    error: str | None = None
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error}


@dataclass
class PlaygroundSlack:
    """Slack, as far as one workspace with one app goes."""

    people: list[Person]
    channels: list[Channel]
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    token: str = field(default_factory=lambda: "xoxb-playground-" + secrets.token_hex(12))
    bot_url: str = ""
    """The bot's POST /slack/events."""
    public_url: str = ""
    """Where this stand-in answers, e.g. http://127.0.0.1:3000/ (set once serving)."""
    state_file: Path | None = None
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    modals: dict[str, list[str]] = field(default_factory=dict)
    """Open modal stacks per person: view ids, top last."""
    homes: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    """The latest requests sent to the bot and its answers, newest last."""
    seeding: bool = False
    version: int = 0
    _hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _triggers: dict[str, str] = field(default_factory=dict)
    _trigger_channels: dict[str, str | None] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _last_ts: float = 0.0
    _http: ClientSession | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for channel in self.channels:
            self.messages.setdefault(channel.id, [])
        for person in self.people:
            self.messages.setdefault(dm_id(person.id), [])

    # Lookups ---------------------------------------------------------------------------------

    def person(self, user_id: str) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def _next_ts(self) -> str:
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _changed(self) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # Persistence (the bot's database survives restarts; so does what Slack showed) ------------

    def save(self) -> None:
        if self.state_file is None:
            return
        state = {
            "messages": self.messages,
            "ephemerals": self.ephemerals,
            "views": self.views,
            "homes": self.homes,
            "files": {k: {**v, "content": None} for k, v in self.files.items()},
            "last_ts": self._last_ts,
            "next_id": next(self._ids),
        }
        partial = self.state_file.with_suffix(".tmp")
        partial.write_text(json.dumps(state))
        partial.replace(self.state_file)

    def load(self) -> None:
        if self.state_file is None or not self.state_file.is_file():
            return
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            log.warning("playground state in %s unreadable: starting empty", self.state_file)
            return
        for channel, listed in state.get("messages", {}).items():
            self.messages[channel] = listed
        self.ephemerals = state.get("ephemerals", [])
        self.views = state.get("views", {})
        self.homes = state.get("homes", {})
        self.files = state.get("files", {})
        self._last_ts = float(state.get("last_ts", 0.0))
        self._ids = itertools.count(int(state.get("next_id", 1)))

    # Serving -----------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{hook}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}", self._download)

    async def start(self) -> None:
        self._http = ClientSession(timeout=ClientTimeout(total=30))

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        if self._http is not None:
            await self._http.close()

    # The Web API -------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or args.get("token", "")
        if not hmac.compare_digest(token, self.token):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            log.warning("the bot called %s, which the playground does not know", method)
            return web.json_response({"ok": False, "error": "unknown_method"})
        body = handler(args)
        headers = {"x-oauth-scopes": SCOPES} if method == "auth.test" else {}
        if body.get("ok"):
            self._changed()
        return web.json_response(body, headers=headers)

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": WORKSPACE_URL,
            "team": "guildbot playground",
            "user": "guildbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("user") == BOT_USER_ID:
            return {
                "ok": True,
                "user": {
                    "id": BOT_USER_ID,
                    "team_id": TEAM_ID,
                    "name": "guildbot",
                    "is_bot": True,
                    "deleted": False,
                    "profile": {"display_name": "guildbot", "real_name": "guildbot"},
                },
            }
        person = self.person(args.get("user", ""))
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": person.to_slack()}

    def _resolve_channel(self, channel: str) -> str | None:
        if channel.startswith(("U", "W")) and self.person(channel):
            return dm_id(channel)
        return channel if channel in self.messages else None

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self.message(channel, thread_ts) is None:
            thread_ts = None  # Slack posts in the channel when the thread is gone.
        message = self._add_message(
            channel, None, args.get("text") or "", args.get("blocks"), thread_ts
        )
        self._deliver_later(self._message_event(channel, message))
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel", ""))
        user = args.get("user", "")
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if self.person(user) is None:
            return {"ok": False, "error": "user_not_in_channel"}
        ephemeral = self._add_ephemeral(
            user, channel, args.get("thread_ts"), args.get("text") or "", args.get("blocks")
        )
        return {"ok": True, "message_ts": ephemeral["ts"]}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel", "")) or ""
        message = self.message(channel, args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("bot_id") != BOT_ID:
            return {"ok": False, "error": "cant_update_message"}
        if "text" in args:
            message["text"] = args["text"]
        if "blocks" in args:
            message["blocks"] = args["blocks"]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"]}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel", "")) or ""
        message = self.message(channel, args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self._remove_message(channel, message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if self.message(channel, ts) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "permalink": self.permalink(channel, ts)}

    def permalink(self, channel: str, ts: str) -> str:
        return f"{self.public_url}archives/{channel}/p{ts.replace('.', '')}"

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or self.person(users[0]) is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": dm_id(users[0]), "is_im": True}}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        message = self.message(channel, ts)
        if message is None:
            return {"ok": False, "error": "thread_not_found"}
        root = message.get("thread_ts") or ts
        thread = [
            _as_slack(m)
            for m in self.messages[channel]
            if m["ts"] == root or m.get("thread_ts") == root
        ]
        return {"ok": True, "messages": thread, "has_more": False}

    def _conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        """A community's new channel: everyone in the playground sees every channel."""
        name = str(args.get("name", ""))
        if any(c.name == name for c in self.channels):
            return {"ok": False, "error": "name_taken"}
        channel = Channel(f"C{next(self._ids):08d}", name)
        self.channels.append(channel)
        self.messages.setdefault(channel.id, [])
        return {"ok": True, "channel": {"id": channel.id, "name": name}}

    def _conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.channel(args.get("channel", "")) is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True}

    def _conversations_kick(self, args: dict[str, Any]) -> dict[str, Any]:
        # Membership is not modelled: everyone sees every channel.
        return {"ok": False, "error": "restricted_action"}

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._conversations_invite(args)

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self.channel(args.get("channel", ""))
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": found.id, "name": found.name, "is_member": True}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._triggers.get(args.get("trigger_id", ""))
        if user is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        view = self._store_view(user, _json(args.get("view")), "modal")
        view["channel"] = self._trigger_channels.get(args.get("trigger_id", ""))
        self.modals[user] = [view["id"]]
        return {"ok": True, "view": view}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._triggers.get(args.get("trigger_id", ""))
        if user is None or not self.modals.get(user):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = self._store_view(user, _json(args.get("view")), "modal")
        self.modals[user].append(view["id"])
        return {"ok": True, "view": view}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id") or next(
            (
                v["id"]
                for v in self.views.values()
                if args.get("external_id") and v.get("external_id") == args.get("external_id")
            ),
            "",
        )
        stored = self.views.get(view_id)
        if stored is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != stored["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        updated = self._store_view(stored["user"], _json(args.get("view")), stored["kind"], view_id)
        return {"ok": True, "view": updated}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user_id", "")
        if self.person(user) is None:
            return {"ok": False, "error": "user_not_found"}
        view = self._store_view(user, _json(args.get("view")), "home", self.homes.get(user))
        self.homes[user] = view["id"]
        return {"ok": True, "view": view}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = self._next_id("F")
        self.files[file_id] = {"id": file_id, "name": args.get("filename"), "content": b""}
        return {"ok": True, "upload_url": f"{self.public_url}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        listed = _json(args.get("files")) or []
        shared = []
        for item in listed:
            stored = self.files.get(item.get("id", ""))
            if stored is None:
                return {"ok": False, "error": "file_not_found"}
            stored["title"] = item.get("title") or stored["name"]
            stored["url"] = f"{self.public_url}files/{stored['id']}"
            shared.append({k: v for k, v in stored.items() if k != "content"})
        channel = self._resolve_channel(args.get("channel_id") or args.get("channels") or "")
        if channel:
            message = self._add_message(
                channel, None, args.get("initial_comment") or "", None, args.get("thread_ts")
            )
            message["files"] = shared
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    async def _upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="no such upload")
        stored["content"] = await request.read()
        return web.Response(text="OK - uploaded")

    async def _download(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None or stored.get("content") is None:
            return web.Response(status=404, text="gone (files are not kept across restarts)")
        return web.Response(
            body=stored["content"],
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{stored["name"]}"'},
        )

    # Response URLs -----------------------------------------------------------------------------

    def _hook(self, user: str, channel: str | None, **source: Any) -> str:
        hook = secrets.token_urlsafe(12)
        self._hooks[hook] = {"user": user, "channel": channel, **source}
        return f"{self.public_url}respond/{hook}"

    async def _respond(self, request: web.Request) -> web.Response:
        hook = self._hooks.get(request.match_info["hook"])
        if hook is None:
            return web.Response(status=404, text="expired_url")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        self.apply_response(hook, body)
        self._changed()
        return web.Response(text="ok")

    def apply_response(self, hook: dict[str, Any], body: dict[str, Any]) -> None:
        """What Slack does with a message sent to a response URL (or a slash command's ack)."""
        user, channel = hook["user"], hook.get("channel")
        source_message = hook.get("message_ts")
        source_ephemeral = hook.get("ephemeral")
        if body.get("delete_original"):
            self._drop_source(channel, source_message, source_ephemeral)
            return
        if _truthy(body.get("replace_original")) and (source_message or source_ephemeral):
            if source_ephemeral:
                found = next((e for e in self.ephemerals if e["id"] == source_ephemeral), None)
                if found is not None:
                    found.update(text=body.get("text") or "", blocks=body.get("blocks"))
                    return
            elif channel and (message := self.message(channel, source_message or "")):
                message.update(text=body.get("text") or "", blocks=body.get("blocks"))
                message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
                return
        if not channel or not (body.get("text") or body.get("blocks")):
            return
        thread_ts = body.get("thread_ts") or hook.get("thread_ts")
        if body.get("response_type") == "in_channel":
            message = self._add_message(channel, None, body.get("text") or "", body.get("blocks"))
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._deliver_later(self._message_event(channel, message))
            return
        self._add_ephemeral(user, channel, thread_ts, body.get("text") or "", body.get("blocks"))

    def _drop_source(self, channel: str | None, ts: str | None, ephemeral: str | None) -> None:
        if ephemeral:
            self.ephemerals = [e for e in self.ephemerals if e["id"] != ephemeral]
        elif channel and ts and (message := self.message(channel, ts)):
            self._remove_message(channel, message)

    # State changes -----------------------------------------------------------------------------

    def _add_message(
        self,
        channel: str,
        user: str | None,
        text: str,
        blocks: Any,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "ts": self._next_ts(),
            "text": text,
            "user": user or BOT_USER_ID,
        }
        if user is None:
            message["bot_id"] = BOT_ID
        if blocks:
            message["blocks"] = with_ids(_json(blocks))
        if thread_ts:
            message["thread_ts"] = thread_ts
        if self.seeding:
            message["seed"] = True
        self.messages.setdefault(channel, []).append(message)
        return message

    def _remove_message(self, channel: str, message: dict[str, Any]) -> None:
        self.messages[channel] = [m for m in self.messages[channel] if m is not message]
        self._deliver_later(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": channel,
                "hidden": True,
                "deleted_ts": message["ts"],
                "ts": self._next_ts(),
                "previous_message": _as_slack(message),
                "channel_type": "im" if channel.startswith("D") else "channel",
            }
        )

    def _add_ephemeral(
        self, user: str, channel: str, thread_ts: str | None, text: str, blocks: Any
    ) -> dict[str, Any]:
        ephemeral = {
            "id": self._next_id("E"),
            "user": user,
            "channel": channel,
            "thread_ts": thread_ts or None,
            "ts": self._next_ts(),
            "text": text,
            "blocks": _json(blocks) if blocks else None,
        }
        if self.seeding:
            ephemeral["seed"] = True
        self.ephemerals.append(ephemeral)
        return ephemeral

    def dismiss(self, user: str, ephemeral_id: str) -> None:
        self.ephemerals = [
            e for e in self.ephemerals if not (e["id"] == ephemeral_id and e["user"] == user)
        ]
        self._changed()

    def _store_view(
        self, user: str, view: dict[str, Any], kind: str, view_id: str | None = None
    ) -> dict[str, Any]:
        view_id = view_id or self._next_id("V")
        stored = {
            **view,
            "blocks": with_ids(view.get("blocks") or []),
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "hash": f"{time.time():.6f}.{secrets.token_hex(4)}",
            "state": {"values": {}},
            "user": user,
            "kind": kind,
            "errors": {},
        }
        self.views[view_id] = stored
        return stored

    def _trigger(self, user: str, channel: str | None = None) -> str:
        trigger = f"{int(time.time())}.{next(self._ids)}.{secrets.token_hex(8)}"
        self._triggers[trigger] = user
        self._trigger_channels[trigger] = channel
        return trigger

    # What people do ----------------------------------------------------------------------------

    async def type_message(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> Outcome:
        """A person types in the message box: a slash command, or a message (an event)."""
        text = escape_mentions(text.strip(), self.people, self.channels)
        if channel not in self.messages:
            return Outcome(404, "channel_not_found")
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if thread_ts:
                self._add_ephemeral(
                    user, channel, thread_ts, NOT_IN_THREADS.format(command=command), None
                )
                self._changed()
                return Outcome(0, "not_in_threads")
            return await self.slash_command(user, channel, command, rest.strip())
        message = self._add_message(channel, user, text, None, thread_ts)
        self._changed()
        return await self._send_event(self._message_event(channel, message))

    async def slash_command(self, user: str, channel: str, command: str, text: str) -> Outcome:
        response_url = self._hook(user, channel)
        found = self.channel(channel)
        form = {
            "token": "playground-verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": found.name if found else "directmessage",
            "user_id": user,
            "user_name": (self.person(user) or Person(user, user)).to_slack()["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self._trigger(user, channel),
        }
        outcome = await self._send(urlencode(form), "application/x-www-form-urlencoded", command)
        if outcome.status == 200 and isinstance(outcome.body, dict):
            hook = {"user": user, "channel": channel}
            self.apply_response(hook, {**outcome.body, "replace_original": False})
        elif outcome.status != 200:
            self._add_ephemeral(
                user,
                channel,
                None,
                f'{command} failed with the error "{outcome.error or "dispatch_failed"}"',
                None,
            )
        self._changed()
        return outcome

    async def react(self, user: str, channel: str, ts: str, name: str, add: bool) -> Outcome:
        message = self.message(channel, ts)
        if message is None:
            return Outcome(404, "message_not_found")
        reactions: dict[str, list[str]] = message.setdefault("reactions_by", {})
        users = reactions.setdefault(name, [])
        if add == (user in users):
            return Outcome(0, "already_reacted" if add else "no_reaction")
        if add:
            users.append(user)
        else:
            users.remove(user)
            if not users:
                del reactions[name]
        self._changed()
        event: dict[str, Any] = {
            "type": "reaction_added" if add else "reaction_removed",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self._next_ts(),
        }
        if message.get("user"):
            event["item_user"] = message["user"]
        return await self._send_event(event)

    async def click(
        self,
        user: str,
        action: dict[str, Any],
        *,
        channel: str | None = None,
        ts: str | None = None,
        ephemeral: str | None = None,
        view_id: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> Outcome:
        """A button press or a select in a message, an ephemeral, a modal or the App Home."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            **self._who(user),
            "trigger_id": self._trigger(user),
            "actions": [{**action, "action_ts": self._next_ts()}],
        }
        if view_id:
            view = self.views.get(view_id)
            if view is None or view["user"] != user:
                return Outcome(404, "view_not_found")
            view["state"] = {"values": values or {}}
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = _as_view(view)
        elif ephemeral:
            shown = next((e for e in self.ephemerals if e["id"] == ephemeral), None)
            if shown is None or shown["user"] != user:
                return Outcome(404, "message_not_found")
            payload["container"] = {
                "type": "message",
                "message_ts": shown["ts"],
                "channel_id": shown["channel"],
                "is_ephemeral": True,
            }
            payload["channel"] = self._channel_ref(shown["channel"])
            payload["response_url"] = self._hook(
                user, shown["channel"], ephemeral=ephemeral, thread_ts=shown["thread_ts"]
            )
        else:
            message = self.message(channel or "", ts or "")
            if message is None:
                return Outcome(404, "message_not_found")
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = self._channel_ref(channel or "")
            payload["message"] = _as_slack(message)
            payload["response_url"] = self._hook(
                user, channel, message_ts=message["ts"], thread_ts=message.get("thread_ts")
            )
        label = action.get("action_id", "action")
        return await self._send_interaction(payload, f"block_actions {label}")

    async def shortcut(self, user: str, callback_id: str, channel: str, ts: str) -> Outcome:
        message = self.message(channel, ts)
        if message is None:
            return Outcome(404, "message_not_found")
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            **self._who(user),
            "channel": self._channel_ref(channel),
            "message": _as_slack(message),
            "message_ts": ts,
            "trigger_id": self._trigger(user, channel),
            "response_url": self._hook(user, channel, thread_ts=message.get("thread_ts") or None),
            "action_ts": self._next_ts(),
        }
        return await self._send_interaction(payload, f"shortcut {callback_id}")

    async def submit(self, user: str, view_id: str, values: dict[str, Any]) -> Outcome:
        view = self.views.get(view_id)
        if view is None or view["user"] != user:
            return Outcome(404, "view_not_found")
        view["state"] = {"values": values}
        payload = {
            "type": "view_submission",
            **self._who(user),
            "trigger_id": self._trigger(user),
            "view": _as_view(view),
            "response_urls": [],
        }
        outcome = await self._send_interaction(
            payload, f"view_submission {view.get('callback_id')}"
        )
        if outcome.status != 200:
            view["errors"] = {"": f"We had some trouble connecting ({outcome.error})."}
            self._changed()
            return outcome
        answer = outcome.body if isinstance(outcome.body, dict) else {}
        action = answer.get("response_action")
        stack = self.modals.get(user, [])
        if action == "errors":
            view["errors"] = answer.get("errors") or {}
        elif action == "update":
            self._store_view(user, answer.get("view") or {}, "modal", view_id)
        elif action == "push":
            pushed = self._store_view(user, answer.get("view") or {}, "modal")
            stack.append(pushed["id"])
        elif action == "clear":
            self.modals[user] = []
        else:
            self.modals[user] = [v for v in stack if v != view_id]
        self._changed()
        return outcome

    async def close_view(self, user: str, view_id: str) -> Outcome:
        view = self.views.get(view_id)
        self.modals[user] = [v for v in self.modals.get(user, []) if v != view_id]
        self._changed()
        if view is None or not view.get("notify_on_close"):
            return Outcome(0)
        payload = {"type": "view_closed", **self._who(user), "view": _as_view(view)}
        return await self._send_interaction(payload, "view_closed")

    async def suggest(
        self, user: str, view_id: str, action_id: str, block_id: str, typed: str
    ) -> tuple[Outcome, list[dict[str, Any]]]:
        view = self.views.get(view_id)
        if view is None or view["user"] != user:
            return Outcome(404, "view_not_found"), []
        payload = {
            "type": "block_suggestion",
            **self._who(user),
            "container": {"type": "view", "view_id": view_id},
            "view": _as_view(view),
            "action_id": action_id,
            "block_id": block_id,
            "value": typed,
            "action_ts": self._next_ts(),
        }
        outcome = await self._send_interaction(payload, f"block_suggestion {action_id}")
        answer = outcome.body if isinstance(outcome.body, dict) else {}
        options = list(answer.get("options") or [])
        for group in answer.get("option_groups") or []:
            options += group.get("options") or []
        return outcome, options

    async def open_home(self, user: str) -> Outcome:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": dm_id(user),
            "tab": "home",
            "event_ts": self._next_ts(),
        }
        if user in self.homes:
            event["view"] = _as_view(self.views[self.homes[user]])
        return await self._send_event(event)

    def _who(self, user: str) -> dict[str, Any]:
        person = self.person(user) or Person(user, user)
        return {
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {
                "id": user,
                "team_id": TEAM_ID,
                "name": person.to_slack()["name"],
                "username": person.to_slack()["name"],
            },
            "api_app_id": APP_ID,
            "token": "playground-verification-token",
            "is_enterprise_install": False,
        }

    def _channel_ref(self, channel: str) -> dict[str, str]:
        found = self.channel(channel)
        return {"id": channel, "name": found.name if found else "directmessage"}

    # Delivery to the bot, signed as Slack signs -------------------------------------------------

    def _message_event(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        event = {
            **_as_slack(message),
            "channel": channel,
            "event_ts": message["ts"],
            "channel_type": "im" if channel.startswith("D") else "channel",
            "team": TEAM_ID,
        }
        event.pop("reactions", None)
        return event

    def _deliver_later(self, event: dict[str, Any]) -> None:
        if event.get("channel_type") == "im":
            return  # DM events need im:history, which guildbot does not ask for.
        if not self.bot_url:
            return
        task = asyncio.ensure_future(self._send_event(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_event(self, event: dict[str, Any]) -> Outcome:
        envelope = {
            "token": "playground-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            "is_ext_shared_channel": False,
        }
        label = event["type"] + (f" {event['subtype']}" if event.get("subtype") else "")
        return await self._send(json.dumps(envelope), "application/json", f"event {label}")

    async def _send_interaction(self, payload: dict[str, Any], label: str) -> Outcome:
        body = urlencode({"payload": json.dumps(payload)})
        return await self._send(body, "application/x-www-form-urlencoded", label)

    async def _send(self, body: str, content_type: str, label: str) -> Outcome:
        """One signed POST to the bot, recorded for the page's request log."""
        if self._http is None or not self.bot_url:
            return Outcome(0, "the bot is not running")
        started = time.monotonic()
        headers = {"Content-Type": content_type, **sign(body, self.signing_secret)}
        try:
            async with self._http.post(self.bot_url, data=body, headers=headers) as response:
                status, raw = response.status, await response.text()
        except Exception as error:
            outcome = Outcome(0, f"unreachable ({type(error).__name__})")
        else:
            parsed: Any = None
            if raw.strip():
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = {"text": raw} if status == 200 else None
            error = (
                None
                if status == 200
                else ("operation_timeout" if status == 404 else f"http_{status}")
            )
            outcome = Outcome(status, error, parsed)
        self.requests.append(
            {
                "label": label,
                "status": outcome.status,
                "error": outcome.error,
                "ms": round((time.monotonic() - started) * 1000),
                "at": time.time(),
            }
        )
        del self.requests[:-LOG_SIZE]
        self._changed()
        return outcome

    # What the page shows -----------------------------------------------------------------------

    def snapshot(self, user: str) -> dict[str, Any]:
        mine = [e for e in self.ephemerals if e["user"] == user]
        stack = [self.views[v] for v in self.modals.get(user, []) if v in self.views]
        home = self.views.get(self.homes.get(user, ""))
        return {
            "version": self.version,
            "me": user,
            "bot": {"id": BOT_USER_ID, "name": "guildbot"},
            "people": [
                {"id": p.id, "name": p.name, "title": p.title, "dm": dm_id(p.id)}
                for p in self.people
            ],
            "channels": [{"id": c.id, "name": c.name, "topic": c.topic} for c in self.channels],
            "messages": {
                channel: [_for_page(m) for m in listed]
                for channel, listed in self.messages.items()
                if not channel.startswith("D") or channel == dm_id(user)
            },
            "ephemerals": mine,
            "modal": _view_for_page(stack[-1]) if stack else None,
            "home": _view_for_page(home) if home else None,
            "requests": self.requests[-20:],
        }


# Helpers -----------------------------------------------------------------------------------------


def escape_mentions(text: str, people: list[Person], channels: list[Channel]) -> str:
    """What Slack does to typed text for an app with `should_escape`: `@Ben` (picked from
    autocomplete) becomes `<@U…>`, `#general` a channel link. Unknown names stay as typed."""
    by_name: dict[str, str] = {}
    for person in people:
        by_name[person.name.lower()] = person.id
        by_name.setdefault(person.name.split()[0].lower(), person.id)
    names = sorted(by_name, key=len, reverse=True)
    if names:
        pattern = re.compile(
            r"(?<![\w<])@(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE
        )
        text = pattern.sub(lambda m: f"<@{by_name[m.group(1).lower()]}>", text)
    known = {c.name.lower(): c for c in channels}

    def channel_link(match: re.Match[str]) -> str:
        found = known.get(match.group(1).lower())
        return f"<#{found.id}|{found.name}>" if found else match.group(0)

    return re.sub(r"(?<![\w<&])#([a-z0-9_\-]+)", channel_link, text)


def with_ids(blocks: Any) -> Any:
    """Like Slack, gives every block a block_id and every element an action_id."""
    if not isinstance(blocks, list):
        return blocks
    for number, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", f"b{number}{secrets.token_hex(2)}")
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        elements += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for index, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") not in (None, "mrkdwn"):
                element.setdefault("action_id", f"a{index}{secrets.token_hex(2)}")
    return blocks


def _json(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def _truthy(raw: Any) -> bool:
    return raw is True or str(raw).lower() == "true"


def _reactions(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": name, "users": list(users), "count": len(users)}
        for name, users in (message.get("reactions_by") or {}).items()
        if users
    ]


def _as_slack(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the Web API and events show it."""
    shown = {k: v for k, v in message.items() if k not in ("reactions_by", "seed", "files")}
    reactions = _reactions(message)
    if reactions:
        shown["reactions"] = reactions
    return shown


def _for_page(message: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k != "reactions_by"}
    shown["reactions"] = _reactions(message)
    return shown


def _as_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("user", "kind", "errors", "channel")}


def _view_for_page(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "user"}


async def _arguments(request: web.Request) -> dict[str, Any]:
    """slack_sdk sends arguments as a query string, a form or JSON, depending on the method."""
    args: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json":
        args.update(json.loads(raw or "{}"))
    else:
        args.update(parse_qsl(raw))
    for key in ("blocks", "attachments", "view", "files"):
        if isinstance(args.get(key), str):
            args[key] = _json(args[key])
    return args
