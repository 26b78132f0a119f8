"""Consultation hours as pure functions: weekly rules, holidays, dated sessions,
closed days, the end of a session, sessions past midnight, Japanese formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sodan_routing.hours import (
    JST,
    Calendar,
    DatedSession,
    Session,
    WeeklyRule,
    closing_soon,
    current_session,
    format_session,
    is_japanese_holiday,
    is_open,
    last_closing,
    next_opening,
)

TUE, SAT, MON = 1, 5, 0
# every Tuesday 18:00-21:00, the desk's usual evening
TUESDAY_EVENINGS = Calendar(weekly=(WeeklyRule(TUE, time(18), time(21)),))


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def test_open_inside_a_weekly_session_and_closed_outside() -> None:
    # 2026-12-01 is a Tuesday
    assert is_open(jst(2026, 12, 1, 18, 0), TUESDAY_EVENINGS)
    assert is_open(jst(2026, 12, 1, 20, 59), TUESDAY_EVENINGS)
    assert not is_open(jst(2026, 12, 1, 17, 59), TUESDAY_EVENINGS)
    assert not is_open(jst(2026, 12, 2, 19, 0), TUESDAY_EVENINGS)  # Wednesday


def test_the_end_of_a_session_is_closed() -> None:
    assert not is_open(jst(2026, 12, 1, 21, 0), TUESDAY_EVENINGS)
    assert is_open(jst(2026, 12, 1, 20, 59, 59), TUESDAY_EVENINGS)


def test_time_is_japan_time_whatever_zone_now_is_in() -> None:
    # 09:30 UTC is 18:30 in Japan
    assert is_open(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), TUESDAY_EVENINGS)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(datetime(2026, 12, 1, 18, 30), TUESDAY_EVENINGS)


def test_next_opening_is_the_next_session_start() -> None:
    nxt = next_opening(jst(2026, 11, 26, 12, 0), TUESDAY_EVENINGS)  # a Thursday
    assert nxt == Session(starts=jst(2026, 12, 1, 18), ends=jst(2026, 12, 1, 21))
    # while open, the next opening is the one after this session
    during = next_opening(jst(2026, 12, 1, 19, 0), TUESDAY_EVENINGS)
    assert during is not None and during.starts == jst(2026, 12, 8, 18)


def test_holidays_are_known_and_rules_can_skip_them_or_only_run_on_them() -> None:
    assert is_japanese_holiday(date(2026, 11, 23))  # 勤労感謝の日 (a Monday)
    assert is_japanese_holiday(date(2026, 9, 22))  # 国民の休日 between two holidays
    assert not is_japanese_holiday(date(2026, 11, 24))
    skip = Calendar(weekly=(WeeklyRule(MON, time(18), time(21), holidays="skip"),))
    only = Calendar(weekly=(WeeklyRule(MON, time(13), time(17), holidays="only"),))
    assert not is_open(jst(2026, 11, 23, 19), skip)
    assert is_open(jst(2026, 11, 30, 19), skip)
    assert is_open(jst(2026, 11, 23, 14), only)
    assert not is_open(jst(2026, 11, 30, 14), only)
    nxt = next_opening(jst(2026, 11, 22, 12), skip)
    assert nxt is not None and nxt.starts == jst(2026, 11, 30, 18)


def test_a_session_past_midnight_is_open_after_midnight_and_ends_next_day() -> None:
    late = Calendar(weekly=(WeeklyRule(SAT, time(22), time(2)),))  # Saturday night
    assert is_open(jst(2026, 11, 28, 23, 30), late)
    assert is_open(jst(2026, 11, 29, 1, 59), late)  # Sunday, from Saturday's rule
    assert not is_open(jst(2026, 11, 29, 2, 0), late)
    current = current_session(jst(2026, 11, 29, 0, 30), late)
    assert current == Session(starts=jst(2026, 11, 28, 22), ends=jst(2026, 11, 29, 2))
    assert format_session(current) == "11月28日（土）22:00〜翌02:00"


def test_dated_sessions_and_closed_days() -> None:
    calendar = Calendar(
        weekly=(WeeklyRule(TUE, time(18), time(21)),),
        dated=(DatedSession(date(2026, 12, 5), time(13), time(16)),),  # a special Saturday
        closed_days=frozenset({date(2026, 12, 29)}),  # year-end: the Tuesday is cancelled
    )
    assert is_open(jst(2026, 12, 5, 14), calendar)
    assert not is_open(jst(2026, 12, 29, 19), calendar)
    nxt = next_opening(jst(2026, 12, 23, 0), calendar)
    assert nxt is not None and nxt.starts == jst(2027, 1, 5, 18)


def test_touching_sessions_are_one_opening() -> None:
    calendar = Calendar(
        weekly=(WeeklyRule(TUE, time(18), time(21)),),
        dated=(DatedSession(date(2026, 12, 1), time(21), time(23)),),
    )
    current = current_session(jst(2026, 12, 1, 20, 50), calendar)
    assert current is not None and current.ends == jst(2026, 12, 1, 23)
    assert not closing_soon(jst(2026, 12, 1, 20, 50), calendar, 15)


def test_closing_soon_within_the_last_minutes_only() -> None:
    assert closing_soon(jst(2026, 12, 1, 20, 50), TUESDAY_EVENINGS, 15)
    assert not closing_soon(jst(2026, 12, 1, 20, 40), TUESDAY_EVENINGS, 15)
    assert not closing_soon(jst(2026, 12, 1, 21, 0), TUESDAY_EVENINGS, 15)  # closed
    assert not closing_soon(jst(2026, 12, 1, 20, 50), Calendar(always_open=True), 15)


def test_last_closing_is_the_end_of_the_session_just_over() -> None:
    assert last_closing(jst(2026, 12, 1, 21, 5), TUESDAY_EVENINGS) == jst(2026, 12, 1, 21)
    assert last_closing(jst(2026, 12, 5, 12, 0), TUESDAY_EVENINGS) is None  # days ago


def test_always_open_and_an_empty_calendar() -> None:
    assert is_open(jst(2026, 12, 2, 3, 0), Calendar(always_open=True))
    assert not is_open(jst(2026, 12, 2, 3, 0), Calendar())
    assert next_opening(jst(2026, 12, 2, 3, 0), Calendar()) is None


def test_japanese_formatting_of_a_session() -> None:
    session = Session(starts=jst(2026, 12, 1, 18), ends=jst(2026, 12, 1, 21))
    assert format_session(session) == "12月1日（火）18:00〜21:00"
    assert format_session(None) == "未定（決まりしだいお知らせします）"
    to_midnight = Session(starts=jst(2026, 12, 1, 18), ends=jst(2026, 12, 2, 0))
    assert format_session(to_midnight) == "12月1日（火）18:00〜24:00"


def test_a_rule_must_make_sense() -> None:
    with pytest.raises(ValueError, match="weekday"):
        WeeklyRule(7, time(18), time(21))
    with pytest.raises(ValueError, match="same time"):
        DatedSession(date(2026, 12, 1), time(18), time(18))
