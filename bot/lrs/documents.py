"""The document resources (state, activity profile, agent profile) and the activities and
agents resources.

Documents carry an ETag (the SHA-1 of their bytes). `If-Match` and `If-None-Match` guard
every change; a PUT that would overwrite a profile without either is refused (409), as xAPI
asks, so two clients never silently overwrite each other. POSTing JSON onto a JSON document
merges the two, one level deep.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.lrs import formats, params
from bot.lrs.errors import XapiError, bad_request
from bot.lrs.http import (
    VERSION_HEADER,
    Lrs,
    XapiRequest,
    http_date,
    json_response,
    no_content,
)
from storage.repositories import lrs_documents, lrs_keys, lrs_statements
from storage.repositories.lrs_documents import Document, DocumentAddress

JSON = "application/json"


@dataclass(frozen=True)
class _Kind:
    name: str
    id_param: str
    by_activity: bool
    by_agent: bool
    guarded: bool
    """A PUT needs If-Match or If-None-Match (profiles; 409 when the document exists)."""
    list_params: frozenset[str]

    @property
    def params(self) -> frozenset[str]:
        return self.list_params | {self.id_param}


_STATE = _Kind(
    "state",
    "stateId",
    by_activity=True,
    by_agent=True,
    guarded=False,
    list_params=frozenset({"activityId", "agent", "registration", "since"}),
)
_ACTIVITY_PROFILE = _Kind(
    "activity_profile",
    "profileId",
    by_activity=True,
    by_agent=False,
    guarded=True,
    list_params=frozenset({"activityId", "since"}),
)
_AGENT_PROFILE = _Kind(
    "agent_profile",
    "profileId",
    by_activity=False,
    by_agent=True,
    guarded=True,
    list_params=frozenset({"agent", "since"}),
)


async def state(lrs: Lrs, request: XapiRequest) -> web.StreamResponse:
    return await _document(lrs, request, _STATE)


async def activity_profile(lrs: Lrs, request: XapiRequest) -> web.StreamResponse:
    return await _document(lrs, request, _ACTIVITY_PROFILE)


async def agent_profile(lrs: Lrs, request: XapiRequest) -> web.StreamResponse:
    return await _document(lrs, request, _AGENT_PROFILE)


@dataclass(frozen=True)
class _Where:
    scope: str
    agent_key: str | None
    registration: str | None

    def address(self, kind: _Kind, document_id: str) -> DocumentAddress:
        key = lrs_keys.digest("\x1f".join((self.scope, self.registration or "", document_id)))
        return DocumentAddress(
            key, self.scope, kind.name, document_id, self.agent_key, self.registration
        )


def _where(kind: _Kind, given: Mapping[str, str]) -> _Where:
    parts = [kind.name]
    agent_key = None
    if kind.by_activity:
        parts.append(params.iri(given, "activityId"))
    if kind.by_agent:
        identity = lrs_keys.agent_identity(params.agent(given))
        assert identity is not None
        agent_key = lrs_keys.digest(identity)
        parts.append(identity)
    registration = params.registration(given) if kind is _STATE else None
    return _Where(lrs_keys.digest("\x1f".join(parts)), agent_key, registration)


async def _document(lrs: Lrs, request: XapiRequest, kind: _Kind) -> web.StreamResponse:
    given = request.params
    params.only(given, kind.params)
    where = _where(kind, given)
    document_id = given.get(kind.id_param)
    if document_id is None:
        if request.method in ("GET", "HEAD"):
            return await _list(lrs, where, params.timestamp(given, "since"))
        if request.method == "DELETE" and kind is _STATE:
            await lrs.run(_delete_scope, lrs, where)
            return no_content()
        raise bad_request(f"the {kind.id_param} parameter is required")
    if "since" in given:
        raise bad_request(f"since lists documents: it goes without {kind.id_param}")
    address = where.address(kind, document_id)
    if request.method in ("GET", "HEAD"):
        return await _get(lrs, address)
    if request.method == "DELETE":
        await lrs.run(_change, lrs, address, request, kind, None)
        return no_content()
    if request.method in ("PUT", "POST"):
        await lrs.run(_change, lrs, address, request, kind, request.method)
        return no_content()
    raise XapiError(405, "document resources answer GET, PUT, POST and DELETE")


async def _list(lrs: Lrs, where: _Where, since: datetime | None) -> web.Response:
    def read() -> list[str]:
        with lrs.database.reading() as session:
            return lrs_documents.ids(session, where.scope, since, where.registration)

    return json_response(await lrs.run(read))


async def _get(lrs: Lrs, address: DocumentAddress) -> web.Response:
    def read() -> Document | None:
        with lrs.database.reading() as session:
            return lrs_documents.get(session, address.key)

    found = await lrs.run(read)
    if found is None:
        raise XapiError(404, "no such document")
    return web.Response(
        body=found.content,
        headers={
            VERSION_HEADER: formats.VERSION,
            "Content-Type": found.content_type,
            "ETag": f'"{found.etag}"',
            "Last-Modified": http_date(found.updated),
        },
    )


def _delete_scope(lrs: Lrs, where: _Where) -> None:
    with lrs.database.transaction() as session:
        lrs_documents.delete_scope(session, where.scope, where.registration)


def _change(
    lrs: Lrs, address: DocumentAddress, request: XapiRequest, kind: _Kind, method: str | None
) -> None:
    """PUT, POST (merge) or DELETE (method None), under the request's preconditions."""
    with lrs.database.transaction() as session:
        current = lrs_documents.get(session, address.key)
        _check_preconditions(request, current, kind, method)
        if method is None:
            lrs_documents.delete_one(session, address.key)
            return
        content, content_type = request.body, request.headers.get("Content-Type") or JSON
        if method == "POST":
            content, content_type = _merged(current, content, content_type)
        elif _is_json(content_type) and _json_object(content) is None:
            raise bad_request("the document's Content-Type is application/json but it is not JSON")
        etag = hashlib.sha1(content).hexdigest()
        lrs_documents.put(session, address, content, content_type, etag, datetime.now(UTC))


