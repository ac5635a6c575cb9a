"""Nothing a person types comes out as markup: every free-text entry point under generated
hostile text (Hypothesis), through signed requests into the real app.

Each example is one hostile text, typed everywhere a person can type: command text (/kudos,
/skills, /expert, /ask, /faq, /lunchlearn, /guild), forms (Give kudos reason and values, the Ask
form from /expert, the skills picker, the scheduling form's title, description, topics and place,
the check-in code, the rating comment) and thread replies that become answers. The places that
show that text later are driven too: the recognition, routed-question DMs, the weekly digest, App
Home, /faq and /expert results, the session announcement, RSVP answers, reminders, calendar files.

The oracle reads every payload the bot sent: each Web API call's arguments (messages, ephemeral
messages, updates, views, DMs, file comments), each response_url post and each HTTP ack body.
Wherever Slack parses markup (message and ack `text`, mrkdwn text objects, file comments, form
errors) it finds:
- no broadcast: `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>`, nor the bare words
  `@here`, `@channel`, `@everyone` that Slack may link on its own;
- no link with a label, except the permalinks the bot asked Slack for;
- no `<…>` other than people, channels, the bot's date stamps and bare links;
- no double escape (`&amp;amp;`) of text that had none;
and every text object is one Slack takes (1 to 3,000 characters; headers up to 150).

How it runs: as in test_kudos_property.py, one app serves every example of a test (the fixture is
function-scoped and pytest-asyncio awaits each example), examples are derandomised and unsaved,
and the clock moves to the next Monday noon per example, so each example's digest is its own.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.domain.text import clean
from bot.slack_client import build_web_client
from bot.views.mrkdwn import plain_object
from handlers.digest import post_digest
from handlers.lunchlearn import run_session_jobs
from storage.models import LunchSession
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack

QA = "C0QA"
DIGEST = "C0DIGEST"
LUNCH = "C0LUNCH"
GENERAL = "C0GENERAL"
PHISH = "<!channel> urgent: <https://evil.example/sso|Re-authenticate your Slack SSO here> <!here>"

pytestmark = pytest.mark.usefixtures("no_listener_failures")

# --- Hostile text ------------------------------------------------------------------------------

ANY_CHAR = st.characters(codec="utf-8")
BROADCASTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|@here>",
    "<!channel|@channel>",
    "<!group>",
    "<!subteam^S0DEVS|@devs>",
    "<!subteam^S0DEVS>",
    "@channel",
    "@here",
    "@everyone",
    "@Here",
]
LINKS = [
    "<https://evil.example/sso|Re-authenticate your Slack SSO here>",
    "<http://evil.example/a?b=1&amp;c=2|https://acme.slack.com/>",
    "<mailto:boss@evil.example|boss@acme.example>",
    "<https://evil.example/sso>",
    "<http://evil.example|evil.example>",
    "<javascript:alert(1)|click me>",
    "<tel:123|call>",
    "https://evil.example/plain",
]
PEOPLE = ["<@U0BOB>", "<@U0BOB|bob>", "<@U0CAT|Cat>", "<#C0GENERAL|general>", "<#C0GENERAL>"]
ESCAPES = ["&amp;", "&lt;", "&gt;", "&lt;!channel&gt;", "&", "<", ">", "&#33;", "&amp;amp;"]
FORMATTING = ["*", "_", "~", "`", "```", "*bold*", "`code`", "> quote", "|", ":tada:", "🎉"]
WORDS = ["for", "the", "great", "demo", "how", "python", "#python", "#teamwork", "#`x`", "#<!here>"]
BREAKS = ["\n", "\r", "\r\n", "\t", "\u2028"]

piece = st.one_of(
    st.sampled_from(BROADCASTS),
    st.sampled_from(LINKS),
    st.sampled_from(PEOPLE),
    st.sampled_from(ESCAPES),
    st.sampled_from(FORMATTING),
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    st.text(ANY_CHAR, min_size=1, max_size=6),
)
separator = st.sampled_from([" ", " ", " ", "", *BREAKS])
hostile = st.builds(
    lambda parts: "".join(sep + part for sep, part in parts).strip() or "x",
    st.lists(st.tuples(separator, piece), min_size=1, max_size=10),
)

HOSTILE_EXAMPLES = [
    PHISH,
    "for the write-up #teamwork` <!channel> `#python",
    "Q&A &amp; <b>bold</b> *stars* _under_ ~strike~ `code` > quoted",
    "@channel @here @everyone <!subteam^S0DEVS|@devs> please look",
    "Room 4 <https://meet.evil.example/j/1|https://meet.acme.example/j/1>",
    "line one\r\nX-Injected: yes\rline three",
]


def property_settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def with_examples(test: Any) -> Any:
    for text in HOSTILE_EXAMPLES:
        test = example(text=text)(test)
    return test


# --- The oracle --------------------------------------------------------------------------------

BROADCAST = re.compile(
    r"<!(?:here|channel|everyone|group|subteam\^)[^>]*>|(?<![\w@/])@(?:here|channel|everyone)\b",
    re.IGNORECASE,
)
TOKEN = re.compile(r"<([^<>]*)>")
PERSON_OR_CHANNEL = re.compile(r"[@#][UWCG][A-Z0-9]+(?:\|[^|]*)?")
DATE_STAMP = re.compile(r"!date\^\d+\^[^|]*\|[^|]*")
BARE_LINK = re.compile(r"(?:https?|mailto):[^|\s]+")
PERMALINK = re.compile(r"https://acme\.slack\.com/archives/[A-Z0-9]+/p\d+\|[^|]*")
ENTITIES = ("&amp;", "&lt;", "&gt;")


def parsed_texts(payload: Any) -> Iterator[tuple[str, str]]:
    """(kind, text) of every string Slack shows: "markup" where it parses mrkdwn and control
    sequences, "plain" for plain_text objects (shown as is)."""
    if isinstance(payload, list):
        for item in payload:
            yield from parsed_texts(item)
        return
    if not isinstance(payload, dict):
        return
    plain = payload.get("type") == "plain_text"
    for key, value in payload.items():
        if isinstance(value, str):
            if key == "text":
                yield ("plain" if plain else "markup", value)
            elif key == "initial_comment":
                yield ("markup", value)
        elif key == "errors" and isinstance(value, dict):
            yield from (("markup", str(message)) for message in value.values())
        else:
            yield from parsed_texts(value)


def text_objects(payload: Any, container: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """(type of what holds it, text object) of every text object in the payload."""
    if isinstance(payload, list):
        for item in payload:
            yield from text_objects(item, container)
    elif isinstance(payload, dict):
        if payload.get("type") in ("plain_text", "mrkdwn"):
            yield container, payload
            return
        for value in payload.values():
            yield from text_objects(value, payload.get("type", container))


def markup_problems(payload: Any, typed: str) -> list[str]:
    """What in `payload` lets a person's text act as markup, or would make Slack refuse it."""
    problems = []
    for kind, text in parsed_texts(payload):
        if kind == "plain":
            if "&" not in typed and any(entity in text for entity in ENTITIES):
                problems.append(f"escaped plain text {text!r}")
            continue
        if found := BROADCAST.search(text):
            problems.append(f"broadcast {found[0]!r} in {text!r}")
        for token in TOKEN.findall(text):
            if not any(
                shape.fullmatch(token)
                for shape in (PERSON_OR_CHANNEL, DATE_STAMP, BARE_LINK, PERMALINK)
            ):
                problems.append(f"markup <{token}> in {text!r}")
        # Typed `&lt;` in a form shows as typed only as `&amp;lt;`: that one is right.
        if any(f"&amp;{entity[1:]}" in text for entity in ENTITIES if entity not in typed):
            problems.append(f"escaped twice: {text!r}")
    for block_type, obj in text_objects(payload):
        limit = 150 if block_type == "header" else 3000
        if not 1 <= len(obj.get("text") or "") <= limit:
            problems.append(f"a {block_type} text Slack refuses: {obj!r}")
    return problems


