"""The inbuilt LRS on HTTP: what every request goes through.

Alternate request syntax first (a POST carrying the real method, headers and parameters as a
form), then the About resource (public), then HTTP Basic credentials, the
`X-Experience-API-Version` header, and a read-only check for writes; then the resource.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from bot.executor import BlockingExecutor
from bot.lrs import credentials, formats
from bot.lrs.errors import XapiError, bad_request
from storage.database import Database
from storage.repositories.lrs_credentials import Credential

log = logging.getLogger("guildbot.lrs")

PREFIX = "/xapi"
VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
SUPPORTED_VERSIONS = ("1.0.3", "1.0.2", "1.0.1", "1.0.0")
MAX_BODY_BYTES = 16 * 1024 * 1024
WRITES = frozenset({"PUT", "POST", "DELETE"})
# Form fields of the alternate request syntax that stand for headers.
_FORM_HEADERS = (
    "Authorization",
    VERSION_HEADER,
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
)
_REALM = 'Basic realm="guildbot xAPI", charset="UTF-8"'


@dataclass(frozen=True)
class LrsIdentity:
    """Who the LRS says stored what: guildbot itself, or a credential."""

    own_authority: Mapping[str, Any]
    """guildbot's own agent: the authority of the statements the bot makes."""
    credential_home_page: str
    """The `account.homePage` of the agent a credential's statements are stored under."""


@dataclass
class Lrs:
    """What the resources need."""

    database: Database
    executor: BlockingExecutor
    identity: LrsIdentity
    read_only: bool = False
    """With an external LRS configured, this one is a read-only copy of guildbot's statements."""

    @functools.cached_property
    def own_authority_json(self) -> str:
        return json.dumps(self.identity.own_authority, ensure_ascii=False, separators=(",", ":"))

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.executor.run(fn, *args)


@dataclass
class XapiRequest:
    """A request as the resource sees it, after the alternate syntax is unwrapped."""

    method: str
    path: str
    params: dict[str, str]
    headers: CIMultiDictProxy[str]
    body: bytes
    credential: Credential | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    """Headers the answer carries whatever it is (the consistency header of a statement GET)."""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def authority(self, lrs: Lrs) -> dict[str, Any]:
        assert self.credential is not None
        return credentials.authority(self.credential, lrs.identity.credential_home_page)


Resource = Callable[[Lrs, XapiRequest], Awaitable[web.StreamResponse]]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
        content_type="application/json",
        charset="utf-8",
        headers={VERSION_HEADER: formats.VERSION, **(headers or {})},
    )


def no_content(headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=204, headers={VERSION_HEADER: formats.VERSION, **(headers or {})})


def http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


async def about(request: web.Request) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        return _error(XapiError(405, "the About resource answers GET only"))
    return json_response({"version": list(SUPPORTED_VERSIONS), "extensions": {}})


def handler(lrs: Lrs, resource: Resource) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        xapi: XapiRequest | None = None
        try:
            xapi = await _unwrap(request)
            await _admit(lrs, xapi)
            return await resource(lrs, xapi)
        except XapiError as refused:
            return _error(refused, xapi.extra_headers if xapi else None)
        except Exception:
            log.exception("the LRS failed on %s %s", request.method, request.path)
            return _error(XapiError(500, "the LRS could not do that; try again later"))

    return handle


def _error(refused: XapiError, headers: Mapping[str, str] | None = None) -> web.Response:
    extra = dict(headers or {})
    if refused.status == 401:
        extra["WWW-Authenticate"] = _REALM
    return json_response({"message": refused.message}, refused.status, extra)


async def _unwrap(request: web.Request) -> XapiRequest:
    body = await _read_body(request)
    params = dict(request.query)
    if "method" not in params:
        return XapiRequest(request.method, request.path, params, request.headers, body)
    return _alternate(request, params["method"], body)


def _alternate(request: web.Request, method_param: str, body: bytes) -> XapiRequest:
    """The alternate request syntax: a POST whose query holds the method, and nothing else."""
    _check_alternate(request, method_param)
    method = method_param.upper()
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body)))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("the form is not url-encoded") from None
    headers = CIMultiDict(request.headers)
    del headers["Content-Type"]
    for name in _FORM_HEADERS:
        for key in [k for k in form if k.lower() == name.lower()]:
            headers[name] = form.pop(key)
    content = form.pop("content", None)
    if method in ("PUT", "POST") and content is None:
        raise bad_request("the alternate request syntax sends the document as the content field")
    if content is not None and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return XapiRequest(
        method, request.path, form, CIMultiDictProxy(headers), (content or "").encode()
    )


def _check_alternate(request: web.Request, method_param: str) -> None:
    if request.method != "POST":
        raise bad_request("the alternate request syntax (method=…) is a POST")
    if set(request.query) != {"method"}:
        raise bad_request("the alternate request syntax takes every parameter in its form")
    if method_param.upper() not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        raise bad_request(f"method={method_param!r} is not an HTTP method this LRS knows")
    if request.content_type != "application/x-www-form-urlencoded":
        raise bad_request("the alternate request syntax sends its form url-encoded")


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise XapiError(413, f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise XapiError(413, f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


async def _admit(lrs: Lrs, request: XapiRequest) -> None:
    request.credential = await _authenticate(lrs, request.headers.get("Authorization"))
    version = request.headers.get(VERSION_HEADER)
    if version is None:
        raise bad_request(f"the {VERSION_HEADER} header is required (e.g. 1.0.3)")
    if version.strip() not in ("1.0", *SUPPORTED_VERSIONS):
        raise bad_request(f"{VERSION_HEADER} {version!r} is not supported: use 1.0.3")
    if request.method in WRITES:
        if lrs.read_only:
            raise XapiError(
                403,
                "this LRS is a read-only copy of guildbot's statements: write to the LRS at "
                "LRS_ENDPOINT instead",
            )
        if request.credential.read_only:
            raise XapiError(403, "this key is read-only")


async def _authenticate(lrs: Lrs, header: str | None) -> Credential:
    if not header:
        raise XapiError(401, "credentials are required (HTTP Basic)")
    scheme, _, token = header.strip().partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError
        key, colon, secret = base64.b64decode(token.strip(), validate=True).decode().partition(":")
        if not colon:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise XapiError(401, "the Authorization header is not HTTP Basic credentials") from None
    credential: Credential | None = await lrs.run(credentials.check, lrs.database, key, secret)
    if credential is None:
        raise XapiError(401, "these credentials are not valid")
    return credential
