"""The statement resource of the inbuilt LRS, through the bot's real web app: what a learning
system posting statements and an analytics tool reading them see."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.clock import utcnow
from bot.lrs import multipart
from storage.repositories import outbox as outbox_repo
from tests.inbuilt_lrs.conftest import client
from tests.support.harness import BotHarness, settings_for
from tests.support.lrs import (
    FakeLrs,
    fake_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.slack import BOT_USER_ID, WORKSPACE_URL, FakeSlack
from tests.support.xapi import XapiClient

pytestmark = pytest.mark.usefixtures("no_listener_failures")

ADA = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
ATTENDED = {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}}
GIVE = "http://activitystrea.ms/give"


def statement(**changes: Any) -> dict[str, Any]:
    made = {
        "id": str(uuid.uuid4()),
        "actor": ADA,
        "verb": ATTENDED,
        "object": {"objectType": "Activity", "id": f"https://example.com/{uuid.uuid4()}"},
    }
    made.update(changes)
    return made


def without_lrs_fields(statement: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}


async def test_the_bots_statements_are_in_the_lrs_as_soon_as_the_kudos_is_acknowledged(
    bot: BotHarness, reader: XapiClient
) -> None:
    status, _ = await bot.command("/kudos", "<@U0BOB> for the thorough review", "U0ANN")
    assert status == 200
    with bot.database.reading() as session:
        queued = [
            json.loads(b) for b in outbox_repo.bodies_since(session, utcnow().replace(year=2000))
        ]

    answer = await reader.statements(verb=GIVE)

    assert answer.status == 200
    [give] = answer.json["statements"]
    assert without_lrs_fields(give) == next(s for s in queued if s["verb"]["id"] == GIVE)
    assert give["authority"]["name"] == "guildbot"
    assert give["authority"]["account"] == {"homePage": WORKSPACE_URL, "name": BOT_USER_ID}
    assert {s["id"] for s in await reader.all_statements()} == {s["id"] for s in queued}


async def test_a_statement_put_is_read_back_exactly_with_what_the_lrs_adds(
    bot: BotHarness, lrs: XapiClient
) -> None:
    made = statement(timestamp="2026-12-01T09:30:00.123456Z")

    put = await lrs.request("PUT", "statements", {"statementId": made["id"]}, made)
    got = await lrs.statements(statementId=made["id"])

    assert put.status == 204
    assert got.status == 200
    assert without_lrs_fields(got.json) == made
    assert got.json["authority"]["name"] == "lms"
    assert got.json["version"] == "1.0.0"
    assert got.headers["Last-Modified"].endswith(" GMT")
    assert got.headers["X-Experience-API-Consistent-Through"] >= got.json["stored"]


async def test_the_same_statement_again_is_fine_a_different_one_with_its_id_conflicts(
    lrs: XapiClient,
) -> None:
    made = statement()
    assert (await lrs.request("POST", "statements", body=made)).json == [made["id"]]

    again = await lrs.request("POST", "statements", body=[made])
    put_again = await lrs.request("PUT", "statements", {"statementId": made["id"]}, made)
    different = await lrs.request(
        "PUT", "statements", {"statementId": made["id"]}, {**made, "verb": {"id": GIVE}}
    )

    assert (again.status, again.json) == (200, [made["id"]])
    assert put_again.status == 204
    assert different.status == 409
    assert (await lrs.statements(statementId=made["id"])).json["verb"] == ATTENDED


async def test_a_batch_with_one_bad_statement_stores_nothing_and_says_which(
    lrs: XapiClient,
) -> None:
    good, bad = statement(), statement(actor={"mbox": "ada@example.com"})

    answer = await lrs.request("POST", "statements", body=[good, bad])

    assert answer.status == 400
    assert "statements[1].actor.mbox" in answer.json["message"]
    assert (await lrs.statements(statementId=good["id"])).status == 404


async def test_a_voided_statement_is_hidden_but_readable_by_its_voided_id(
    lrs: XapiClient,
) -> None:
    target = statement()
    voiding = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": target["id"]},
    )
    await lrs.request("POST", "statements", body=[target])
    await lrs.request("POST", "statements", body=[voiding])

    assert (await lrs.statements(statementId=target["id"])).status == 404
    assert (await lrs.statements(voidedStatementId=target["id"])).json["id"] == target["id"]
    by_actor = await lrs.statements(agent=json.dumps(ADA))
    assert [s["id"] for s in by_actor.json["statements"]] == [voiding["id"]]


async def test_more_links_page_through_everything_once(lrs: XapiClient) -> None:
    verb = {"id": f"https://example.com/verbs/{uuid.uuid4()}"}
    made = [statement(verb=verb) for _ in range(5)]
    await lrs.request("POST", "statements", body=made)

    first = await lrs.statements(verb=verb["id"], limit="2")
    everything = await lrs.all_statements(verb=verb["id"], limit="2", ascending="true")

    assert first.json["more"].startswith("/xapi/statements?")
    assert [s["id"] for s in first.json["statements"]] == [made[4]["id"], made[3]["id"]]
    assert [s["id"] for s in everything] == [s["id"] for s in made]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Experience-API-Version": "0.95"}, 400),
        ({"X-Experience-API-Version": "2.0.0"}, 400),
        ({"Authorization": "Basic bm90OnRoaXM="}, 401),
        ({"Authorization": "Bearer abc"}, 401),
    ],
)
async def test_requests_without_a_supported_version_or_valid_key_are_refused(
    lrs: XapiClient, headers: dict[str, str], status: int
) -> None:
    answer = await lrs.request("GET", "statements", headers=headers)

    assert answer.status == status
    assert answer.json["message"]
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Basic")


async def test_about_needs_no_key_and_no_version(bot: BotHarness) -> None:
    about = await XapiClient(bot.address("/xapi/")).request("GET", "about", headers={})

    assert about.status == 200
    assert "1.0.3" in about.json["version"]


async def test_a_read_only_key_reads_but_cannot_write(lrs: XapiClient, reader: XapiClient) -> None:
    made = statement()
    await lrs.request("POST", "statements", body=made)

    refused = await reader.request("POST", "statements", body=statement())

    assert refused.status == 403
    assert "read-only" in refused.json["message"]
    assert (await reader.statements(statementId=made["id"])).status == 200


async def test_with_an_external_lrs_the_inbuilt_one_is_a_read_only_copy(
    tmp_path: Path, slack: FakeSlack, fake_lrs: FakeLrs
) -> None:
    settings = settings_for(
        tmp_path,
        slack,
        LRS_ENDPOINT=f"http://127.0.0.1:{fake_lrs.port}/xAPI/",
        LRS_KEY=fake_lrs.key,
        LRS_SECRET=fake_lrs.secret,
    )
    bot = await BotHarness(settings, slack).start()
    try:
        lrs = client(bot, "lms")
        await bot.command("/kudos", "<@U0BOB> for the thorough review", "U0ANN")

        refused = await lrs.request("POST", "statements", body=statement())
        copy = await lrs.statements(verb=GIVE)

        assert refused.status == 403
        assert "LRS_ENDPOINT" in refused.json["message"]
        assert len(copy.json["statements"]) == 1
    finally:
        await bot.close()


async def test_attachments_travel_as_multipart_both_ways(lrs: XapiClient) -> None:
    content = "Certificate of attendance ✓".encode()
    sha2 = hashlib.sha256(content).hexdigest()
    made = statement(
        attachments=[
            {
                "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                "display": {"en-US": "Certificate"},
                "contentType": "text/plain; charset=utf-8",
                "length": len(content),
                "sha2": sha2,
            }
        ]
    )
    body, content_type = multipart.build(json.dumps(made).encode(), [(sha2, "text/plain", content)])

    without_bytes = await lrs.request("POST", "statements", body=made)
    posted = await lrs.request(
        "POST", "statements", raw=body, headers={"Content-Type": content_type}
    )
    got = await lrs.request("GET", "statements", {"statementId": made["id"], "attachments": "true"})

    assert without_bytes.status == 400
    assert posted.status == 200
    first, second = got.parts()
    assert json.loads(first.content)["id"] == made["id"]
    assert second.headers["X-Experience-API-Hash"] == sha2
    assert second.content == content


async def test_head_answers_like_get_without_a_body(lrs: XapiClient) -> None:
    answer = await lrs.request("HEAD", "statements")

    assert answer.status == 200
    assert answer.raw == b""
    assert "X-Experience-API-Consistent-Through" in answer.headers


async def test_the_alternate_request_syntax_carries_method_headers_and_parameters(
    lrs: XapiClient,
) -> None:
    made = statement()
    form = urlencode(
        {
            "statementId": made["id"],
            "content": json.dumps(made),
            "X-Experience-API-Version": "1.0.3",
            **lrs.auth(),
        }
    ).encode()

    put = await XapiClient(lrs.endpoint).request(
        "POST",
        "statements?method=PUT",
        raw=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Experience-API-Version": "",
        },
    )

    assert put.status == 204
    assert (await lrs.statements(statementId=made["id"])).status == 200