def test_the_oracle_flags_what_the_review_found() -> None:
    reason = {"type": "mrkdwn", "text": f":trophy: *Kudos to <@U0BOB>*\n{PHISH}"}
    values = {"type": "mrkdwn", "text": "From <@U0ANN> · `#team`<!here>``"}
    posted = {"channel": GENERAL, "text": PHISH, "blocks": [{"type": "section", "text": reason}]}
    problems = markup_problems(posted, PHISH) + markup_problems({"elements": [values]}, "")
    assert any("<!channel>" in p for p in problems)
    assert any("<!here>" in p for p in problems)
    assert any("Re-authenticate" in p and "markup" in p for p in problems)
    safe = {
        "text": "<@U0ANN> asks: see <https://evil.example/sso> &amp; <#C0GENERAL> "
        "<!date^1764500000^{time}|noon> <https://acme.slack.com/archives/C0QA/p1764500001000100|"
        "the thread> @\u2060here",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "<!here> & more"}}],
    }
    assert markup_problems(safe, "&amp;") == []
    assert markup_problems({"text": "Q&amp;amp;A"}, "Q&A") != []
    assert markup_problems({"blocks": [{"type": "section", "text": {"type": "mrkdwn"}}]}, "")


# --- Driving the app ---------------------------------------------------------------------------


