"""Knowledge gaps: skills people ask about that too few people can answer.

For each skill tagged on questions asked in the last `WINDOW`: questions still without an
answer, questions whose first answer took longer than `SLOW`, and the people with evidence for
the skill beyond a bare declaration (endorsements, kudos, accepted answers, sessions). A skill
is a gap when questions went unanswered or slow; it ranks higher the more they did and the
fewer evidenced experts there are: (2 × unanswered + slow) / (1 + experts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from storage.database import Database
from storage.repositories import gaps as gaps_repo

WINDOW = timedelta(days=90)
SLOW = timedelta(hours=24)
TOP = 5


@dataclass(frozen=True)
class Gap:
    slug: str
    asked: int
    unanswered: int
    slow: int
    experts: int
    top_answerers: tuple[str, ...]
    """Who answered questions on it most (presenter candidates for a session)."""

    @property
    def score(self) -> float:
        return (2 * self.unanswered + self.slow) / (1 + self.experts)


class KnowledgeGaps:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def top(self, team_id: str, limit: int = TOP) -> list[Gap]:
        now = self._clock()
        with self._database.reading() as session:
            asked = gaps_repo.questions_by_skill(session, team_id, now - WINDOW)
            slugs = sorted(asked)
            experts = gaps_repo.evidenced_experts(session, team_id, slugs)
            answerers = gaps_repo.top_answerers(session, team_id, slugs, per_skill=3)
        gaps = []
        for slug, questions in asked.items():
            unanswered = sum(1 for q in questions if q.first_answer_at is None)
            slow = sum(
                1
                for q in questions
                if q.first_answer_at is not None and q.first_answer_at - q.asked_at > SLOW
            )
            if unanswered or slow:
                gaps.append(
                    Gap(
                        slug,
                        len(questions),
                        unanswered,
                        slow,
                        experts.get(slug, 0),
                        tuple(answerers.get(slug, ())),
                    )
                )
        gaps.sort(key=lambda g: (-g.score, -g.asked, g.slug))
        return gaps[:limit]
