"""Who may talk to the playground: its own page, and the bot. A web page the evaluator visits must
neither read it nor drive it.

- Every request must name the playground itself in `Host` (its loopback address or `localhost`,
  with its port), else 421. A page whose name was rebound to 127.0.0.1 (DNS rebinding) still
  sends its own name.
- The page's API (`/pg/…`) wants the token generated for this run in `X-Playground-Token`, and a
  change also wants the page's own `Origin`. The token reaches the page inside the served HTML,
  which no other origin can read; a custom header also makes any cross-site call need a CORS
  preflight, which the playground never grants.
- Other changes (the stand-in's Web API, response URLs and uploads, called by the bot without an
  `Origin`) are refused when a browser sends them from another origin.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

LOOPBACK = "127.0.0.1"
TOKEN_HEADER = "X-Playground-Token"
PAGE_API = "/pg/"
READ_ONLY = frozenset({"GET", "HEAD"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Guard:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    port: int = 0
    """Set once listening; until then no Host is ours."""

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset({f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"})

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        refused = self.refusal(request)
        return refused if refused is not None else await handler(request)

    def refusal(self, request: web.Request) -> web.Response | None:
        host = request.headers.get("Host", "").lower()
        if not self.port or host not in self.hosts:
            return web.Response(
                status=421,
                text=f"This is the guildbot playground: open http://localhost:{self.port}/\n",
            )
        origin = request.headers.get("Origin")
        own_origin = f"http://{host}"
        changes = request.method not in READ_ONLY
        if request.path.startswith(PAGE_API):
            if changes and origin != own_origin:
                return _forbidden("only the playground's own page can do that")
            if not secrets.compare_digest(
                request.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace"),
                self.token.encode(),
            ):
                return _forbidden("this page is from an earlier run of the playground: reload it")
        elif changes and origin is not None and origin != own_origin:
            return _forbidden("cross-site requests are refused")
        return None


def _forbidden(reason: str) -> web.Response:
    return web.Response(status=403, text=f"Forbidden: {reason}.\n")