@dataclass
class Driver:
    """The app under test, recording every ack it answered with."""

    harness: BotHarness
    clock: SettableClock
    acks: list[tuple[str, Any]] = field(default_factory=list)
    reached: Counter[str] = field(default_factory=Counter)
    """How often examples got through to what shows the text (a post, a DM, a search hit)."""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def slack(self) -> FakeSlack:
        return self.harness.slack

    def next_id(self) -> int:
        return next(self._ids)

    def newcomer(self) -> str:
        """A new person for this example, so what earlier examples stored about someone else
        (their open questions on App Home, say) is not read as this example's."""
        user_id = f"U0NEW{self.next_id():04d}"
        self.slack.add_user(user_id, f"Newcomer {user_id[5:]}")
        return user_id

    def _record(self, where: str, result: tuple[int, Any]) -> Any:
        status, body = result
        assert status == 200, (where, body)
        self.acks.append((where, body))
        return body

    async def command(self, command: str, text: str, user: str) -> Any:
        return self._record(command, await self.harness.command(command, text, user))

    async def press(self, action_id: str, value: str, user: str) -> Any:
        return self._record(action_id, await self.harness.press(action_id, value, user))

    async def submit(self, view: dict[str, Any], values: dict[str, Any], user: str) -> Any:
        view_id = f"V0FORM{self.next_id():04d}"
        result = await self.harness.submit(view, values, user, view_id=view_id)
        return self._record(view.get("callback_id", "view"), result)

    async def shortcut(self, callback_id: str, user: str, message: dict[str, Any], ch: str) -> Any:
        return self._record(
            callback_id, await self.harness.shortcut(callback_id, user, message, ch)
        )

    async def event(self, event: dict[str, Any]) -> Any:
        return self._record(event["type"], await self.harness.event(event, f"Ev{self.next_id()}"))

    async def suggest(self, view: dict[str, Any], typed: str, user: str) -> Any:
        result = await self.harness.suggest(view, "skills_pick", "skills", typed, user)
        return self._record("block_suggestion", result)

    async def view_action(
        self, view: dict[str, Any], action: dict[str, Any], values: dict[str, Any], user: str
    ) -> Any:
        return self._record(
            "view_action", await self.harness.view_action(view, action, values, user)
        )

    async def open_home(self, user: str) -> None:
        event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
        await self.event({**event, "event_ts": f"{1764500000 + self.next_id()}.000200"})

    async def digest(self) -> None:
        await post_digest(self.harness.services, build_web_client(self.harness.settings), TEAM_ID)

    async def tick(self) -> None:
        client = build_web_client(self.harness.settings)
        await run_session_jobs(self.harness.services, self.harness.effects, client, TEAM_ID)

    def next_monday_noon(self) -> None:
        """Each example in its own week, so the digest has a period to post."""
        now = self.clock.now + timedelta(days=1)
        days = (7 - now.weekday()) % 7
        self.clock.now = (now + timedelta(days=days)).replace(hour=12, minute=0, second=0)

    def opened_views(self) -> list[dict[str, Any]]:
        return self.harness.opened_views()


@dataclass
class Mark:
    calls: int
    responses: int
    acks: int


def mark(driver: Driver) -> Mark:
    return Mark(len(driver.slack.calls), len(driver.slack.responses), len(driver.acks))


