"""TOTP second factor (RFC 6238: SHA-1, 30 s, 6 digits) and the login lockout rules.

Pure functions except for sealing: the TOTP secret is stored encrypted with a key
derived (HKDF) from the operator's master key, bound to the staff member's id.
"""

from __future__ import annotations

import hmac
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sodan_shared.crypto import MasterKeys

STEP_SECONDS = 30
DIGITS = 6
# Accept the previous and next step too: phone clocks drift a little.
DRIFT_STEPS = 1
_NONCE = 12
_INFO = b"sodan-console-totp-secret"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, login: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=issuer)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to, or None; a step at or before ``last_step``
    (already used) never matches, so each code works once."""
    # NFKC: a Japanese IME may type the code in full-width digits (１２３４５６)
    code = unicodedata.normalize("NFKC", code).strip().replace(" ", "")
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = time_step(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


@dataclass(frozen=True)
class SealedSecret:
    sealed: bytes
    key_id: str


class SecretBox:
    """Seals TOTP secrets with a per-purpose key derived from the master keys."""

    def __init__(self, master: MasterKeys) -> None:
        self._master = master

    def seal(self, secret: str, *, staff_id: UUID) -> SealedSecret:
        key = self._master.derive(self._master.active_id, info=_INFO)
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(key).encrypt(nonce, secret.encode(), staff_id.bytes)
        return SealedSecret(nonce + sealed, self._master.active_id)

    def open(self, sealed: SealedSecret, *, staff_id: UUID) -> str:
        key = self._master.derive(sealed.key_id, info=_INFO)
        raw = sealed.sealed
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], staff_id.bytes).decode()


# --- lockout -------------------------------------------------------------------


@dataclass(frozen=True)
class Attempts:
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


@dataclass(frozen=True)
class LockoutRules:
    max_failures: int
    window: timedelta
    lockout: timedelta


def is_locked(attempts: Attempts | None, *, now: datetime) -> bool:
    return (
        attempts is not None and attempts.locked_until is not None and now < attempts.locked_until
    )


def after_failure(attempts: Attempts | None, *, now: datetime, rules: LockoutRules) -> Attempts:
    """Count one more failure; a fresh window when the last one has passed."""
    if attempts is None or now - attempts.window_started_at >= rules.window:
        failures, started = 1, now
    else:
        failures, started = attempts.failures + 1, attempts.window_started_at
    locked_until = now + rules.lockout if failures >= rules.max_failures else None
    if locked_until is not None:
        # The lock starts a new count: after it ends, N more failures lock again.
        return Attempts(failures=0, window_started_at=now, locked_until=locked_until)
    return Attempts(failures=failures, window_started_at=started, locked_until=None)
