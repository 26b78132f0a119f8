from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sodan_routing.assignment import (
    Counsellor,
    QueuedCase,
    choose_counsellor,
    plan_assignments,
    presence_requeues_cases,
    queue_order,
    raised_urgency,
)

T0 = datetime(2025, 4, 1, 10, 0, tzinfo=UTC)


def case(urgency: str = "normal", waited_min: int = 0) -> QueuedCase:
    return QueuedCase(
        case_id=uuid4(), urgency=urgency, queued_at=T0 - timedelta(minutes=waited_min)
    )


def counsellor(
    *,
    load: int = 0,
    capacity: int = 3,
    presence: str = "available",
    role: str = "counsellor",
    last_assigned_at: datetime | None = None,
    staff_id: UUID | None = None,
) -> Counsellor:
    return Counsellor(
        staff_id=staff_id or uuid4(),
        role=role,
        presence=presence,
        capacity=capacity,
        load=load,
        last_assigned_at=last_assigned_at,
    )


def test_urgent_case_jumps_the_queue() -> None:
    old_normal = case("normal", waited_min=30)
    new_critical = case("critical", waited_min=1)
    medium = case("medium", waited_min=5)
    assert queue_order([old_normal, medium, new_critical]) == [new_critical, medium, old_normal]


def test_equal_urgency_is_first_come_first_served() -> None:
    first, second = case(waited_min=10), case(waited_min=2)
    assert queue_order([second, first]) == [first, second]


def test_lowest_load_counsellor_gets_the_case() -> None:
    busy = counsellor(load=2)
    quiet = counsellor(load=1)
    assert choose_counsellor([busy, quiet]) == quiet


def test_equal_load_goes_to_the_longest_idle() -> None:
    recent = counsellor(last_assigned_at=T0)
    idle = counsellor(last_assigned_at=T0 - timedelta(hours=1))
    never = counsellor(last_assigned_at=None)
    assert choose_counsellor([recent, idle]) == idle
    assert choose_counsellor([recent, idle, never]) == never


def test_full_counsellor_gets_nothing() -> None:
    full = counsellor(load=3, capacity=3)
    assert choose_counsellor([full]) is None
    assert plan_assignments([case()], [full], now=T0) == []


def test_unavailable_staff_and_admins_get_nothing() -> None:
    staff = [
        counsellor(presence="away"),
        counsellor(presence="break"),
        counsellor(presence="offline"),
        counsellor(role="admin"),
    ]
    assert choose_counsellor(staff) is None


def test_supervisor_can_take_cases() -> None:
    sv = counsellor(role="supervisor")
    assert choose_counsellor([sv]) == sv


def test_plan_spreads_cases_and_never_exceeds_capacity() -> None:
    a, b = counsellor(capacity=2), counsellor(capacity=1)
    queued = [case(waited_min=m) for m in range(5)]
    plan = plan_assignments(queued, [a, b], now=T0)
    assert len(plan) == 3
    per = {a.staff_id: 0, b.staff_id: 0}
    for item in plan:
        per[item.counsellor_id] += 1
    assert per == {a.staff_id: 2, b.staff_id: 1}
    # the longest-waiting cases are the ones served
    assert {p.case_id for p in plan} == {c.case_id for c in queue_order(queued)[:3]}


def test_plan_serves_the_critical_case_first_when_one_slot_is_free() -> None:
    normal, critical = case("normal", waited_min=20), case("critical")
    (only,) = plan_assignments([normal, critical], [counsellor(capacity=1)], now=T0)
    assert only.case_id == critical.case_id


def test_urgency_is_raised_never_lowered() -> None:
    assert raised_urgency("normal", "critical") == "critical"
    assert raised_urgency("high", "medium") is None
    assert raised_urgency("high", "high") is None


def test_only_going_offline_hands_cases_back() -> None:
    assert presence_requeues_cases("offline")
    assert not presence_requeues_cases("away")
    assert not presence_requeues_cases("break")
    assert not presence_requeues_cases("available")


def test_the_critical_cap_keeps_a_second_crisis_from_one_counsellor() -> None:
    holding_one = counsellor(load=1, capacity=3)
    holding_one = Counsellor(**{**holding_one.__dict__, "critical_load": 1})
    free = counsellor(load=2, capacity=3)
    assert choose_counsellor([holding_one, free], critical=True, critical_cap=1) == free
    assert choose_counsellor([holding_one], critical=True, critical_cap=1) is None
    assert choose_counsellor([holding_one], critical=True, critical_cap=0) == holding_one
    assert choose_counsellor([holding_one], critical=False, critical_cap=1) == holding_one


def test_a_capped_critical_case_waits_at_the_head_and_others_use_the_slot() -> None:
    only = Counsellor(**{**counsellor(load=1, capacity=2).__dict__, "critical_load": 1})
    crisis, normal = case("critical", waited_min=1), case("normal", waited_min=30)
    plan = plan_assignments([crisis, normal], [only], now=T0, critical_cap=1)
    assert [a.case_id for a in plan] == [normal.case_id]
    # two crises: the busier counsellor takes the second rather than one holding both
    a, b = counsellor(load=0), counsellor(load=2)
    crises = [case("critical", waited_min=2), case("critical", waited_min=1)]
    plan = plan_assignments(crises, [a, b], now=T0, critical_cap=1)
    assert [p.counsellor_id for p in plan] == [a.staff_id, b.staff_id]
    uncapped = plan_assignments(crises, [a, b], now=T0, critical_cap=0)
    assert [p.counsellor_id for p in uncapped] == [a.staff_id, a.staff_id]
