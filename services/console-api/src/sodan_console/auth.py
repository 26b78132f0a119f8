"""Passwords (argon2id) and opaque session tokens; only their hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the login is unknown, so unknown and known users take
# about the same time and the response does not reveal which logins exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class SessionTimes:
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def session_is_live(times: SessionTimes, *, now: datetime, idle: timedelta) -> bool:
    """Alive until its absolute end, and only while used within the idle timeout."""
    return now < times.expires_at and now - times.last_seen_at < idle


def should_touch(last_seen_at: datetime, *, now: datetime) -> bool:
    """Write last_seen_at at most once a minute: one write per request is waste."""
    return now - last_seen_at >= timedelta(minutes=1)
