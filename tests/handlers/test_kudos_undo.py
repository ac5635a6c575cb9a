"""Undo on the giver's confirmation: for 10 minutes, it takes the kudos back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from storage.models import Kudos, OutboxStatement, SlackEffect
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import GUILDBOT, FakeSlack


@pytest.fixture
async def undo_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    settings = settings_for(tmp_path, slack, KUDOS_DAILY_LIMIT="1")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


def undo_value(reply: dict) -> str:
    [section] = reply["blocks"]
    assert section["accessory"]["text"]["text"] == "Undo"
    return section["accessory"]["value"]


def rows(bot: BotHarness) -> tuple[list[Kudos], list[dict]]:
    with bot.database.reading() as session:
        kudos = list(session.exec(select(Kudos)))
        statements = [json.loads(r.body) for r in session.exec(select(OutboxStatement))]
    return kudos, statements


async def test_kudos_taken_back_while_their_recognition_is_posted_lose_the_post_at_once(
    undo_bot: BotHarness, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recognition is read, then the kudos are taken back before the post is recorded:
    recording it owes the post's removal, which goes at once, and both effects end done."""
    read = undo_bot.services.kudos.recognition

    def taken_back_meanwhile(kudos_ids: list[str]) -> object:
        recognition = read(kudos_ids)
        with undo_bot.database.transaction() as session:
            for kudos in session.exec(select(Kudos).where(col(Kudos.id).in_(kudos_ids))):
                kudos.revoked_at = clock()
        return recognition

    monkeypatch.setattr(undo_bot.services.kudos, "recognition", taken_back_meanwhile)

    status, _ = await undo_bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    assert status == 200
    [post] = undo_bot.slack.calls_to("chat.postMessage")
    [deleted] = undo_bot.slack.calls_to("chat.delete")
    [kudos], _ = rows(undo_bot)
    assert (deleted["channel"], deleted["ts"]) == (post["channel"], kudos.post_ts)
    with undo_bot.database.reading() as session:
        effects = {e.kind: e.status for e in session.exec(select(SlackEffect))}
    assert effects == {"kudos.recognition": "done", "kudos.unpost": "done"}


async def test_undo_deletes_the_post_voids_the_statements_and_returns_the_quota(
    undo_bot: BotHarness,
) -> None:
    _, reply = await undo_bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    [post] = undo_bot.slack.calls_to("chat.postMessage")

    status, _ = await undo_bot.press("kudos_undo", undo_value(reply), "U0ANN")

    assert status == 200
    [deleted] = undo_bot.slack.calls_to("chat.delete")
    assert deleted["channel"] == "C0GENERAL"
    [confirmation] = undo_bot.slack.responses
    assert confirmation["replace_original"] is True
    assert "Undone" in confirmation["text"]
    [kudos], statements = rows(undo_bot)
    assert kudos.revoked_at is not None and kudos.post_ts is not None
    voided = {s["object"]["id"] for s in statements if s["verb"]["id"].endswith("/voided")}
    assert voided == {kudos.give_statement_id, kudos.receive_statement_id}
    # guildbot voids, so no new statement names the giver (erasure relies on that).
    assert all(s["actor"] == GUILDBOT for s in statements if "voided" in s["verb"]["id"])
    # The quota (1 a day here) is back.
    _, again = await undo_bot.command("/kudos", "<@U0BOB> for the demo after all", "U0ANN")
    assert "Kudos sent" in again["text"]
    assert post["channel"] == "C0GENERAL"


async def test_undo_after_ten_minutes_is_refused_and_the_kudos_stand(
    undo_bot: BotHarness, clock: SettableClock
) -> None:
    _, reply = await undo_bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    clock.now += timedelta(minutes=11)

    await undo_bot.press("kudos_undo", undo_value(reply), "U0ANN")

    [answer] = undo_bot.slack.responses
    assert "can be undone for 10 minutes" in answer["text"]
    assert answer["replace_original"] is False
    [kudos], statements = rows(undo_bot)
    assert kudos.revoked_at is None
    assert len(statements) == 2
    assert undo_bot.slack.calls_to("chat.delete") == []


async def test_only_the_giver_can_undo_and_only_once(undo_bot: BotHarness) -> None:
    _, reply = await undo_bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    await undo_bot.press("kudos_undo", undo_value(reply), "U0BOB")
    await undo_bot.press("kudos_undo", undo_value(reply), "U0ANN")
    await undo_bot.press("kudos_undo", undo_value(reply), "U0ANN")

    texts = [r["text"] for r in undo_bot.slack.responses]
    assert "Only the person who gave these kudos can undo them" in texts[0]
    assert "Undone" in texts[1]
    assert "already undone" in texts[2]
    _, statements = rows(undo_bot)
    assert len(statements) == 4  # give, receive and one voiding of each, never twice
    assert len(undo_bot.slack.calls_to("chat.delete")) == 1
