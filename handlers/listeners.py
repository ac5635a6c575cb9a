"""Module-level listeners with their dependencies bound at registration.

A listener written as `async def show(services, effects, ack, command)` is registered as
`bound(show, services, effects)`: a function Bolt (and `guarded`) sees as `show(ack, command)`,
under the same name (Bolt tells lazy listeners apart by name).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from bot.services import Services
from handlers.effects import EffectRunner, Performer
from handlers.guard import guarded

Listener = Callable[..., Awaitable[Any]]


def bound(fn: Listener, services: Services, effects: EffectRunner) -> Listener:
    """`fn(services, effects, **slack_args)` as a guarded listener of the Slack args alone."""

    @functools.wraps(fn)
    async def listener(**kwargs: Any) -> Any:
        return await fn(services, effects, **kwargs)

    parameters = list(inspect.signature(fn).parameters.values())[2:]
    listener.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    del listener.__wrapped__  # type: ignore[attr-defined]
    return guarded(listener)


def performer(fn: Listener, services: Services, effects: EffectRunner) -> Performer:
    """`fn(services, effects, client, effect)` as an effect performer."""
    return functools.partial(fn, services, effects)
