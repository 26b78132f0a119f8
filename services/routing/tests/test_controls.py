"""Routing over real NATS and PostgreSQL: manual pick-up, reassignment, take-over."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from sodan_shared.events.console import (
    PickCase,
    PickCaseV1,
    ReassignCase,
    ReassignCaseV1,
    SetAssignmentMode,
    SetAssignmentModeV1,
)
from sodan_shared.events.routing import (
    AssignmentModeChanged,
    AssignmentRefused,
    CaseAssigned,
    CaseOpened,
)
from sodan_shared.testing.factories import make_message_received

from .conftest import Rig, make_presence


async def until_known(rig: Rig, staff_id: UUID) -> None:
    """Presence and commands have separate consumers: wait until routing knows them."""
    async with asyncio.timeout(15):
        while True:
            if await rig.rows("SELECT 1 FROM routing.counsellors WHERE staff_id = :s", s=staff_id):
                return
            await asyncio.sleep(0.05)


def set_mode(mode: str, supervisor: UUID) -> SetAssignmentMode:
    return SetAssignmentMode.new(
        channel="demo",
        payload=SetAssignmentModeV1(mode=mode, staff_id=supervisor),  # type: ignore[arg-type]
    )


def pick(case_id: UUID, staff_id: UUID) -> PickCase:
    return PickCase.new(channel="demo", payload=PickCaseV1(case_id=case_id, staff_id=staff_id))


def reassign(case_id: UUID, by: UUID, to: UUID) -> ReassignCase:
    return ReassignCase.new(
        channel="demo", payload=ReassignCaseV1(case_id=case_id, staff_id=by, to_staff_id=to)
    )


async def test_in_manual_mode_nothing_is_assigned_until_a_counsellor_picks(rig: Rig) -> None:
    supervisor, counsellor = uuid4(), uuid4()
    async with rig.app():
        await rig.publish(set_mode("manual", supervisor))
        await rig.cases.wait_for(lambda log: len(log.of(AssignmentModeChanged)) == 1)
        await rig.publish(make_presence(counsellor), make_message_received())
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
        await until_known(rig, counsellor)
        await asyncio.sleep(1.0)  # a sweep or two (0.5 s apart): still nobody assigned
        assert rig.cases.of(CaseAssigned) == []
        (opened,) = rig.cases.of(CaseOpened)
        command = pick(opened.payload.case_id, counsellor)
        await rig.publish(command)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        # picking it again: refused, it is theirs already
        again = pick(opened.payload.case_id, counsellor)
        await rig.publish(again)
        await rig.cases.wait_for(lambda log: len(log.of(AssignmentRefused)) == 1)
    (changed,) = rig.cases.of(AssignmentModeChanged)
    assert (changed.payload.mode, changed.payload.previous_mode) == ("manual", "auto")
    (assigned,) = rig.cases.of(CaseAssigned)
    assert assigned.payload.how == "self"
    assert assigned.payload.counsellor_id == counsellor
    assert assigned.causation_id == command.id
    (refused,) = rig.cases.of(AssignmentRefused)
    assert refused.payload.reason == "already_assigned"
    assert refused.causation_id == again.id
    (mode,) = await rig.rows("SELECT assignment_mode FROM routing.desk_settings")
    assert mode.assignment_mode == "manual"


async def test_picking_in_automatic_mode_is_refused(rig: Rig) -> None:
    counsellor = uuid4()
    async with rig.app():
        await rig.publish(make_message_received())
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
        (opened,) = rig.cases.of(CaseOpened)
        await rig.publish(make_presence(counsellor, "break"))
        await until_known(rig, counsellor)
        await rig.publish(pick(opened.payload.case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(AssignmentRefused)) == 1)
    (refused,) = rig.cases.of(AssignmentRefused)
    assert refused.payload.reason == "auto_mode"
    assert "自動割当" in refused.payload.message


async def test_back_to_automatic_mode_the_queue_is_served_at_once(rig: Rig) -> None:
    supervisor, counsellor = uuid4(), uuid4()
    async with rig.app():
        await rig.publish(set_mode("manual", supervisor), make_presence(counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(AssignmentModeChanged)) == 1)
        await rig.publish(make_message_received())
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
        await rig.publish(set_mode("auto", supervisor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
    assert rig.cases.of(CaseAssigned)[0].payload.how == "auto"


async def test_a_supervisor_reassigns_a_case_and_the_freed_slot_is_refilled(rig: Rig) -> None:
    supervisor, first, second = uuid4(), uuid4(), uuid4()
    async with rig.app():
        await rig.publish(make_presence(first, capacity=1), make_message_received())
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        await rig.publish(make_message_received())  # waits: first is full
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 2)
        await rig.publish(make_presence(second, capacity=1))
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 2)
        case_id = rig.cases.of(CaseAssigned)[0].payload.case_id
        # second is full now: refused with the reason
        await rig.publish(reassign(case_id, supervisor, second))
        await rig.cases.wait_for(lambda log: len(log.of(AssignmentRefused)) == 1)
        # the supervisor takes it over (over no capacity of their own: take-over may)
        await rig.publish(make_presence(supervisor, role="supervisor", capacity=0))
        await until_known(rig, supervisor)
        command = reassign(case_id, supervisor, supervisor)
        await rig.publish(command)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 3)
    refused = rig.cases.of(AssignmentRefused)[0]
    assert refused.payload.reason == "over_capacity"
    taken = rig.cases.of(CaseAssigned)[2]
    assert taken.causation_id == command.id
    assert taken.payload.how == "supervisor"
    assert taken.payload.counsellor_id == supervisor
    assert taken.payload.previous_counsellor_id == first
    (row,) = await rig.rows("SELECT assigned_to FROM routing.cases WHERE case_id = :c", c=case_id)
    assert row.assigned_to == supervisor


async def test_reassigning_to_an_offline_counsellor_is_refused(rig: Rig) -> None:
    supervisor, counsellor, gone = uuid4(), uuid4(), uuid4()
    async with rig.app():
        await rig.publish(make_presence(gone, "offline"), make_presence(counsellor))
        await rig.publish(make_message_received())
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        await until_known(rig, gone)
        case_id = rig.cases.of(CaseAssigned)[0].payload.case_id
        await rig.publish(reassign(case_id, supervisor, gone))
        await rig.cases.wait_for(lambda log: len(log.of(AssignmentRefused)) == 1)
    assert rig.cases.of(AssignmentRefused)[0].payload.reason == "not_available"
