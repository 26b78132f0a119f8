"""Replaying a period fast: fold the events in memory, then write the projections in bulk.

The live path applies one event per transaction (about ten statements); an
analyst's replay has no live consumers to keep in step, so it folds every
event through the same pure functions (``projection``) and writes each table
once. Same rules, same figures: the tests compare it with the live projector.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

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
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_reporting import projection
from sodan_reporting.db.tables import (
    case_facts,
    clients_seen,
    daily_counts,
    processed_events,
    staff_counts,
)
from sodan_reporting.projection import CaseFact, CaseObservation, Increment, StaffIncrement

CHUNK = 2000


@dataclass
class Fold:
    cases: dict[UUID, CaseFact] = field(default_factory=dict)
    counts: Counter[tuple[date, str, str]] = field(default_factory=Counter)
    staff: Counter[tuple[date, str, UUID, str]] = field(default_factory=Counter)
    first_seen: dict[UUID, tuple[str, datetime]] = field(default_factory=dict)
    processed: set[tuple[str, UUID]] = field(default_factory=set)

    def _count(self, counts: Iterable[Increment]) -> None:
        for c in counts:
            self.counts[(c.day, c.channel, c.metric)] += c.delta

    def _count_staff(self, counts: Iterable[StaffIncrement]) -> None:
        for c in counts:
            self.staff[(c.day, c.channel, c.staff_id, c.metric)] += c.delta

    def _case(self, case_id: UUID, channel: str, seen: CaseObservation, at: datetime) -> None:
        current = self.cases.get(case_id) or CaseFact(case_id=case_id, channel=channel)
        merged, counts, staff = projection.merge_case(current, seen, at=at)
        self.cases[case_id] = merged
        self._count(counts)
        self._count_staff(staff)

    def apply(self, consumer: str, event: Any) -> bool:
        """One event, as the live consumer ``consumer`` would apply it; False if seen before."""
        key = (consumer, event.id)
        if key in self.processed:
            return False
        self.processed.add(key)
        if isinstance(event, MessageReceived):
            p = event.payload
            known = self.first_seen.get(p.client_id)
            first, client_counts = projection.first_contact(
                None if known is None else known[1], p.sent_at, channel=event.channel
            )
            channel = event.channel if known is None else known[0]
            self.first_seen[p.client_id] = (channel, first)
            self._count([*projection.message_received_counts(event), *client_counts])
        elif isinstance(event, MessageScored):
            self._count(projection.message_scored_counts(event))
        elif isinstance(event, PushRequested):
            self._count(projection.push_requested_counts(event))
            self._count_staff(projection.counsellor_message_counts(event))
            push = event.payload
            if push.case_id is not None and projection.is_counsellor_message(event):
                self._case(
                    push.case_id,
                    event.channel,
                    CaseObservation(responded_at=event.occurred_at),
                    event.occurred_at,
                )
        elif isinstance(event, PushResult):
            self._count(projection.push_result_counts(event))
        elif isinstance(
            event,
            CaseOpened
            | CaseAssigned
            | CaseUrgencyChanged
            | CaseClosed
            | CaseSurveySent
            | CaseSurveyAnswered,
        ):
            self._case(
                event.payload.case_id,
                event.channel,
                projection.case_observation(event),
                event.occurred_at,
            )
        else:
            raise TypeError(f"no projection for {type(event).__name__}")
        return True

    async def write(self, session: AsyncSession) -> None:
        """Writes every table once, into empty projection tables."""
        await _bulk(
            session,
            processed_events,
            [{"consumer": c, "event_id": e} for c, e in self.processed],
        )
        await _bulk(
            session,
            case_facts,
            [
                {
                    "case_id": f.case_id,
                    "channel": f.channel,
                    "client_id": f.client_id,
                    "opened_at": f.opened_at,
                    "first_assigned_at": f.first_assigned_at,
                    "first_response_at": f.first_response_at,
                    "closed_at": f.closed_at,
                    "max_urgency": f.max_urgency,
                    "counsellor_ids": list(f.counsellor_ids),
                    "counsellor_messages": f.counsellor_messages,
                    "urgent_counted": f.urgent_counted,
                    "outcome": f.outcome,
                    "topics": list(f.topics),
                    "age_group": f.age_group,
                    "region": f.region,
                    "gender_identity": f.gender_identity,
                    "refused": f.refused,
                    "survey_sent": f.survey_sent,
                    "survey_answer": f.survey_answer,
                }
                for f in self.cases.values()
            ],
        )
        await _bulk(
            session,
            daily_counts,
            [
                {"day": d, "channel": ch, "metric": m, "value": v}
                for (d, ch, m), v in self.counts.items()
                if v
            ],
        )
        await _bulk(
            session,
            staff_counts,
            [
                {"day": d, "channel": ch, "staff_id": s, "metric": m, "value": v}
                for (d, ch, s, m), v in self.staff.items()
                if v
            ],
        )
        await _bulk(
            session,
            clients_seen,
            [
                {"client_id": c, "channel": ch, "first_seen_at": at}
                for c, (ch, at) in self.first_seen.items()
            ],
        )


async def _bulk(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[i : i + CHUNK])
