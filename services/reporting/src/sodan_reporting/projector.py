"""Applies one event to the projections in one transaction, at most once per event."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import first_time
from sodan_shared.events.line import MessageReceived, PushRequested, PushResult
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseSurveyAnswered,
    CaseSurveySent,
    CaseUrgencyChanged,
)
from sodan_shared.events.triage import MessageScored
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_reporting import projection
from sodan_reporting.db import queries
from sodan_reporting.db.tables import processed_events
from sodan_reporting.projection import CaseObservation, Increment, StaffIncrement

log = get_logger()


class Projector:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _counts(self, *, consumer: str, event_id: UUID, counts: list[Increment]) -> bool:
        async with transaction(self._sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event_id, consumer=consumer
            ):
                return False
            await queries.add_counts(session, counts=counts)
        return True

    async def _case(
        self,
        *,
        consumer: str,
        event_id: UUID,
        case_id: UUID,
        channel: str,
        seen: CaseObservation,
        at: datetime,
        counts: list[Increment] | None = None,
        staff: list[StaffIncrement] | None = None,
    ) -> bool:
        async with transaction(self._sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event_id, consumer=consumer
            ):
                return False
            current = await queries.lock_case(session, case_id=case_id, channel=channel)
            merged, case_counts, staff_counts = projection.merge_case(current, seen, at=at)
            await queries.save_case(session, fact=merged)
            await queries.add_counts(session, counts=[*case_counts, *(counts or [])])
            await queries.add_staff_counts(session, counts=[*staff_counts, *(staff or [])])
        return True

    async def message_received(self, event: MessageReceived, *, consumer: str) -> bool:
        p = event.payload
        async with transaction(self._sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=consumer
            ):
                return False
            known = await queries.lock_first_seen(
                session, client_id=p.client_id, channel=event.channel, seen_at=p.sent_at
            )
            first_seen, client_counts = projection.first_contact(
                known, p.sent_at, channel=event.channel
            )
            if known is not None and first_seen != known:
                await queries.set_first_seen(
                    session, client_id=p.client_id, first_seen_at=first_seen
                )
            await queries.add_counts(
                session, counts=[*projection.message_received_counts(event), *client_counts]
            )
        log.debug("reporting.message_counted", event_id=str(event.id))
        return True

    async def message_scored(self, event: MessageScored, *, consumer: str) -> bool:
        counts = projection.message_scored_counts(event)
        return await self._counts(consumer=consumer, event_id=event.id, counts=counts)

    async def push_requested(self, event: PushRequested, *, consumer: str) -> bool:
        counts = projection.push_requested_counts(event)
        staff = projection.counsellor_message_counts(event)
        p = event.payload
        if p.case_id is None or not projection.is_counsellor_message(event):
            async with transaction(self._sessions) as session:
                if not await first_time(
                    session, processed_events, event_id=event.id, consumer=consumer
                ):
                    return False
                await queries.add_counts(session, counts=counts)
                await queries.add_staff_counts(session, counts=staff)
            return True
        # a counsellor's message: the case's first response and its message count
        return await self._case(
            consumer=consumer,
            event_id=event.id,
            case_id=p.case_id,
            channel=event.channel,
            seen=CaseObservation(responded_at=event.occurred_at),
            at=event.occurred_at,
            counts=counts,
            staff=staff,
        )

    async def push_result(self, event: PushResult, *, consumer: str) -> bool:
        counts = projection.push_result_counts(event)
        return await self._counts(consumer=consumer, event_id=event.id, counts=counts)

    async def _lifecycle(self, event: projection.CaseEvent, *, consumer: str) -> bool:
        return await self._case(
            consumer=consumer,
            event_id=event.id,
            case_id=event.payload.case_id,
            channel=event.channel,
            seen=projection.case_observation(event),
            at=event.occurred_at,
        )

    async def case_opened(self, event: CaseOpened, *, consumer: str) -> bool:
        return await self._lifecycle(event, consumer=consumer)

    async def case_assigned(self, event: CaseAssigned, *, consumer: str) -> bool:
        return await self._lifecycle(event, consumer=consumer)

    async def case_urgency_changed(self, event: CaseUrgencyChanged, *, consumer: str) -> bool:
        return await self._lifecycle(event, consumer=consumer)

    async def case_closed(self, event: CaseClosed, *, consumer: str) -> bool:
        return await self._lifecycle(event, consumer=consumer)

    async def case_survey(
        self, event: CaseSurveySent | CaseSurveyAnswered, *, consumer: str
    ) -> bool:
        return await self._lifecycle(event, consumer=consumer)
