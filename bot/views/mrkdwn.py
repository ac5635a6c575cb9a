"""The one place where text a person typed becomes Slack markup (mrkdwn) or plain text.

Typed text reaches guildbot in two shapes, and each is rendered by its own function:

- *Slack text*: what slash commands (registered with `should_escape: true`) and message events
  carry. `&`, `<` and `>` arrive as `&amp;`, `&lt;`, `&gt;`, and `<…>` is Slack's own markup:
  people `<@U…>`, channels `<#C…|name>`, links `<url|label>`, broadcasts `<!here>`. Kudos reasons
  and questions typed into forms are stored in this shape too (`bot.domain.text.from_form`), so
  a stored reason or question is always Slack text. `render` and `readable` take it.
- *Plain text*: what guildbot keeps exactly as typed in a form (a session's title, description
  and place), and names it derives (tags, skill names). `escape` and `code` take it.

Rendered, a person's words read as they were typed (no `&amp;amp;`, formatting characters kept),
people and channels from Slack's own markup stay mentions, a link shows its real address and
never a label, and nothing broadcasts: Slack's broadcast markup becomes words, and any `@word`
that Slack might link on its own gets an invisible word joiner after the `@`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

WORD_JOINER = "\u2060"
ELLIPSIS = "…"
# Slack's markup, its three entities, and the bare characters it would read as markup.
_PIECE = re.compile(r"<(?P<token>[^<>]*)>|(?P<entity>&(?:amp|lt|gt);)|(?P<bare>[&<>])")
_PERSON = re.compile(r"@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<label>[^|]*))?")
_CHANNEL = re.compile(r"#(?P<id>[CG][A-Z0-9]+)(?:\|(?P<label>[^|]*))?")
_BROADCAST = re.compile(r"!(?P<name>here|channel|everyone|group)(?:\|[^|]*)?", re.IGNORECASE)
_GROUP = re.compile(r"!subteam\^(?P<id>[A-Z0-9]+)(?:\|(?P<label>[^|]*))?")
_LINK = re.compile(r"(?P<address>(?:https?://|mailto:)[^\s|]+)(?:\|.*)?", re.DOTALL)
# `@word` at the start of a word: Slack may turn it into a mention of its own.
_AT_WORD = re.compile(r"(?<!\w)@(?=\w)")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_UNESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY_OR_TOKEN_START = re.compile(r"&[a-z]{0,3}$|<[^>]*$")


def escape(typed: str) -> str:
    """Plain text as mrkdwn that shows exactly it."""
    return _defuse(characters(typed))


def characters(text: str) -> str:
    """The bot's own words with `&`, `<` or `>` in them (`<why>` in a usage line) as mrkdwn.
    A person's text takes `escape`, which also keeps its `@words` from notifying anyone."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def code(typed: str) -> str:
    """Plain text as an inline code span (a tag, a command to copy). A backtick would end the
    span, so it shows as the look-alike `ˋ`; a line break would too, so it shows as a space."""
    inside = " ".join(typed.replace("`", "ˋ").split()) or " "
    return f"`{escape(inside)}`"


def render(slack_text: str) -> str:
    """Slack text as mrkdwn: people and channels stay mentions (their labels dropped),
    broadcasts become words that notify nobody, links show their address, and anything else
    shows as typed."""
    return "".join(_rendered(piece) for piece in _pieces(slack_text))


