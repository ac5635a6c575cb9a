"""Usage of every command, in one place: `/guild help` and each command's `help` read it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.views.mrkdwn import characters


@dataclass(frozen=True)
class CommandHelp:
    command: str
    summary: str
    usages: tuple[tuple[str, str], ...]
    note: str | None = None


GUILD = CommandHelp(
    "/guild",
    "guildbot at a glance",
    (
        ("/guild help", "every command, with examples"),
        ("/guild me", "your learning record in brief (more in guildbot's Home tab)"),
        ("/guild export", "your learning records as a file (xAPI statements), by DM"),
    ),
)


def kudos_help(emoji: str) -> CommandHelp:
    return CommandHelp(
        "/kudos",
        "recognise a colleague",
        (
            (
                "/kudos @person [@another …] <why> [#value …]",
                "thank one or more people; the reason needs at least 3 words, "
                "values are optional tags",
            ),
            (
                "/kudos leaderboard [week|month|all]",
                "top receivers and givers (default: this week)",
            ),
            ("/kudos help", "this help"),
        ),
        note=(
            "Example: `/kudos @Dana for the clear incident write-up #teamwork`\n"
            f"React with :{emoji}: to thank a message's author (in channels guildbot is in; "
            "remove the reaction to take it back). In a thread, use the *Give kudos* "
            "message shortcut (⋮ → Give kudos)."
        ),
    )


SKILLS = CommandHelp(
    "/skills",
    "your skills, and other people's",
    (
        ("/skills", "your profile, with an Edit button"),
        (
            "/skills add <skill>[:level], …",
            "add skills or change their level (learning, practitioner, expert; "
            "default practitioner)",
        ),
        ("/skills remove <skill>, …", "take skills off your profile"),
        ("/skills @person", "their skills, with the evidence and Endorse buttons"),
        ("/skills forget me", "after a confirmation, delete your skills and endorsements"),
        ("/skills help", "this help"),
    ),
    note="Example: `/skills add python:expert, kubernetes, public speaking:learning`",
)
EXPERT = CommandHelp(
    "/expert",
    "who knows a topic",
    (
        ("/expert <topic>", "the top 5 people, ranked by evidence, with Endorse buttons"),
        ("/expert help", "this help"),
    ),
    note="Example: `/expert kubernetes` (aliases such as `k8s` and close spellings work too)",
)


ASK = CommandHelp(
    "/ask",
    "ask the people who know",
    (
        (
            "/ask <question> [#tag …]",
            "posts your question in the Q&A channel; answers come in its thread",
        ),
        ("/ask help", "this help"),
    ),
    note=(
        "Example: `/ask How do I rotate the staging database password? #postgresql`. "
        "Accept the answer that helped with :white_check_mark: or the *Accept answer* shortcut."
    ),
)


FAQ = CommandHelp(
    "/faq",
    "search answered questions",
    (
        (
            "/faq <words>",
            "the 5 best answered questions, each with a passage of its accepted answer and links",
        ),
        ("/faq help", "this help"),
    ),
    note=(
        'Example: `/faq rotate staging password`. Put "quotes" around words that must come '
        "together. Nothing found? Ask it with `/ask`."
    ),
)


LUNCHLEARN = CommandHelp(
    "/lunchlearn",
    "lunch-and-learn sessions",
    (
        ("/lunchlearn", "(L&D) schedule a session: a form opens"),
        ("/lunchlearn list", "sessions coming up, with your RSVP and each session's id"),
        ("/lunchlearn cancel <id>", "(L&D) cancel a session; everyone going or waiting is told"),
        ("/lunchlearn gaps", "knowledge gaps: skills whose questions go unanswered or slow"),
        ("/lunchlearn help", "this help"),
    ),
    note="RSVP with the Going and Can't go buttons on the announcement.",
)


COMMUNITY = CommandHelp(
    "/community",
    "communities of practice",
    (
        ("/community", "every community, with Join and Leave buttons"),
        ("/community <name>", "one community: owners, top contributors, resources, sessions"),
        (
            "/community create <name> #skill … [description]",
            "start a community: I create its channel and invite you",
        ),
        ("/community link #channel #skill …", "(L&D) make an existing channel a community"),
        ("/community help", "this help"),
    ),
    note="Example: `/community create data-science #python #statistics Notebooks and models`",
)


SHARE = CommandHelp(
    "/share",
    "share a resource",
    (
        ("/share <url> [title] #skill …", "share a link (a document, a video, a page)"),
        ("/share help", "this help"),
    ),
    note=(
        "Links and files posted in a community's channel are shared with its skills "
        "automatically. Example: `/share https://fluentpython.com Fluent Python #python`"
    ),
)


RESOURCES = CommandHelp(
    "/resources",
    "find shared resources",
    (
        ("/resources <topic>", "the best shared resources by title and skill, with Open buttons"),
        ("/resources help", "this help"),
    ),
    note="Ranked by how many opened them, reactions and how recent they are.",
)


def commands(kudos_emoji: str) -> tuple[CommandHelp, ...]:
    return (
        kudos_help(kudos_emoji),
        ASK,
        FAQ,
        EXPERT,
        SKILLS,
        COMMUNITY,
        SHARE,
        RESOURCES,
        LUNCHLEARN,
        GUILD,
    )


def command_help_text(help_: CommandHelp) -> str:
    lines = [f"*{help_.command}*: {help_.summary}"]
    lines += [f"• `{characters(usage)}`: {what}" for usage, what in help_.usages]
    if help_.note:
        lines.append(help_.note)
    return "\n".join(lines)


@functools.cache
def guild_help_blocks(kudos_emoji: str) -> list[dict[str, Any]]:
    """Built once per emoji: `/guild help` is common and its blocks never change."""
    blocks: list[Any] = [HeaderBlock(text="guildbot commands")]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=command_help_text(h)))
        for h in commands(kudos_emoji)
    ]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Everything you do with guildbot is kept as a learning record for your "
                    "organisation. Replies to your commands are visible only to you."
                )
            ]
        )
    )
    return [block.to_dict() for block in blocks]


def guild_help_text() -> str:
    """The plain-text fallback Slack shows in notifications."""
    return "guildbot commands: " + ", ".join(h.command for h in commands("trophy"))