def everything_sent(driver: Driver, since: Mark) -> list[tuple[str, Any]]:
    """Every payload since `since`: Web API calls, response_url posts, HTTP acks."""
    sent = driver.slack.outgoing(since.calls, since.responses)
    return sent + [(f"ack of {where}", body) for where, body in driver.acks[since.acks :]]


def posts(driver: Driver, since: Mark, channel: str | None = None) -> list[dict[str, Any]]:
    return [
        args
        for method, args in driver.slack.outgoing(since.calls, since.responses)
        if method == "chat.postMessage" and channel in (None, args.get("channel"))
    ]


def count(driver: Driver, what: str, found: int) -> None:
    driver.reached[what] += found > 0


def assert_no_markup(driver: Driver, since: Mark, typed: str) -> None:
    found = {
        f"{where}: {problem}"
        for where, payload in everything_sent(driver, since)
        for problem in markup_problems(payload, typed)
    }
    assert not found, "\n".join(sorted(found))


@pytest.fixture
async def driver(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[Driver]:
    """Ann is the L&D admin; Bob and Cat know python; check-in takes a code; every quota is far
    above what the examples use."""
    settings = settings_for(
        tmp_path,
        slack,
        QA_CHANNEL=QA,
        DIGEST_CHANNEL=DIGEST,
        LND_ADMINS="U0ANN",
        KUDOS_DAILY_LIMIT="100000",
        QA_MAX_ROUTED_PER_DAY="100000",
        LUNCHLEARN_CHECKIN_CODE="true",
    )
    harness = await BotHarness(settings, slack, clock).start()
    driver = Driver(harness, clock)
    await driver.command("/skills", "add python:expert", "U0BOB")
    await driver.command("/skills", "add python", "U0CAT")
    try:
        yield driver
    finally:
        await harness.close()
    # A property's examples must get through to what shows their text, or it could pass on
    # refusals alone.
    assert all(count >= 5 for count in driver.reached.values()), driver.reached


# --- What the review reproduced -----------------------------------------------------------------


async def test_the_reviewed_phishing_reason_goes_out_as_the_words_typed(driver: Driver) -> None:
    since = mark(driver)
    await give_kudos_by_form(driver, "U0ANN", PHISH)

    [recognition, *_] = posts(driver, since, GENERAL)
    assert recognition["blocks"][1]["text"] == {"type": "plain_text", "text": PHISH, "emoji": True}
    assert recognition["text"].endswith(
        ": &lt;!channel&gt; urgent: &lt;https://evil.example/sso|Re-authenticate your Slack SSO "
        "here&gt; &lt;!here&gt;"
    )
    assert_no_markup(driver, since, PHISH)


async def test_a_backtick_in_a_value_stays_inside_its_code_span(driver: Driver) -> None:
    since = mark(driver)
    ts = driver.slack.write(GENERAL, "U0BOB", "Here is the outage write-up")
    await driver.shortcut("give_kudos", "U0ANN", driver.slack.messages[(GENERAL, ts)], GENERAL)
    values = "#team`<!here>`work"
    await driver.submit(driver.opened_views()[-1], kudos_form("for the write-up", values), "U0ANN")
    driver.next_monday_noon()
    await driver.digest()

    [recognition, digest] = posts(driver, since)
    assert recognition["blocks"][2]["elements"][0]["text"] == (
        "From <@U0ANN> · `#teamˋ&lt;!here&gt;ˋwork`"
    )
    assert "Most recognised: `#teamˋ&lt;!here&gt;ˋwork` 1" in digest["blocks"][1]["text"]["text"]
    assert_no_markup(driver, since, values)


async def test_a_disguised_link_asked_through_the_ask_form_shows_as_typed(driver: Driver) -> None:
    since = mark(driver)
    await ask_by_form(driver, "U0ANN", PHISH)

    questions = posts(driver, since, QA)
    assert questions
    for question in questions:
        assert question["blocks"][0]["text"]["type"] == "plain_text"
        assert PHISH in question["blocks"][0]["text"]["text"]
    assert_no_markup(driver, since, PHISH)


async def test_people_and_links_from_a_command_stay_mentions_and_bare_links(
    driver: Driver,
) -> None:
    since = mark(driver)
    typed = "<@U0BOB> for <https://evil.example/sso|the docs> with <@U0CAT|cat> today"
    await driver.command("/kudos", typed, "U0ANN")

    [recognition] = posts(driver, since, GENERAL)
    assert recognition["blocks"][1]["text"] == {
        "type": "mrkdwn",
        "text": "for <https://evil.example/sso> with <@U0CAT> today",
    }


async def test_an_answer_found_by_faq_keeps_its_mentions_and_loses_its_broadcast(
    driver: Driver,
) -> None:
    await driver.command("/ask", "Where is the zebrafish runbook #python", "U0ANN")
    thread = question_ts(driver, "zebrafish")
    said = "<!channel> see <https://evil.example/fix|the fix> by <@U0CAT|cat> in <#C0QA|qa>"
    ts = driver.slack.write(QA, "U0BOB", said, thread_ts=thread)
    await driver.event(message_event("U0BOB", said, ts, thread))
    await driver.shortcut("accept_answer", "U0ANN", driver.slack.messages[(QA, ts)], QA)
    since = mark(driver)

    found = await driver.command("/faq", "zebrafish", "U0ANN")

    assert (
        "\n>@\u2060channel see <https://evil.example/fix> by <@U0CAT> in <#C0QA>"
        in (found["blocks"][1]["text"]["text"])
    )
    assert_no_markup(driver, since, said)


# --- Commands ----------------------------------------------------------------------------------


@property_settings(40)
@given(text=hostile)
@with_examples
async def test_no_command_text_comes_out_as_markup(driver: Driver, text: str) -> None:
    driver.next_monday_noon()
    since = mark(driver)
    person = driver.newcomer()
    for command, typed in (
        ("/kudos", f"<@U0BOB> {text}"),
        ("/kudos", f"<@U0CAT> for the {text} #python"),
        ("/kudos", text),
        ("/kudos", f"leaderboard {text}"),
        ("/skills", f"add {text}"),
        ("/skills", f"remove {text}"),
        ("/skills", text),
        ("/skills", ""),
        ("/expert", text),
        ("/expert", "python"),
        ("/ask", f"How should we handle {text} #python"),
        ("/ask", text),
        ("/faq", text),
        ("/lunchlearn", f"cancel {text}"),
        ("/lunchlearn", text),
        ("/guild", text),
        ("/guild", "help"),
        ("/lunchlearn", "gaps"),
    ):
        await driver.command(command, typed, person)
    await driver.open_home(person)
    driver.next_monday_noon()
    await driver.digest()
    assert_no_markup(driver, since, text)
    count(driver, "recognitions", len(posts(driver, since, GENERAL)))
    count(
        driver, "routed questions", sum(p["channel"].startswith("D") for p in posts(driver, since))
    )


# --- Forms -------------------------------------------------------------------------------------


def kudos_form(reason: str, values: str) -> dict[str, Any]:
    return {
        "receivers": {
            "receivers_input": {"type": "multi_users_select", "selected_users": ["U0BOB"]}
        },
        "reason": {"reason_input": {"type": "plain_text_input", "value": reason}},
        "values": {"values_input": {"type": "plain_text_input", "value": values}},
    }


def question_form(question: str) -> dict[str, Any]:
    return {"question": {"question_input": {"type": "plain_text_input", "value": question}}}


def picked(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "skills": {"skills_pick": {"type": "multi_external_select", "selected_options": options}}
    }


def buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block["type"] in ("actions", "section")
        for element in (block.get("elements") or [block.get("accessory") or {}])
        if element.get("action_id") == action_id
    ]


