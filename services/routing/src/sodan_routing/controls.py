"""Units of work for supervisors' controls: the assignment mode, manual pick-up,
reassignment and take-over (the decisions are in :mod:`sodan_routing.supervision`).

Same shape as :mod:`sodan_routing.service`: one transaction per command, the
command id recorded (a redelivery changes nothing), counsellor rows locked
before case rows, every outcome (done or refused) an event in the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.console import PickCase, ReassignCase, SetAssignmentMode
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.routing import (
    AssignmentModeChanged,
    AssignmentModeChangedV1,
    AssignmentRefused,
    AssignmentRefusedV1,
    CaseAssigned,
    CaseAssignedV1,
)
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_routing.db import queries
from sodan_routing.db.tables import outbox, processed_events
from sodan_routing.service import DESK_CHANNEL, Desk, _assign_queued, _hours, _now
from sodan_routing.supervision import CaseFacts, Refusal, refuse_pick, refuse_reassign

log = get_logger(__name__)

MODE_CONSUMER = "routing-assignment-mode"
PICK_CONSUMER = "routing-pick"
REASSIGN_CONSUMER = "routing-reassign"


def _facts(case: queries.CaseRow | None) -> CaseFacts | None:
    if case is None:
        return None
    return CaseFacts(
        status=case.status,
        announced=case.announced,
        assigned_to=case.assigned_to,
        urgency=case.urgency,
    )


async def _refused(
    session: AsyncSession,
    command: Envelope[Any],
    *,
    case_id: UUID,
    staff_id: UUID,
    to_staff_id: UUID,
    refusal: Refusal,
    channel: str,
) -> int:
    await add_to_outbox(
        session,
        outbox,
        AssignmentRefused.new(
            channel=channel,
            caused_by=command,
            event_id=uuid5(command.id, "refused"),
            payload=AssignmentRefusedV1(
                case_id=case_id,
                staff_id=staff_id,
                to_staff_id=to_staff_id,
                reason=refusal.reason,
                message=refusal.message,
                command_id=command.id,
            ),
        ),
    )
    log.info("case.assignment_refused", case_id=str(case_id), reason=refusal.reason)
    return 1


async def _assigned(
    session: AsyncSession,
    command: Envelope[Any],
    case: queries.CaseRow,
    *,
    to: UUID,
    how: str,
    now: datetime,
) -> queries.CaseRow:
    row = await queries.reassign_case(session, case_id=case.case_id, counsellor_id=to, at=now)
    assert row is not None  # the case row is locked and open
    await add_to_outbox(
        session,
        outbox,
        CaseAssigned.new(
            channel=row.channel,
            caused_by=command,
            event_id=uuid5(command.id, "assigned"),
            payload=CaseAssignedV1(
                case_id=row.case_id,
                client_id=row.client_id,
                counsellor_id=to,
                previous_counsellor_id=case.assigned_to,
                how=how,
            ),
        ),
    )
    log.info("case.assigned", case_id=str(row.case_id), counsellor_id=str(to), how=how)
    return row


async def handle_set_assignment_mode(desk: Desk, command: SetAssignmentMode) -> int:
    """Switch between automatic assignment and manual pick-up; back to automatic, the
    queue is served at once."""
    p = command.payload
    now = _now()
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=MODE_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        previous = await queries.lock_assignment_mode(session)
        await queries.save_assignment_mode(session, mode=p.mode, by=p.staff_id, at=now)
        await add_to_outbox(
            session,
            outbox,
            AssignmentModeChanged.new(
                channel=DESK_CHANNEL,
                caused_by=command,
                event_id=uuid5(command.id, "mode"),
                payload=AssignmentModeChangedV1(
                    mode=p.mode,
                    previous_mode=previous,
                    staff_id=p.staff_id,
                    command_id=command.id,
                ),
            ),
        )
        log.info("desk.assignment_mode_changed", mode=p.mode, staff_id=str(p.staff_id))
        h = await _hours(session, desk, now)
        return 1 + await _assign_queued(
            session,
            cause=command,
            now=now,
            desk_open=h.open,
            critical_cap=desk.settings.routing_max_critical_per_counsellor,
        )


async def handle_pick_case(desk: Desk, command: PickCase) -> int:
    """A counsellor takes a queued case in manual mode, or hears why not."""
    p = command.payload
    now = _now()
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=PICK_CONSUMER
        ):
            return 0
        staff = {c.staff_id: c for c in await queries.lock_counsellors(session)}
        case = await queries.lock_case(session, case_id=p.case_id)
        h = await _hours(session, desk, now)
        refusal = refuse_pick(
            mode=await queries.assignment_mode(session),  # type: ignore[arg-type]
            case=_facts(case),
            picker=staff.get(p.staff_id),
            desk_open=h.open,
            critical_cap=desk.settings.routing_max_critical_per_counsellor,
        )
        if refusal is not None or case is None:
            return await _refused(
                session,
                command,
                case_id=p.case_id,
                staff_id=p.staff_id,
                to_staff_id=p.staff_id,
                refusal=refusal or Refusal("not_open", "この相談は見つかりません"),
                channel=case.channel if case else command.channel,
            )
        await _assigned(session, command, case, to=p.staff_id, how="self", now=now)
        return 1


async def handle_reassign_case(desk: Desk, command: ReassignCase) -> int:
    """A supervisor moves an open case to someone (or takes it over), or hears why not;
    the previous counsellor's freed slot goes to the queue."""
    p = command.payload
    now = _now()
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=REASSIGN_CONSUMER
        ):
            return 0
        staff = {c.staff_id: c for c in await queries.lock_counsellors(session)}
        case = await queries.lock_case(session, case_id=p.case_id)
        refusal = refuse_reassign(
            case=_facts(case),
            target=staff.get(p.to_staff_id),
            take_over=p.to_staff_id == p.staff_id,
            critical_cap=desk.settings.routing_max_critical_per_counsellor,
        )
        if refusal is not None or case is None:
            return await _refused(
                session,
                command,
                case_id=p.case_id,
                staff_id=p.staff_id,
                to_staff_id=p.to_staff_id,
                refusal=refusal or Refusal("not_open", "この相談は見つかりません"),
                channel=case.channel if case else command.channel,
            )
        await _assigned(session, command, case, to=p.to_staff_id, how="supervisor", now=now)
        emitted = 1
        if case.assigned_to is not None:  # a slot came free
            h = await _hours(session, desk, now)
            emitted += await _assign_queued(
                session,
                cause=command,
                now=now,
                desk_open=h.open,
                critical_cap=desk.settings.routing_max_critical_per_counsellor,
            )
        return emitted
