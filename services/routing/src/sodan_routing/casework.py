"""Units of work for a counsellor's commands on their case: close (with the
closing form, and a supervisor's confirmation for a 緊急 case), 保留, 転送.

Same shape as :mod:`sodan_routing.service`: one transaction each, the command
recorded as processed, the decision from :mod:`sodan_routing.lifecycle`, every
event through the outbox. A command that cannot be applied changes nothing and
emits CaseCommandRefused saying why, for the staff member who sent it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.console import CloseCase, DecideClose, HandOverCase, HoldCase
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.routing import (
    CaseCloseDeclined,
    CaseCloseDeclinedV1,
    CaseCloseRequested,
    CaseCloseRequestedV1,
    CaseCommandRefused,
    CaseCommandRefusedV1,
    CaseHandedOver,
    CaseHandedOverV1,
    CaseHoldChanged,
    CaseHoldChangedV1,
    CriticalCloseAudited,
    CriticalCloseAuditedV1,
)
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_routing import lifecycle
from sodan_routing.db import queries
from sodan_routing.db.tables import outbox, processed_events
from sodan_routing.service import Desk, _assign_queued, _close, _hours, _now, send_survey

log = get_logger(__name__)

CLOSE_CONSUMER = "routing-close"
DECIDE_CLOSE_CONSUMER = "routing-close-decisions"
HOLD_CONSUMER = "routing-hold"
HAND_OVER_CONSUMER = "routing-hand-over"


def _state(case: queries.CaseRow) -> lifecycle.CaseState:
    return lifecycle.CaseState(
        status=case.status, assigned_to=case.assigned_to, urgency=case.urgency
    )


async def _refuse(
    session: AsyncSession,
    command: Envelope[Any],
    *,
    case_id: UUID,
    client_id: UUID | None,
    staff_id: UUID,
    reason: str,
) -> int:
    await add_to_outbox(
        session,
        outbox,
        CaseCommandRefused.new(
            channel=command.channel,
            caused_by=command,
            event_id=uuid5(command.id, "refused"),
            payload=CaseCommandRefusedV1(
                case_id=case_id,
                client_id=client_id,
                staff_id=staff_id,
                command=command.type,
                command_id=command.id,
                reason=reason,
            ),
        ),
    )
    log.info("case.command_refused", case_id=str(case_id), command=command.type)
    return 1


def _audit(
    command: Envelope[Any],
    case: queries.CaseRow,
    *,
    staff_id: UUID,
    step: str,
    requested_by: UUID | None = None,
    outcome: str | None = None,
) -> CriticalCloseAudited:
    return CriticalCloseAudited.new(
        channel=case.channel,
        caused_by=command,
        event_id=uuid5(command.id, f"audit:{step}"),
        payload=CriticalCloseAuditedV1(
            case_id=case.case_id,
            client_id=case.client_id,
            staff_id=staff_id,
            step=step,
            requested_by=requested_by,
            outcome=outcome,
        ),
    )


async def _client_of(desk: Desk, case_id: UUID) -> UUID | None:
    async with desk.sessions() as session:
        case = await queries.lock_case(session, case_id=case_id)
    return case.client_id if case else None


async def _finish(
    session: AsyncSession,
    desk: Desk,
    case: queries.CaseRow,
    *,
    cause: Envelope[Any],
    closed_by: UUID,
    outcome: str | None,
    topics: list[str],
    survey: bool,
    ciphers: dict[UUID, Any],
    now: datetime,
) -> int:
    h = await _hours(session, desk, now)
    emitted = await _close(
        session,
        case,
        cause=cause,
        closed_by=closed_by,
        outcome=outcome,
        topics=topics,
        now=now,
        desk_open=h.open,
        critical_cap=desk.settings.routing_max_critical_per_counsellor,
    )
    if survey:
        emitted += await send_survey(
            session, desk, case, cause=cause, cipher=ciphers.get(case.client_id), now=now
        )
    return emitted


async def handle_close_case(desk: Desk, command: CloseCase) -> int:
    """Close with the closing form's outcome and topics (refused if unknown: the case
    stays open). A counsellor's close of a 緊急 case becomes a request a supervisor
    confirms; a supervisor's closes it at once. Either way audited."""
    p = command.payload
    now = _now()
    client_id = await _client_of(desk, p.case_id) if p.send_survey else None
    ciphers = await desk.ciphers([client_id]) if client_id else {}
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=CLOSE_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        case = await queries.lock_case(session, case_id=p.case_id)
        if case is None or case.status == "closed" or not case.announced:
            log.warning(
                "routing.close_ignored",
                case_id=str(p.case_id),
                reason="unknown" if case is None else case.status,
            )
            return 0
        lists = await queries.load_closing_categories(session)
        refusal = lifecycle.close_refusal(
            _state(case), outcome=p.outcome, topics=p.topics, lists=lists
        )
        if refusal is not None:
            return await _refuse(
                session,
                command,
                case_id=case.case_id,
                client_id=case.client_id,
                staff_id=p.staff_id,
                reason=refusal,
            )
        if lifecycle.close_needs_confirmation(_state(case), staff_role=p.staff_role):
            request = {
                "staff_id": str(p.staff_id),
                "outcome": p.outcome,
                "topics": list(p.topics),
                "send_survey": p.send_survey,
                "requested_at": now.isoformat(),
                "command_id": str(command.id),
            }
            await queries.set_close_request(session, case_id=case.case_id, request=request)
            await add_to_outbox(
                session,
                outbox,
                CaseCloseRequested.new(
                    channel=case.channel,
                    caused_by=command,
                    event_id=uuid5(command.id, "close_requested"),
                    payload=CaseCloseRequestedV1(
                        case_id=case.case_id,
                        client_id=case.client_id,
                        staff_id=p.staff_id,
                        outcome=p.outcome,
                        topics=list(p.topics),
                        send_survey=p.send_survey,
                    ),
                ),
            )
            await add_to_outbox(
                session,
                outbox,
                _audit(command, case, staff_id=p.staff_id, step="requested", outcome=p.outcome),
            )
            log.info("case.close_requested", case_id=str(case.case_id))
            return 2
        emitted = 0
        if case.urgency == "critical":
            await add_to_outbox(
                session,
                outbox,
                _audit(
                    command,
                    case,
                    staff_id=p.staff_id,
                    step="closed_by_supervisor",
                    outcome=p.outcome,
                ),
            )
            emitted += 1
        return emitted + await _finish(
            session,
            desk,
            case,
            cause=command,
            closed_by=p.staff_id,
            outcome=p.outcome,
            topics=list(p.topics),
            survey=p.send_survey,
            ciphers=ciphers,
            now=now,
        )


