"""Pushes are silent at night (Japan time) so a lock screen shows nothing."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sodan_ingress.quiet_hours import parse_quiet_hours, push_is_silent
from sodan_ingress.settings import IngressSettings

NIGHT = parse_quiet_hours("21:00-08:00")


def jst(hour: int, minute: int = 0) -> datetime:
    # Japan is UTC+9 all year
    return datetime(2026, 11, 26, (hour - 9) % 24, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "silent"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (3, 0, True), (7, 59, True), (8, 0, False)],
)
def test_a_window_across_midnight_silences_the_night(hour: int, minute: int, silent: bool) -> None:
    assert push_is_silent(requested=False, quiet=NIGHT, now=jst(hour, minute)) is silent


def test_a_sender_can_ask_for_silence_in_the_day_too() -> None:
    assert push_is_silent(requested=True, quiet=NIGHT, now=jst(12))
    assert push_is_silent(requested=True, quiet=None, now=jst(12))


def test_no_window_means_notifications_as_usual() -> None:
    assert parse_quiet_hours("") is None
    assert not push_is_silent(requested=False, quiet=None, now=jst(23))


def test_a_daytime_window_works_too() -> None:
    lunch = parse_quiet_hours("12:00-13:00")
    assert push_is_silent(requested=False, quiet=lunch, now=jst(12, 30))
    assert not push_is_silent(requested=False, quiet=lunch, now=jst(13, 0))


@pytest.mark.parametrize("spec", ["21:00", "25:00-08:00", "08:00-08:00", "night"])
def test_malformed_quiet_hours_are_refused_at_start_up(spec: str) -> None:
    with pytest.raises(ValidationError, match="quiet hours"):
        IngressSettings(ingress_quiet_hours=spec)
