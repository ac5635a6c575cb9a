"""guildbot distributed with Slack's OAuth flow: `python -m bot` with a client id and secret
and no bot token is installed in two workspaces through `/slack/install` and
`/slack/oauth_redirect`, and each workspace's requests then use that workspace's own token.
Installed org-wide in an Enterprise Grid org, it serves every workspace of the org with the
org's token, as one set of people."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import select

from bot.xapi import vocabulary as v
from storage.models import (
    Answer,
    Contribution,
    Kudos,
    OutboxStatement,
    Question,
    Workspace,
    WorkspaceSetting,
    slack_bots,
)
from tests.handlers.test_questions import message_event
from tests.support.blackbox import StartBot
from tests.support.process import BotProcess, eventually
from tests.support.slack import (
    Call,
    FakeSlack,
    Org,
    Team,
    block_action_body,
    event_body,
    sign,
    slash_command_body,
)

CLIENT_ID = "1111.2222"
OAUTH = {
    "SLACK_BOT_TOKEN": None,
    "SLACK_CLIENT_ID": CLIENT_ID,
    "SLACK_CLIENT_SECRET": "cl13nt-s3cr3t-DO-NOT-LOG",
}
NORTH = Team("T0NORTH", "https://north.slack.com/", "North")
SOUTH = Team("T0SOUTH", "https://south.slack.com/", "South")
ACME_A = Team("T0ACMEA", "https://acme-a.slack.com/", "Acme Sales")
ACME_B = Team("T0ACMEB", "https://acme-b.slack.com/", "Acme Engineering")
ACME = Org("E0ACME", "https://acme.enterprise.slack.com/", "Acme Corp", (ACME_A, ACME_B))
STATE_COOKIE = re.compile(r"slack-app-oauth-state=([^;]+)")


async def install(bot: BotProcess, slack: FakeSlack, team: Team | Org) -> str:
    """An admin of `team` (or of an org, for all its workspaces) follows the install link,
    approves, and comes back: the page guildbot shows them."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(bot.base_url + "/slack/install") as page:
            assert page.status == 200
            assert f"client_id={CLIENT_ID}" in await page.text()
            state = STATE_COOKIE.search(page.headers["Set-Cookie"])
        assert state is not None
        code = slack.consent_org(team) if isinstance(team, Org) else slack.consent(team)
        back = urlencode({"code": code, "state": state[1]})
        async with browser.get(
            f"{bot.base_url}/slack/oauth_redirect?{back}",
            headers={"Cookie": f"slack-app-oauth-state={state[1]}"},
        ) as page:
            assert page.status == 200, await page.text()
            return await page.text()


async def quiet(slack: FakeSlack, for_s: float = 1.0) -> None:
    """Waits until the bot has made no Web API call for `for_s`: what the last kudos owed
    (the recognition, the confirmation, reading the post back) is done, so the next step's
    calls are the next step's alone."""
    count = -1
    while count != len(slack.calls):
        count = len(slack.calls)
        await asyncio.sleep(for_s)


async def kudos(bot: BotProcess, team: Team, text: str, user: str, org: Org | None = None) -> dict:
    body = slash_command_body("/kudos", text, user, team_id=team.id, org=org)
    status, reply = await bot.post(body, sign(body))
    assert status == 200, reply
    return reply


def leaderboard(reply: dict) -> str:
    return json.dumps(reply.get("blocks"))


def statements(bot: BotProcess) -> list[dict]:
    return [json.loads(row.body) for row in bot.rows(OutboxStatement)]


def workspaces_named(bot: BotProcess) -> dict[str, set[tuple[str, str, str]]]:
    """For each team's statements in the outbox: the workspace each one names, as (actor's
    account homePage, the workspace activity in context, the team extension)."""
    named: dict[str, set[tuple[str, str, str]]] = {}
    for row in bot.rows(OutboxStatement):
        statement = json.loads(row.body)
        context = statement["context"]
        [site] = [
            activity["id"]
            for activity in context["contextActivities"]["grouping"]
            if activity["definition"]["type"] == v.COMMUNITY_SITE
        ]
        home = statement["actor"]["account"]["homePage"]
        named.setdefault(row.team_id, set()).add(
            (home, site, context.get("extensions", {}).get(v.EXT_TEAM, ""))
        )
    return named


