"""Supervisors' controls as pure decisions: manual pick-up, reassign, take-over;
and monthly calendar rules (the nth weekday of the month)."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID, uuid4

import pytest
from sodan_routing.assignment import Counsellor
from sodan_routing.hours import JST, WeeklyRule, build_calendar, nth_of_month, upcoming
from sodan_routing.supervision import (
    CaseFacts,
    assignment_paused,
    refuse_pick,
    refuse_reassign,
)
from sodan_shared.events.console import HoursRuleV1


def staff(
    *,
    load: int = 0,
    capacity: int = 2,
    presence: str = "available",
    role: str = "counsellor",
    critical_load: int = 0,
    staff_id: UUID | None = None,
) -> Counsellor:
    return Counsellor(
        staff_id=staff_id or uuid4(),
        role=role,
        presence=presence,
        capacity=capacity,
        load=load,
        last_assigned_at=None,
        critical_load=critical_load,
    )


def queued(urgency: str = "normal") -> CaseFacts:
    return CaseFacts(status="queued", announced=True, assigned_to=None, urgency=urgency)


def pick(case: CaseFacts | None, picker: Counsellor | None, **kw: object) -> str | None:
    args: dict[str, object] = {"mode": "manual", "desk_open": True, "critical_cap": 0, **kw}
    refusal = refuse_pick(case=case, picker=picker, **args)  # type: ignore[arg-type]
    return None if refusal is None else refusal.reason


def test_manual_mode_pauses_automatic_assignment() -> None:
    assert assignment_paused("manual")
    assert not assignment_paused("auto")


def test_an_available_counsellor_with_a_free_slot_may_pick_a_queued_case() -> None:
    assert pick(queued(), staff()) is None


def test_picking_is_refused_with_the_reason() -> None:
    me = staff()
    assert pick(queued(), me, mode="auto") == "auto_mode"
    assert pick(queued(), me, desk_open=False) == "desk_closed"
    assert pick(queued(), staff(load=2, capacity=2)) == "over_capacity"
    assert pick(queued(), staff(presence="break")) == "not_available"
    assert pick(queued(), None) == "unknown_staff"
    assert pick(queued(), staff(role="admin")) == "unknown_staff"
    assert pick(None, me) == "not_open"
    closed = CaseFacts(status="closed", announced=True, assigned_to=None, urgency="normal")
    assert pick(closed, me) == "not_open"
    taken = CaseFacts(status="assigned", announced=True, assigned_to=uuid4(), urgency="normal")
    assert pick(taken, me) == "already_assigned"


def test_the_critical_cap_also_limits_picking() -> None:
    busy = staff(load=1, capacity=3, critical_load=1)
    assert pick(queued("critical"), busy, critical_cap=1) == "critical_cap"
    assert pick(queued("normal"), busy, critical_cap=1) is None


def reassign(
    case: CaseFacts | None, target: Counsellor | None, *, take_over: bool = False
) -> str | None:
    refusal = refuse_reassign(case=case, target=target, take_over=take_over, critical_cap=1)
    return None if refusal is None else refusal.reason


def test_a_supervisor_reassigns_to_a_counsellor_within_capacity() -> None:
    assigned = CaseFacts(status="assigned", announced=True, assigned_to=uuid4(), urgency="high")
    assert reassign(assigned, staff(load=1, capacity=2)) is None
    assert reassign(queued(), staff(presence="away")) is None  # away: the supervisor's call


def test_reassigning_to_someone_offline_full_or_already_holding_it_is_refused() -> None:
    target = staff(load=2, capacity=2)
    assert reassign(queued(), target) == "over_capacity"
    assert reassign(queued(), staff(presence="offline")) == "not_available"
    assert reassign(queued(), None) == "unknown_staff"
    holder = staff()
    theirs = CaseFacts(
        status="assigned", announced=True, assigned_to=holder.staff_id, urgency="normal"
    )
    assert reassign(theirs, holder) == "already_assigned"
    assert reassign(queued("critical"), staff(critical_load=1, load=1, capacity=3)) == (
        "critical_cap"
    )


def test_a_supervisor_taking_over_may_exceed_their_own_capacity_but_not_be_offline() -> None:
    full = staff(role="supervisor", load=3, capacity=3, critical_load=2)
    assert reassign(queued("critical"), full, take_over=True) is None
    assert reassign(queued(), staff(role="supervisor", presence="offline"), take_over=True) == (
        "not_available"
    )


# --- monthly rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 1), (1, False)),
        (date(2026, 12, 8), (2, False)),
        (date(2026, 12, 29), (5, True)),
        (date(2026, 12, 27), (4, True)),  # the last Sunday of December 2026
        (date(2026, 12, 20), (3, False)),
    ],
)
def test_nth_of_month(day: date, expected: tuple[int, bool]) -> None:
    assert nth_of_month(day) == expected


def test_a_monthly_rule_runs_on_the_nth_weekday_only() -> None:
    # the 2nd Tuesday and the last Sunday of each month, 13:00-16:00
    calendar = build_calendar(
        [
            HoursRuleV1(kind="weekly", weekday=1, nth=2, starts=time(18), ends=time(21)),
            HoursRuleV1(kind="weekly", weekday=6, nth=-1, starts=time(13), ends=time(16)),
        ]
    )
    starts = [s.starts.date() for s in upcoming(datetime(2026, 12, 1, tzinfo=JST), calendar, 4)]
    assert starts == [date(2026, 12, 8), date(2026, 12, 27), date(2027, 1, 12), date(2027, 1, 31)]


def test_nth_is_refused_outside_weekly_rules_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="rule 1: nth is for weekly rules only"):
        build_calendar([HoursRuleV1(kind="closed", day=date(2026, 12, 8), nth=1)])
    with pytest.raises(ValueError, match="nth must be"):
        WeeklyRule(1, time(18), time(21), nth=0)
