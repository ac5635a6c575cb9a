"""The inbuilt LRS's HTTP Basic keys: made, listed, revoked and checked.

Keys are random (160-bit key, 256-bit secret), so a fast hash (SHA-256) protects the stored
secret as well as a slow password hash would, and checking one costs microseconds per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.repositories import lrs_credentials
from storage.repositories.lrs_credentials import Credential

NAME_LENGTH = 100


class CredentialError(ValueError):
    """The operator's request cannot be done; the message says why."""


@dataclass(frozen=True)
class NewCredential:
    """A key just made: the only moment its secret is known."""

    name: str
    key: str
    secret: str
    read_only: bool


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add(database: Database, name: str, read_only: bool, now: datetime) -> NewCredential:
    name = name.strip()
    if not name or len(name) > NAME_LENGTH or not name.isprintable():
        raise CredentialError(
            f"a key's name is 1 to {NAME_LENGTH} printable characters, e.g. dashboard"
        )
    made = NewCredential(name, secrets.token_hex(10), secrets.token_urlsafe(32), read_only)
    with database.transaction() as session:
        added = lrs_credentials.add(
            session, Credential(made.key, name, hash_secret(made.secret), read_only, now)
        )
    if not added:
        raise CredentialError(f"a key named {name!r} exists already: revoke it or pick a name")
    return made


def every(database: Database) -> list[Credential]:
    with database.reading() as session:
        return lrs_credentials.every(session)


def revoke(database: Database, name_or_key: str) -> Credential:
    with database.transaction() as session:
        revoked = lrs_credentials.revoke(session, name_or_key)
    if revoked is None:
        raise CredentialError(
            f"no key is named {name_or_key!r} (see `guildbot lrs credentials list`)"
        )
    return revoked


def check(database: Database, key: str, secret: str) -> Credential | None:
    """The credential when the pair is right, else None."""
    with database.reading() as session:
        found = lrs_credentials.by_key(session, key)
    if found is None or not hmac.compare_digest(found.secret_hash, hash_secret(secret)):
        return None
    return found


def authority(credential: Credential, home_page: str) -> dict[str, Any]:
    """The agent a credential's statements are stored under (`authority`)."""
    return {
        "objectType": "Agent",
        "name": credential.name,
        "account": {"homePage": home_page, "name": credential.key},
    }
