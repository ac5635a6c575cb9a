"""What listeners need, built once at start-up and handed to each `register(app, services)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from bot.clock import Clock
from bot.config import Settings
from bot.domain.channels import ChannelNames
from bot.domain.communities import CommunityService
from bot.domain.digest import DigestService
from bot.domain.effects import EffectQueue
from bot.domain.experts import ExpertFinder
from bot.domain.faq import FaqSearch
from bot.domain.gaps import KnowledgeGaps
from bot.domain.home import HomeService
from bot.domain.kudos import KudosService
from bot.domain.lunchlearn import LunchLearnService
from bot.domain.people import PeopleDirectory
from bot.domain.questions import QuestionService
from bot.domain.resources import ResourceService
from bot.domain.routing import Router
from bot.domain.skills import SkillsService
from bot.domain.suggestions import SuggestionService
from bot.executor import BlockingExecutor
from bot.health import Health
from bot.lrs.http import Lrs
from bot.xapi.forwarder import Forwarder
from bot.xapi.statements import StatementBuilders
from storage.database import Database

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    database: Database
    executor: BlockingExecutor
    clock: Clock
    statements: StatementBuilders
    """Each workspace's statement builder (`for_team`), and the process's own (`default`)."""
    forwarder: Forwarder
    people: PeopleDirectory
    channels: ChannelNames
    kudos: KudosService
    skills: SkillsService
    experts: ExpertFinder
    questions: QuestionService
    faq: FaqSearch
    routing: Router
    lunchlearn: LunchLearnService
    gaps: KnowledgeGaps
    digest: DigestService
    home: HomeService
    communities: CommunityService
    resources: ResourceService
    suggestions: SuggestionService
    effects: EffectQueue
    health: Health
    lrs: Lrs
    """The inbuilt LRS (read-only when an external one is configured)."""

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs blocking (database) work off the event loop."""
        return await self.executor.run(fn, *args, **kwargs)
