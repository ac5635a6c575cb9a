"""Slack installations on guildbot's database (OAuth distribution), SQLite and PostgreSQL: each
workspace's bot token is found for that workspace only, the newest install wins, an org-wide
install serves its workspaces, an uninstall removes it, and an install link's state works once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, load_settings
from bot.executor import BlockingExecutor
from bot.installations import (
    InstallationStore,
    OAuthStateStore,
    installed_workspaces,
    workspace_clients,
)
from storage.database import Database
from storage.repositories import erasure, workspaces
from storage.repositories.installations import InstalledTeam
from tests.support.process import bot_env

CLIENT_ID = "111.222"


def install(
    team_id: str | None,
    token: str,
    *,
    enterprise_id: str | None = None,
    org_wide: bool = False,
    at: datetime | None = None,
) -> Installation:
    return Installation(
        app_id="A0GUILD",
        enterprise_id=enterprise_id,
        team_id=team_id,
        bot_token=token,
        bot_id="B0GUILD",
        bot_user_id="U0GUILDBOT",
        bot_scopes="chat:write,commands",
        user_id="U0INSTALLER",
        is_enterprise_install=org_wide,
        installed_at=(at or datetime.now(UTC)).timestamp(),
    )


@pytest.fixture
def oauth_settings(tmp_path: Path) -> Settings:
    env = bot_env(tmp_path, "http://127.0.0.1:9/api/", 3000, SLACK_BOT_TOKEN=None)
    env |= {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "cl13nt-s3cr3t"}
    return load_settings(env, env_file=None)


@pytest.fixture
async def executor() -> AsyncIterator[BlockingExecutor]:
    pool = BlockingExecutor(2)
    yield pool
    pool.shutdown()


async def test_each_workspace_finds_its_own_bot_and_the_newest_install_wins(
    database: Database, executor: BlockingExecutor
) -> None:
    store = InstallationStore(CLIENT_ID, database, executor)
    await store.async_save(install("T0ACME", "xoxb-acme-1", at=datetime(2026, 1, 1, tzinfo=UTC)))
    await store.async_save(install("T0BETA", "xoxb-beta"))
    await store.async_save(install("T0ACME", "xoxb-acme-2", at=datetime(2026, 2, 1, tzinfo=UTC)))

    acme = await store.async_find_bot(enterprise_id=None, team_id="T0ACME")
    beta = await store.async_find_bot(enterprise_id=None, team_id="T0BETA")
    nobody = await store.async_find_bot(enterprise_id=None, team_id="T0NONE")

    assert acme is not None and acme.bot_token == "xoxb-acme-2"
    assert beta is not None and beta.bot_token == "xoxb-beta"
    assert nobody is None
    found = await store.async_find_installation(enterprise_id=None, team_id="T0BETA")
    assert found is not None and found.user_id == "U0INSTALLER"


async def test_another_apps_installations_are_not_ours(
    database: Database, executor: BlockingExecutor
) -> None:
    await InstallationStore("999.999", database, executor).async_save(install("T0ACME", "xoxb-x"))

    ours = InstallationStore(CLIENT_ID, database, executor)

    assert await ours.async_find_bot(enterprise_id=None, team_id="T0ACME") is None


async def test_an_org_wide_install_serves_every_workspace_of_the_org(
    database: Database, executor: BlockingExecutor
) -> None:
    store = InstallationStore(CLIENT_ID, database, executor)
    await store.async_save(install(None, "xoxb-org", enterprise_id="E0ORG", org_wide=True))

    for team in ("T0SALES", "T0ENG"):
        bot = await store.async_find_bot(
            enterprise_id="E0ORG", team_id=team, is_enterprise_install=True
        )
        assert bot is not None and bot.bot_token == "xoxb-org"


async def test_the_tick_finds_an_org_wide_install_by_the_orgs_id(
    database: Database, executor: BlockingExecutor, oauth_settings: Settings
) -> None:
    """What the org's data is owed (keyed by the org's id) is done with the org's token; a
    workspace installed on its own still gets its own."""
    store = InstallationStore(CLIENT_ID, database, executor)
    await store.async_save(install(None, "xoxb-org", enterprise_id="E0ORG", org_wide=True))
    await store.async_save(install("T0NORTH", "xoxb-north"))
    client_of = workspace_clients(oauth_settings, store, AsyncWebClient())

    org, north, nobody = [
        await client_of(team)
        for team in (
            InstalledTeam("E0ORG", "E0ORG", org_wide=True),
            InstalledTeam("T0NORTH", None, org_wide=False),
            InstalledTeam("E0OTHER", "E0OTHER", org_wide=True),
        )
    ]

    assert org is not None and org.token == "xoxb-org"
    assert north is not None and north.token == "xoxb-north"
    assert nobody is None


async def test_forgetting_an_org_deletes_its_org_wide_install_and_spares_the_rest(
    database: Database, executor: BlockingExecutor
) -> None:
    """`guildbot forget --team E…`: the org's install has the org's id and no workspace."""
    store = InstallationStore(CLIENT_ID, database, executor)
    await store.async_save(install(None, "xoxb-org", enterprise_id="E0ORG", org_wide=True))
    await store.async_save(install("T0SALES", "xoxb-sales", enterprise_id="E0ORG"))
    await store.async_save(install("T0NORTH", "xoxb-north"))

    with database.transaction() as session:
        erasure.delete_workspace(session, "E0ORG")

    org = await store.async_find_installation(
        enterprise_id="E0ORG", team_id=None, is_enterprise_install=True
    )
    assert org is None
    assert (
        await store.async_find_bot(enterprise_id="E0ORG", team_id=None, is_enterprise_install=True)
        is None
    )
    for team, org_id in (("T0SALES", "E0ORG"), ("T0NORTH", None)):
        kept = await store.async_find_bot(enterprise_id=org_id, team_id=team)
        assert kept is not None, f"{team} installed guildbot on its own"


async def test_uninstalling_one_workspace_leaves_the_other(
    database: Database, executor: BlockingExecutor
) -> None:
    store = InstallationStore(CLIENT_ID, database, executor)
    await store.async_save(install("T0ACME", "xoxb-acme"))
    await store.async_save(install("T0BETA", "xoxb-beta"))

    await store.async_delete_all(enterprise_id=None, team_id="T0ACME")

    assert await store.async_find_bot(enterprise_id=None, team_id="T0ACME") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0ACME") is None
    beta = await store.async_find_bot(enterprise_id=None, team_id="T0BETA")
    assert beta is not None and beta.bot_token == "xoxb-beta"


async def test_an_install_links_state_is_good_once(
    database: Database, executor: BlockingExecutor
) -> None:
    states = OAuthStateStore(database, executor)
    state = await states.async_issue()

    assert await states.async_consume("made-up") is False
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False


async def test_an_install_links_state_expires_after_ten_minutes(
    database: Database, executor: BlockingExecutor
) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    issued = await OAuthStateStore(database, executor, lambda: now).async_issue()
    late = OAuthStateStore(database, executor, lambda: now + timedelta(minutes=10, seconds=1))

    assert await late.async_consume(issued) is False


async def test_the_tick_works_where_a_bot_is_installed_each_with_its_token(
    database: Database, executor: BlockingExecutor
) -> None:
    settings = load_settings(
        {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": "secret",
            "SLACK_SIGNING_SECRET": "signing",
            "DATABASE_URL": database.url,
        },
        env_file=None,
    )
    store = InstallationStore(CLIENT_ID, database, executor)
    await InstallationStore("999.999", database, executor).async_save(install("T0XYZ", "xoxb-x"))
    await store.async_save(install("T0ACME", "xoxb-acme"))
    await store.async_save(install("T0BETA", "xoxb-beta"))
    await store.async_save(install(None, "xoxb-org", enterprise_id="E0ORG", org_wide=True))
    with database.transaction() as session:
        # An org-wide install's data is the org's (bot.domain.workspace.data_key).
        workspaces.remember(session, "E0ORG", "https://org/", "E0ORG", None, datetime.now(UTC))
    installed = installed_workspaces(
        settings, database, executor, store, AsyncWebClient(base_url="http://127.0.0.1:9/")
    )

    found = {team: client.token for team, client in await installed()}
    assert found == {
        "T0ACME": "xoxb-acme",
        "T0BETA": "xoxb-beta",
        "E0ORG": "xoxb-org",
    }

    await store.async_delete_all(enterprise_id=None, team_id="T0BETA")  # uninstalled
    assert "T0BETA" not in {team for team, _ in await installed()}
