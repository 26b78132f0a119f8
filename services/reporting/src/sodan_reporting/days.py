"""Calendar rules of the reports: days and months are Japan time (Asia/Tokyo)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
MAX_RANGE_DAYS = 366

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadPeriodError(ValueError):
    """A report period the caller got wrong; the message is shown to them as is."""


def tokyo_day(ts: datetime) -> date:
    """The desk's calendar day of an aware timestamp."""
    if ts.tzinfo is None:
        raise ValueError("naive timestamp: events carry aware times")
    return ts.astimezone(TOKYO).date()


def start_of_day(day: date) -> datetime:
    """The instant a Japan-time day begins (aware)."""
    return datetime.combine(day, time(0), tzinfo=TOKYO)


def parse_day(value: str, *, name: str) -> date:
    if not _DAY.match(value):
        raise BadPeriodError(f"{name} must be a date like 2026-06-01, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadPeriodError(f"{name} is not a valid calendar date: {value!r}") from None


def parse_range(start: str, end: str) -> tuple[date, date]:
    first, last = parse_day(start, name="from"), parse_day(end, name="to")
    if last < first:
        raise BadPeriodError("to must not be before from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise BadPeriodError(f"a range covers at most {MAX_RANGE_DAYS} days")
    return first, last


def parse_month(value: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` month."""
    m = _MONTH.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise BadPeriodError(f"month must look like 2026-06, got {value!r}")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None when there is nothing to rank."""
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
