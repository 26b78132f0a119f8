"""What each event adds to the report figures: pure functions over plain data.

Every consumer runs independently, so events of one case may arrive in any
order (and again after a replay). The rules are therefore order-independent:
a case fact is a merge (earliest times, highest urgency, union of counsellors)
and each per-case count is made once, on a day that does not depend on order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
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
from sodan_shared.events.triage import URGENCY_RANK, MessageScored

from sodan_reporting.days import tokyo_day

Metric = Literal[
    "messages_in",
    "media_refused",
    "messages_out",
    "pushes_requested",
    "pushes_failed",
    "urgent_messages",
    "cases_opened",
    "cases_closed",
    "urgent_cases",
    "clients_new",
]
METRICS: tuple[Metric, ...] = (
    "messages_in",
    "media_refused",
    "messages_out",
    "pushes_requested",
    "pushes_failed",
    "urgent_messages",
    "cases_opened",
    "cases_closed",
    "urgent_cases",
    "clients_new",
)
URGENT_LEVELS = frozenset({"high", "critical"})
StaffMetric = Literal["cases_assigned", "messages_sent"]


@dataclass(frozen=True, order=True)
class Increment:
    day: date
    channel: str
    metric: Metric
    delta: int = 1


@dataclass(frozen=True, order=True)
class StaffIncrement:
    """A counsellor's workload on a day (pseudonymous staff id; reports anonymise it)."""

    day: date
    channel: str
    staff_id: UUID
    metric: StaffMetric
    delta: int = 1


@dataclass(frozen=True)
class CaseFact:
    case_id: UUID
    channel: str
    client_id: UUID | None = None
    opened_at: datetime | None = None
    first_assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    max_urgency: str = "normal"
    counsellor_ids: tuple[UUID, ...] = ()
    counsellor_messages: int = 0
    urgent_counted: bool = False
    outcome: str | None = None
    topics: tuple[str, ...] = ()
    age_group: str | None = None
    region: str | None = None
    gender_identity: str | None = None
    refused: str | None = None
    survey_sent: bool = False
    survey_answer: str | None = None


@dataclass(frozen=True)
class CaseObservation:
    """What one case event says about its case."""

    client_id: UUID | None = None
    opened_at: datetime | None = None
    assigned_at: datetime | None = None
    counsellor_id: UUID | None = None
    closed_at: datetime | None = None
    urgency: str | None = None
    # a counsellor's message to the client in this case
    responded_at: datetime | None = None
    # facts recorded at closing (None/empty when not answered)
    outcome: str | None = None
    topics: tuple[str, ...] = ()
    age_group: str | None = None
    region: str | None = None
    gender_identity: str | None = None
    refused: str | None = None
    # the after-survey: sent when the case closed, answered (at most once) later
    survey_sent: bool = False
    survey_answer: str | None = None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def merge_case(
    current: CaseFact, seen: CaseObservation, *, at: datetime | None = None
) -> tuple[CaseFact, list[Increment], list[StaffIncrement]]:
    """The case fact after one more observation, and the counts that changes.

    ``at`` is when the observing event happened (the day a counsellor's
    workload counts on).
    """
    counts: list[Increment] = []
    staff: list[StaffIncrement] = []
    channel = current.channel
    if current.opened_at is None and seen.opened_at is not None:
        counts.append(Increment(tokyo_day(seen.opened_at), channel, "cases_opened"))
    if current.closed_at is None and seen.closed_at is not None:
        counts.append(Increment(tokyo_day(seen.closed_at), channel, "cases_closed"))
    urgency = current.max_urgency
    if seen.urgency is not None and URGENCY_RANK[seen.urgency] > URGENCY_RANK[urgency]:
        urgency = seen.urgency
    counsellors = current.counsellor_ids
    if seen.counsellor_id is not None and seen.counsellor_id not in counsellors:
        counsellors = (*counsellors, seen.counsellor_id)
        if at is not None:
            staff.append(
                StaffIncrement(tokyo_day(at), channel, seen.counsellor_id, "cases_assigned")
            )
    merged = replace(
        current,
        client_id=current.client_id or seen.client_id,
        opened_at=_earliest(current.opened_at, seen.opened_at),
        first_assigned_at=_earliest(current.first_assigned_at, seen.assigned_at),
        first_response_at=_earliest(current.first_response_at, seen.responded_at),
        closed_at=_earliest(current.closed_at, seen.closed_at),
        max_urgency=urgency,
        counsellor_ids=counsellors,
        counsellor_messages=current.counsellor_messages + (seen.responded_at is not None),
        # closing facts: the closing event is the only source, so a later one wins
        outcome=seen.outcome or current.outcome,
        topics=seen.topics or current.topics,
        age_group=seen.age_group or current.age_group,
        region=seen.region or current.region,
        gender_identity=seen.gender_identity or current.gender_identity,
        refused=seen.refused or current.refused,
        # an answer proves the survey went out, whichever event arrives first
        survey_sent=current.survey_sent or seen.survey_sent or seen.survey_answer is not None,
        survey_answer=current.survey_answer or seen.survey_answer,
    )
    # An urgent case counts once, on the day it was opened, whichever event
    # (opening or a later urgency change) arrives first.
    if merged.opened_at is not None and urgency in URGENT_LEVELS and not merged.urgent_counted:
        counts.append(Increment(tokyo_day(merged.opened_at), channel, "urgent_cases"))
        merged = replace(merged, urgent_counted=True)
    return merged, counts, staff


