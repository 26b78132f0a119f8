"""Units of work: each handler's single transaction (idempotency, state, outbox).

Every function here runs one transaction: it records the input event as
processed (a redelivery then changes nothing), applies the decision from
:mod:`sodan_routing.assignment`, and writes each event to emit into the outbox
in the same transaction. It returns how many events it queued, so the caller
knows whether to wake the outbox relay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.console import CloseCase, StaffPresenceChanged
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import MessageReceived
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseAssignedV1,
    CaseClosed,
    CaseClosedV1,
    CaseOpened,
    CaseOpenedV1,
    CaseReturnedToQueue,
    CaseReturnedToQueueV1,
    CaseUrgencyChanged,
    CaseUrgencyChangedV1,
)
from sodan_shared.events.triage import MessageScored
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_routing.assignment import (
    free_slots,
    plan_assignments,
    presence_requeues_cases,
    raised_urgency,
)
from sodan_routing.db import queries
from sodan_routing.db.tables import outbox, processed_events

log = get_logger(__name__)

Sessions = async_sessionmaker[AsyncSession]

MESSAGES_CONSUMER = "routing-messages"
SCORES_CONSUMER = "routing-scores"
STAFF_CONSUMER = "routing-staff"
CLOSE_CONSUMER = "routing-close"


# CaseClosed.outcome when the client ended the conversation with the end word
CLIENT_ENDED = "client_ended"


def _now() -> datetime:
    return datetime.now(UTC)


async def _assign_queued(
    session: AsyncSession, *, cause: Envelope[Any] | None, now: datetime
) -> int:
    """Give queued cases to free counsellors. Counsellor rows are locked first (by the
    caller or here: locking again is a no-op), queued cases with SKIP LOCKED."""
    staff = await queries.lock_counsellors(session)
    slots = free_slots(staff)
    if slots == 0:
        return 0
    queued = await queries.lock_queued_cases(session, limit=slots)
    emitted = 0
    for item in plan_assignments(queued, staff, now=now):
        row = await queries.assign_case(
            session, case_id=item.case_id, counsellor_id=item.counsellor_id, at=now
        )
        if row is None:  # cannot happen under our locks; never emit what did not happen
            continue
        event_id = (
            uuid5(cause.id, f"assigned:{item.case_id}")
            if cause is not None
            else uuid5(item.case_id, f"assigned:{row.queued_at.isoformat()}")
        )
        await add_to_outbox(
            session,
            outbox,
            CaseAssigned.new(
                channel=row.channel,
                caused_by=cause,
                event_id=event_id,
                payload=CaseAssignedV1(
                    case_id=row.case_id, client_id=row.client_id, counsellor_id=item.counsellor_id
                ),
            ),
        )
        log.info("case.assigned", case_id=str(row.case_id), counsellor_id=str(item.counsellor_id))
        emitted += 1
    return emitted


def _opened(case: queries.CaseRow, *, cause: Envelope[Any], first_message: UUID) -> CaseOpened:
    assert case.client_no is not None
    return CaseOpened.new(
        channel=case.channel,
        caused_by=cause,
        event_id=uuid5(cause.id, "opened"),
        payload=CaseOpenedV1(
            case_id=case.case_id,
            client_id=case.client_id,
            client_no=case.client_no,
            first_message_event_id=first_message,
            urgency=case.urgency,
            queued_at=case.queued_at,
        ),
    )


async def _close(
    session: AsyncSession,
    case: queries.CaseRow,
    *,
    cause: Envelope[Any],
    closed_by: UUID | None,
    outcome: str | None,
    now: datetime,
) -> int:
    """Close the case, emit CaseClosed, give the freed slot to the next queued case."""
    await queries.close_case(session, case_id=case.case_id, at=now)
    await add_to_outbox(
        session,
        outbox,
        CaseClosed.new(
            channel=case.channel,
            caused_by=cause,
            event_id=uuid5(cause.id, "closed"),
            payload=CaseClosedV1(
                case_id=case.case_id,
                client_id=case.client_id,
                closed_by=closed_by,
                outcome=outcome,
            ),
        ),
    )
    log.info("case.closed", case_id=str(case.case_id), staff_id=str(closed_by))
    return 1 + await _assign_queued(session, cause=cause, now=now)


async def _client_ends(session: AsyncSession, event: MessageReceived, now: datetime) -> int:
    """The client's end word closes their open case; without one it opens nothing."""
    p = event.payload
    case = await queries.lock_open_case_of_client(session, client_id=p.client_id)
    if case is None or not case.announced or case.status == "closed":
        log.info("routing.end_word_without_case", client_id=str(p.client_id))
        return 0
    await queries.record_message(
        session, case_id=case.case_id, message_event_id=event.id, sent_at=p.sent_at
    )
    return await _close(session, case, cause=event, closed_by=None, outcome=CLIENT_ENDED, now=now)


