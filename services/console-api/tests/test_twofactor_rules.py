"""The TOTP code window, replay refusal, sealing and the lockout counter (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pyotp
import pytest
from sodan_console.settings import ConsoleSettings
from sodan_console.twofactor import (
    LockoutRules,
    SecretBox,
    after_failure,
    is_locked,
    matching_step,
    new_secret,
    provisioning_uri,
    time_step,
)
from sodan_shared.crypto import MasterKeys
from sodan_shared.settings import DEMO_MASTER_KEYS

NOW = datetime(2026, 11, 26, 9, 0, 10, tzinfo=UTC)


def _code(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def test_the_current_and_neighbouring_steps_match() -> None:
    secret = new_secret()
    step = time_step(NOW)
    assert matching_step(secret, _code(secret, NOW), now=NOW, last_step=None) == step
    earlier = NOW - timedelta(seconds=30)
    assert matching_step(secret, _code(secret, earlier), now=NOW, last_step=None) == step - 1
    later = NOW + timedelta(seconds=30)
    assert matching_step(secret, _code(secret, later), now=NOW, last_step=None) == step + 1


def test_codes_outside_the_window_or_malformed_do_not_match() -> None:
    secret = new_secret()
    old = _code(secret, NOW - timedelta(seconds=90))
    assert matching_step(secret, old, now=NOW, last_step=None) is None
    assert matching_step(secret, "12345", now=NOW, last_step=None) is None
    assert matching_step(secret, "abcdef", now=NOW, last_step=None) is None
    other = _code(new_secret(), NOW)
    assert matching_step(secret, other, now=NOW, last_step=None) in (None, time_step(NOW))


def test_a_used_step_is_refused_replay() -> None:
    secret = new_secret()
    code = _code(secret, NOW)
    step = matching_step(secret, code, now=NOW, last_step=None)
    assert step is not None
    assert matching_step(secret, code, now=NOW, last_step=step) is None
    # An older code is refused too once a later step was used.
    prev = _code(secret, NOW - timedelta(seconds=30))
    assert matching_step(secret, prev, now=NOW, last_step=step) is None


def test_spaces_in_the_code_are_ignored() -> None:
    secret = new_secret()
    code = _code(secret, NOW)
    assert matching_step(secret, f"{code[:3]} {code[3:]}", now=NOW, last_step=None) is not None


def test_full_width_digits_count_and_other_scripts_are_refused_not_an_error() -> None:
    secret = new_secret()
    code = _code(secret, NOW)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert matching_step(secret, full_width, now=NOW, last_step=None) is not None
    arabic_indic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert matching_step(secret, arabic_indic, now=NOW, last_step=None) is None


def test_provisioning_uri() -> None:
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", login="sv1", issuer="sodan")
    assert uri.startswith("otpauth://totp/sodan:sv1?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri


def test_the_secret_is_sealed_and_bound_to_the_staff_member() -> None:
    box = SecretBox(MasterKeys(DEMO_MASTER_KEYS))
    staff_id = uuid4()
    secret = new_secret()
    sealed = box.seal(secret, staff_id=staff_id)
    assert secret.encode() not in sealed.sealed
    assert box.open(sealed, staff_id=staff_id) == secret
    with pytest.raises(Exception):  # noqa: B017 - InvalidTag
        box.open(sealed, staff_id=uuid4())


RULES = LockoutRules(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=10))


def test_n_failures_within_the_window_lock() -> None:
    attempts = None
    for i in range(2):
        attempts = after_failure(attempts, now=NOW + timedelta(minutes=i), rules=RULES)
        assert not is_locked(attempts, now=NOW + timedelta(minutes=i))
    attempts = after_failure(attempts, now=NOW + timedelta(minutes=2), rules=RULES)
    assert is_locked(attempts, now=NOW + timedelta(minutes=2))
    assert is_locked(attempts, now=NOW + timedelta(minutes=11))
    assert not is_locked(attempts, now=NOW + timedelta(minutes=12, seconds=1))


def test_failures_outside_the_window_start_a_new_count() -> None:
    attempts = after_failure(None, now=NOW, rules=RULES)
    attempts = after_failure(attempts, now=NOW + timedelta(minutes=1), rules=RULES)
    attempts = after_failure(attempts, now=NOW + timedelta(minutes=20), rules=RULES)
    assert attempts.failures == 1
    assert not is_locked(attempts, now=NOW + timedelta(minutes=20))


def test_totp_requirement_defaults_by_environment() -> None:
    dev = ConsoleSettings(environment="development", _env_file=None)
    assert dev.totp_required_roles == frozenset()
    prod = ConsoleSettings(
        environment="production",
        master_keys="k:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
        _env_file=None,
    )
    assert prod.totp_required_roles == {"supervisor", "admin"}
    chosen = ConsoleSettings(console_totp_required_for=["counsellor"], _env_file=None)
    assert chosen.totp_required_roles == {"counsellor"}
