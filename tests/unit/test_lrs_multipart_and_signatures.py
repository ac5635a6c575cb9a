"""multipart/mixed bodies and signed statements (bot/lrs/multipart.py, signatures.py)."""

from __future__ import annotations

import base64
import json

import pytest

from bot.lrs import multipart, signatures

STATEMENT = {
    "id": "3f2b1c1e-7a0e-4c38-9a5c-2b8a6f0e9d11",
    "actor": {"mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
    "object": {"id": "https://example.com/a"},
}
SIGNATURE = {
    "usageType": signatures.SIGNATURE_USAGE,
    "display": {"en-US": "signature"},
    "contentType": "application/octet-stream",
    "length": 1,
    "sha2": "00",
}


def jws(header: dict[str, str], payload: object) -> bytes:
    def part(value: object) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part(header)}.{part(payload)}.{part(b'not-checked')}".encode()


def test_parts_come_back_with_their_headers_however_tersely_written() -> None:
    # As ADL's suite writes them: a blank preamble, no space after the colon.
    body = (
        b"\r\n--b0\r\nContent-Type:application/json\r\n\r\n{}"
        b"\r\n--b0\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\n"
        b"X-Experience-API-Hash:abc\r\n\r\nhello\r\nworld\r\n--b0--"
    )

    first, second = multipart.parse(body, multipart.boundary_of("multipart/mixed; boundary=b0"))

    assert (first.content_type, first.content) == ("application/json", b"{}")
    assert second.headers["x-experience-api-hash"] == "abc"
    assert second.content == b"hello\r\nworld"


def test_a_built_body_parses_back_to_the_same_parts() -> None:
    body, content_type = multipart.build(b'{"a":1}', [("ab12", "image/png", b"\x00\r\n\xff")])

    first, second = multipart.parse(body, multipart.boundary_of(content_type))

    assert first.content == b'{"a":1}'
    assert (second.content_type, second.content) == ("image/png", b"\x00\r\n\xff")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--b0\r\nContent-Type: application/json\r\n\r\n{}\r\n--b0--", "multipart/mixed"),
        (b"{}", "multipart/mixed; boundary=b0"),
        (b"--b0\r\nContent-Type: application/json\r\n\r\n{}", "multipart/mixed; boundary=b0"),
    ],
)
def test_bodies_without_their_boundary_are_malformed(body: bytes, content_type: str) -> None:
    with pytest.raises(multipart.Malformed):
        multipart.parse(body, multipart.boundary_of(content_type))


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_a_signature_of_the_statement_with_an_rsa_algorithm_is_accepted(algorithm: str) -> None:
    signed = {**STATEMENT, "attachments": [SIGNATURE]}

    signatures.check(signed, SIGNATURE, jws({"alg": algorithm}, STATEMENT))


@pytest.mark.parametrize(
    ("signature", "attachment", "problem"),
    [
        (jws({"alg": "HS256"}, STATEMENT), SIGNATURE, "algorithm"),
        (
            jws({"alg": "RS256"}, {**STATEMENT, "verb": {"id": "https://e.com/other"}}),
            SIGNATURE,
            "payload",
        ),
        (b"not.a-jws", SIGNATURE, "JSON Web Signature"),
        (
            jws({"alg": "RS256"}, STATEMENT),
            {**SIGNATURE, "contentType": "text/plain"},
            "contentType",
        ),
    ],
)
def test_malformed_signatures_are_refused(
    signature: bytes, attachment: dict[str, object], problem: str
) -> None:
    with pytest.raises(signatures.BadSignature, match=problem):
        signatures.check({**STATEMENT, "attachments": [attachment]}, attachment, signature)
