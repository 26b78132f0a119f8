"""Which dumps to keep and when the next one is due: pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
_NAME = re.compile(r"^sodan-(\d{8}T\d{6}Z)\.dump\.enc$")
MAX_AGE = timedelta(hours=24)


def dump_name(at: datetime) -> str:
    return f"sodan-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.dump.enc"


def dump_time(name: str) -> datetime | None:
    m = _NAME.match(name)
    return datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if m else None


def dumps_newest_first(files: Iterable[str]) -> list[str]:
    """Our dump files (others ignored), newest first."""
    ours = [(t, f) for f in files if (t := dump_time(f)) is not None]
    return [f for _, f in sorted(ours, reverse=True)]


def generations_to_delete(files: Iterable[str], keep: int) -> list[str]:
    """Dumps beyond the newest ``keep`` generations, oldest first; other files untouched."""
    if keep < 1:
        raise ValueError("keep at least one generation")
    return list(reversed(dumps_newest_first(files)[keep:]))


def dump_due(newest: datetime | None, now: datetime) -> bool:
    """At startup: dump now if there is none or the newest is older than a day."""
    return newest is None or now - newest >= MAX_AGE


def next_daily_run(now: datetime, at: time) -> datetime:
    """The next time of day ``at`` (Japan time) strictly after ``now``."""
    local = now.astimezone(TOKYO)
    candidate = datetime.combine(local.date(), at, tzinfo=TOKYO)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=TOKYO)
    return candidate.astimezone(UTC)