async def test_two_workspaces_install_guildbot_and_each_kudos_uses_its_own_token(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)

    for team in (NORTH, SOUTH):
        assert "Thank you!" in await install(bot, slack, team)
    exchanged = slack.calls_to("oauth.v2.access")
    assert [call["client_id"] for call in exchanged] == [CLIENT_ID, CLIENT_ID]
    homes = {w.team_id: w.home_page for w in bot.rows(Workspace)}
    assert homes == {NORTH.id: NORTH.url, SOUTH.id: SOUTH.url}
    # With no LND_ADMINS, each workspace's installer is its first L&D admin.
    admins = {(s.team_id, s.name): s.value for s in bot.rows(WorkspaceSetting)}
    assert admins == {
        (NORTH.id, "lnd_admins"): '["U0ADMIN"]',
        (SOUTH.id, "lnd_admins"): '["U0ADMIN"]',
    }

    for team, text in ((NORTH, "for the runbook"), (SOUTH, "for the code review")):
        calls_before = len(slack.calls)
        reply = await kudos(bot, team, f"<@U0BOB> {text}", "U0ANN")
        assert "Kudos sent" in reply["text"]

        def posted(text: str = text, since: int = calls_before) -> bool:
            return any(
                call.method == "chat.postMessage" and text in str(call.args)
                for call in slack.calls[since:]
            )

        await eventually(posted, what=f"the recognition in {team.name}")
        await quiet(slack)
        made = [call for call in slack.calls[calls_before:] if call.method != "auth.test"]
        assert made and {call.token for call in made} == slack.tokens_of(team.id)

    assert workspaces_named(bot) == {
        NORTH.id: {(NORTH.url, NORTH.url, NORTH.id)},
        SOUTH.id: {(SOUTH.url, SOUTH.url, SOUTH.id)},
    }, "each workspace's statements name that workspace (its people, its site, its team)"


async def test_without_a_bot_token_or_an_install_no_workspace_is_served(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)

    body = slash_command_body(
        "/kudos",
        "<@U0BOB> for the runbook",
        "U0ANN",
        response_url=slack.response_url,
        team_id=NORTH.id,
    )
    status, _ = await bot.post(body, sign(body))

    assert status == 200
    [told] = slack.responses
    assert "install this app" in told["text"], "told to install guildbot first"
    assert not slack.calls_to("chat.postMessage")
    assert "cl13nt-s3cr3t" not in bot.stderr()


def installed_teams(bot: BotProcess) -> set[str]:
    database = bot.database()
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(select(slack_bots.c.team_id)).all()
        return {row.team_id for row in rows}
    finally:
        database.dispose()


