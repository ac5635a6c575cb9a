"""The statement resource: `PUT`, `POST` and `GET /xapi/statements`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.lrs import formats, multipart, params, signatures, validation
from bot.lrs.errors import XapiError, bad_request
from bot.lrs.http import (
    CONSISTENT_THROUGH,
    VERSION_HEADER,
    Lrs,
    XapiRequest,
    http_date,
    json_response,
    no_content,
)
from storage.repositories import lrs_keys, lrs_statements
from storage.repositories.lrs_statements import (
    Attachment,
    NewLrsStatement,
    StatementFilter,
    StoredStatement,
)

# What the LRS sets or rewrites: never part of the statement as kept, nor of a comparison.
_SET_BY_LRS = ("stored", "authority")
_HASHES = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


async def resource(lrs: Lrs, request: XapiRequest) -> web.StreamResponse:
    if request.method in ("GET", "HEAD"):
        return await _get(lrs, request)
    if request.method == "PUT":
        return await _put(lrs, request)
    if request.method == "POST":
        return await _post(lrs, request)
    raise XapiError(405, "the statement resource answers GET, PUT and POST")


# Writing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Incoming:
    statements: list[dict[str, Any]]
    attachments: dict[str, Attachment]
    single: bool


def _incoming(request: XapiRequest) -> _Incoming:
    """The statements of a PUT or POST body, with the attachment bytes sent along."""
    kind = request.content_type
    if kind == "application/json":
        return _statements(request.body, {})
    if kind != "multipart/mixed":
        raise bad_request("statements come as application/json or multipart/mixed")
    try:
        boundary = multipart.boundary_of(request.headers.get("Content-Type", ""))
        parts = multipart.parse(request.body, boundary)
    except multipart.Malformed as problem:
        raise bad_request(str(problem)) from None
    first, rest = parts[0], parts[1:]
    if first.content_type != "application/json":
        raise bad_request("the first part of a multipart/mixed body holds the statements as JSON")
    sent: dict[str, Attachment] = {}
    for part in rest:
        sha2 = part.headers.get(multipart.HASH_HEADER)
        if not sha2:
            raise bad_request(f"every attachment part needs an {multipart.HASH_HEADER} header")
        if part.headers.get("Content-Transfer-Encoding", "").lower() != "binary":
            raise bad_request("every attachment part needs Content-Transfer-Encoding: binary")
        digest = _HASHES.get(len(sha2))
        if digest is None or digest(part.content).hexdigest() != sha2.lower():
            raise bad_request(f"the attachment part {sha2[:16]}… does not have that hash")
        sent[sha2.lower()] = Attachment(
            sha2.lower(), part.headers.get("Content-Type", "application/octet-stream"), part.content
        )
    return _statements(first.content, sent)


def _statements(body: bytes, sent: dict[str, Attachment]) -> _Incoming:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("the body is not JSON") from None
    single = isinstance(data, dict)
    listed = [data] if single else data
    if not isinstance(listed, list) or not listed:
        raise bad_request("expected a statement or a non-empty list of statements")
    for number, statement in enumerate(listed):
        try:
            validation.statement(statement, "statement" if single else f"statements[{number}]")
        except validation.Invalid as problem:
            raise bad_request(str(problem)) from None
    _check_attachments(listed, sent)
    return _Incoming(listed, sent, single)


def _check_attachments(statements: list[dict[str, Any]], sent: dict[str, Attachment]) -> None:
    """Every attachment without a fileUrl came with its bytes; no part is left over;
    signatures are well-formed."""
    wanted: set[str] = set()
    for statement in statements:
        for attachment in _attachments(statement):
            sha2 = attachment["sha2"].lower()
            if signatures.is_signature(attachment):
                if sha2 not in sent:
                    raise bad_request("a signed statement needs its signature's bytes")
                try:
                    signatures.check(statement, attachment, sent[sha2].content)
                except signatures.BadSignature as problem:
                    raise bad_request(str(problem)) from None
            if "fileUrl" not in attachment:
                if sha2 not in sent:
                    raise bad_request(
                        f"the attachment {sha2[:16]}… has no fileUrl and its bytes were not "
                        "sent (multipart/mixed)"
                    )
                wanted.add(sha2)
            elif sha2 in sent:
                wanted.add(sha2)
    extra = set(sent) - wanted
    if extra:
        raise bad_request("a part of the body is not an attachment of these statements")


def _attachments(statement: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = list(statement.get("attachments") or ())
    target = statement["object"]
    if target.get("objectType") == "SubStatement":
        found += list(target.get("attachments") or ())
    return found


def _kept(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement as the LRS keeps it: an id, context activities as lists, and nothing the
    LRS sets itself."""
    kept = {k: v for k, v in statement.items() if k not in _SET_BY_LRS}
    kept.setdefault("id", validation.new_statement_id())
    return formats.with_context_activity_lists(kept)


