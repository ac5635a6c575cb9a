"""Communities of practice and shared resources are each workspace's own: another
workspace's community of the same name, its members and its links never show, and buttons
carrying another workspace's ids change nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.views.communities import JOIN_ACTION
from bot.views.resource_list import OPEN_ACTION
from storage.models import Community, CommunityMember, Resource, ResourceOpen
from tests.isolation.conftest import Side

pytestmark = pytest.mark.usefixtures("no_listener_failures")

GUIDE = "https://docs.python.org/3/howto/logging.html"


async def create(side: Side, user: str, text: str) -> Community:
    """`/community create`; the other workspace's Slack has channels of its own, so the fake
    forgets the names it made before."""
    side.slack.channel_names.clear()
    reply = await side.command("/community", f"create {text}", user)
    assert "Creating the community" in reply["text"], reply
    with side.bot.database.reading() as session:
        query = select(Community).where(Community.team_id == side.team_id)
        return session.exec(query).one()


def members(side: Side, community: Community) -> set[str]:
    with side.bot.database.reading() as session:
        query = select(CommunityMember.user_id).where(CommunityMember.community_id == community.id)
        return set(session.exec(query))


async def test_a_community_name_is_each_workspaces_own(a: Side, b: Side) -> None:
    theirs = await create(b, "U0ZED", "Data Science #python Notebooks and models")
    await b.press(JOIN_ACTION, theirs.id, "U0YAN")
    directory = json.dumps(await a.command("/community", "", "U0ANN"))
    page = json.dumps(await a.command("/community", "data science", "U0ANN"))
    assert "data-science" not in directory and "Notebooks" not in directory
    assert "data-science" in json.dumps(await b.command("/community", "", "U0ANN"))
    assert "U0ZED" not in page and "Notebooks" not in page

    ours = await create(a, "U0ANN", "Data Science #python Our own")

    assert ours.id != theirs.id and ours.channel_id != theirs.channel_id
    page = json.dumps(await a.command("/community", "data science", "U0BOB"))
    assert "Our own" in page and "Notebooks" not in page
    assert "U0ZED" not in page and "U0YAN" not in page
    assert members(a, ours) == {"U0ANN"}
    assert members(b, theirs) == {"U0ZED", "U0YAN"}


async def test_joining_by_another_workspaces_community_id_changes_nothing(a: Side, b: Side) -> None:
    theirs = await create(b, "U0ZED", "Data Science #python Notebooks and models")

    await a.press(JOIN_ACTION, theirs.id, "U0BOB")

    assert members(b, theirs) == {"U0ZED"}
    assert not any("U0BOB" in json.dumps(c) for c in a.slack.calls_to("conversations.invite"))


async def test_shared_resources_are_found_and_opened_in_their_own_workspace_only(
    a: Side, b: Side
) -> None:
    shared = await b.command("/share", f"<{GUIDE}> Logging done right #python", "U0ZED")
    assert "Shared *Logging done right*" in shared["text"]

    found = json.dumps(await a.command("/resources", "python", "U0BOB"))
    again = await a.command("/share", f"<{GUIDE}> Our logging notes #python", "U0CAT")

    assert "Logging done right" not in found and "No shared resource matches" in found
    assert "shared already" not in again["text"]
    with a.bot.database.reading() as session:
        rows = {r.team_id: r for r in session.exec(select(Resource))}
    assert (rows[a.team_id].title, rows[b.team_id].title) == (
        "Our logging notes",
        "Logging done right",
    )

    await a.press(OPEN_ACTION, rows[b.team_id].id, "U0BOB")

    with a.bot.database.reading() as session:
        assert list(session.exec(select(ResourceOpen))) == []
        assert session.get(Resource, rows[b.team_id].seq).opens == 0