async def give_kudos_by_form(driver: Driver, person: str, text: str) -> None:
    ts = driver.slack.write(GENERAL, "U0BOB", "Here is the outage write-up")
    await driver.shortcut("give_kudos", person, driver.slack.messages[(GENERAL, ts)], GENERAL)
    view = driver.opened_views()[-1]
    await driver.submit(view, kudos_form(text, text), person)
    await driver.submit(view, kudos_form(f"for the {text} help", f"#teamwork {text}"), person)
    # Ann, from L&D, removes them: the giver's DM quotes the reason.
    for (channel, post_ts), message in list(driver.slack.messages.items()):
        if channel == GENERAL and message.get("bot_id") and message.get("thread_ts") == ts:
            await driver.shortcut("remove_kudos", "U0ANN", message | {"ts": post_ts}, GENERAL)


async def ask_by_form(driver: Driver, person: str, text: str) -> None:
    for topic in (text, "python"):
        reply = await driver.command("/expert", topic, person)
        for button in buttons(reply.get("blocks") or [], "expert_ask")[:2]:
            before = len(driver.opened_views())
            await driver.press("expert_ask", button["value"], person)
            for view in driver.opened_views()[before:]:
                await driver.submit(view, question_form(text), person)
                await driver.submit(view, question_form(f"How do I {text} here?"), person)


