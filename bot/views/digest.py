"""The weekly digest message, and the text that goes with its activity chart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.digest import CHART_WEEKS, Digest, Helper
from bot.views.chart import activity_legend
from bot.views.lunchlearn import presenter, when
from bot.views.mrkdwn import code, escape, truncate

CHART_FILENAME = "guildbot-weekly-activity.png"


def _day(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b}"


def period_text(digest: Digest) -> str:
    start, end = digest.period.start, digest.period.end
    if end - start < timedelta(days=1):  # a schedule more often than daily: times too
        zone = ZoneInfo(digest.timezone)
        hours = f"{start.astimezone(zone):%H:%M}–{end.astimezone(zone):%H:%M}"
        return f"{_day(start, digest.timezone)} {hours}"
    return f"{_day(start, digest.timezone)} – {_day(end, digest.timezone)}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def duration_text(taken: timedelta) -> str:
    minutes = int(taken.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return _plural(minutes, "minute")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _plural(hours, "hour") + (f" {minutes} min" if minutes else "")
    return _plural(round(hours / 24), "day")


def digest_text(digest: Digest) -> str:
    """The notification and fallback text."""
    return (
        f"Guild digest, {period_text(digest)}: {_plural(digest.kudos, 'kudos', 'kudos')}, "
        f"{_plural(digest.asked, 'question')} asked ({digest.answered} answered), "
        f"{_plural(len(digest.upcoming), 'session')} coming up"
    )


def _kudos(digest: Digest) -> str:
    if not digest.kudos:
        return ":trophy: *Kudos*\nNo kudos this time. Who helped you lately? `/kudos @them why`"
    line = (
        f":trophy: *Kudos*\n{_plural(digest.kudos, 'kudos', 'kudos')} from "
        f"{_plural(digest.givers, 'person', 'people')} to "
        f"{_plural(digest.receivers, 'person', 'people')}."
    )
    if digest.values:
        named = ", ".join(f"{code('#' + value)} {count}" for value, count in digest.values)
        line += f"\nMost recognised: {named}"
    return line


def _questions(digest: Digest) -> str:
    line = (
        f":question: *Questions*\n{_plural(digest.asked, 'question')} asked, "
        f"{digest.answered} answered, {digest.accepted} with an accepted answer."
    )
    if digest.waiting:
        oldest = ", ".join(
            f"<{q.permalink}|{_tags(q.tags)}>" if q.permalink else _tags(q.tags)
            for q in digest.oldest_waiting
        )
        line += (
            f"\n{_plural(digest.waiting, 'question')} still waiting for an answer"
            f"{'; the oldest: ' + oldest if oldest else ''}"
        )
    else:
        line += "\nEvery question has an answer."
    return line


def _tags(tags: list[str]) -> str:
    return escape(" ".join("#" + tag for tag in tags) or "question")


def _helper(helper: Helper) -> str:
    return (
        f"<@{helper.user_id}>: first to answer {_plural(helper.first_answers, 'question')}, "
        f"typically within {duration_text(helper.median)}"
    )


def _helpers(digest: Digest) -> str:
    lines = [":zap: *Fastest helpers* (time from question to first answer)"]
    lines += [_helper(helper) for helper in digest.helpers] or ["No first answers this time."]
    return "\n".join(lines)


def _upcoming(digest: Digest) -> str:
    lines = [":calendar: *Coming up*"]
    lines += [
        f"*{escape(lunch.title)}*, {when(lunch.starts_at)}, {presenter(lunch)} in "
        f"<#{lunch.channel_id}>"
        for lunch in digest.upcoming
    ] or ["No lunch-and-learns scheduled."]
    return "\n".join(lines)


def _gaps(digest: Digest) -> str:
    lines = [":mag: *Knowledge gaps* (topics asked about that few can answer)"]
    lines += [
        f"{code('#' + gap.slug)}: {_plural(gap.unanswered, 'question')} unanswered, "
        f"{gap.slow} answered slowly, {_plural(gap.experts, 'person', 'people')} with evidence"
        for gap in digest.gaps
    ] or ["None right now."]
    return "\n".join(lines)


def _resources(digest: Digest) -> str:
    lines = [":books: *Resources shared*"]
    lines += [
        f"{_titled_link(r.title, r.url)} ({r.kind}), opened by "
        f"{_plural(r.opens, 'person', 'people')}"
        for r in digest.resources
    ] or ["None this time: share one with `/share` or in a community's channel."]
    return "\n".join(lines)


def _titled_link(title: str, url: str) -> str:
    """The title as a link; an address Slack's link syntax can't hold shows as the title."""
    if any(char in url for char in "<>| "):
        return f"*{escape(title)}*"
    return f"<{url}|{escape(title)}>"


def digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    sections = [_kudos(digest), _questions(digest), _helpers(digest), _upcoming(digest)]
    sections.append(_resources(digest))
    sections.append(_gaps(digest))
    blocks: list[Any] = [HeaderBlock(text=f"Guild digest: {period_text(digest)}")]
    for index, text in enumerate(sections):
        if index:
            blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000))))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Weekly activity by capability: the chart is in the thread")
            ]
        )
    )
    return [block.to_dict() for block in blocks]


def chart_comment() -> str:
    return f"Activity per week, last {CHART_WEEKS} weeks: {activity_legend()}."