async def handle_decide_close(desk: Desk, command: DecideClose) -> int:
    """A supervisor confirms (the case closes as the counsellor asked) or declines (it
    stays open with its counsellor, who is told) a request to close a 緊急 case."""
    p = command.payload
    now = _now()
    client_id = await _client_of(desk, p.case_id)
    ciphers = await desk.ciphers([client_id]) if client_id else {}
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=DECIDE_CLOSE_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        case = await queries.lock_case(session, case_id=p.case_id)
        if case is None or case.status == "closed" or not case.close_request:
            return await _refuse(
                session,
                command,
                case_id=p.case_id,
                client_id=case.client_id if case else None,
                staff_id=p.staff_id,
                reason="確認待ちの終了依頼はありません（すでに終了したか、取り下げられました）",
            )
        request = case.close_request
        requested_by = UUID(request["staff_id"])
        if not p.approve:
            await queries.set_close_request(session, case_id=case.case_id, request=None)
            await add_to_outbox(
                session,
                outbox,
                CaseCloseDeclined.new(
                    channel=case.channel,
                    caused_by=command,
                    event_id=uuid5(command.id, "close_declined"),
                    payload=CaseCloseDeclinedV1(
                        case_id=case.case_id,
                        client_id=case.client_id,
                        staff_id=p.staff_id,
                        requested_by=requested_by,
                    ),
                ),
            )
            await add_to_outbox(
                session,
                outbox,
                _audit(
                    command, case, staff_id=p.staff_id, step="declined", requested_by=requested_by
                ),
            )
            log.info("case.close_declined", case_id=str(case.case_id))
            return 2
        await add_to_outbox(
            session,
            outbox,
            _audit(
                command,
                case,
                staff_id=p.staff_id,
                step="confirmed",
                requested_by=requested_by,
                outcome=request.get("outcome"),
            ),
        )
        return 1 + await _finish(
            session,
            desk,
            case,
            cause=command,
            closed_by=requested_by,
            outcome=request.get("outcome"),
            topics=list(request.get("topics") or []),
            survey=bool(request.get("send_survey")),
            ciphers=ciphers,
            now=now,
        )


