"""Who may talk to the playground. A web page the evaluator visits must neither drive it nor read
it: requests naming another Host (DNS rebinding) are refused on every route, and the page's own
API wants the page's own Origin and the token generated for this run, which only the served page
carries. The bot, which reaches the stand-in's Web API without an Origin, still gets through."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from aiohttp import ClientSession

from bot.playground.server import Playground, PlaygroundOptions

GENERAL = "C0GENERAL"
TOKEN_HEADER = "X-Playground-Token"
PAGE_POSTS = ["type", "react", "click", "shortcut", "submit", "close", "suggest", "home", "dismiss"]


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    options = PlaygroundOptions(
        directory=tmp_path / "pg", port=0, seed=False, environ={}, env_file=None
    )
    started = await Playground(options).start()
    yield started
    await started.stop()


def port_of(playground: Playground) -> int:
    port = urlparse(playground.slack.public_url).port
    assert port is not None
    return port


def base(playground: Playground) -> str:
    return f"http://127.0.0.1:{port_of(playground)}"


async def page_token(playground: Playground, host: str | None = None) -> str:
    """The token as the page gets it: embedded in the HTML it is served."""
    headers = {"Host": host} if host else {}
    async with ClientSession() as http, http.get(base(playground) + "/", headers=headers) as page:
        assert page.status == 200
        found = re.search(r'name="playground-token" content="([^"]+)"', await page.text())
    assert found, "the served page carries the run's token"
    return found.group(1)


def posted_texts(playground: Playground) -> list[str]:
    return [m["text"] for m in playground.slack.messages[GENERAL]]


async def post_typed(playground: Playground, text: str, headers: dict[str, str]) -> tuple[int, str]:
    body = {"user": "U0ADA", "channel": GENERAL, "text": text}
    async with (
        ClientSession() as http,
        http.post(base(playground) + "/pg/type", json=body, headers=headers) as answered,
    ):
        return answered.status, await answered.text()


async def test_a_request_naming_another_host_is_refused_on_every_route(
    playground: Playground,
) -> None:
    port = port_of(playground)
    own = f"http://127.0.0.1:{port}"
    token = await page_token(playground)
    # Everything else about each request is right, so only the Host can be what is refused.
    trusted = {
        "Origin": own,
        TOKEN_HEADER: token,
        "Authorization": f"Bearer {playground.slack.token}",
    }
    routes = [
        ("GET", "/"),
        ("GET", "/static/playground.js"),
        ("GET", "/pg/state"),
        ("POST", "/pg/type"),
        ("GET", f"/archives/{GENERAL}/p1700000000000100"),
        ("GET", "/files/F00000001"),
        ("POST", "/api/chat.postMessage"),
        ("POST", "/respond/anything"),
        ("POST", "/upload/F00000001"),
    ]
    body: dict[str, Any] = {"user": "U0ADA", "channel": GENERAL, "text": "rebound"}
    for host in (
        f"evil.example:{port}",  # a rebinding page keeps its own name
        "evil.example",
        f"localhost.evil.example:{port}",
        f"127.0.0.1:{port + 1 if port < 65535 else port - 1}",
        f"0.0.0.0:{port}",
    ):
        async with ClientSession() as http:
            for method, path in routes:
                headers = {**trusted, "Host": host}
                async with http.request(
                    method, base(playground) + path, json=body, headers=headers
                ) as refused:
                    assert refused.status == 421, (host, method, path, refused.status)
                    assert "text/plain" in refused.headers["Content-Type"]
                    assert f"localhost:{port}" in await refused.text()
    assert not any("rebound" in text for text in posted_texts(playground))


async def test_its_own_loopback_names_are_answered(playground: Playground) -> None:
    port = port_of(playground)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}"):
        token = await page_token(playground, host)
        own = f"http://{host.lower()}"
        status, _ = await post_typed(
            playground, f"hello via {host}", {"Host": host, "Origin": own, TOKEN_HEADER: token}
        )
        assert status == 200
    assert [t for t in posted_texts(playground) if t.startswith("hello via")] == [
        f"hello via 127.0.0.1:{port}",
        f"hello via localhost:{port}",
        f"hello via LocalHost:{port}",
    ]


async def test_the_page_carries_a_token_for_this_run_only_and_cannot_be_framed(
    tmp_path: Path,
) -> None:
    tokens = []
    for _ in range(2):
        options = PlaygroundOptions(
            directory=tmp_path, port=0, seed=False, environ={}, env_file=None
        )
        started = await Playground(options).start()
        try:
            tokens.append(await page_token(started))
            async with ClientSession() as http, http.get(base(started) + "/") as page:
                assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
                assert "Access-Control-Allow-Origin" not in page.headers
        finally:
            await started.stop()
    assert len(tokens[0]) >= 32 and tokens[0] != tokens[1]


async def test_the_json_state_needs_the_token(playground: Playground) -> None:
    token = await page_token(playground)
    url = base(playground) + "/pg/state?user=U0ADA"
    async with ClientSession() as http:
        for headers in ({}, {TOKEN_HEADER: "guess"}, {TOKEN_HEADER: ""}):
            async with http.get(url, headers=headers) as refused:
                assert refused.status == 403
                assert "messages" not in await refused.text()
        async with http.get(url, headers={TOKEN_HEADER: token}) as answered:
            assert answered.status == 200
            assert "messages" in await answered.json()
            assert "Access-Control-Allow-Origin" not in answered.headers


async def test_a_change_needs_the_pages_own_origin_and_the_token(playground: Playground) -> None:
    port = port_of(playground)
    own = f"http://127.0.0.1:{port}"
    token = await page_token(playground)
    refused_headers: list[dict[str, str]] = [
        {TOKEN_HEADER: token},  # no Origin at all
        {"Origin": "http://evil.example", TOKEN_HEADER: token},
        {"Origin": f"http://evil.example:{port}", TOKEN_HEADER: token},
        {"Origin": "null", TOKEN_HEADER: token},
        {"Origin": f"https://127.0.0.1:{port}", TOKEN_HEADER: token},
        {"Origin": f"http://localhost:{port}", TOKEN_HEADER: token},  # not the Host asked for
        {"Origin": own},  # no token
        {"Origin": own, TOKEN_HEADER: "0" * len(token)},
    ]
    for headers in refused_headers:
        status, text = await post_typed(playground, "/kudos @Ben from elsewhere", headers)
        assert status == 403, headers
        assert text and len(text) < 200
    assert posted_texts(playground) == [], "nothing reached the bot"
    assert playground.slack.requests == []

    async with ClientSession() as http:
        for name in PAGE_POSTS:
            async with http.post(
                f"{own}/pg/{name}", json={"user": "U0ADA"}, headers={"Origin": own}
            ) as refused:
                assert refused.status == 403, name
        preflight = {
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": TOKEN_HEADER,
        }
        async with http.options(f"{own}/pg/type", headers=preflight) as answered:
            assert "Access-Control-Allow-Origin" not in answered.headers

    status, _ = await post_typed(
        playground, "hello from the page", {"Origin": own, TOKEN_HEADER: token}
    )
    assert status == 200
    assert posted_texts(playground) == ["hello from the page"]


async def test_the_stand_in_refuses_cross_site_posts_but_not_the_bot(
    playground: Playground,
) -> None:
    url = base(playground) + "/api/chat.postMessage"
    auth = {"Authorization": f"Bearer {playground.slack.token}"}
    body = {"channel": GENERAL, "text": "posted through the Web API"}
    async with ClientSession() as http:
        headers = {**auth, "Origin": "http://evil.example"}
        async with http.post(url, json=body, headers=headers) as refused:
            assert refused.status == 403
        assert posted_texts(playground) == []
        # The bot's own calls carry no Origin (slack_sdk is no browser) and go through.
        async with http.post(url, json=body, headers=auth) as answered:
            assert (await answered.json())["ok"]
    assert posted_texts(playground) == ["posted through the Web API"]
    # The bot's Web API calls, response URL and file upload all still reach the stand-in.
    outcome = await playground.slack.type_message("U0ADA", GENERAL, "/guild export")
    assert outcome.status == 200
    await playground.settle()
    files = [f for f in playground.slack.files.values() if f.get("content")]
    assert files and files[-1]["url"].startswith(base(playground))
