"""Lenient reading of slash-command text (commands are registered with `should_escape: true`).

People arrive as `<@U123>` or `<@U123|name>` (also `W…` ids); a channel link `<#C123|python>`
in a tag position is the tag `python` (a typed `#python` becomes that link when a #python
channel exists); a bare `#word` is a tag. User groups and `@here`-style broadcasts are refused,
and so is an unescaped `@name` (the person was typed, not picked from autocomplete).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.views import mrkdwn

_TOKEN = re.compile(
    r"<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>"
    r"|<#(?P<channel>[CG][A-Z0-9]+)(?:\|(?P<channel_name>[^>]*))?>"
    r"|<!subteam\^(?P<group>[A-Z0-9]+)(?:\|[^>]*)?>"
    r"|<!(?P<broadcast>here|channel|everyone)(?:\|[^>]*)?>"
    r"|<(?P<link>[^>]+)>"
    r"|(?<![\w&])#(?P<tag>[\w][\w\-+.]*)"
    r"|(?<![\w<])@(?P<typed>[\w][\w.\-]*)"
)
_WORD = re.compile(r"\S+")
# Control characters (NUL included) are never meant, and PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TextProblem(ValueError):
    """The text cannot be read; the message is what to tell the person (friendly, one line)."""


@dataclass(frozen=True)
class Token:
    kind: str  # "user", "tag", "word"
    value: str
    raw: str


@dataclass(frozen=True)
class ReadText:
    tokens: tuple[Token, ...] = field(default_factory=tuple)

    @property
    def leading_users(self) -> tuple[str, ...]:
        """People named before the first other word, in order, without repeats."""
        users: list[str] = []
        for token in self.tokens:
            if token.kind != "user":
                break
            if token.value not in users:
                users.append(token.value)
        return tuple(users)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.value for t in self.tokens if t.kind == "tag"))

    def words_after_leading_users(self) -> str:
        """The rest of the text as typed, tags removed, mentions kept in Slack's markup."""
        rest = self.tokens[len(self._leading_tokens()) :]
        return " ".join(t.raw for t in rest if t.kind != "tag")

    def _leading_tokens(self) -> list[Token]:
        leading = []
        for token in self.tokens:
            if token.kind != "user":
                break
            leading.append(token)
        return leading


def normalise_tag(raw: str) -> str:
    """`#Python` and `<#C1|python>` both become `python`; trailing punctuation is dropped."""
    return raw.strip().lower().rstrip(".,;:!?")


def clean(text: str) -> str:
    """Typed text without control characters (each becomes a space)."""
    return _CONTROL.sub(" ", text)


def from_form(typed: str) -> str:
    """Text typed into a form (Slack sends it exactly as typed) in the shape command text and
    messages arrive in, so every stored reason or question has that one shape: control
    characters dropped, `&`, `<` and `>` escaped. What was typed then shows as typed."""
    return re.sub("[&<>]", lambda char: _ESCAPES[char[0]], clean(typed))


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def as_typed(text: str) -> str:
    """Command text back as the person typed it: channel links become their names and
    Slack's escapes (`&amp;` `&lt;` `&gt;`) their characters. For names, not for mentions."""
    text = _CHANNEL_LINK.sub(r"\1", clean(text))
    return re.sub("&(?:lt|gt|amp);", lambda m: _ENTITIES[m[0]], text)


def read(text: str) -> ReadText:
    """Splits command text into people, tags and words; raises `TextProblem` for what we refuse."""
    text = clean(text)
    tokens: list[Token] = []
    position = 0
    for match in _TOKEN.finditer(text):
        tokens.extend(_words(text[position : match.start()]))
        tokens.append(_token(match))
        position = match.end()
    tokens.extend(_words(text[position:]))
    return ReadText(tuple(tokens))


def _words(chunk: str) -> list[Token]:
    return [Token("word", word, word) for word in _WORD.findall(chunk)]


def _token(match: re.Match[str]) -> Token:
    raw = match.group(0)
    if match.group("user"):
        return Token("user", match.group("user"), f"<@{match.group('user')}>")
    if match.group("channel"):
        name = match.group("channel_name")
        if name:
            return Token("tag", normalise_tag(name), raw)
        return Token("word", raw, raw)
    if match.group("group") or match.group("broadcast"):
        raise TextProblem(
            "Please name people, not groups: mention each person with @ and pick them from the list."
        )
    if match.group("link"):
        return Token("word", raw, raw)
    if match.group("tag"):
        tag = normalise_tag(match.group("tag"))
        return Token("tag", tag, raw) if tag else Token("word", raw, raw)
    raise TextProblem(
        f"I couldn't tell who “{mrkdwn.escape('@' + match.group('typed'))}” is. "
        "Type @ and pick the person "
        "from the list Slack shows, so their name turns blue."
    )
