"""An xAPI client for tests of the inbuilt LRS: HTTP Basic, the version header, and answers
parsed (JSON, or the parts of a multipart/mixed body)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from bot.lrs import multipart

VERSION = {"X-Experience-API-Version": "1.0.3"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    def parts(self) -> list[multipart.Part]:
        content_type = self.headers["Content-Type"]
        assert content_type.startswith("multipart/mixed"), content_type
        return multipart.parse(self.raw, multipart.boundary_of(content_type))


@dataclass
class XapiClient:
    endpoint: str
    """The LRS's base URL, ending in /xapi/."""
    key: str | None = None
    secret: str | None = field(default=None, repr=False)

    def auth(self) -> dict[str, str]:
        if self.key is None:
            return {}
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def request(
        self,
        method: str,
        resource: str,
        params: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        sent = {**VERSION, **self.auth(), **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method, self.endpoint + resource, params=params, data=data, headers=sent
            ) as response,
        ):
            return Answer(response.status, response.headers, await response.read())

    async def statements(self, **params: str) -> Answer:
        return await self.request("GET", "statements", params)

    async def all_statements(self, **params: str) -> list[dict[str, Any]]:
        """Every statement a query finds, following `more` links."""
        answer = await self.statements(**params)
        found = []
        while True:
            assert answer.status == 200, answer.raw
            page = answer.json
            found += page["statements"]
            if not page["more"]:
                return found
            base = self.endpoint.split("/xapi/")[0]
            async with (
                aiohttp.ClientSession() as session,
                session.get(base + page["more"], headers={**VERSION, **self.auth()}) as response,
            ):
                answer = Answer(response.status, response.headers, await response.read())