CaseEvent = (
    CaseOpened
    | CaseAssigned
    | CaseUrgencyChanged
    | CaseClosed
    | CaseSurveySent
    | CaseSurveyAnswered
)


def case_observation(event: CaseEvent) -> CaseObservation:
    """What a case lifecycle event says about its case."""
    if isinstance(event, CaseOpened):
        p = event.payload
        return CaseObservation(client_id=p.client_id, opened_at=p.queued_at, urgency=p.urgency)
    if isinstance(event, CaseAssigned):
        return CaseObservation(
            assigned_at=event.occurred_at, counsellor_id=event.payload.counsellor_id
        )
    if isinstance(event, CaseUrgencyChanged):
        return CaseObservation(urgency=event.payload.urgency)
    if isinstance(event, CaseSurveySent):
        return CaseObservation(survey_sent=True)
    if isinstance(event, CaseSurveyAnswered):
        return CaseObservation(survey_answer=_clip(event.payload.answer, 40))
    c = event.payload
    # clipped to the columns' widths: a long free-text answer must not fail the write
    return CaseObservation(
        closed_at=event.occurred_at,
        outcome=_clip(c.outcome, 200),
        topics=tuple(t[:100] for t in c.topics),
        age_group=_clip(c.age_group, 40),
        region=_clip(c.region, 60),
        gender_identity=_clip(c.gender_identity, 60),
        refused=_clip(c.refused, 40),
    )


def _clip(value: str | None, width: int) -> str | None:
    return None if value is None else value[:width]


def first_contact(
    known: datetime | None, seen_at: datetime, *, channel: str
) -> tuple[datetime, list[Increment]]:
    """A client is new on the day of their earliest message, wherever it arrives in order."""
    if known is None:
        return seen_at, [Increment(tokyo_day(seen_at), channel, "clients_new")]
    if seen_at >= known:
        return known, []
    old_day, new_day = tokyo_day(known), tokyo_day(seen_at)
    if old_day == new_day:
        return seen_at, []
    return seen_at, [
        Increment(old_day, channel, "clients_new", -1),
        Increment(new_day, channel, "clients_new", 1),
    ]


def message_received_counts(event: MessageReceived) -> list[Increment]:
    # The day a message belongs to is when the client sent it, not when a
    # LINE redelivery brought it to us.
    day = tokyo_day(event.payload.sent_at)
    counts = [Increment(day, event.channel, "messages_in")]
    if event.payload.refused:
        counts.append(Increment(day, event.channel, "media_refused"))
    return counts


def message_scored_counts(event: MessageScored) -> list[Increment]:
    if event.payload.level not in URGENT_LEVELS:
        return []
    return [Increment(tokyo_day(event.occurred_at), event.channel, "urgent_messages")]


def push_requested_counts(event: PushRequested) -> list[Increment]:
    return [Increment(tokyo_day(event.occurred_at), event.channel, "pushes_requested")]


def is_counsellor_message(event: PushRequested) -> bool:
    """A counsellor's new message (a retry of a failed one is the same message again)."""
    return event.payload.origin == "counsellor" and not event.payload.resend


def counsellor_message_counts(event: PushRequested) -> list[StaffIncrement]:
    p = event.payload
    if not is_counsellor_message(event) or p.staff_id is None:
        return []
    day = tokyo_day(event.occurred_at)
    return [StaffIncrement(day, event.channel, p.staff_id, "messages_sent")]


def push_result_counts(event: PushResult) -> list[Increment]:
    metric: Metric = "messages_out" if event.payload.status == "sent" else "pushes_failed"
    return [Increment(tokyo_day(event.occurred_at), event.channel, metric)]
