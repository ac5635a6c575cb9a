"""The L&D report and the statement export for one workspace hold that workspace's
statements only (the CLI's `--team`); without a team they span the deployment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.domain.reporting import build_report
from bot.operations import export_statements
from tests.isolation.conftest import Side
from tests.support.clock import SettableClock

pytestmark = pytest.mark.usefixtures("no_listener_failures")


async def test_a_workspaces_report_and_export_hold_only_its_own_statements(
    a: Side, b: Side, clock: SettableClock
) -> None:
    await b.command("/skills", "add python:expert", "U0ZED")
    await b.command("/kudos", "<@U0YAN> for the release #python", "U0ZED")
    await b.command("/kudos", "<@U0ANN> for the review #python", "U0ZED")
    await a.command("/kudos", "<@U0CAT> for the onboarding guide #docs", "U0ANN")
    database = a.bot.database
    since, until = clock.now - timedelta(days=1), clock.now + timedelta(days=1)

    ours = build_report(database, since, until, a.team_id)
    theirs = build_report(database, since, until, b.team_id)
    everyone = build_report(database, since, until)

    assert set(ours.people) == {"U0ANN", "U0CAT"}
    assert ours.people["U0ANN"].counts["kudos_given"] == 1
    assert ours.people["U0ANN"].counts["kudos_received"] == 0
    assert "python" not in ours.tags and "python" in theirs.tags
    assert set(theirs.people) == {"U0ZED", "U0YAN", "U0ANN"}
    assert theirs.people["U0ANN"].counts["kudos_given"] == 0
    assert ours.statements + theirs.statements == everyone.statements

    exported = [json.loads(s) for s in export_statements(database, since, until, a.team_id)]
    assert {s["actor"]["account"]["name"] for s in exported} == {"U0ANN", "U0CAT"}
    assert "python" not in json.dumps(exported)
