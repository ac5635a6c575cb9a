"""Signed statements (xAPI 1.0.3, Data 2.6), as pure checks.

A signed statement carries a JWS (compact serialisation) as an attachment of usage type
`…/attachments/signature`. The LRS refuses a malformed one: not a JWS, an algorithm other than
RS256, RS384 or RS512, or a payload that is not the statement itself. It does not check the
signature against a certificate: that is for whoever relies on it, who knows whom to trust.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
# Set by the LRS or added with the signature: not part of what was signed.
_NOT_SIGNED = ("attachments", "authority", "stored", "version", "id")


class BadSignature(ValueError):
    """The signature attachment is malformed; the message says how."""


def is_signature(attachment: Mapping[str, Any]) -> bool:
    return attachment.get("usageType") == SIGNATURE_USAGE


def check(statement: Mapping[str, Any], attachment: Mapping[str, Any], jws: bytes) -> None:
    """Raises BadSignature unless `jws` is a well-formed RS* signature of this statement."""
    if attachment.get("contentType") != SIGNATURE_CONTENT_TYPE:
        raise BadSignature(f"a signature attachment's contentType is {SIGNATURE_CONTENT_TYPE}")
    try:
        header_part, payload_part, signature_part = jws.decode("ascii").strip().split(".")
        header = json.loads(_unbase64(header_part))
        payload = json.loads(_unbase64(payload_part))
        _unbase64(signature_part)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadSignature("the signature is not a JSON Web Signature (compact form)") from None
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise BadSignature("the signature's algorithm must be RS256, RS384 or RS512")
    if not isinstance(payload, dict) or _signed_part(payload) != _signed_part(statement):
        raise BadSignature("the signature's payload is not this statement")


def _signed_part(statement: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in statement.items() if k not in _NOT_SIGNED}


def _unbase64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
