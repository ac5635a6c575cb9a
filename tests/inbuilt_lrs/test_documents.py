"""Documents of the inbuilt LRS (state, activity and agent profiles) and the activities and
agents resources, through the bot's real web app."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from tests.support.xapi import XapiClient

pytestmark = pytest.mark.usefixtures("no_listener_failures")

ADA = {"objectType": "Agent", "mbox": "mailto:ada@example.com"}
JSON = {"Content-Type": "application/json"}


def place() -> dict[str, str]:
    return {"activityId": f"https://example.com/courses/{uuid.uuid4()}", "agent": json.dumps(ADA)}


async def test_state_is_kept_with_an_etag_and_guarded_by_it(lrs: XapiClient) -> None:
    where = {**place(), "stateId": "bookmark"}
    first = json.dumps({"page": 3}).encode()

    put = await lrs.request("PUT", "activities/state", where, raw=first, headers=JSON)
    got = await lrs.request("GET", "activities/state", where)
    stale = await lrs.request(
        "PUT", "activities/state", where, raw=b'{"page": 9}', headers={**JSON, "If-Match": '"0"'}
    )
    fresh = await lrs.request(
        "PUT",
        "activities/state",
        where,
        raw=b'{"page": 4}',
        headers={**JSON, "If-Match": got.headers["ETag"]},
    )

    assert put.status == 204
    assert (got.status, got.raw) == (200, first)
    assert got.headers["ETag"] == f'"{hashlib.sha1(first).hexdigest()}"'
    assert stale.status == 412
    assert fresh.status == 204
    assert (await lrs.request("GET", "activities/state", where)).json == {"page": 4}


async def test_posting_json_onto_a_json_document_merges_one_level_deep(lrs: XapiClient) -> None:
    where = {**place(), "stateId": "progress"}
    await lrs.request("POST", "activities/state", where, {"a": 1, "nested": {"x": 1}})

    merged = await lrs.request("POST", "activities/state", where, {"b": 2, "nested": {"y": 2}})
    onto_text = await lrs.request(
        "POST", "activities/state", where, raw=b"plain", headers={"Content-Type": "text/plain"}
    )

    assert merged.status == 204
    assert onto_text.status == 400
    got = await lrs.request("GET", "activities/state", where)
    assert got.json == {"a": 1, "b": 2, "nested": {"y": 2}}


async def test_a_profile_is_replaced_only_by_someone_who_saw_its_etag(lrs: XapiClient) -> None:
    where = {"activityId": place()["activityId"], "profileId": "settings"}

    blind_create = await lrs.request("PUT", "activities/profile", where, {"v": 1})
    create = await lrs.request(
        "PUT", "activities/profile", where, {"v": 1}, headers={"If-None-Match": "*"}
    )
    blind_overwrite = await lrs.request("PUT", "activities/profile", where, {"v": 2})
    create_again = await lrs.request(
        "PUT", "activities/profile", where, {"v": 2}, headers={"If-None-Match": "*"}
    )

    assert blind_create.status == 400
    assert create.status == 204
    assert blind_overwrite.status == 409
    assert "If-Match" in blind_overwrite.json["message"]
    assert create_again.status == 412
    assert (await lrs.request("GET", "activities/profile", where)).json == {"v": 1}


async def test_a_list_of_ids_honours_since_and_a_delete_without_id_clears_the_state(
    lrs: XapiClient,
) -> None:
    where = place()
    await lrs.request("PUT", "activities/state", {**where, "stateId": "one"}, {"n": 1})
    first_listed = await lrs.request("GET", "activities/state", where)
    stored = (await lrs.request("GET", "activities/state", {**where, "stateId": "one"})).headers
    await lrs.request("PUT", "activities/state", {**where, "stateId": "two"}, {"n": 2})

    assert first_listed.json == ["one"]
    assert sorted((await lrs.request("GET", "activities/state", where)).json) == ["one", "two"]
    assert stored["Last-Modified"].endswith("GMT")
    cleared = await lrs.request("DELETE", "activities/state", where)
    assert cleared.status == 204
    assert (await lrs.request("GET", "activities/state", where)).json == []


async def test_agent_profiles_belong_to_their_agent(lrs: XapiClient) -> None:
    ben = {"objectType": "Agent", "mbox": "mailto:ben@example.com"}
    ada_profile = {"agent": json.dumps(ADA), "profileId": f"prefs-{uuid.uuid4()}"}
    ben_profile = {**ada_profile, "agent": json.dumps(ben)}

    await lrs.request(
        "PUT", "agents/profile", ada_profile, {"theme": "dark"}, headers={"If-None-Match": "*"}
    )

    assert (await lrs.request("GET", "agents/profile", ada_profile)).json == {"theme": "dark"}
    assert (await lrs.request("GET", "agents/profile", ben_profile)).status == 404


async def test_an_activity_shows_every_language_statements_gave_it(lrs: XapiClient) -> None:
    activity = f"https://example.com/meetings/{uuid.uuid4()}"

    def about(names: dict[str, str]) -> dict[str, object]:
        return {
            "actor": ADA,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"id": activity, "definition": {"name": names}},
        }

    await lrs.request("POST", "statements", body=[about({"en-US": "meeting"})])
    await lrs.request("POST", "statements", body=[about({"fr-FR": "réunion"})])
    got = await lrs.request("GET", "activities", {"activityId": activity})

    assert got.json == {
        "objectType": "Activity",
        "id": activity,
        "definition": {"name": {"en-US": "meeting", "fr-FR": "réunion"}},
    }


async def test_an_agent_is_described_as_a_person(lrs: XapiClient) -> None:
    got = await lrs.request("GET", "agents", {"agent": json.dumps({**ADA, "name": "Ada"})})
    bad = await lrs.request("GET", "agents", {"agent": json.dumps({"name": "Ada"})})

    assert got.json == {"objectType": "Person", "name": ["Ada"], "mbox": [ADA["mbox"]]}
    assert bad.status == 400
