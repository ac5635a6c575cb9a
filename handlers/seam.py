"""The seam between Bolt and the capabilities: what a listener needs, resolved once per request.

Middleware (`Resolver`) puts two things in the request's context, before any listener runs:
- the `Workspace` the request comes from: its settings and the xAPI identity its statements
  are built with (an installation's own when distributed, else the process's);
- for a person's own action (a command, a button, a shortcut, a form), their cached profile,
  looked up once, with the lookup timeout. Events are not looked up: most are dropped unread.

Listeners are module-level functions; `Seam` binds them to the services (by closure, never
through the context, which lazy listeners get a copy of). A listener names what it takes:
Bolt's arguments (`ack`, `body`, `command`, `view`, `respond`…), `turn` (the `Turn`: the
services, the workspace, the acting person, more people, the Slack client) and, for a lazy
listener, `handoff` (what its ack listener returned). Effect performers get a `Turn` too.

One place for refusals: a listener raises `Refused` (the domain's, or `SlackSlow` and
`PersonNotFound` from the look-ups), and the seam renders it where the request came from:
the command's ack text, the form's field errors (plain text, people by name), or an
ephemeral reply to a button or shortcut, sent by the request's first lazy listener, after
the ack. An event's refusal is acked and dropped, except Slack being slow: that is a failure,
so the event is not acknowledged and Slack redelivers it.

Typed hand-offs: what an ack listener returns goes to its lazy listeners as `handoff`; a
lazy listener whose `handoff` annotation the value does not match (the ack refused, or had
nothing to hand on) is skipped.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, ParamSpec, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.lazy_listener.asyncio_runner import AsyncioLazyListenerRunner
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.domain.workspace import Workspace, WorkspaceSettings, data_key
from bot.services import Services
from handlers.effects import EffectRunner, Performer
from handlers.guard import Listener, ack_failed, boundary, tell
from handlers.people import PersonNotFound, SlackSlow, profiles
from handlers.slack_time import slack_time

log = logging.getLogger("guildbot.handlers.seam")

# The key of what the seam keeps in a request's context (`Resolved`).
RESOLVED = "guildbot"

# Requests in which a person acts, and so is looked up before any listener runs.
ACTIONS = frozenset({"block_actions", "message_action", "shortcut", "view_submission"})
# Slack shows at most this much of a field error.
FIELD_ERROR_MAX = 150
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Owed:
    """The hand-off of an ack that owes Slack effects (their keys): the lazy listener
    performs them right after the ack."""

    effects: tuple[str, ...]

    @classmethod
    def of(cls, effects: Iterable[str]) -> Owed:
        return cls(tuple(effects))


@dataclass(frozen=True)
class Purpose:
    """What a listener does, in the words a refusal uses, and the form field its refusals
    are shown on (for a form's listener)."""

    doing: str = "do that"
    field: str | None = None


NO_PURPOSE = Purpose()


def doing(what: str, field: str | None = None) -> Callable[[Listener], Listener]:
    """Declares what a listener does (`"send the kudos"`), for "Slack is slow, so I didn't
    send the kudos", and the form field its refusals go on."""

    def declare(fn: Listener) -> Listener:
        fn._purpose = Purpose(what, field)  # type: ignore[attr-defined]
        return fn

    return declare


@dataclass(frozen=True)
class ActorUnknown:
    """The acting person could not be looked up before the listeners ran."""

    user_id: str
    why: Literal["slow", "not_found", "failed"]


@dataclass(frozen=True)
class Turn:
    """One request from Slack as a listener sees it (or one owed effect as its performer
    does): the application, the workspace, the acting person, and the Slack client with
    the workspace's token."""

    services: Services
    effects: EffectRunner
    workspace: Workspace
    client: AsyncWebClient
    purpose: Purpose = NO_PURPOSE
    resolved_actor: Profile | ActorUnknown | None = None
    at: datetime | None = None
    """When Slack says the request happened (see handlers/slack_time.py)."""

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def settings(self) -> WorkspaceSettings:
        return self.workspace.settings

    @property
    def actor(self) -> Profile:
        """The acting person; Slack too slow to say who they are, or not knowing them, is
        a refusal."""
        return _known_actor(self.resolved_actor, self.purpose)

    async def people(self, *user_ids: str) -> dict[str, Profile]:
        """Their profiles (cached); Slack too slow is a refusal in the listener's words."""
        try:
            return await profiles(self.services, self.client, self.team_id, user_ids)
        except TimeoutError:
            raise SlackSlow(self.purpose.doing) from None

    async def person(self, user_id: str) -> Profile:
        return (await self.people(user_id))[user_id]

    async def record(self, change: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Makes a state change with its statements (one transaction, off the loop), then
        has the forwarder send the statements."""
        done = await self.services.run(change, *args, **kwargs)
        self.services.forwarder.wake()
        return done

    async def perform(self, owed: Owed) -> None:
        """Does the Slack effects an ack owed, right after it."""
        await self.effects.perform_now(self.client, list(owed.effects))


# An effect performer as a capability writes it: module-level, given a turn of its own.
Performing = Callable[[Turn, OwedEffect], Awaitable[Any]]


@dataclass
class Resolved:
    """What the seam keeps in a request's context: what the middleware resolved, then what the
    ack listener handed on or refused, for its lazy listeners (which get the same request,
    see `start_after_ack`)."""

    workspace: Workspace
    actor: Profile | ActorUnknown | None = None
    handoff: Any = None
    refusal: str | None = None


def resolved(context: AsyncBoltContext) -> Resolved:
    found: Resolved = context[RESOLVED]
    return found


# The middleware ----------------------------------------------------------------------------


class BeforeListeners(AsyncMiddleware):
    """Bolt middleware that does its work on the request, then lets it go on. A class, not a
    function: for a function middleware Bolt builds every argument it could inject, on every
    request."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        await self.before(req)
        return await next()

    async def before(self, req: AsyncBoltRequest) -> None:
        raise NotImplementedError


class Resolver(BeforeListeners):
    """Resolves the workspace and the acting person, once per request."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def before(self, req: AsyncBoltRequest) -> None:
        services, context = self._services, req.context
        workspace = workspace_of(services, context)
        context[RESOLVED] = found = Resolved(workspace)
        user_id = acting_user(req.body)
        if user_id is not None:
            found.actor = await _actor(services, context.client, workspace.team_id, user_id)


def workspace_in(context: AsyncBoltContext) -> Workspace:
    """The workspace the middleware resolved, for listener matchers (which run before any
    listener, and take Bolt's arguments only)."""
    return resolved(context).workspace


def workspace_of(services: Services, context: AsyncBoltContext) -> Workspace:
    """The request's workspace, keyed by whose data it is: an org-wide install's org."""
    org_wide = bool(context.is_enterprise_install)
    key = data_key(context.team_id, context.enterprise_id, org_wide)
    return workspace_for(
        services, key or services.statements.default.identity.team_id, context.enterprise_id
    )


def workspace_for(services: Services, team_id: str, enterprise_id: str | None = None) -> Workspace:
    """A workspace, by its team id: the xAPI identity its statements are built with (its own
    when it was installed with OAuth, else the process's), and its own settings (from memory:
    no database read)."""
    return Workspace(
        team_id=team_id,
        enterprise_id=enterprise_id,
        settings=services.workspace_settings.of(team_id),
        identity=services.statements.for_team(team_id).identity,
    )


def acting_user(body: dict[str, Any]) -> str | None:
    """The person whose own action the request is, if it is one."""
    if "command" in body:
        return body.get("user_id")
    if body.get("type") in ACTIONS:
        return (body.get("user") or {}).get("id")
    return None


async def _actor(
    services: Services, client: AsyncWebClient | None, team_id: str, user_id: str
) -> Profile | ActorUnknown:
    known = services.people.in_memory(team_id, [user_id])
    if user_id in known or client is None:
        return known.get(user_id) or ActorUnknown(user_id, "failed")
    try:
        return (await profiles(services, client, team_id, [user_id]))[user_id]
    except TimeoutError:
        return ActorUnknown(user_id, "slow")
    except PersonNotFound:
        return ActorUnknown(user_id, "not_found")
    except Exception:
        # The listener that needs the person fails (and apologises); the rest go on.
        log.warning("could not look up %s", user_id, exc_info=True)
        return ActorUnknown(user_id, "failed")


# Binding listeners ----------------------------------------------------------------------------


class Seam:
    """Binds module-level listeners to the services, the seam's arguments and the one
    error boundary. `app.command("/x")(**on(ack_listener, lazy_listener, …))`."""

    def __init__(self, services: Services, effects: EffectRunner) -> None:
        self.services = services
        self.effects = effects

    def __call__(self, ack: Listener, *lazy: Listener) -> dict[str, Any]:
        """Bolt's `ack=` and `lazy=` for these listeners: the ack listener, which starts the
        lazy ones after it itself (see `start_after_ack`); the first lazy one tells refusals."""
        acks = self._bind(ack, lazy=False, tells=False)
        after = [self._bind(fn, lazy=True, tells=i == 0) for i, fn in enumerate(lazy)]
        if not after:
            return {"ack": acks, "lazy": []}

        async def ack_then_start(args: AsyncArgs) -> None:
            await acks(args)
            if not ack_failed(args.context):
                start_after_ack(args, after)

        ack_then_start.__name__ = acks.__name__
        ack_then_start.__qualname__ = acks.__qualname__
        return {"ack": ack_then_start, "lazy": []}

    def performer(self, fn: Performing) -> Performer:
        """An effect performer taking `(turn, effect)`, bound to the services."""

        async def perform(client: AsyncWebClient, effect: OwedEffect) -> Any:
            workspace = workspace_for(self.services, effect.team_id)
            return await fn(Turn(self.services, self.effects, workspace, client), effect)

        perform.__name__ = fn.__name__
        return perform

    def performs(self, performers: Mapping[str, Performing]) -> None:
        """Registers a capability's effect performers, by the kind of effect each performs."""
        for kind, fn in performers.items():
            self.effects.performs(kind, self.performer(fn))

    def _bind(self, fn: Listener, *, lazy: bool, tells: bool) -> Callable[[AsyncArgs], Any]:
        names = list(inspect.signature(fn).parameters)
        purpose: Purpose = getattr(fn, "_purpose", NO_PURPOSE)
        takes = _handoff_type(fn) if "handoff" in names else None

        async def call(args: AsyncArgs) -> None:
            if lazy and not await self._lazy_may_run(args, takes, tells):
                return
            try:
                returned = await fn(**{n: self._argument(n, args, purpose) for n in names})
            except Refused as refusal:
                await self._render(args, refusal, purpose, lazy)
                return
            if not lazy and returned is not None:
                resolved(args.context).handoff = returned

        return boundary(fn, call, lazy=lazy)

    async def _lazy_may_run(self, args: AsyncArgs, takes: type | None, tells: bool) -> bool:
        found = resolved(args.context)
        if found.refusal is not None:
            if tells:
                await tell(args, found.refusal)
            return False
        return takes is None or isinstance(found.handoff, takes)

    def _argument(self, name: str, args: AsyncArgs, purpose: Purpose) -> Any:
        if name == "handoff":
            return resolved(args.context).handoff
        if name != "turn":
            return getattr(args, name)
        found = resolved(args.context)
        return Turn(
            self.services,
            self.effects,
            found.workspace,
            args.client,
            purpose,
            found.actor,
            slack_time(args.body or {}),
        )

    async def _render(
        self, args: AsyncArgs, refusal: Refused, purpose: Purpose, lazy: bool
    ) -> None:
        """The refusal, on the surface the request came from."""
        body: dict[str, Any] = args.body or {}
        if body.get("type") == "event_callback":
            if isinstance(refusal, SlackSlow):
                raise refusal  # not acknowledged: Slack redelivers it
            log.info("event %s dropped: %s", body.get("event_id"), refusal.message)
            if args.ack.response is None:
                await args.ack()
        elif body.get("type") == "view_submission" and args.ack.response is None:
            errors = refusal.field_errors(purpose.field or "")
            await args.ack(response_action="errors", errors=await self._plain(args, errors))
        elif body.get("type") == "block_suggestion" and args.ack.response is None:
            await args.ack(options=[])
        elif lazy or "command" in body:
            await tell(args, refusal.message)
        else:
            # A button or shortcut: acked now, told by its first lazy listener.
            resolved(args.context).refusal = refusal.message
            await args.ack()

    async def _plain(self, args: AsyncArgs, errors: dict[str, str]) -> dict[str, str]:
        """Field errors as plain text, naming people by the names the bot knows."""
        workspace = resolved(args.context).workspace
        mentioned = _MENTION.findall(" ".join(errors.values()))
        known = await self.services.run(self.services.people.fresh, workspace.team_id, mentioned)
        names = {uid: person.name for uid, person in known.items()}
        return {field: plain(text, names)[:FIELD_ERROR_MAX] for field, text in errors.items()}


class TrackedLazyRunner(AsyncioLazyListenerRunner):
    """The app's lazy runner: the seam starts lazy listeners on it (`start_after_ack`), and it
    keeps their tasks so shutdown can wait for them."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger)
        self._tasks: set[asyncio.Task[None]] = set()

    def track(self, work: Awaitable[None]) -> None:
        """Runs `work` as a task that shutdown waits for."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def cancel(self) -> None:
        """Cuts short what is still running (shutdown, once its grace is over)."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


def start_after_ack(args: AsyncArgs, listeners: Iterable[Callable[[AsyncArgs], Any]]) -> None:
    """Starts an ack's lazy listeners on the app's lazy runner (which shutdown waits for), with
    the ack's own arguments. Bolt's `lazy=` gives each one a deep copy of the request, its body
    parsed again, and builds its arguments anew: about 0.15 ms of the event loop's time per
    kudos (bench/ack_latency.py). They only read the request, and what they share (`Resolved`)
    was shared already."""
    runner = args.context.listener_runner.lazy_listener_runner
    assert isinstance(runner, TrackedLazyRunner), "build_bolt_app installs the tracked runner"
    for listener in listeners:
        runner.track(listener(args))


def _known_actor(actor: Profile | ActorUnknown | None, purpose: Purpose) -> Profile:
    if isinstance(actor, Profile):
        return actor
    if actor is None:
        raise LookupError("the listener asks for the acting person; this request has none")
    if actor.why == "slow":
        raise SlackSlow(purpose.doing)
    if actor.why == "not_found":
        raise PersonNotFound(actor.user_id)
    raise LookupError(f"could not look up {actor.user_id}")


def _handoff_type(fn: Listener) -> type:
    hint = typing.get_type_hints(fn).get("handoff")
    if hint is None:
        raise TypeError(f"{fn.__qualname__}: annotate `handoff` with the type the ack returns")
    return hint


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_MARKUP = re.compile(r"<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>|<!date\^[^|>]*\|(?P<fallback>[^>]*)>")


def plain(text: str, names: dict[str, str]) -> str:
    """Form errors are plain text: mentions become names, dates their fallback wording."""

    def readable(match: re.Match[str]) -> str:
        if match["user"]:
            return names.get(match["user"], "someone")
        return match["fallback"]

    return _MARKUP.sub(readable, text)


async def perform_owed(handoff: Owed, turn: Turn) -> None:
    """The lazy listener of an ack that owes effects: does them right after the ack."""
    await turn.perform(handoff)


def first_word(command: dict[str, Any]) -> str:
    """The first word of a slash command's text, lower-cased ("" for none)."""
    return (command.get("text") or "").strip().partition(" ")[0].lower()


def subcommand(*words: str) -> Callable[..., Awaitable[bool]]:
    """A listener matcher: the command's first word is one of `words` ("" for no text)."""

    async def matches(command: dict[str, Any]) -> bool:
        return first_word(command) in words

    return matches


def says(*texts: str) -> Callable[..., Awaitable[bool]]:
    """A listener matcher: the command's whole text is one of `texts` (any case)."""

    async def matches(command: dict[str, Any]) -> bool:
        return (command.get("text") or "").strip().lower() in texts

    return matches


async def ack_only(ack: AsyncAck) -> None:
    """The ack of a request whose work is all after it (opening a form, a redraw)."""
    await ack()
