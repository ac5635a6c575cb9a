"""`guildbot lrs credentials …` and `guildbot lrs replay`, as an operator runs them beside a
running bot."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.lrs import multipart
from storage.repositories import outbox as outbox_repo
from tests.inbuilt_lrs.conftest import client
from tests.support.harness import BotHarness, bot_env, settings_for
from tests.support.lrs import (
    FakeLrs,
    fake_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.slack import FakeSlack
from tests.support.xapi import XapiClient

ADA = {"objectType": "Agent", "mbox": "mailto:ada@example.com"}


@pytest.fixture
def operator(
    bot: BotHarness, tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> BotHarness:
    """The operator's shell: the running bot's settings, no .env file."""
    monkeypatch.chdir(tmp_path)
    for name, value in bot_env(tmp_path, slack).items():
        monkeypatch.setenv(name, value)
    return bot


def added_key(out: str) -> tuple[str, str]:
    lines = dict(
        line.split(":", 1) for line in out.splitlines() if line.startswith(("key:", "secret:"))
    )
    return lines["key"].strip(), lines["secret"].strip()


async def test_a_key_made_on_the_command_line_reads_until_it_is_revoked(
    operator: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = operator
    assert main(["lrs", "credentials", "add", "dashboard", "--read-only"]) == 0
    key, secret = added_key(capsys.readouterr().out)
    dashboard = XapiClient(bot.address("/xapi/"), key, secret)

    reading = await dashboard.statements()
    writing = await dashboard.request("POST", "statements", body={})
    assert main(["lrs", "credentials", "list"]) == 0
    listed = capsys.readouterr().out
    assert main(["lrs", "credentials", "revoke", "dashboard"]) == 0
    revoked = await dashboard.statements()

    assert reading.status == 200
    assert writing.status == 403
    assert "dashboard" in listed and key in listed and "read-only" in listed
    assert secret not in listed
    assert revoked.status == 401
    # Only a hash of the secret was ever stored.
    assert secret.encode() not in (tmp_path / "guildbot.db").read_bytes()


async def test_a_taken_name_or_an_unknown_key_is_refused_in_one_line(
    operator: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lrs", "credentials", "add", "lms"]) == 0
    capsys.readouterr()

    assert main(["lrs", "credentials", "add", "lms"]) == 2
    assert main(["lrs", "credentials", "revoke", "nobody"]) == 2
    first, second = capsys.readouterr().err.strip().splitlines()
    assert "named 'lms' exists already" in first
    assert "no key is named 'nobody'" in second


async def test_replay_sends_every_statement_once_with_the_bytes_kept(
    operator: BotHarness, fake_lrs: FakeLrs, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = operator
    fake_lrs.strict = True  # answers 409 to a statement it holds: the replay reads it back
    await bot.command("/kudos", "<@U0BOB> for the thorough review", "U0ANN")
    lms = client(bot, "lms")
    target = {
        "actor": ADA,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": "https://example.com/a"},
    }
    [target_id] = (await lms.request("POST", "statements", body=target)).json
    voiding = {
        "actor": ADA,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target_id},
    }
    await lms.request("POST", "statements", body=voiding)
    monkeypatch.setenv("LRS_KEY", fake_lrs.key)
    monkeypatch.setenv("LRS_SECRET", fake_lrs.secret)

    replay = ["lrs", "replay", "--to", fake_lrs.endpoint]
    assert await asyncio.to_thread(main, replay) == 0
    assert await asyncio.to_thread(main, replay) == 0  # again: nothing is stored twice

    with bot.database.reading() as session:
        own = list(outbox_repo.bodies_since(session, bot.clock().replace(year=2000)))
    sent = b"".join(request.body for request in fake_lrs.posts)
    assert all(body.encode() in sent for body in own)  # guildbot's statements, byte for byte
    assert len(fake_lrs.stored) == len(own) + 2
    assert set(fake_lrs.writes.values()) == {1}
    assert fake_lrs.voided == {target_id}
    batches = [request.ids for request in fake_lrs.posts]
    voiding_batch = next(
        ids for ids in batches if fake_lrs.stored[ids[0]]["verb"]["id"].endswith("voided")
    )
    assert len(voiding_batch) == 1


@pytest.fixture
async def other_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    """A second guildbot, with its own database: an LRS to move to."""
    directory = tmp_path / "other"
    directory.mkdir()
    harness = await BotHarness(settings_for(directory, slack), slack).start()
    yield harness
    await harness.close()


async def test_replay_to_another_lrs_carries_attachments_and_voiding(
    operator: BotHarness, other_bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = b"%PDF certificate"
    sha2 = hashlib.sha256(content).hexdigest()
    with_file: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": ADA,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://example.com/course"},
        "attachments": [
            {
                "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                "display": {"en-US": "Certificate"},
                "contentType": "application/pdf",
                "length": len(content),
                "sha2": sha2,
            }
        ],
    }
    body, content_type = multipart.build(
        json.dumps(with_file).encode(), [(sha2, "application/pdf", content)]
    )
    source = client(operator, "lms")
    assert (
        await source.request("POST", "statements", raw=body, headers={"Content-Type": content_type})
    ).status == 200
    destination = client(other_bot, "migration")
    monkeypatch.setenv("LRS_KEY", destination.key or "")
    monkeypatch.setenv("LRS_SECRET", destination.secret or "")

    assert await asyncio.to_thread(main, ["lrs", "replay", "--to", destination.endpoint]) == 0

    got = await destination.request(
        "GET", "statements", {"statementId": with_file["id"], "attachments": "true"}
    )
    statement_part, file_part = got.parts()
    assert json.loads(statement_part.content)["attachments"] == with_file["attachments"]
    assert file_part.content == content
    assert json.loads(statement_part.content)["authority"]["name"] == "migration"