async def handle_message_received(sessions: Sessions, event: MessageReceived) -> int:
    """The client's open case gets the message; a client without one gets a queued case."""
    p = event.payload
    now = _now()
    async with transaction(sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=MESSAGES_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)  # lock order: counsellors, then cases
        if p.ends_conversation:
            return await _client_ends(session, event, now)
        emitted = 0
        await queries.insert_case_if_none_open(
            session,
            case_id=uuid5(event.id, "case"),
            channel=event.channel,
            client_id=p.client_id,
            client_no=p.client_no,
            queued_at=p.sent_at,
            first_message_event_id=event.id,
        )
        case = await queries.lock_open_case_of_client(session, client_id=p.client_id)
        assert case is not None  # inserted above or open already
        if case.case_id == uuid5(event.id, "case") or not case.announced:
            if not case.announced:  # opened by an early score: now we know the client
                await queries.announce_case(
                    session,
                    case_id=case.case_id,
                    client_no=p.client_no,
                    first_message_event_id=event.id,
                    sent_at=p.sent_at,
                )
                case = await queries.lock_case(session, case_id=case.case_id)
                assert case is not None
            await add_to_outbox(session, outbox, _opened(case, cause=event, first_message=event.id))
            emitted += 1
            log.info("case.opened", case_id=str(case.case_id), client_id=str(p.client_id))
        await queries.record_message(
            session, case_id=case.case_id, message_event_id=event.id, sent_at=p.sent_at
        )
        if case.status == "queued":
            emitted += await _assign_queued(session, cause=event, now=now)
    return emitted


async def handle_message_scored(sessions: Sessions, event: MessageScored) -> int:
    """Raise the urgency of the message's case (never lower it)."""
    p = event.payload
    now = _now()
    async with transaction(sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=SCORES_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        case_id = await queries.case_of_message(session, message_event_id=p.message_event_id)
        if case_id is not None:
            case = await queries.lock_case(session, case_id=case_id)
        else:
            # the score overtook its message: open (unannounced) or join the client's case
            await queries.insert_case_if_none_open(
                session,
                case_id=uuid5(p.message_event_id, "case"),
                channel=event.channel,
                client_id=p.client_id,
                client_no=None,
                queued_at=event.occurred_at,
                first_message_event_id=None,
            )
            case = await queries.lock_open_case_of_client(session, client_id=p.client_id)
        if case is None or case.status == "closed":
            log.info("routing.score_for_closed_case", message_event_id=str(p.message_event_id))
            return 0
        level = raised_urgency(case.urgency, p.level)
        if level is None:
            return 0
        await queries.set_urgency(session, case_id=case.case_id, urgency=level, score=p.score)
        emitted = 0
        if case.announced:  # an unannounced case reports its urgency in CaseOpened
            await add_to_outbox(
                session,
                outbox,
                CaseUrgencyChanged.new(
                    channel=case.channel,
                    caused_by=event,
                    event_id=uuid5(event.id, "urgency"),
                    payload=CaseUrgencyChangedV1(
                        case_id=case.case_id,
                        client_id=case.client_id,
                        urgency=level,
                        score=p.score,
                        cause_message_event_id=p.message_event_id,
                    ),
                ),
            )
            emitted += 1
        log.info("case.urgency_raised", case_id=str(case.case_id), urgency=level)
        if case.status == "queued" and case.announced:
            emitted += await _assign_queued(session, cause=event, now=now)
    return emitted


async def handle_staff_presence(sessions: Sessions, event: StaffPresenceChanged) -> int:
    """Record presence; an offline counsellor's cases go back to the queue; assign."""
    p = event.payload
    now = _now()
    async with transaction(sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=STAFF_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        applied = await queries.upsert_counsellor(
            session,
            staff_id=p.staff_id,
            role=p.role,
            presence=p.presence,
            capacity=p.capacity,
            at=event.occurred_at,
        )
        if not applied:
            log.info("routing.stale_presence_ignored", staff_id=str(p.staff_id))
            return 0
        emitted = 0
        if presence_requeues_cases(p.presence):
            for case in await queries.lock_assigned_cases_of(session, staff_id=p.staff_id):
                await queries.requeue_case(session, case_id=case.case_id)
                await add_to_outbox(
                    session,
                    outbox,
                    CaseReturnedToQueue.new(
                        channel=case.channel,
                        caused_by=event,
                        event_id=uuid5(event.id, f"requeued:{case.case_id}"),
                        payload=CaseReturnedToQueueV1(
                            case_id=case.case_id,
                            client_id=case.client_id,
                            previous_counsellor_id=p.staff_id,
                            reason="counsellor_unavailable",
                        ),
                    ),
                )
                emitted += 1
                log.info("case.requeued", case_id=str(case.case_id), counsellor_id=str(p.staff_id))
        emitted += await _assign_queued(session, cause=event, now=now)
    return emitted


async def handle_close_case(sessions: Sessions, command: CloseCase) -> int:
    """Close an open case; the freed slot goes to the next queued case."""
    p = command.payload
    now = _now()
    async with transaction(sessions) as session:
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
        return await _close(
            session, case, cause=command, closed_by=p.staff_id, outcome=p.outcome, now=now
        )


async def sweep(sessions: Sessions) -> int:
    """Assign whatever is still queued while someone is free (races no event revisits)."""
    async with transaction(sessions) as session:
        return await _assign_queued(session, cause=None, now=_now())
