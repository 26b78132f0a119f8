"""Pure decisions: signatures, kinds, event ids, what LINE's answers mean."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from sodan_ingress.delivery import decide, error_text, verdict_for_status
from sodan_ingress.webhook import event_id_for, is_refused, message_kind, signature_is_valid


def _sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_signature_of_the_exact_raw_body_is_valid() -> None:
    body = b'{"destination":"U1","events":[]}'
    assert signature_is_valid(body, "secret", _sign(body, "secret"))


def test_signature_of_other_bytes_or_secret_is_invalid() -> None:
    body = b'{"events":[]}'
    assert not signature_is_valid(body + b" ", "secret", _sign(body, "secret"))
    assert not signature_is_valid(body, "other", _sign(body, "secret"))
    assert not signature_is_valid(body, "secret", "not base64 at all ✓")


def test_a_redelivery_maps_to_the_same_event_id_per_channel() -> None:
    assert event_id_for("demo", "01HX") == event_id_for("demo", "01HX")
    assert event_id_for("demo", "01HX") != event_id_for("other", "01HX")


@pytest.mark.parametrize("kind", ["image", "video", "audio", "file", "location"])
def test_media_and_location_are_refused(kind: str) -> None:
    assert message_kind(kind) == kind
    assert is_refused(message_kind(kind))


def test_text_and_stickers_are_accepted_and_unknown_types_refused() -> None:
    assert not is_refused(message_kind("text"))
    assert not is_refused(message_kind("sticker"))
    assert message_kind("hologram") == "unknown"
    assert is_refused("unknown")


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "sent"),
        (409, "sent"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (0, "retry"),
        (400, "failed"),
        (401, "failed"),
        (403, "failed"),
    ],
)
def test_what_lines_answer_means(status: int, verdict: str) -> None:
    assert verdict_for_status(status) == verdict


def test_retries_wait_then_give_up_after_the_last_attempt() -> None:
    delays = [1.0, 5.0]
    assert decide("retry", attempt=1, delays_s=delays).retry_in_s == 1.0
    assert decide("retry", attempt=2, delays_s=delays).retry_in_s == 5.0
    assert decide("retry", attempt=3, delays_s=delays).status == "failed"
    assert decide("failed", attempt=1, delays_s=delays).status == "failed"
    assert decide("sent", attempt=3, delays_s=delays).status == "sent"


def test_error_text_is_status_and_lines_message_only() -> None:
    assert error_text(400, b'{"message":"Invalid reply token","details":[]}') == (
        "400 Invalid reply token"
    )
    assert error_text(500, b"<html>oops</html>") == "500"
    assert error_text(0, None) == "no answer"
