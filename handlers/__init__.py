"""Slack listeners, one module per capability, each exposing `register(app, services, effects)`.

Listeners are module-level functions bound by `handlers.seam.Seam`: they parse the payload,
call the domain, render blocks and reply. They know nothing of SQL: state changes go through
domain services on the executor.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from handlers import (
    channels,
    communities,
    experts,
    faq,
    guild,
    home,
    installs,
    kudos,
    kudos_reactions,
    kudos_shortcuts,
    lunchlearn,
    questions,
    resources,
    skills,
    suggestions,
    unhandled,
    workspace_settings,
)
from handlers.effects import EffectRunner
from handlers.seam import resolver

# `unhandled` comes last: it acks whatever the capabilities before it did not match.
MODULES = (
    installs,
    channels,
    guild,
    home,
    workspace_settings,
    kudos,
    kudos_reactions,
    kudos_shortcuts,
    skills,
    experts,
    # Before questions: its message listener takes every message the ones before it leave.
    communities,
    questions,
    faq,
    resources,
    suggestions,
    lunchlearn,
    unhandled,
)


def register_all(app: AsyncApp, services: Services) -> EffectRunner:
    """Registers every capability's listeners, and the performers of the effects they owe."""
    effects = EffectRunner(services)
    # First: every listener and matcher after it reads what it resolves.
    app.use(resolver(services))
    for module in MODULES:
        module.register(app, services, effects)
    return effects


def tick_jobs(
    services: Services, client: AsyncWebClient, effects: EffectRunner
) -> list[Callable[[], Awaitable[object]]]:
    """What the database tick runs in every process (see bot/scheduler.py)."""
    return [
        # Effects first: what acknowledged actions still owe is the most overdue work.
        functools.partial(effects.perform_due, client),
        functools.partial(questions.nudge_questions, services, effects, client),
        functools.partial(lunchlearn.run_session_jobs, services, client, effects),
        functools.partial(services.run, services.experts.rescore_due),
        # "Learn from" suggestions, a day old at most.
        functools.partial(services.run, services.suggestions.refresh_due),
        # Settings another process saved: in force here within a tick.
        functools.partial(services.run, services.workspace_settings.reload_if_changed),
    ]
