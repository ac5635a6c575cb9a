"""Slack listeners, one module per capability, each exposing `register(app, services, effects)`.

Listeners are module-level functions bound by `handlers.seam.Seam`: they parse the payload,
call the domain, render blocks and reply. They know nothing of SQL: state changes go through
domain services on the executor.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.installations import Installed
from bot.services import Services
from handlers import (
    channels,
    communities,
    digest,
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
from handlers.seam import Resolver

log = logging.getLogger("guildbot.tick")

Job = Callable[[], Awaitable[object]]
WorkspaceJob = Callable[[AsyncWebClient, str], Awaitable[object]]
"""Tick work in one workspace: its client (with its token), its team id."""

# Bolt tries listeners in the order they were registered, and each one it tries costs about
# 10 µs of the event loop: kudos come first, the most frequent requests that write (a /kudos
# tried 17 listeners before its own; now 5). `unhandled` comes last: it acks whatever the
# capabilities before it did not match.
MODULES = (
    kudos,
    kudos_reactions,
    kudos_shortcuts,
    installs,
    channels,
    guild,
    home,
    workspace_settings,
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
    app.use(Resolver(services))
    for module in MODULES:
        module.register(app, services, effects)
    return effects


def tick_jobs(services: Services, effects: EffectRunner, installed: Installed) -> list[Job]:
    """What the database tick runs in every process (see bot/scheduler.py): in each workspace
    guildbot is installed in, with that workspace's token, the work due there; then what
    needs no Slack."""
    in_each_workspace: list[WorkspaceJob] = [
        # Effects first: what acknowledged actions still owe is the most overdue work.
        effects.perform_due,
        functools.partial(questions.nudge_questions, services, effects),
        functools.partial(lunchlearn.run_session_jobs, services, effects),
        # The digest, due on the workspace's own schedule (or missed by every process, for
        # `GRACE`); the claim keeps it to one post per workspace and period.
        functools.partial(digest.post_digest, services),
    ]
    return [
        # First, so the work after it has them: settings another process saved.
        functools.partial(services.run, services.workspace_settings.reload_if_changed),
        functools.partial(each_workspace, installed, in_each_workspace),
        functools.partial(services.run, services.experts.rescore_due),
        # "Learn from" suggestions, a day old at most.
        functools.partial(services.run, services.suggestions.refresh_due),
    ]


async def each_workspace(installed: Installed, jobs: list[WorkspaceJob]) -> None:
    """Runs `jobs` in each workspace guildbot is installed in; one workspace's failure is
    logged and leaves the others' work, and its own next job, to run."""
    for team_id, client in await installed():
        for job in jobs:
            try:
                await job(client, team_id)
            except Exception:
                log.exception(
                    "tick job %s failed in workspace %s; it runs again next tick",
                    getattr(job, "func", job).__qualname__,
                    team_id,
                    extra={"team": team_id},
                )
