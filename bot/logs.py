"""Logging: one line per record on stderr, as text (default) or JSON (`LOG_FORMAT=json`).

Structured fields (the listener, the Slack team, an error's reference, the outcome…) reach a
record two ways: `extra=` on one call, or `logged_with`, which scopes fields to everything a
coroutine logs. JSON lines carry them as keys a log system can index; text lines end with them
in brackets.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Awaitable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Library debug logs can carry request bodies (tokens, what people typed): never below WARNING.
QUIET = ("slack_sdk", "slack_bolt", "aiohttp.access", "alembic.runtime.migration")
# APScheduler reports each run at INFO, two lines every 30 s: that is debugging detail here.
CHATTY = "apscheduler"

_fields: ContextVar[Mapping[str, Any]] = ContextVar(
    "guildbot_log_fields", default=MappingProxyType({})
)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


async def logged_with(awaitable: Awaitable[T], **fields: Any) -> T:
    """Awaits `awaitable` with `fields` on every record it logs (None values left out)."""
    token = _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        return await awaitable
    finally:
        _fields.reset(token)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields on a record: `extra=` keys and those of `logged_with`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None}


class _ContextFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _fields.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class _Chatter(logging.Filter):
    """Moves a library's INFO records to DEBUG, then keeps what `level` lets through."""

    def __init__(self, logger: str, level: int) -> None:
        super().__init__()
        self._prefix, self._level = logger, level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] != self._prefix:
            return True
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self._level


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = fields_of(record)
        if not fields:
            return line
        return line + " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the structured fields,
    and the traceback as `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def log_handler(
    level: str = "INFO", form: str = "text", stream: TextIO | None = None
) -> logging.Handler:
    """A handler writing `form` lines of records at `level` and above to `stream` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_ContextFields())
    handler.addFilter(_Chatter(CHATTY, logging.getLevelNamesMapping()[level]))
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    return handler


def configure_logging(level: str = "INFO", form: str = "text") -> None:
    """The process's logging: one handler on the root logger, at `level`. Like
    `logging.basicConfig`, it leaves a root logger that already has handlers (a test runner, an
    embedding program) as it is."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    root = logging.getLogger()
    if root.handlers:
        return
    root.addHandler(log_handler(level, form))
    root.setLevel(level)