def _same(stored_body: str, kept: Mapping[str, Any]) -> bool:
    stored = {k: v for k, v in json.loads(stored_body).items() if k not in _SET_BY_LRS}
    stored["id"], other = str(stored["id"]).lower(), dict(kept)
    other["id"] = str(other["id"]).lower()
    return formats.with_context_activity_lists(stored) == other


async def _put(lrs: Lrs, request: XapiRequest) -> web.Response:
    params.only(request.params, {"statementId"})
    statement_id = params.required(request.params, "statementId")
    if not validation.is_uuid(statement_id):
        raise bad_request("statementId must be a UUID")
    incoming = _incoming(request)
    if not incoming.single:
        raise bad_request("PUT takes one statement (POST takes a list)")
    statement = incoming.statements[0]
    if "id" in statement and str(statement["id"]).lower() != statement_id.lower():
        raise bad_request("the statement's id differs from statementId")
    statement["id"] = statement.get("id", statement_id)
    await _store(lrs, request, [_kept(statement)], incoming.attachments)
    return no_content()


async def _post(lrs: Lrs, request: XapiRequest) -> web.Response:
    if request.params:
        raise bad_request(f"POST statements takes no parameters (got {', '.join(request.params)})")
    incoming = _incoming(request)
    kept = [_kept(statement) for statement in incoming.statements]
    ids = [str(statement["id"]).lower() for statement in kept]
    if len(set(ids)) != len(ids):
        raise bad_request("two statements of the batch have the same id")
    await _store(lrs, request, kept, incoming.attachments)
    return json_response([statement["id"] for statement in kept])


async def _store(
    lrs: Lrs,
    request: XapiRequest,
    kept: list[dict[str, Any]],
    attachments: Mapping[str, Attachment],
) -> None:
    authority = request.authority(lrs)

    def write() -> None:
        with lrs.database.transaction() as session:
            known = lrs_statements.by_ids(session, [str(s["id"]) for s in kept])
            new = []
            for statement in kept:
                stored = known.get(str(statement["id"]).lower())
                if stored is None:
                    new.append(statement)
                elif not _same(stored.body, statement):
                    raise XapiError(
                        409, f"a different statement with the id {statement['id']} is stored"
                    )
            lrs_statements.keep_attachments(session, attachments.values())
            lrs_statements.store(
                session,
                [
                    NewLrsStatement(
                        str(s["id"]),
                        json.dumps(s, ensure_ascii=False, separators=(",", ":")),
                        s,
                        authority,
                        [
                            a["sha2"].lower()
                            for a in _attachments(s)
                            if a["sha2"].lower() in attachments
                        ],
                    )
                    for s in new
                ],
                ignore_known=False,
            )

    try:
        await lrs.run(write)
    except IntegrityError:
        raise XapiError(409, "a statement with one of these ids was stored meanwhile") from None


# Reading -----------------------------------------------------------------------------------------


