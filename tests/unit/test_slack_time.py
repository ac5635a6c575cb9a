"""When things happened: the time Slack gives in a request, never later than now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import occurred
from handlers.channels import channel_named_in
from handlers.slack_time import slack_time

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_slack_time_reads_an_events_or_an_actions_time() -> None:
    event = {"event": {"type": "reaction_added", "event_ts": "1764504000.000100"}}
    button = {"type": "block_actions", "actions": [{"action_ts": "1764504000.5"}]}
    shortcut = {"type": "message_action", "action_ts": "1764504000.25"}

    assert slack_time(event) == datetime(2025, 11, 30, 12, 0, 0, 100, tzinfo=UTC)
    assert slack_time(button) == datetime(2025, 11, 30, 12, 0, 0, 500000, tzinfo=UTC)
    assert slack_time(shortcut) == datetime(2025, 11, 30, 12, 0, 0, 250000, tzinfo=UTC)


def test_commands_forms_and_nonsense_carry_no_time() -> None:
    for body in (
        {"command": "/kudos", "trigger_id": "1.2.3"},
        {"type": "view_submission", "view": {}},
        {"event": {"event_ts": "soon"}},
        {"actions": [{"action_ts": None}]},
        {"event": {"event_ts": "nan"}},
        {"event": {"event_ts": "1e300"}},
    ):
        assert slack_time(body) is None, body


def test_a_time_is_never_later_than_now() -> None:
    assert occurred(NOW, NOW - timedelta(minutes=5)) == NOW - timedelta(minutes=5)
    assert occurred(NOW, NOW + timedelta(minutes=5)) == NOW
    assert occurred(NOW, None) == NOW


def test_a_channels_name_comes_from_commands_and_interactions_only() -> None:
    assert channel_named_in({"channel_id": "C0QA", "channel_name": "questions"}) == (
        "C0QA",
        "questions",
    )
    assert channel_named_in({"channel": {"id": "C0QA", "name": "questions"}}) == (
        "C0QA",
        "questions",
    )
    assert channel_named_in({"event": {"channel": "C0QA"}}) is None
    assert channel_named_in({"channel": {"id": "C0QA"}}) is None
