"""app_manifest.yml: valid for Slack, and exactly what the code listens for and uses."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

from bot.views.help import guild_help_blocks
from handlers import register_all, unhandled
from tests.support.harness import settings_for

ROOT = Path(__file__).resolve().parent.parent
# SchemaStore's schema, vendored (see tests/fixtures/README.md).
SCHEMA = ROOT / "tests" / "fixtures" / "slack-app-manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app_manifest.yml").read_text())


class RecordingApp:
    """Stands in for AsyncApp during `register_all`, noting what each module listens for."""

    def __init__(self) -> None:
        self.registered: dict[str, list[Any]] = defaultdict(list)

    def __getattr__(self, kind: str) -> Any:
        def listener_for(matcher: Any = None, *args: Any, **kwargs: Any) -> Any:
            self.registered[kind].append(matcher)
            return lambda *a, **k: a[0] if a else None

        return listener_for


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    errors = sorted(Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(manifest), key=str)
    assert [e.message for e in errors] == []


def test_every_command_escapes_mentions_and_has_a_listener(manifest: dict[str, Any]) -> None:
    app = RecordingApp()
    register_all(app, services=None)  # type: ignore[arg-type]
    commands = manifest["features"]["slash_commands"]

    assert all(c["should_escape"] is True for c in commands)
    # A command may have several listeners (e.g. `/guild export` has its own).
    assert {c["command"] for c in commands} == set(app.registered["command"])


def test_events_and_shortcuts_match_listeners(manifest: dict[str, Any]) -> None:
    app = RecordingApp()
    register_all(app, services=None)  # type: ignore[arg-type]
    subscribed = manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
    # `message.channels` and `message.groups` both arrive as `message` events.
    events = {e.split(".", 1)[0] for e in subscribed}
    shortcuts = [s["callback_id"] for s in manifest["features"].get("shortcuts", [])]

    # Every subscribed event has a listener, and `unhandled` acks those no capability matches.
    assert set(events) == {str(e) for e in app.registered["event"]}
    assert set(events) == set(unhandled.SUBSCRIBED_EVENTS)
    assert sorted(shortcuts) == sorted(str(s) for s in app.registered["shortcut"])


def test_scopes_are_exactly_those_the_code_needs(manifest: dict[str, Any], tmp_path: Path) -> None:
    from bot.runtime import required_scopes
    from tests.support.slack import FakeSlack

    slack = FakeSlack(base_url="http://127.0.0.1:9/api/")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])

    assert scopes == required_scopes(settings_for(tmp_path, slack))
    # users:read.email is documented, not requested, unless XAPI_ACTOR=email.
    assert "users:read.email" not in scopes
    assert "users:read.email" in required_scopes(settings_for(tmp_path, slack, XAPI_ACTOR="email"))


def test_bot_display_name_has_no_spaces(manifest: dict[str, Any]) -> None:
    assert " " not in manifest["features"]["bot_user"]["display_name"]


def test_guild_help_lists_every_command(manifest: dict[str, Any]) -> None:
    help_text = json.dumps(guild_help_blocks("trophy"))
    for command in manifest["features"]["slash_commands"]:
        assert command["command"] in help_text
