"""guildbot with one bot token that was installed org-wide on Enterprise Grid (from the app's
settings, no OAuth): it starts with no XAPI_HOMEPAGE, since the token's `auth.test` names the
org's own URL, and serves every workspace of the org as one set of people."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import OutboxStatement
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack, Org, Team

SALES = Team("T0SALES", "https://acme-sales.slack.com/", "Acme Sales")
ENGINEERING = Team("T0ENG", "https://acme-eng.slack.com/", "Acme Engineering")
ACME = Org("E0ACME", "https://acme.enterprise.slack.com/", "Acme Corp", (SALES, ENGINEERING))


@pytest.fixture
async def org_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    settings = settings_for(tmp_path, slack)
    slack.orgs[ACME.id] = ACME
    slack.tokens[settings.slack_bot_token] = ACME.id  # the org's token, as Slack issued it
    harness = await BotHarness(settings, slack).start()
    yield harness
    await harness.close()


async def test_an_org_token_serves_the_orgs_workspaces_as_one_set_of_people(
    org_bot: BotHarness,
) -> None:
    for team, giver in ((SALES, "U0ANN"), (ENGINEERING, "U0CAT")):
        _, reply = await org_bot.command(
            "/kudos", "<@U0BOB> for the runbook", giver, team_id=team.id, org=ACME
        )
        assert "Kudos sent" in reply["text"], team.name

    _, board = await org_bot.command(
        "/kudos", "leaderboard all", "U0CAT", team_id=ENGINEERING.id, org=ACME
    )

    assert "<@U0BOB>: 2 kudos" in json.dumps(board["blocks"])
    with org_bot.database.reading() as session:
        rows = list(session.exec(select(OutboxStatement)))
    assert rows and {row.team_id for row in rows} == {ACME.id}
    homes = {json.loads(row.body)["actor"]["account"]["homePage"] for row in rows}
    assert homes == {ACME.url}, "one actor per person across the org"


async def test_a_community_created_from_an_org_workspace_gets_its_channel_there(
    org_bot: BotHarness, slack: FakeSlack
) -> None:
    """An org-wide token must name the workspace a new channel goes in: the one the
    `/community create` came from."""
    _, reply = await org_bot.command(
        "/community", "create data-science #python", "U0ANN", team_id=ENGINEERING.id, org=ACME
    )
    await org_bot.settle()

    assert "data-science" in slack.channel_names, reply
    assert slack.created_in["data-science"] == ENGINEERING.id
