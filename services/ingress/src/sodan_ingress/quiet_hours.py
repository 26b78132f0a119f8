"""Silent pushes at night: a lock-screen notification can out a client on a shared phone.

Pure decisions: when a push goes out with ``notificationDisabled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in Japan time; it may cross midnight (21:00-08:00)."""

    start: time
    end: time

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(JAPAN).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(spec: str) -> QuietHours | None:
    """``"21:00-08:00"``; empty means never quiet. Raises ValueError when malformed."""
    if not spec.strip():
        return None
    try:
        start_text, end_text = (part.strip() for part in spec.split("-"))
        window = QuietHours(time.fromisoformat(start_text), time.fromisoformat(end_text))
    except ValueError as exc:
        raise ValueError(f"quiet hours must look like 21:00-08:00, got {spec!r}") from exc
    if window.start == window.end:
        raise ValueError("quiet hours must not start and end at the same time")
    return window


def push_is_silent(*, requested: bool, quiet: QuietHours | None, now: datetime) -> bool:
    """Silent when the sender asked for it, or at night for this channel."""
    return requested or (quiet is not None and quiet.contains(now))