async def _get(lrs: Lrs, request: XapiRequest) -> web.StreamResponse:
    try:
        read = params.statement_read(request.params)
    except XapiError:
        # Every answer to GET statements says how consistent the LRS is, a refusal too.
        request.extra_headers[CONSISTENT_THROUGH] = formats.xapi_time(
            await lrs.run(_consistent_through, lrs)
        )
        raise
    preferred = formats.preferred_languages(request.headers.get("Accept-Language"))
    if read.statement_id is not None:
        return await _get_one(lrs, request, read, preferred)
    assert read.query is not None
    query = read.query

    def fetch() -> tuple[list[StoredStatement], list[Attachment], dict[str, dict[str, Any]]]:
        with lrs.database.reading() as session:
            _note_consistency(request, session)
            found = lrs_statements.find(
                session,
                StatementFilter(query.keys, query.since, query.until, query.ascending, query.after),
                query.limit + 1,
            )
            page = found[: query.limit]
            files = _attachments_of(session, page) if read.attachments else []
            definitions = _definitions(session, page) if read.format == "canonical" else {}
            return found, files, definitions

    found, files, definitions = await lrs.run(fetch)
    page = found[: query.limit]
    more = (
        params.more_link(request.path, request.params, page[-1].seq)
        if len(found) > query.limit
        else ""
    )
    shown = ",".join(_shown(lrs, s, read.format, definitions, preferred) for s in page)
    headers = dict(request.extra_headers)
    if page:
        headers["Last-Modified"] = http_date(max(s.stored for s in page))
    result = f'{{"statements":[{shown}],"more":{json.dumps(more)}}}'
    return _answer(result, files, headers, read.attachments)


async def _get_one(
    lrs: Lrs, request: XapiRequest, read: params.StatementRead, preferred: list[str]
) -> web.StreamResponse:
    assert read.statement_id is not None
    statement_id = read.statement_id

    def fetch() -> tuple[StoredStatement | None, list[Attachment], dict[str, dict[str, Any]]]:
        with lrs.database.reading() as session:
            _note_consistency(request, session)
            found = lrs_statements.by_ids(session, [statement_id]).get(statement_id)
            if found is None or found.voided != read.voided:
                return None, [], {}
            files = _attachments_of(session, [found]) if read.attachments else []
            definitions = _definitions(session, [found]) if read.format == "canonical" else {}
            return found, files, definitions

    found, files, definitions = await lrs.run(fetch)
    if found is None:
        raise XapiError(
            404, f"no statement {statement_id} is stored" + (" voided" if read.voided else "")
        )
    headers = {**request.extra_headers, "Last-Modified": http_date(found.stored)}
    shown = _shown(lrs, found, read.format, definitions, preferred)
    return _answer(shown, files, headers, read.attachments)


def _consistent_through(lrs: Lrs) -> datetime:
    with lrs.database.reading() as session:
        return lrs_statements.consistent_through(session)


def _note_consistency(request: XapiRequest, session: Any) -> None:
    """Before reading: every statement stored before this moment is in what is read next."""
    through = lrs_statements.consistent_through(session)
    request.extra_headers[CONSISTENT_THROUGH] = formats.xapi_time(through)


def _attachments_of(session: Any, page: Sequence[StoredStatement]) -> list[Attachment]:
    """The attachments these statements carry, each once."""
    found = lrs_statements.attachments_by_statement(session, [s.seq for s in page])
    return list({a.sha2: a for files in found.values() for a in files}.values())


def _definitions(session: Any, page: Sequence[StoredStatement]) -> dict[str, dict[str, Any]]:
    """The canonical definition of every activity these statements mention."""
    wanted: set[str] = set()
    for stored in page:
        wanted.update(a["id"] for a in lrs_keys.activities(json.loads(stored.body)))
    return {
        activity_id: formats.merged_definition(lrs_statements.definitions(session, activity_id))
        for activity_id in wanted
    }


def _shown(
    lrs: Lrs,
    stored: StoredStatement,
    shape: str,
    definitions: Mapping[str, dict[str, Any]],
    preferred: list[str],
) -> str:
    """The statement in the format asked for, as JSON text."""
    authority = stored.authority or lrs.own_authority_json
    exact = formats.exact(stored.body, stored.stored, authority, stored.fills)
    if shape == "exact":
        return exact
    statement = json.loads(exact)
    if shape == "ids":
        shown = formats.ids_only(statement)
    else:
        shown = formats.canonical(statement, lambda i: definitions.get(i) or None, preferred)
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":"))


def _answer(
    text: str, files: Sequence[Attachment], headers: Mapping[str, str], as_multipart: bool
) -> web.Response:
    body = text.encode()
    if not as_multipart:
        return web.Response(
            body=body,
            content_type="application/json",
            charset="utf-8",
            headers={VERSION_HEADER: formats.VERSION, **headers},
        )
    content, content_type = multipart.build(
        body, [(f.sha2, f.content_type, f.content) for f in files]
    )
    return web.Response(
        body=content,
        headers={VERSION_HEADER: formats.VERSION, "Content-Type": content_type, **headers},
    )
