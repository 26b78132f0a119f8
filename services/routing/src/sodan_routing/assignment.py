"""Routing decisions as pure functions over plain data (no broker, no database).

Queue order: most urgent first, then longest waiting. Counsellor choice: an
available counsellor or supervisor with a free slot, least loaded first, then
the one idle longest (never assigned before counts as idlest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from sodan_shared.events.triage import URGENCY_RANK

ROLES_TAKING_CASES = frozenset({"counsellor", "supervisor"})


@dataclass(frozen=True)
class QueuedCase:
    case_id: UUID
    urgency: str
    queued_at: datetime


@dataclass(frozen=True)
class Counsellor:
    staff_id: UUID
    role: str
    presence: str
    capacity: int
    load: int
    last_assigned_at: datetime | None
    critical_load: int = 0  # of `load`, the cases at 緊急 (critical)

    @property
    def can_take_a_case(self) -> bool:
        return (
            self.presence == "available"
            and self.role in ROLES_TAKING_CASES
            and self.load < self.capacity
        )


@dataclass(frozen=True)
class Assignment:
    case_id: UUID
    counsellor_id: UUID


def queue_order(cases: Iterable[QueuedCase]) -> list[QueuedCase]:
    return sorted(cases, key=lambda c: (-URGENCY_RANK[c.urgency], c.queued_at, c.case_id))


def choose_counsellor(
    counsellors: Iterable[Counsellor], *, critical: bool = False, critical_cap: int = 0
) -> Counsellor | None:
    """`critical_cap` > 0: nobody holds more than that many 緊急 cases at once."""
    candidates = [
        c
        for c in counsellors
        if c.can_take_a_case and not (critical and 0 < critical_cap <= c.critical_load)
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda c: (
            c.load,
            c.last_assigned_at is not None,  # never assigned: idlest of all
            c.last_assigned_at or datetime.min,
            c.staff_id,
        ),
    )


def free_slots(counsellors: Iterable[Counsellor]) -> int:
    return sum(c.capacity - c.load for c in counsellors if c.can_take_a_case)


def plan_assignments(
    queued: Iterable[QueuedCase],
    counsellors: Sequence[Counsellor],
    *,
    now: datetime,
    critical_cap: int = 0,
) -> list[Assignment]:
    """Who takes which queued case now, in queue order, until cases or slots run out.
    A 緊急 case nobody may take under the cap stays at the head of the queue; the
    cases behind it still use the slots it cannot (holding them back would not
    serve it any sooner)."""
    staff = {c.staff_id: c for c in counsellors}
    plan: list[Assignment] = []
    for case in queue_order(queued):
        if free_slots(staff.values()) == 0:
            break
        critical = case.urgency == "critical"
        chosen = choose_counsellor(staff.values(), critical=critical, critical_cap=critical_cap)
        if chosen is None:
            continue
        staff[chosen.staff_id] = replace(
            chosen,
            load=chosen.load + 1,
            critical_load=chosen.critical_load + int(critical),
            last_assigned_at=now,
        )
        plan.append(Assignment(case_id=case.case_id, counsellor_id=chosen.staff_id))
    return plan


def raised_urgency(current: str, scored: str) -> str | None:
    """The new urgency if a score raises it; urgency is never lowered automatically."""
    return scored if URGENCY_RANK[scored] > URGENCY_RANK[current] else None


def presence_requeues_cases(presence: str) -> bool:
    """Only going offline hands a counsellor's chats back; away/break keeps them."""
    return presence == "offline"