async def pick_skills_by_form(driver: Driver, person: str, text: str) -> None:
    await driver.press("skills_edit", "", person)
    view = {**driver.opened_views()[-1], "id": f"V0EDIT{driver.next_id()}", "hash": "h0"}
    suggested = await driver.suggest(view, text, person)
    options = (suggested.get("options") or [])[:2]
    if not options:
        return
    action = {"type": "multi_external_select", "action_id": "skills_pick", "block_id": "skills"}
    await driver.view_action(view, {**action, "selected_options": options}, picked([]), person)
    await driver.submit(view, picked(options), person)


@property_settings(40)
@given(text=hostile)
@with_examples
async def test_no_form_text_comes_out_as_markup(driver: Driver, text: str) -> None:
    driver.next_monday_noon()
    since = mark(driver)
    person = driver.newcomer()
    await give_kudos_by_form(driver, person, text)
    await ask_by_form(driver, person, text)
    await pick_skills_by_form(driver, person, text)
    await driver.command("/skills", "", person)
    await driver.open_home(person)
    driver.next_monday_noon()
    await driver.digest()
    assert_no_markup(driver, since, text)
    recognitions = posts(driver, since, GENERAL)
    count(driver, "recognitions", len(recognitions))
    count(driver, "questions", len(posts(driver, since, QA)))
    notices = [p for p in posts(driver, since) if "removed your kudos" in p.get("text", "")]
    count(driver, "removal notices", len(notices))
    # A reason typed into the form reads exactly as typed.
    typed_reasons = {clean(reason).strip() for reason in (text, f"for the {text} help")}
    for post in recognitions:
        assert post["blocks"][1]["text"] == plain_object(post["blocks"][1]["text"]["text"])
        assert post["blocks"][1]["text"]["text"] in typed_reasons, post["blocks"]


# --- Lunch-and-learn ---------------------------------------------------------------------------


def schedule_form(text: str, start: datetime) -> dict[str, Any]:
    def typed(value: str | None) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    return {
        "title": typed(f"Talk {text}"[:150]),
        "description": typed(text),
        "tags": typed(text),
        "presenter": {"value": {"type": "users_select", "selected_user": "U0CAT"}},
        "start": {
            "value": {"type": "datetimepicker", "selected_date_time": int(start.timestamp())}
        },
        "duration": {"value": {"type": "number_input", "value": "30"}},
        "place": typed(text[:200]),
        "capacity": {"value": {"type": "number_input", "value": "1"}},
        "channel": {"value": {"type": "conversations_select", "selected_conversation": LUNCH}},
    }


def rating(comment: str) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": "4"}, "value": "4"}
    return {
        "rating": {"value": {"type": "static_select", "selected_option": option}},
        "comment": {"value": {"type": "plain_text_input", "value": comment}},
    }


def code(typed: str) -> dict[str, Any]:
    return {"code": {"value": {"type": "plain_text_input", "value": typed}}}


def newest_session(driver: Driver) -> LunchSession | None:
    with driver.harness.database.reading() as db:
        newest_first = select(LunchSession).order_by(LunchSession.created_at.desc())
        return db.exec(newest_first).first()