async def handle_hold_case(desk: Desk, command: HoldCase) -> int:
    """保留 on or off, by the case's counsellor. The case stays theirs (and keeps its
    slot: the client's reply comes back to them); the unanswered guard skips it."""
    p = command.payload
    now = _now()
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=HOLD_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        case = await queries.lock_case(session, case_id=p.case_id)
        if case is None or not case.announced:
            return await _refuse(
                session,
                command,
                case_id=p.case_id,
                client_id=None,
                staff_id=p.staff_id,
                reason="相談が見つかりません",
            )
        refusal = lifecycle.hold_refusal(_state(case), staff_id=p.staff_id, hold=p.hold)
        if refusal is not None:
            return await _refuse(
                session,
                command,
                case_id=case.case_id,
                client_id=case.client_id,
                staff_id=p.staff_id,
                reason=refusal,
            )
        await queries.set_hold(session, case_id=case.case_id, on_hold=p.hold, at=now)
        await add_to_outbox(
            session,
            outbox,
            CaseHoldChanged.new(
                channel=case.channel,
                caused_by=command,
                event_id=uuid5(command.id, "hold"),
                payload=CaseHoldChangedV1(
                    case_id=case.case_id,
                    client_id=case.client_id,
                    counsellor_id=p.staff_id,
                    on_hold=p.hold,
                    by="counsellor",
                ),
            ),
        )
    log.info("case.hold_changed", case_id=str(p.case_id), on_hold=p.hold)
    return 1


async def handle_hand_over_case(desk: Desk, command: HandOverCase) -> int:
    """転送: the case's counsellor gives it to an available colleague (capacity and the
    緊急 cap apply), or back to the queue; the handover note travels sealed."""
    p = command.payload
    now = _now()
    cap = desk.settings.routing_max_critical_per_counsellor
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=HAND_OVER_CONSUMER
        ):
            return 0
        staff = await queries.lock_counsellors(session)
        case = await queries.lock_case(session, case_id=p.case_id)
        if case is None or not case.announced:
            return await _refuse(
                session,
                command,
                case_id=p.case_id,
                client_id=None,
                staff_id=p.staff_id,
                reason="相談が見つかりません",
            )
        receiver = next((c for c in staff if c.staff_id == p.to_staff_id), None)
        refusal = lifecycle.handover_refusal(
            _state(case), staff_id=p.staff_id, to=p.to_staff_id, receiver=receiver, critical_cap=cap
        )
        if refusal is not None:
            return await _refuse(
                session,
                command,
                case_id=case.case_id,
                client_id=case.client_id,
                staff_id=p.staff_id,
                reason=refusal,
            )
        if p.to_staff_id is None:
            await queries.requeue_case(session, case_id=case.case_id)
        else:
            await queries.hand_over(session, case_id=case.case_id, to=p.to_staff_id, at=now)
        await add_to_outbox(
            session,
            outbox,
            CaseHandedOver.new(
                channel=case.channel,
                caused_by=command,
                event_id=uuid5(command.id, "handed_over"),
                payload=CaseHandedOverV1(
                    case_id=case.case_id,
                    client_id=case.client_id,
                    from_counsellor_id=p.staff_id,
                    to_counsellor_id=p.to_staff_id,
                    note=p.note,
                ),
            ),
        )
        log.info(
            "case.handed_over",
            case_id=str(case.case_id),
            from_counsellor=str(p.staff_id),
            to_counsellor=str(p.to_staff_id),
        )
        emitted = 1
        if p.to_staff_id is None:
            h = await _hours(session, desk, now)
            emitted += await _assign_queued(
                session, cause=command, now=now, desk_open=h.open, critical_cap=cap
            )
        return emitted
