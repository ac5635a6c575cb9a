"""Channel names for xAPI activity names ("#questions"). Slack gives a channel's name in
commands, buttons and shortcuts from it (never in events), so names are learned as requests
arrive, without another scope; a channel never seen that way stays unnamed."""

from __future__ import annotations

from bot.clock import Clock
from storage.database import Database
from storage.repositories import channels as channels_repo

# What Slack puts in `channel_name` for conversations that have no name of their own.
_NOT_NAMES = {"directmessage", "privategroup"}


class ChannelNames:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._known: dict[tuple[str, str], str] = {}

    def is_new(self, team_id: str, channel_id: str, name: str) -> bool:
        """Whether the name is worth storing: a real name this process hasn't stored yet.
        Never blocks, so it may run on the event loop before every request."""
        if not name or name in _NOT_NAMES or name.startswith("mpdm-") or channel_id[:1] == "D":
            return False
        return self._known.get((team_id, channel_id)) != name

    def seen(self, team_id: str, channel_id: str, name: str) -> None:
        with self._database.transaction() as session:
            channels_repo.remember(session, team_id, channel_id, name, self._clock())
        self._known[(team_id, channel_id)] = name