def _check_preconditions(
    request: XapiRequest, current: Document | None, kind: _Kind, method: str | None
) -> None:
    if_match = request.headers.get("If-Match")
    if_none_match = request.headers.get("If-None-Match")
    if if_match is not None and (current is None or not _matches(if_match, current.etag)):
        raise XapiError(412, "If-Match: the document has changed (or is gone)")
    if if_none_match is not None and current is not None and _matches(if_none_match, current.etag):
        raise XapiError(412, "If-None-Match: the document exists already")
    if method == "PUT" and kind.guarded and if_match is None and if_none_match is None:
        if current is not None:
            raise XapiError(409, "the document exists: send If-Match with its ETag to replace it")
        raise bad_request("a PUT of a profile needs If-Match or If-None-Match: *")


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/").strip('"') == etag for t in tags)


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == JSON


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _merged(current: Document | None, content: bytes, content_type: str) -> tuple[bytes, str]:
    """POST: a new document as given; onto an existing one, both JSON objects, merged."""
    posted = _json_object(content) if _is_json(content_type) else None
    if _is_json(content_type) and posted is None:
        raise bad_request(
            "the document's Content-Type is application/json but it is not a JSON object"
        )
    if current is None:
        return content, content_type
    existing = _json_object(current.content) if _is_json(current.content_type) else None
    if posted is None or existing is None:
        raise bad_request("POST merges JSON documents only: use PUT to replace this one")
    merged = json.dumps({**existing, **posted}, ensure_ascii=False).encode()
    return merged, current.content_type


# Activities and agents ---------------------------------------------------------------------------


async def activities(lrs: Lrs, request: XapiRequest) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        raise XapiError(405, "the activities resource answers GET only")
    params.only(request.params, {"activityId"})
    activity_id = params.iri(request.params, "activityId")

    def read() -> list[dict[str, Any]]:
        with lrs.database.reading() as session:
            return lrs_statements.definitions(session, activity_id)

    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    definition = formats.merged_definition(await lrs.run(read))
    if definition:
        activity["definition"] = definition
    return json_response(activity)


async def agents(lrs: Lrs, request: XapiRequest) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        raise XapiError(405, "the agents resource answers GET only")
    params.only(request.params, {"agent"})
    return json_response(formats.person(params.agent(request.params)))
