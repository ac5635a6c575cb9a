"""The playground in a real browser: Playwright drives Debian's chromium (headless) through
kudos (command and reaction), a question answered and accepted, a session scheduled through
the modal with an RSVP, the App Home, DMs and the xAPI panel; and a page on another site tries
to read and drive it. Screenshots go to tests/playground/artifacts/ (ignored by git)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A site the evaluator might visit, whose name resolves to this machine (as after a DNS
    # rebinding): the cross-site test serves its page on another local port.
    "--host-resolver-rules=MAP evil.example 127.0.0.1",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = sync_api.expect
# The bot's lazy work (routing a question by DM…) can take seconds on a loaded machine.
expect.set_options(timeout=15_000)


SLOW_CALLS = """const direct = window.fetch;
window.fetch = (...args) => new Promise((r) => setTimeout(r, 800)).then(() => direct(...args));"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def playground_url(tmp_path: Path) -> Iterator[str]:
    """`guildbot start` in a fresh directory with no Slack settings: the playground, and its URL
    printed on stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LRS_"))}
    env.update(PORT=str(_free_port()), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", "start"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = None
    seen: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"guildbot playground: open (http://\S+)", line)
        if found:
            url = found.group(1)
    if url is None:
        process.kill()
        pytest.fail("the playground printed no URL:\n" + "".join(seen[-40:]))
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        output = process.stdout.read()
        (ARTIFACTS / "playground.log").write_text("".join(seen) + output)


def test_the_playground_in_a_browser(playground_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.set_default_timeout(15_000)
        try:
            _walk_through(page, playground_url)
        finally:
            page.screenshot(path=str(ARTIFACTS / "99-last.png"), full_page=True)
            browser.close()


def _walk_through(page: sync_api.Page, url: str) -> None:
    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def be(user_id: str) -> None:
        page.select_option("[data-testid=who]", user_id)

    def go(testid: str) -> None:
        page.click(f"[data-testid={testid}]")

    def say(text: str) -> None:
        page.fill("[data-testid=composer]", text)
        page.press("[data-testid=composer]", "Enter")

    main = page.locator("#main-body")
    thread = page.locator("#thread-body")
    statements = page.locator("[data-testid=statement]")

    page.goto(url)
    expect(page.locator("[data-testid=channel-general]")).to_be_visible()
    # Seed data is there, and marked.
    go("channel-questions")
    expect(main.locator(".tag.seed").first).to_be_visible()
    expect(page.locator("#banner")).to_contain_text("seed data")
    # Dan "typed" /skills add and /ask in the seed: the bot's private replies to him are folded
    # into the banner, not shown in #general as if he had just typed them.
    be("U0DAN")
    go("channel-general")
    expect(main.locator("[data-testid=message]").first).to_be_visible()
    expect(main).not_to_contain_text("Posting your question")
    seed_replies = page.locator("[data-testid=seed-replies]")
    expect(seed_replies).to_contain_text("seed commands sent as Dan Kowalski (3)")
    seed_replies.locator("summary").click()
    expect(seed_replies).to_contain_text("Posting your question")
    shot("00-seeded")

    # Kudos by slash command, as Ada.
    be("U0ADA")
    go("channel-general")
    say("/kudos @Ben for the patient code review #python")
    kudos_post = main.locator("[data-testid=message]", has_text="Kudos to @Ben Okafor")
    expect(kudos_post).to_be_visible()
    expect(kudos_post).to_contain_text("From @Ada Lovelace")
    expect(main.locator("[data-testid=ephemeral]").last).to_contain_text("Only visible to you")
    expect(statements.filter(has_text="Ada Lovelace gave")).to_have_count(1)
    shot("01-kudos-by-command")

    # Kudos by reaction: Ben writes, Chioma reacts with the trophy.
    be("U0BEN")
    say("Shipped the new deploy pipeline, builds are 3x faster")
    bens = main.locator("[data-testid=message]", has_text="Shipped the new deploy pipeline")
    expect(bens).to_be_visible()
    be("U0CHI")
    bens.locator("[data-testid=add-reaction]").click()
    bens.locator("[data-testid=pick-trophy]").click()
    expect(bens.locator("[data-testid=reaction-trophy]")).to_contain_text("1")
    expect(statements.filter(has_text="Chioma Eze gave")).to_have_count(1)
    shot("02-kudos-by-reaction")

    # A question, answered in its thread and accepted by the asker.
    be("U0BEN")
    say("/ask How do I profile a slow #python service?")
    go("channel-questions")
    question = main.locator("[data-testid=message]", has_text="How do I profile a slow")
    expect(question).to_be_visible()
    be("U0CHI")
    question.locator("[data-testid=reply]").click()
    page.fill("[data-testid=thread-composer]", "Start with py-spy top, then cProfile the hot path")
    page.press("[data-testid=thread-composer]", "Enter")
    answer = thread.locator("[data-testid=message]", has_text="py-spy top")
    expect(answer).to_be_visible()
    be("U0BEN")
    answer.locator("[data-testid=more]").click()
    answer.locator("[data-testid=shortcut-accept_answer]").click()
    expect(thread.locator("[data-testid=message]", has_text="accepted")).to_contain_text(
        "@Ben Okafor accepted @Chioma Eze's answer"
    )
    expect(question.locator("[data-testid=replies]")).to_contain_text("2 replies")
    shot("03-question-accepted")
    page.click("[data-act=close-thread]")
    # /faq finds it, the accepted answer quoted (the bot sends "\n>answer"): a real quote.
    say("/faq profile")
    found = main.locator("[data-testid=ephemeral]", has_text="How do I profile a slow")
    expect(found.locator("blockquote")).to_contain_text("py-spy top")
    expect(found).not_to_contain_text(">")

    # Scheduling through the modal (Ada is the L&D lead), then RSVPs.
    be("U0ADA")
    go("channel-general")
    say("/lunchlearn")
    modal = page.locator("[data-testid=modal]")
    expect(modal).to_contain_text("Lunch-and-learn")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal.locator("[data-testid=field-error]").first).to_be_visible()
    modal.locator("input[name=title]").fill("Property-based testing with Hypothesis")
    modal.locator("input[name=tags]").fill("#python #testing")
    modal.locator("select[name=presenter]").select_option("U0BEN")
    starts = (datetime.now() + timedelta(days=3)).replace(hour=12, minute=30)
    modal.locator("input[name=start]").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    modal.locator("input[name=place]").fill("Room 4")
    modal.locator("input[name=capacity]").fill("12")
    expect(modal.locator("select[name=channel]")).to_have_value("C0GENERAL")
    shot("04-schedule-modal")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal).to_have_count(0)
    announcement = main.locator("[data-testid=message]", has_text="Property-based testing")
    expect(announcement).to_be_visible()
    expect(announcement.locator(".date").first).to_be_visible()  # <!date^…> rendered
    be("U0DAN")
    announcement.get_by_role("button", name="Going", exact=True).click()
    expect(main.locator("[data-testid=ephemeral]", has_text="You're going to")).to_be_visible()
    expect(announcement).to_contain_text("1")
    expect(statements.filter(has_text="Dan Kowalski")).not_to_have_count(0)
    shot("05-rsvp")

    # Once #general holds more than fits, the answer to a command lands below the fold, and the
    # channel scrolls to it.
    for topic in ("python", "kafka"):
        say(f"/expert {topic}")
        answer = main.locator("[data-testid=ephemeral]", has_text=f"#{topic}").last
        expect(answer).to_be_in_viewport()
    assert main.evaluate("el => el.scrollHeight > el.clientHeight + 200"), "not enough to scroll"
    say("/kudos leaderboard")
    leaderboard = main.locator("[data-testid=ephemeral]", has_text="Kudos leaderboard")
    expect(leaderboard).to_be_in_viewport()
    shot("05b-scrolled-to-the-reply")
    # A reader who scrolled up to read stays where they are when someone else writes, and is
    # offered the way down.
    main.evaluate("el => { el.scrollTop = 0; }")
    elsewhere(page, url, "U0BEN", "C0GENERAL", "Anyone up for a code review swap on Friday?")
    swap = main.locator("[data-testid=message]", has_text="code review swap")
    expect(swap).to_have_count(1)
    expect(swap).not_to_be_in_viewport()
    assert main.evaluate("el => el.scrollTop") == 0
    page.click("[data-testid=jump]")
    expect(swap).to_be_in_viewport()
    expect(page.locator("[data-testid=jump]")).to_be_hidden()

    # Dan's App Home lists the session; Chioma got the question routed by DM.
    go("app-home")
    expect(page.locator("[data-testid=home]")).to_contain_text("Property-based testing")
    shot("06-app-home")
    # Switch to Chioma and open the DM at once. The page's calls are slowed so the click always
    # lands before the sidebar is redrawn for her: the DM opened must still be hers.
    page.evaluate(SLOW_CALLS)
    be("U0CHI")
    go("app-messages")
    expect(main.locator("[data-testid=message]").first).to_be_visible()
    # The routed question is quoted ("asks:\n>question"), not shown with a literal ">".
    routed = main.locator("[data-testid=message]", has_text="How do I profile a slow")
    expect(routed.locator("blockquote")).to_contain_text("How do I profile a slow")
    expect(routed).not_to_contain_text(">")
    shot("07-dm")

    # The xAPI panel: every statement listed, each stored in the inbuilt LRS (no LRS configured).
    assert statements.count() >= 8
    expect(page.locator("#lrs")).to_contain_text("stored in guildbot's inbuilt LRS")
    expect(page.locator(".status.sent")).to_have_count(0)
    expect(page.locator(".status.stored")).to_have_count(statements.count())
    expect(statements.first).to_contain_text("stored in the inbuilt LRS")
    requests = page.locator("[data-testid=requests]")
    expect(requests).to_contain_text("/lunchlearn")
    expect(requests).not_to_contain_text("→ 401")
    shot("08-statements")

    # The report of what was done here: the counts, the chart, the files and the command.
    page.click("[data-testid=report]")
    report = page.locator("[data-testid=report-view]")
    expect(report).to_contain_text("kudos given")
    expect(report.locator("tr", has_text="Ada Lovelace")).to_contain_text("kudos given 1")
    chart = report.locator("[data-testid=report-chart]")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") == 1200
    expect(report.locator("[data-testid=report-command]")).to_contain_text(
        "guildbot report --dir .playground --since"
    )
    with page.expect_download() as downloading:
        report.locator("[data-testid=report-csv]").click()
    assert downloading.value.suggested_filename == "guildbot-report.csv"
    shot("09-report")
    report.get_by_role("button", name="Close").click()
    expect(report).to_have_count(0)


def elsewhere(page: sync_api.Page, url: str, user: str, channel: str, text: str) -> None:
    """Someone else writes (another browser): a call to the page's API, with its token."""
    token = page.locator('meta[name="playground-token"]').get_attribute("content")
    assert token
    answered = page.request.post(
        url + "pg/type",
        data={"user": user, "channel": channel, "text": text},
        headers={"X-Playground-Token": token, "Origin": url.rstrip("/")},
    )
    assert answered.ok