async def test_an_uninstalled_workspace_is_no_longer_served_and_the_other_is_untouched(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    for team in (NORTH, SOUTH):
        await install(bot, slack, team)
    await kudos(bot, NORTH, "<@U0BOB> for the runbook", "U0ANN")
    await quiet(slack)  # North's recognition is posted before guildbot is uninstalled there

    uninstall = event_body({"type": "app_uninstalled"}, "Ev0UNINSTALL", team_id=NORTH.id)
    status, _ = await bot.post(uninstall, sign(uninstall), content_type="application/json")
    for token in slack.tokens_of(NORTH.id):
        del slack.tokens[token]  # Slack revokes them

    assert status == 200
    assert installed_teams(bot) == {SOUTH.id}
    assert {w.team_id for w in bot.rows(Workspace)} == {NORTH.id, SOUTH.id}, "data is kept"
    assert [k.team_id for k in bot.rows(Kudos)] == [NORTH.id], "until guildbot forget"

    body = slash_command_body(
        "/kudos", "<@U0BOB> again", "U0ANN", response_url=slack.response_url, team_id=NORTH.id
    )
    status, _ = await bot.post(body, sign(body))
    assert status == 200 and "install this app" in slack.responses[-1]["text"]

    calls_before = len(slack.calls)
    reply = await kudos(bot, SOUTH, "<@U0BOB> for the code review", "U0ANN")
    assert "Kudos sent" in reply["text"]
    made = [call for call in slack.calls[calls_before:] if call.method != "auth.test"]
    assert {call.token for call in made} <= slack.tokens_of(SOUTH.id)


async def test_an_org_wide_install_serves_each_workspace_of_the_org_as_one_set_of_people(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)

    assert "Thank you!" in await install(bot, slack, ACME)
    [org_token] = slack.tokens_of(ACME.id)
    assert {w.team_id: w.home_page for w in bot.rows(Workspace)} == {ACME.id: ACME.url}

    for team, giver, text in (
        (ACME_A, "U0ANN", "for the runbook"),
        (ACME_B, "U0CAT", "for the review"),
    ):
        calls_before = len(slack.calls)
        reply = await kudos(bot, team, f"<@U0BOB> {text}", giver, org=ACME)
        assert "Kudos sent" in reply["text"], f"served in {team.name}"
        await eventually(
            lambda text=text, since=calls_before: any(
                call.method == "chat.postMessage" and text in str(call.args)
                for call in slack.calls[since:]
            ),
            what=f"the recognition in {team.name}",
        )
        await quiet(slack)
        made = [call for call in slack.calls[calls_before:] if call.method != "auth.test"]
        assert made and {call.token for call in made} == {org_token}, "the org's token"

    # Bob's kudos from Sales count in Engineering too, and Ann (in Sales) is one of the givers.
    reply = await kudos(bot, ACME_B, "leaderboard all", "U0CAT", org=ACME)
    board = leaderboard(reply)
    assert "<@U0BOB>: 2 kudos" in board
    assert "<@U0ANN>: 1 kudos" in board and "<@U0CAT>: 1 kudos" in board

    # An event from Engineering (App Home) is the org's too, with the org's token.
    opened = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home"}
    home = event_body(opened | {"event_ts": f"{time.time():.6f}"}, "Ev0HOME", ACME_B.id, ACME)
    calls_before = len(slack.calls)
    status, _ = await bot.post(home, sign(home), content_type="application/json")
    assert status == 200

    def published() -> list[Call]:
        return [call for call in slack.calls[calls_before:] if call.method == "views.publish"]

    await eventually(lambda: bool(published()), what="Bob's App Home")
    [publish] = published()
    assert publish.token == org_token
    assert "2 received" in json.dumps(publish.args["view"]), "his kudos from both workspaces"

    await eventually(lambda: len(statements(bot)) >= 4, what="both kudos' statements")
    named = [s for s in statements(bot) if "#general" in json.dumps(s)]
    assert len(named) == len(statements(bot)), "the channel's name is the org's to know too"
    actors = [s["actor"] for s in statements(bot)]
    assert {a["account"]["homePage"] for a in actors} == {ACME.url}, "the org's home page"
    bobs = [json.dumps(a, sort_keys=True) for a in actors if a["account"]["name"] == "U0BOB"]
    assert len(bobs) == 2 and len(set(bobs)) == 1, "Bob is one actor in both workspaces"


async def test_a_workspace_installed_on_its_own_stays_apart_from_an_org_wide_install(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    await install(bot, slack, ACME)
    await install(bot, slack, NORTH)

    await kudos(bot, ACME_A, "<@U0BOB> for the runbook", "U0ANN", org=ACME)
    await quiet(slack)
    calls_before = len(slack.calls)
    reply = await kudos(bot, NORTH, "<@U0BOB> for the code review", "U0CAT")
    assert "Kudos sent" in reply["text"]
    await quiet(slack)
    made = [call for call in slack.calls[calls_before:] if call.method != "auth.test"]
    assert made and {call.token for call in made} == slack.tokens_of(NORTH.id)

    north = leaderboard(await kudos(bot, NORTH, "leaderboard all", "U0CAT"))
    assert "<@U0BOB>: 1 kudos" in north and "U0ANN" not in north
    org = leaderboard(await kudos(bot, ACME_B, "leaderboard all", "U0CAT", org=ACME))
    assert "<@U0BOB>: 1 kudos" in org and "<@U0CAT>" not in org
    assert sorted(k.team_id for k in bot.rows(Kudos)) == [ACME.id, NORTH.id]

    # The org uninstalls guildbot: none of its workspaces is served; North still is.
    uninstall = event_body({"type": "app_uninstalled"}, "Ev0ORGOUT", ACME.id, ACME)
    status, _ = await bot.post(uninstall, sign(uninstall), content_type="application/json")
    assert status == 200
    assert installed_teams(bot) == {NORTH.id}
    body = slash_command_body(
        "/kudos",
        "<@U0BOB> again",
        "U0ANN",
        response_url=slack.response_url,
        team_id=ACME_A.id,
        org=ACME,
    )
    status, _ = await bot.post(body, sign(body))
    assert status == 200 and "install this app" in slack.responses[-1]["text"]
    assert "Kudos sent" in (await kudos(bot, NORTH, "<@U0BOB> for the fix", "U0CAT"))["text"]


async def test_expertise_declared_in_one_workspace_of_the_org_is_found_and_endorsed_in_another(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    await install(bot, slack, ACME)

    async def command(team: Team, name: str, text: str, user: str) -> dict:
        body = slash_command_body(name, text, user, team_id=team.id, org=ACME)
        status, reply = await bot.post(body, sign(body))
        assert status == 200, reply
        return reply

    await command(ACME_A, "/skills", "add python:expert", "U0BOB")
    found = await command(ACME_B, "/expert", "python", "U0CAT")
    assert found["text"] == "Who knows #python: <@U0BOB>"

    [endorse] = [
        element
        for block in found["blocks"]
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("action_id") == "skill_endorse"
    ]
    press = block_action_body(
        "skill_endorse", endorse["value"], "U0CAT", slack.response_url, ACME_B.id, org=ACME
    )
    status, _ = await bot.post(press, sign(press))
    assert status == 200

    again = await command(ACME_A, "/expert", "python", "U0ANN")
    assert "endorsed by 1" in json.dumps(again["blocks"]), "Cat's endorsement, seen in Sales"


async def test_a_community_of_the_org_counts_messages_from_any_of_its_workspaces(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    await install(bot, slack, ACME)
    create = slash_command_body(
        "/community", "create data-science #python", "U0ANN", team_id=ACME_A.id, org=ACME
    )
    status, _ = await bot.post(create, sign(create))
    assert status == 200
    await eventually(lambda: "data-science" in slack.channel_names, what="the community channel")
    channel = slack.channel_names["data-science"]

    # Channel ids are org-wide on Grid: Cat writes in it from Engineering.
    message = {"type": "message", "channel": channel, "user": "U0CAT", "text": "hello"}
    ts = f"{time.time():.6f}"
    said = event_body(message | {"ts": ts, "event_ts": ts}, "Ev0SAID", ACME_B.id, ACME)
    status, _ = await bot.post(said, sign(said), content_type="application/json")
    assert status == 200

    await eventually(lambda: bool(bot.rows(Contribution)), what="Cat's contribution")
    [counted] = bot.rows(Contribution)
    assert (counted.team_id, counted.user_id) == (ACME.id, "U0CAT")


# The tick, per workspace ------------------------------------------------------------------------

QA = "C0QA"
NUDGE_S = 7.2
"""QA_NUDGE_HOURS=0.002: a question with an answer but none accepted reminds its asker after
7.2 s, found by the first tick after that (the tick runs at start-up, then every 30 s)."""


async def ask_and_get_an_answer(bot: BotProcess, slack: FakeSlack, team: Team, asker: str) -> str:
    """`asker` asks in `team`, and someone answers in the thread; returns the question's id."""
    status, _ = await bot.command(
        "/ask", f"How do we rotate the {team.name} password?", asker, team_id=team.id
    )
    assert status == 200
    [question] = await eventually(
        lambda: [q for q in bot.rows(Question) if q.team_id == team.id and q.ts],
        what=f"the question in {team.name} to be posted",
    )
    text = "Run the rotate-secrets job"
    ts = slack.write(QA, "U0BOB", text, thread_ts=question.ts)
    message = message_event("U0BOB", text, ts, question.ts, channel=QA)
    body = event_body(message, f"Ev{team.id}", team_id=team.id)
    status, _ = await bot.post(body, sign(body), content_type="application/json")
    assert status == 200
    await eventually(
        lambda: [a for a in bot.rows(Answer) if a.question_id == question.id],
        what=f"the answer in {team.name} to be stored",
    )
    return question.id


def reminders_to(slack: FakeSlack, user: str, since: int = 0) -> list[Call]:
    """The bot's DMs to `user` (their `D…` channel, as conversations.open gives it)."""
    dm = "D" + user.lstrip("U")
    return [
        call
        for call in slack.calls[since:]
        if call.method == "chat.postMessage" and call.args.get("channel") == dm
    ]


async def test_the_tick_nudges_each_installed_workspace_with_its_own_token_and_not_one_uninstalled(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH, QA_CHANNEL=QA, QA_NUDGE_HOURS="0.002")
    for team in (NORTH, SOUTH):
        await install(bot, slack, team)
    north_question = await ask_and_get_an_answer(bot, slack, NORTH, "U0ANN")
    await ask_and_get_an_answer(bot, slack, SOUTH, "U0CAT")
    await quiet(slack)

    uninstall = event_body({"type": "app_uninstalled"}, "Ev0UNINSTALL", team_id=NORTH.id)
    status, _ = await bot.post(uninstall, sign(uninstall), content_type="application/json")
    assert status == 200
    north_tokens = slack.tokens_of(NORTH.id)
    for token in north_tokens:
        del slack.tokens[token]  # Slack revokes them
    uninstalled_at = len(slack.calls)

    [reminder] = await eventually(
        lambda: reminders_to(slack, "U0CAT", uninstalled_at),
        timeout=NUDGE_S + 40,
        what="the South asker's reminder",
    )
    assert "answer" in reminder.args["text"]
    assert reminder.token in slack.tokens_of(SOUTH.id)
    await quiet(slack)

    assert not reminders_to(slack, "U0ANN"), "North's asker is not reminded after the uninstall"
    assert not [call for call in slack.calls[uninstalled_at:] if call.token in north_tokens]
    assert not [call for call in slack.calls[uninstalled_at:] if call.token is None]
    [north] = [q for q in bot.rows(Question) if q.id == north_question]
    assert north.nudge_at is not None, "North's nudge waits, in case guildbot is reinstalled"


def said(reply: Any, slack: FakeSlack, since: int) -> str:
    """Everything the bot told the person: the ack, and answers through the response URL."""
    return json.dumps([reply, *slack.responses[since:]])


async def test_expert_and_ask_in_each_workspace_use_its_token_and_see_only_its_people(
    start_bot: StartBot, slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH, QA_CHANNEL=QA)
    for team in (NORTH, SOUTH):
        await install(bot, slack, team)
    status, _ = await bot.command("/skills", "add kafka:expert", "U0ANN", team_id=NORTH.id)
    assert status == 200
    await quiet(slack)

    for team, finds_ann in ((NORTH, True), (SOUTH, False)):
        calls_before, told_before = len(slack.calls), len(slack.responses)
        status, reply = await bot.command(
            "/expert", "kafka", "U0CAT", team_id=team.id, response_url=slack.response_url
        )
        assert status == 200
        await quiet(slack)
        assert ("U0ANN" in said(reply, slack, told_before)) is finds_ann, team.name

        status, _ = await bot.command(
            "/ask", f"Who owns the {team.name} kafka cluster?", "U0CAT", team_id=team.id
        )
        assert status == 200
        await eventually(
            lambda team=team: [q for q in bot.rows(Question) if q.team_id == team.id and q.ts],
            what=f"the question in {team.name} to be posted",
        )
        await quiet(slack)
        made = [call for call in slack.calls[calls_before:] if call.method != "auth.test"]
        assert made and {call.token for call in made} == slack.tokens_of(team.id), team.name
        [posted] = [
            call
            for call in made
            if call.method == "chat.postMessage" and call.args.get("channel") == QA
        ]
        assert team.name in str(posted.args), "each workspace's question in its own post"

    asked = {q.team_id: q.text for q in bot.rows(Question)}
    assert asked == {
        NORTH.id: "Who owns the North kafka cluster?",
        SOUTH.id: "Who owns the South kafka cluster?",
    }
    assert workspaces_named(bot) == {
        NORTH.id: {(NORTH.url, NORTH.url, NORTH.id)},
        SOUTH.id: {(SOUTH.url, SOUTH.url, SOUTH.id)},
    }