@property_settings(25)
@given(text=hostile)
@with_examples
async def test_no_session_text_comes_out_as_markup(driver: Driver, text: str) -> None:
    driver.next_monday_noon()
    since = mark(driver)
    start = driver.clock.now + timedelta(days=7, minutes=20)
    await driver.command("/lunchlearn", "", "U0ANN")
    before = newest_session(driver)
    await driver.submit(driver.opened_views()[-1], schedule_form(text, start), "U0ANN")
    lunch = newest_session(driver)
    assert lunch is not None and (before is None or lunch.id != before.id), "form refused"
    # The title and description read exactly as typed.
    [announced] = posts(driver, since, LUNCH)
    header, description = announced["blocks"][:2]
    assert header["text"]["text"] == f"Lunch-and-learn: {lunch.title}"[:150]
    assert description["text"] == plain_object(text.strip(), 2900)
    count(driver, "sessions announced", 1)
    for user, action in (("U0BOB", "lunch_going"), ("U0CAT", "lunch_going")):
        await driver.press(action, lunch.id, user)
    await driver.press("lunch_not_going", lunch.id, "U0BOB")  # Cat moves up from the waitlist
    await driver.press("lunch_calendar", lunch.id, "U0CAT")
    await driver.command("/lunchlearn", "list", "U0CAT")
    await driver.open_home("U0ANN")
    driver.next_monday_noon()
    await driver.digest()
    driver.clock.now = start - timedelta(minutes=15)
    await driver.tick()  # the reminders, and check-in opening
    await driver.press("lunch_checkin", lunch.id, "U0CAT")
    code_form = driver.opened_views()[-1]
    await driver.submit(code_form, code(text), "U0CAT")
    await driver.submit(code_form, code(lunch.checkin_code or ""), "U0CAT")
    driver.clock.now = start
    await driver.tick()  # the presenter's code
    driver.clock.now = start + timedelta(minutes=31)
    await driver.tick()  # feedback prompts
    await driver.press("lunch_rate_4", f"{lunch.id}|4", "U0CAT")
    await driver.submit(driver.opened_views()[-1], rating(text), "U0CAT")
    await driver.command("/lunchlearn", f"cancel {lunch.short_id}", "U0ANN")
    await driver.command("/lunchlearn", f"cancel {lunch.short_id}", "U0ANN")
    assert_no_markup(driver, since, text)


# --- Answers -----------------------------------------------------------------------------------


def marker(number: int) -> str:
    """A word no other example's text contains, so /faq finds this example's question."""
    letters = "".join(chr(ord("a") + int(d)) for d in str(number))
    return f"quokka{letters}"


def message_event(user: str, text: str, ts: str, thread_ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": QA,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
        "channel_type": "channel",
    }


def edited_event(user: str, text: str, ts: str, thread_ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": QA,
        "hidden": True,
        "message": {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
        },
        "ts": f"{ts}1",
        "event_ts": f"{ts}1",
        "channel_type": "channel",
    }


def question_ts(driver: Driver, word: str) -> str:
    return next(
        ts
        for (channel, ts), message in driver.slack.messages.items()
        if channel == QA and message.get("bot_id") and word in (message.get("text") or "")
    )


@property_settings(40)
@given(text=hostile)
@with_examples
async def test_no_answer_text_comes_out_as_markup(driver: Driver, text: str) -> None:
    driver.next_monday_noon()
    since = mark(driver)
    word = marker(driver.next_id())
    person = driver.newcomer()
    await driver.command("/ask", f"Where is the {word} runbook #python", person)
    thread = question_ts(driver, word)
    replies = {}
    for user, said in (("U0BOB", f"{text} {word}"), ("U0CAT", text)):
        ts = driver.slack.write(QA, user, said, thread_ts=thread)
        await driver.event(message_event(user, said, ts, thread))
        replies[user] = ts
    edited = f"{word} {text} {word}"
    driver.slack.messages[(QA, replies["U0BOB"])]["text"] = edited
    await driver.event(edited_event("U0BOB", edited, replies["U0BOB"], thread))
    await driver.shortcut(
        "accept_answer", person, driver.slack.messages[(QA, replies["U0BOB"])], QA
    )
    await driver.command("/faq", word, person)
    await driver.command("/faq", f"{word} {text}", person)
    await driver.open_home("U0BOB")
    assert_no_markup(driver, since, text)
    hits = [body for where, body in driver.acks[since.acks :] if where == "/faq"]
    count(driver, "answers found", sum("Answered questions" in str(hit) for hit in hits))
