"""multipart/mixed bodies: statements with their attachments' bytes (pure functions).

A request's first part holds the statements (application/json); each later part one
attachment, named by its `X-Experience-API-Hash` and sent `Content-Transfer-Encoding: binary`.
Responses to `GET statements?attachments=true` have the same shape.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from multidict import CIMultiDict

_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
HASH_HEADER = "X-Experience-API-Hash"


class Malformed(ValueError):
    """The body is not the multipart/mixed the specification describes."""


@dataclass(frozen=True)
class Part:
    headers: CIMultiDict[str]
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise Malformed("multipart/mixed needs a boundary in its Content-Type header")
    return match.group(1) or match.group(2)


def parse(body: bytes, boundary: str) -> list[Part]:
    """The parts between the boundaries, in order (preamble and epilogue ignored)."""
    delimiter = b"--" + boundary.encode("latin-1")
    if not (body.startswith(delimiter) or b"\r\n" + delimiter in body or b"\n" + delimiter in body):
        raise Malformed("the body has no part delimited by the boundary")
    chunks = body.split(delimiter)
    parts: list[Part] = []
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        parts.append(_part(_strip_line_end(chunk)))
    if not closed:
        raise Malformed("the body does not end with the closing boundary")
    if not parts:
        raise Malformed("the body has no parts")
    return parts


def _strip_line_end(chunk: bytes) -> bytes:
    # The line break before the next delimiter belongs to the delimiter.
    if chunk.endswith(b"\r\n"):
        return chunk[:-2]
    if chunk.endswith(b"\n"):
        return chunk[:-1]
    return chunk


def _part(chunk: bytes) -> Part:
    # After the delimiter: optional white space, the line end, headers, a blank line, content.
    for line_end in (b"\r\n", b"\n"):
        if chunk.lstrip(b" \t").startswith(line_end):
            chunk = chunk.lstrip(b" \t")[len(line_end) :]
            break
    else:
        raise Malformed("a part does not start on its own line")
    for blank in (b"\r\n\r\n", b"\n\n"):
        head, found, content = chunk.partition(blank)
        if found:
            break
    else:
        if chunk.startswith((b"\r\n", b"\n")):
            head, content = b"", chunk.lstrip(b"\r\n")
        else:
            raise Malformed("a part has no blank line after its headers")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in head.decode("latin-1").splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise Malformed(f"a part header is malformed: {line[:80]!r}")
        headers.add(name.strip(), value.strip())
    return Part(headers, content)


def build(first: bytes, attachments: Sequence[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON, then each (sha2, content type, bytes); and its
    Content-Type header value."""
    boundary = secrets.token_hex(16)
    delimiter = f"--{boundary}\r\n".encode()
    pieces = [delimiter, b"Content-Type: application/json\r\n\r\n", first, b"\r\n"]
    for sha2, content_type, content in attachments:
        pieces += [
            delimiter,
            f"Content-Type: {content_type}\r\n".encode("latin-1", "replace"),
            b"Content-Transfer-Encoding: binary\r\n",
            f"{HASH_HEADER}: {sha2}\r\n\r\n".encode(),
            content,
            b"\r\n",
        ]
    pieces.append(f"--{boundary}--\r\n".encode())
    return b"".join(pieces), f"multipart/mixed; boundary={boundary}"