ATTACK = """<!doctype html><title>waiting</title><script>
fetch("%(target)spg/type", {
  method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
  body: JSON.stringify({user: "U0ADA", channel: "C0GENERAL", text: "sent by another site"}),
}).then(() => fetch("%(target)spg/state", {mode: "no-cors"}))
  .then(() => { document.title = "done"; }, () => { document.title = "done"; });
</script>"""


@pytest.fixture
def other_site() -> Iterator[int]:
    """A page on http://evil.example:<port>/ that POSTs to the playground named in its path."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (ATTACK % {"target": self.path.removeprefix("/?target=")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_another_site_can_neither_read_nor_drive_the_playground(
    playground_url: str, other_site: int
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    port = int(playground_url.rstrip("/").rsplit(":", 1)[1])
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        try:
            # DNS rebinding: evil.example now resolves to 127.0.0.1, so the page it serves
            # at the playground's port would be same-origin with the playground's API.
            rebound = page.goto(f"http://evil.example:{port}/")
            assert rebound is not None and rebound.status == 421
            expect(page.locator("[data-testid=who]")).to_have_count(0)
            # Cross-site requests from another page the evaluator has open.
            page.goto(f"http://evil.example:{other_site}/?target={playground_url}")
            expect(page).to_have_title("done")
            # The playground's own page shows nothing was sent as Ada.
            page.goto(playground_url)
            expect(page.locator("[data-testid=channel-general]")).to_be_visible()
            page.select_option("[data-testid=who]", "U0ADA")
            page.click("[data-testid=channel-general]")
            expect(page.locator("#main-body [data-testid=message]").first).to_be_visible()
            expect(page.locator("#main-body")).not_to_contain_text("sent by another site")
        finally:
            page.screenshot(path=str(ARTIFACTS / "cross-site.png"), full_page=True)
            browser.close()
