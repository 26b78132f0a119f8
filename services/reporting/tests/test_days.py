from datetime import UTC, date, datetime

import pytest
from sodan_reporting.days import (
    BadPeriodError,
    parse_month,
    parse_range,
    percentile,
    start_of_day,
    tokyo_day,
)


def test_a_utc_evening_belongs_to_the_next_japanese_day() -> None:
    assert tokyo_day(datetime(2026, 5, 31, 15, 30, tzinfo=UTC)) == date(2026, 6, 1)
    assert tokyo_day(datetime(2026, 5, 31, 14, 59, 59, tzinfo=UTC)) == date(2026, 5, 31)


def test_a_japanese_day_starts_at_15_utc_the_day_before() -> None:
    assert start_of_day(date(2026, 6, 1)) == datetime(2026, 5, 31, 15, 0, tzinfo=UTC)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        tokyo_day(datetime(2026, 6, 1, 0, 0))


def test_month_covers_its_calendar_days() -> None:
    assert parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))


@pytest.mark.parametrize("value", ["2026-13", "2026-6", "26-06", "2026-06-01", "", "June"])
def test_bad_months_are_refused_with_a_clear_message(value: str) -> None:
    with pytest.raises(BadPeriodError, match="month must look like 2026-06"):
        parse_month(value)


def test_range_must_be_real_dates_in_order_and_bounded() -> None:
    assert parse_range("2026-06-01", "2026-06-30") == (date(2026, 6, 1), date(2026, 6, 30))
    with pytest.raises(BadPeriodError, match="from must be a date"):
        parse_range("06/01/2026", "2026-06-30")
    with pytest.raises(BadPeriodError, match="not a valid calendar date"):
        parse_range("2026-02-30", "2026-03-01")
    with pytest.raises(BadPeriodError, match="before"):
        parse_range("2026-06-02", "2026-06-01")
    with pytest.raises(BadPeriodError, match="at most"):
        parse_range("2024-01-01", "2026-01-01")


def test_percentile_interpolates_and_is_none_without_data() -> None:
    assert percentile([], 50) is None
    assert percentile([600.0, 120.0], 50) == 360.0
    assert percentile([120.0, 600.0], 90) == pytest.approx(552.0)
    assert percentile([5.0], 90) == 5.0
