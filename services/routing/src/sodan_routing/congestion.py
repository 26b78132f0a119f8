"""Congestion (混雑) as pure functions: live measures, wait estimates, the level.

The estimate is deliberately simple and pessimistic: a queued case at position
p (0 = next) is served at once if a slot is free; otherwise it waits for
(p - free + 1) slots to turn over, and the counsellors on duty turn their slots
over at capacity / average handling time. Rounding is upwards, so a client is
told a little more than we expect, never less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sodan_routing.assignment import Counsellor, QueuedCase, queue_order

Level = Literal["normal", "busy", "suspended"]
LEVEL_RANK: dict[Level, int] = {"normal": 0, "busy": 1, "suspended": 2}
LEVEL_JA: dict[Level, str] = {"normal": "通常", "busy": "混雑", "suspended": "受付停止"}


@dataclass(frozen=True)
class Thresholds:
    """A level is reached when either the wait or the queue length reaches it."""

    busy_wait_min: float = 30
    suspend_wait_min: float = 90
    busy_queue: int = 5
    suspend_queue: int = 15

    def __post_init__(self) -> None:
        if not (0 < self.busy_wait_min <= self.suspend_wait_min):
            raise ValueError("need 0 < busy_wait_min <= suspend_wait_min")
        if not (0 < self.busy_queue <= self.suspend_queue):
            raise ValueError("need 0 < busy_queue <= suspend_queue")


@dataclass(frozen=True)
class Finished:
    """A case closed within the window: how long it was handled."""

    assigned_at: datetime
    closed_at: datetime


@dataclass(frozen=True)
class Answered:
    """A case first answered by a counsellor within the window."""

    queued_at: datetime
    first_response_at: datetime


@dataclass(frozen=True)
class Measures:
    queue_length: int
    active_counsellors: int
    capacity: int  # slots of the counsellors on duty
    free_capacity: int
    avg_handling_s: float | None  # None: nothing closed within the window
    avg_first_response_s: float | None
    longest_wait_s: float
    next_wait_s: float | None  # estimate for a case queued now; None: nobody on duty


def _on_duty(counsellors: Iterable[Counsellor]) -> list[Counsellor]:
    return [c for c in counsellors if c.presence == "available" and c.capacity > 0]


def average_handling_s(finished: Iterable[Finished]) -> float | None:
    spans = [(f.closed_at - f.assigned_at).total_seconds() for f in finished]
    spans = [s for s in spans if s >= 0]
    return sum(spans) / len(spans) if spans else None


def average_first_response_s(answered: Iterable[Answered]) -> float | None:
    spans = [(a.first_response_at - a.queued_at).total_seconds() for a in answered]
    spans = [s for s in spans if s >= 0]
    return sum(spans) / len(spans) if spans else None


def estimated_wait_s(
    position: int, counsellors: Sequence[Counsellor], *, handling_s: float
) -> float | None:
    """Seconds until the case at `position` (0 = next) gets a counsellor; None when
    nobody is on duty (the wait is not knowable, only 'a while')."""
    on_duty = _on_duty(counsellors)
    capacity = sum(c.capacity for c in on_duty)
    if capacity == 0:
        return None
    free = sum(max(c.capacity - c.load, 0) for c in on_duty if c.can_take_a_case)
    if position < free:
        return 0.0
    return (position - free + 1) * handling_s / capacity


def waits(
    queued: Iterable[QueuedCase], counsellors: Sequence[Counsellor], *, handling_s: float
) -> dict[object, float | None]:
    """Estimated wait per queued case (by case id), in queue order."""
    return {
        case.case_id: estimated_wait_s(i, counsellors, handling_s=handling_s)
        for i, case in enumerate(queue_order(queued))
    }


def measure(
    *,
    queued: Sequence[QueuedCase],
    counsellors: Sequence[Counsellor],
    finished: Iterable[Finished],
    answered: Iterable[Answered],
    now: datetime,
    default_handling_s: float,
) -> Measures:
    on_duty = _on_duty(counsellors)
    handling = average_handling_s(finished)
    longest = max(((now - c.queued_at).total_seconds() for c in queued), default=0.0)
    return Measures(
        queue_length=len(queued),
        active_counsellors=len(on_duty),
        capacity=sum(c.capacity for c in on_duty),
        free_capacity=sum(max(c.capacity - c.load, 0) for c in on_duty if c.can_take_a_case),
        avg_handling_s=handling,
        avg_first_response_s=average_first_response_s(answered),
        longest_wait_s=max(longest, 0.0),
        next_wait_s=estimated_wait_s(
            len(queued), counsellors, handling_s=handling or default_handling_s
        ),
    )


def level_of(m: Measures, t: Thresholds) -> Level:
    wait_min = None if m.next_wait_s is None else m.next_wait_s / 60
    if m.queue_length >= t.suspend_queue or (
        wait_min is not None and wait_min >= t.suspend_wait_min
    ):
        return "suspended"
    if (
        m.queue_length >= t.busy_queue
        or (wait_min is not None and wait_min >= t.busy_wait_min)
        # open with people waiting and nobody on duty: at least busy
        or (m.next_wait_s is None and m.queue_length > 0)
    ):
        return "busy"
    return "normal"


def wait_phrase(seconds: float | None) -> str:
    """A kind, rounded-up Japanese phrase: 「おおよそ20分ほど」; 「しばらく」 when unknown."""
    if seconds is None:
        return "しばらく"
    minutes = seconds / 60
    if minutes <= 5:
        return "おおよそ5分ほど"
    if minutes <= 30:
        return f"おおよそ{math.ceil(minutes / 5) * 5}分ほど"
    if minutes <= 60:
        rounded = math.ceil(minutes / 10) * 10
        return "おおよそ1時間ほど" if rounded == 60 else f"おおよそ{rounded}分ほど"
    if minutes <= 120:
        return "1時間以上"
    return "2時間以上"


def window_start(now: datetime, window_min: float) -> datetime:
    return now - timedelta(minutes=window_min)
