"""Which browser refresh supervisors' events trigger (pure: no broker, no database)."""

from __future__ import annotations

from uuid import uuid4

from sodan_console.live import change_for
from sodan_shared.events.console import StaffPresenceChanged, StaffPresenceChangedV1
from sodan_shared.events.routing import (
    AssignmentModeChanged,
    AssignmentModeChangedV1,
    AssignmentRefused,
    AssignmentRefusedV1,
)


def test_a_mode_switch_refreshes_the_desk_bar() -> None:
    event = AssignmentModeChanged.new(
        channel="system",
        payload=AssignmentModeChangedV1(
            mode="manual", previous_mode="auto", staff_id=uuid4(), command_id=uuid4()
        ),
    )
    change = change_for(event)
    assert change is not None and change.kind == "desk"


def test_a_presence_or_capacity_change_refreshes_the_staff_panel() -> None:
    event = StaffPresenceChanged.new(
        channel="demo",
        payload=StaffPresenceChangedV1(
            staff_id=uuid4(), role="counsellor", presence="away", capacity=2
        ),
    )
    change = change_for(event)
    assert change is not None and change.kind == "staff"


def test_a_refusal_names_only_the_case() -> None:
    case_id = uuid4()
    event = AssignmentRefused.new(
        channel="demo",
        payload=AssignmentRefusedV1(
            case_id=case_id,
            staff_id=uuid4(),
            to_staff_id=uuid4(),
            reason="over_capacity",
            message="同時対応数の上限（2件）に達しています",
            command_id=uuid4(),
        ),
    )
    change = change_for(event)
    assert change is not None
    assert (change.kind, change.case_id, change.client_id) == ("case", case_id, None)