def readable(slack_text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack text as the words a person sees, for `plain_text` or an LRS: people as `@name`
    from `names` (user id to name), else as Slack labelled them, else by id."""
    return "".join(_readable(piece, names or {}) for piece in _pieces(slack_text))


def needs_mrkdwn(slack_text: str) -> bool:
    """True when the text holds a mention or a link, which only mrkdwn can show."""
    return any(
        kind == "token" and (_PERSON.fullmatch(value) or _CHANNEL.fullmatch(value) or _link(value))
        for kind, value in _pieces(slack_text)
    )


def text_object(slack_text: str, limit: int = 3000, lead: str = "") -> dict[str, Any]:
    """A Block Kit text object for Slack text: `plain_text` (shown exactly as typed,
    formatting characters and all) unless it holds a mention or a link. `lead` is the bot's
    own words before it, the same in both (an emoji, say)."""
    if needs_mrkdwn(slack_text):
        return {"type": "mrkdwn", "text": truncate(lead + render(slack_text), limit)}
    return plain_object(lead + readable(slack_text), limit)


def plain_object(typed: str, limit: int = 3000) -> dict[str, Any]:
    """A `plain_text` object for plain text."""
    return {"type": "plain_text", "text": shorten(typed, limit), "emoji": True}


def quoted(slack_text: str, limit: int = 3000) -> str:
    """Slack text as a mrkdwn block quote, every line of it."""
    return "\n".join(">" + line for line in truncate(render(slack_text), limit).split("\n"))


def link_label(slack_text: str, limit: int = 80) -> str:
    """Slack text as the label of a link the bot builds: one line of its readable words. `|` is
    Slack's separator inside a link, so it shows as the look-alike `¦`."""
    words = " ".join(readable(slack_text).replace("|", "¦").split())
    return escape(shorten(words, limit))


def shorten(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def truncate(mrkdwn: str, limit: int) -> str:
    """mrkdwn cut to `limit` characters without cutting an entity or a token in two."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    if broken := _ENTITY_OR_TOKEN_START.search(cut):
        cut = cut[: broken.start()]
    return cut + ELLIPSIS


def _defuse(text: str) -> str:
    return _AT_WORD.sub("@" + WORD_JOINER, text)


def _unescape(text: str) -> str:
    return re.sub("&(?:amp|lt|gt);", lambda entity: _UNESCAPES[entity[0]], text)


def _pieces(slack_text: str) -> list[tuple[str, str]]:
    """("text" | "token" | "entity" | "bare", value) in order."""
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in _PIECE.finditer(slack_text):
        if match.start() > position:
            pieces.append(("text", slack_text[position : match.start()]))
        kind = match.lastgroup or "bare"
        pieces.append((kind, match[kind]))
        position = match.end()
    if position < len(slack_text):
        pieces.append(("text", slack_text[position:]))
    return pieces


def _link(token: str) -> str | None:
    """The address of a link token, when it is one Slack makes."""
    found = _LINK.fullmatch(token)
    return found["address"] if found else None


def _rendered(piece: tuple[str, str]) -> str:
    kind, value = piece
    if kind == "text":
        return _defuse(value)
    if kind == "entity":
        return value
    if kind == "bare":
        return _ESCAPES[value]
    if person := _PERSON.fullmatch(value):
        return f"<@{person['id']}>"
    if channel := _CHANNEL.fullmatch(value):
        return f"<#{channel['id']}>"
    if address := _link(value):
        if address.startswith("mailto:"):
            return escape(_unescape(address.removeprefix("mailto:")))
        return f"<{address}>"
    return escape(_readable(piece, {}))


def _readable(piece: tuple[str, str], names: Mapping[str, str]) -> str:
    kind, value = piece
    if kind == "entity":
        return _UNESCAPES[value]
    if kind != "token":
        return value
    if person := _PERSON.fullmatch(value):
        return "@" + (names.get(person["id"]) or person["label"] or person["id"])
    if channel := _CHANNEL.fullmatch(value):
        return "#" + (channel["label"] or channel["id"])
    if broadcast := _BROADCAST.fullmatch(value):
        return "@" + broadcast["name"]
    if group := _GROUP.fullmatch(value):
        return group["label"] or "@" + group["id"]
    if address := _link(value):
        return _unescape(address.removeprefix("mailto:"))
    return f"<{''.join(_readable(p, names) for p in _pieces(value))}>"
