"""Routing's SQL, as keyword-only functions taking an explicit session.

Lock order, everywhere: counsellor rows first (all of them, by staff_id), then
case rows. That one order keeps replicas from deadlocking and makes the
counsellor rows the gate every assignment passes through, so two transactions
can never both give the same counsellor's last free slot away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sodan_shared.closing import DEFAULT_CATEGORIES, ClosingCategories
from sqlalchemy import bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_routing.assignment import Counsellor, QueuedCase
from sodan_routing.congestion import Answered, Finished
from sodan_routing.db.tables import (
    auto_texts,
    case_messages,
    case_notices,
    cases,
    closing_categories,
    counsellors,
    desk_settings,
    desk_state,
    hours_rules,
)
from sodan_routing.hours import Calendar, build_calendar
from sodan_routing.texts import DEFAULT_TEXTS


@dataclass(frozen=True)
class CaseRow:
    case_id: UUID
    channel: str
    client_id: UUID
    client_no: int | None
    status: str
    urgency: str
    urgency_score: float
    assigned_to: UUID | None
    queued_at: datetime
    closed_at: datetime | None = None
    close_request: dict[str, Any] | None = None
    survey_sent_at: datetime | None = None
    survey_answer: str | None = None
    intake_outcome: str | None = None

    @property
    def announced(self) -> bool:
        """Known to staff (CaseOpened sent): its first message has arrived."""
        return self.client_no is not None


_CASE_COLUMNS = (
    cases.c.case_id,
    cases.c.channel,
    cases.c.client_id,
    cases.c.client_no,
    cases.c.status,
    cases.c.urgency,
    cases.c.urgency_score,
    cases.c.assigned_to,
    cases.c.queued_at,
    cases.c.closed_at,
    cases.c.close_request,
    cases.c.survey_sent_at,
    cases.c.survey_answer,
    cases.c.intake_outcome,
)
# a case its counsellor holds: assigned, or on hold (保留) waiting for the client
HELD_STATUSES = ("assigned", "on_hold")
_URGENCY_RANK = sql_case({"critical": 3, "high": 2, "medium": 1}, value=cases.c.urgency, else_=0)


DESK_LOCK = "sodan.routing.desk"  # held until each routing transaction ends

# The statements every message or score runs are built once (bind parameters for the
# values): building one and its cache key again per event cost more CPU than running it.
_LOCK_DESK = select(func.pg_advisory_xact_lock(func.hashtextextended(DESK_LOCK, 0)))
_HELD = (
    select(
        cases.c.assigned_to,
        func.count().label("load"),
        func.count().filter(cases.c.urgency == "critical").label("critical_load"),
    )
    # 保留 counts: the counsellor still owns the conversation and its next message
    .where(cases.c.status.in_(HELD_STATUSES))
    .group_by(cases.c.assigned_to)
    .subquery()
)
# one statement for rows and loads: its snapshot starts after the advisory lock was
# granted, so it sees everything the previous holder committed
_LOCK_COUNSELLORS = (
    select(
        counsellors,
        func.coalesce(_HELD.c.load, 0).label("load"),
        func.coalesce(_HELD.c.critical_load, 0).label("critical_load"),
    )
    .outerjoin(_HELD, _HELD.c.assigned_to == counsellors.c.staff_id)
    .order_by(counsellors.c.staff_id)
    .with_for_update(of=counsellors)
)


async def lock_counsellors(session: AsyncSession) -> list[Counsellor]:
    """Every counsellor with their load, locked: the first step of every routing unit
    of work, so replicas take turns. The desk-wide advisory lock comes first because
    row locks alone serialise nothing while the table is empty or a new counsellor's
    row is being inserted (replicas then deadlocked on the cases they both wrote).

    Called again in the same transaction (loads change as cases are assigned), only
    the rows are read again: both locks are held until the transaction ends already."""
    transaction = session.sync_session.get_transaction()
    if session.info.get(DESK_LOCK) is not transaction:
        await session.execute(_LOCK_DESK)
        session.info[DESK_LOCK] = transaction
    rows = (await session.execute(_LOCK_COUNSELLORS)).all()
    return [
        Counsellor(
            staff_id=r.staff_id,
            role=r.role,
            presence=r.presence,
            capacity=r.capacity,
            load=int(r.load),
            critical_load=int(r.critical_load),
            last_assigned_at=r.last_assigned_at,
        )
        for r in rows
    ]


async def upsert_counsellor(
    session: AsyncSession,
    *,
    staff_id: UUID,
    role: str,
    presence: str,
    capacity: int,
    at: datetime,
) -> bool:
    """Apply a presence change unless a newer one was applied already (out-of-order delivery)."""
    stmt = pg_insert(counsellors).values(
        staff_id=staff_id, role=role, presence=presence, capacity=capacity, updated_at=at
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[counsellors.c.staff_id],
        set_={
            "role": stmt.excluded.role,
            "presence": stmt.excluded.presence,
            "capacity": stmt.excluded.capacity,
            "updated_at": stmt.excluded.updated_at,
        },
        where=counsellors.c.updated_at <= stmt.excluded.updated_at,
    ).returning(counsellors.c.staff_id)
    return (await session.execute(upsert)).first() is not None


async def lock_queued_cases(session: AsyncSession, *, limit: int) -> list[QueuedCase]:
    """The head of the queue; rows another transaction holds are skipped (it assigns them)."""
    rows = (
        await session.execute(
            select(cases.c.case_id, cases.c.urgency, cases.c.queued_at)
            .where(cases.c.status == "queued", cases.c.client_no.is_not(None))
            .order_by(_URGENCY_RANK.desc(), cases.c.queued_at, cases.c.case_id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=cases)
        )
    ).all()
    return [QueuedCase(case_id=r.case_id, urgency=r.urgency, queued_at=r.queued_at) for r in rows]


async def insert_case_if_none_open(
    session: AsyncSession,
    *,
    case_id: UUID,
    channel: str,
    client_id: UUID,
    client_no: int | None,
    queued_at: datetime,
    first_message_event_id: UUID | None,
    urgency: str = "normal",
    urgency_score: float = 0.0,
) -> CaseRow | None:
    """Open a queued case unless the client has one open (then None; waits for a racing
    opener). The new case's row is returned (and locked: this transaction wrote it)."""
    stmt = (
        pg_insert(cases)
        .values(
            case_id=case_id,
            channel=channel,
            client_id=client_id,
            client_no=client_no,
            status="queued",
            urgency=urgency,
            urgency_score=urgency_score,
            queued_at=queued_at,
            first_message_event_id=first_message_event_id,
        )
        .on_conflict_do_nothing(
            # a literal, not a bind parameter: once psycopg prepares the statement, a
            # generic plan cannot match `status <> $1` to the partial unique index
            index_elements=[cases.c.client_id],
            index_where=text("status <> 'closed'"),
        )
        .returning(*_CASE_COLUMNS)
    )
    row = (await session.execute(stmt)).first()
    return _case(row) if row else None


def _case(row: object) -> CaseRow:
    return CaseRow(**{c.name: getattr(row, c.name) for c in _CASE_COLUMNS})


_LOCK_OPEN_CASE_OF_CLIENT = (
    select(*_CASE_COLUMNS)
    .where(cases.c.client_id == bindparam("client_id"), cases.c.status != "closed")
    .with_for_update()
)
_LOCK_CASE = select(*_CASE_COLUMNS).where(cases.c.case_id == bindparam("case_id")).with_for_update()


async def lock_open_case_of_client(session: AsyncSession, *, client_id: UUID) -> CaseRow | None:
    row = (await session.execute(_LOCK_OPEN_CASE_OF_CLIENT, {"client_id": client_id})).first()
    return _case(row) if row else None


async def lock_case(session: AsyncSession, *, case_id: UUID) -> CaseRow | None:
    row = (await session.execute(_LOCK_CASE, {"case_id": case_id})).first()
    return _case(row) if row else None


async def lock_case_of_message(session: AsyncSession, *, message_event_id: UUID) -> CaseRow | None:
    """The case a message was recorded in, locked (None: the message has not arrived)."""
    row = (
        await session.execute(
            select(*_CASE_COLUMNS)
            .join(case_messages, case_messages.c.case_id == cases.c.case_id)
            .where(case_messages.c.message_event_id == message_event_id)
            .with_for_update(of=cases)
        )
    ).first()
    return _case(row) if row else None


async def announce_case(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_no: int,
    first_message_event_id: UUID,
    sent_at: datetime,
) -> CaseRow:
    """A case opened from a score learns its client number from the first message."""
    row = (
        await session.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(
                client_no=client_no,
                first_message_event_id=first_message_event_id,
                queued_at=func.least(cases.c.queued_at, sent_at),
            )
            .returning(*_CASE_COLUMNS)
        )
    ).one()
    return _case(row)


_SENT_AT = bindparam("b_sent_at", type_=cases.c.last_message_at.type)
_RECORD_MESSAGE = (
    update(cases)
    .where(cases.c.case_id == bindparam("b_case_id"))
    .values(
        last_message_at=func.greatest(func.coalesce(cases.c.last_message_at, _SENT_AT), _SENT_AT)
    )
    # one round trip: the message's row is inserted by a data-modifying CTE
    .add_cte(
        pg_insert(case_messages)
        .values(
            message_event_id=bindparam("b_message_event_id"),
            case_id=bindparam("b_case_id"),
            sent_at=_SENT_AT,
        )
        .on_conflict_do_nothing(index_elements=[case_messages.c.message_event_id])
        .cte("added")
    )
)


async def record_message(
    session: AsyncSession, *, case_id: UUID, message_event_id: UUID, sent_at: datetime
) -> None:
    await session.execute(
        _RECORD_MESSAGE,
        {"b_case_id": case_id, "b_message_event_id": message_event_id, "b_sent_at": sent_at},
    )


async def set_urgency(session: AsyncSession, *, case_id: UUID, urgency: str, score: float) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(urgency=urgency, urgency_score=func.greatest(cases.c.urgency_score, score))
    )


async def assign_case(
    session: AsyncSession, *, case_id: UUID, counsellor_id: UUID, at: datetime
) -> CaseRow | None:
    row = (
        await session.execute(
            update(cases)
            .where(cases.c.case_id == case_id, cases.c.status == "queued")
            .values(status="assigned", assigned_to=counsellor_id, assigned_at=at)
            .returning(*_CASE_COLUMNS)
        )
    ).first()
    if row is None:
        return None
    await session.execute(
        update(counsellors)
        .where(counsellors.c.staff_id == counsellor_id)
        .values(last_assigned_at=at)
    )
    return _case(row)


async def reassign_case(
    session: AsyncSession, *, case_id: UUID, counsellor_id: UUID, at: datetime
) -> CaseRow | None:
    """Give an open case (queued or assigned) to `counsellor_id`; the caller holds its lock.
    The new assigned_at restarts the unanswered clock for the new counsellor."""
    row = (
        await session.execute(
            update(cases)
            .where(cases.c.case_id == case_id, cases.c.status.in_(("queued", "assigned")))
            .values(status="assigned", assigned_to=counsellor_id, assigned_at=at)
            .returning(*_CASE_COLUMNS)
        )
    ).first()
    if row is None:
        return None
    await session.execute(
        update(counsellors)
        .where(counsellors.c.staff_id == counsellor_id)
        .values(last_assigned_at=at)
    )
    return _case(row)


async def close_case(session: AsyncSession, *, case_id: UUID, at: datetime) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        # assigned_to kept: who handled it (and who a reopened case goes back to)
        .values(status="closed", closed_at=at, close_request=None, held_at=None)
    )


async def set_hold(session: AsyncSession, *, case_id: UUID, on_hold: bool, at: datetime) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(status="on_hold" if on_hold else "assigned", held_at=at if on_hold else None)
    )


async def hand_over(session: AsyncSession, *, case_id: UUID, to: UUID, at: datetime) -> None:
    """The case is the receiver's from now on (a new assignment: the unanswered guard
    and first response count from here)."""
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(status="assigned", assigned_to=to, assigned_at=at, held_at=None)
    )
    await session.execute(
        update(counsellors).where(counsellors.c.staff_id == to).values(last_assigned_at=at)
    )


async def set_close_request(
    session: AsyncSession, *, case_id: UUID, request: dict[str, Any] | None
) -> None:
    await session.execute(
        update(cases).where(cases.c.case_id == case_id).values(close_request=request)
    )


async def lock_latest_closed_case(session: AsyncSession, *, client_id: UUID) -> CaseRow | None:
    """The client's most recently closed (announced) case."""
    row = (
        await session.execute(
            select(*_CASE_COLUMNS)
            .where(
                cases.c.client_id == client_id,
                cases.c.status == "closed",
                cases.c.client_no.is_not(None),
            )
            .order_by(cases.c.closed_at.desc(), cases.c.case_id)
            .limit(1)
            .with_for_update()
        )
    ).first()
    return _case(row) if row else None


async def reopen_case(
    session: AsyncSession, *, case_id: UUID, to: UUID | None, urgency: str, at: datetime
) -> CaseRow:
    """Open a closed case again: back to its counsellor (``to``) or into the queue,
    waiting from now (its urgency decides its place)."""
    row = (
        await session.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(
                status="assigned" if to else "queued",
                assigned_to=to,
                assigned_at=at if to else None,
                queued_at=at,
                closed_at=None,
                urgency=urgency,
                close_request=None,
            )
            .returning(*_CASE_COLUMNS)
        )
    ).one()
    if to is not None:
        await session.execute(
            update(counsellors).where(counsellors.c.staff_id == to).values(last_assigned_at=at)
        )
    return _case(row)


async def absorb_placeholder(session: AsyncSession, *, placeholder: CaseRow, into: UUID) -> None:
    """A case a triage score opened before its message arrived, when that message
    belongs to a closed case after all (reopening, survey answer): move its
    messages over and drop it."""
    await session.execute(
        update(case_messages)
        .where(case_messages.c.case_id == placeholder.case_id)
        .values(case_id=into)
    )
    await session.execute(delete(cases).where(cases.c.case_id == placeholder.case_id))


async def set_previous_case(session: AsyncSession, *, case_id: UUID, previous: UUID) -> None:
    await session.execute(
        update(cases).where(cases.c.case_id == case_id).values(previous_case_id=previous)
    )


async def mark_survey_sent(session: AsyncSession, *, case_id: UUID, at: datetime) -> None:
    await session.execute(update(cases).where(cases.c.case_id == case_id).values(survey_sent_at=at))


async def record_survey_answer(session: AsyncSession, *, case_id: UUID, answer: str) -> None:
    await session.execute(
        update(cases).where(cases.c.case_id == case_id).values(survey_answer=answer)
    )


async def lock_assigned_cases_of(session: AsyncSession, *, staff_id: UUID) -> list[CaseRow]:
    rows = (
        await session.execute(
            select(*_CASE_COLUMNS)
            .where(cases.c.assigned_to == staff_id, cases.c.status.in_(HELD_STATUSES))
            .order_by(cases.c.case_id)
            .with_for_update()
        )
    ).all()
    return [_case(r) for r in rows]


async def requeue_case(session: AsyncSession, *, case_id: UUID) -> None:
    # queued_at is kept: a returned case has waited longest and is served first
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(status="queued", assigned_to=None, assigned_at=None, held_at=None)
    )


# --- consultation hours, automatic texts, notices, congestion -----------------


async def assignment_mode(session: AsyncSession) -> str:
    mode = (await session.execute(select(desk_settings.c.assignment_mode))).scalar()
    return str(mode) if mode is not None else "auto"


async def lock_assignment_mode(session: AsyncSession) -> str:
    """The mode, with its row locked (two switches in a row apply in order)."""
    await session.execute(
        pg_insert(desk_settings)
        .values(id=1, assignment_mode="auto", changed_at=func.now())
        .on_conflict_do_nothing(index_elements=[desk_settings.c.id])
    )
    mode = (
        await session.execute(select(desk_settings.c.assignment_mode).with_for_update())
    ).scalar_one()
    return str(mode)


async def save_assignment_mode(session: AsyncSession, *, mode: str, by: UUID, at: datetime) -> None:
    await session.execute(
        update(desk_settings)
        .where(desk_settings.c.id == 1)
        .values(assignment_mode=mode, changed_by=by, changed_at=at)
    )


_HOURS_RULES = select(hours_rules)


async def load_calendar(session: AsyncSession, *, always_open: bool) -> Calendar:
    rows = (await session.execute(_HOURS_RULES)).all()
    return build_calendar(rows, always_open=always_open)


async def replace_hours_rules(session: AsyncSession, rules: list[dict[str, object]]) -> None:
    await session.execute(delete(hours_rules))
    if rules:
        await session.execute(insert(hours_rules), rules)


async def load_auto_texts(session: AsyncSession) -> dict[str, str]:
    """The desk's texts; a key missing from the table falls back to the default."""
    rows = (await session.execute(select(auto_texts.c.key, auto_texts.c.body))).all()
    texts: dict[str, str] = {str(k): v for k, v in DEFAULT_TEXTS.items()}
    texts.update({r.key: r.body for r in rows})
    return texts


async def save_auto_text(
    session: AsyncSession, *, key: str, body: str, by: UUID | None, at: datetime
) -> None:
    stmt = pg_insert(auto_texts).values(key=key, body=body, updated_by=by, updated_at=at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[auto_texts.c.key],
            set_={"body": body, "updated_by": by, "updated_at": at},
        )
    )


async def load_closing_categories(session: AsyncSession) -> ClosingCategories:
    row = (
        await session.execute(select(closing_categories.c.outcomes, closing_categories.c.topics))
    ).first()
    if row is None:
        return DEFAULT_CATEGORIES
    return ClosingCategories(outcomes=tuple(row.outcomes), topics=tuple(row.topics))


async def save_closing_categories(
    session: AsyncSession, *, lists: ClosingCategories, by: UUID | None, at: datetime
) -> None:
    values = {
        "outcomes": list(lists.outcomes),
        "topics": list(lists.topics),
        "updated_by": by,
        "updated_at": at,
    }
    stmt = pg_insert(closing_categories).values(id=1, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))


async def add_notice(
    session: AsyncSession, *, case_id: UUID, kind: str, key: str, at: datetime
) -> bool:
    """Record that a notice goes out; False when it went out already."""
    stmt = (
        pg_insert(case_notices)
        .values(case_id=case_id, kind=kind, key=key, sent_at=at)
        .on_conflict_do_nothing()
        .returning(case_notices.c.case_id)
    )
    return (await session.execute(stmt)).first() is not None


_NOTICE_GIVEN = (
    select(case_notices.c.kind)
    .where(
        case_notices.c.case_id == bindparam("case_id"),
        case_notices.c.kind.in_(bindparam("kinds", expanding=True)),
        case_notices.c.key == bindparam("key"),
    )
    .limit(1)
)
_QUEUED_CASES = select(cases.c.case_id, cases.c.urgency, cases.c.queued_at).where(
    cases.c.status == "queued", cases.c.client_no.is_not(None)
)


async def notice_given(
    session: AsyncSession, *, case_id: UUID, kinds: tuple[str, ...], key: str
) -> bool:
    """Whether one of these notices went out already (before working out its text)."""
    params = {"case_id": case_id, "kinds": list(kinds), "key": key}
    return (await session.execute(_NOTICE_GIVEN, params)).first() is not None


async def queued_cases(session: AsyncSession) -> list[QueuedCase]:
    """The queue (announced cases), without what each was told: for a wait estimate."""
    rows = (await session.execute(_QUEUED_CASES)).all()
    return [QueuedCase(case_id=r.case_id, urgency=r.urgency, queued_at=r.queued_at) for r in rows]


@dataclass(frozen=True)
class Waiting:
    """A queued, announced case with what it has been told."""

    case: QueuedCase
    channel: str
    client_id: UUID
    last_notice_at: datetime | None
    reminders: int  # wait reminders since `since`


async def waiting_cases(session: AsyncSession, *, reminders_since: datetime) -> list[Waiting]:
    last = (
        select(func.max(case_notices.c.sent_at))
        .where(case_notices.c.case_id == cases.c.case_id)
        .scalar_subquery()
    )
    reminded = (
        select(func.count())
        .where(
            case_notices.c.case_id == cases.c.case_id,
            case_notices.c.kind == "wait_reminder",
            case_notices.c.sent_at >= reminders_since,
        )
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                cases.c.case_id,
                cases.c.urgency,
                cases.c.queued_at,
                cases.c.channel,
                cases.c.client_id,
                last.label("last_notice_at"),
                reminded.label("reminders"),
            ).where(cases.c.status == "queued", cases.c.client_no.is_not(None))
        )
    ).all()
    return [
        Waiting(
            case=QueuedCase(case_id=r.case_id, urgency=r.urgency, queued_at=r.queued_at),
            channel=r.channel,
            client_id=r.client_id,
            last_notice_at=r.last_notice_at,
            reminders=int(r.reminders),
        )
        for r in rows
    ]


async def finished_since(session: AsyncSession, *, since: datetime) -> list[Finished]:
    rows = (
        await session.execute(
            select(cases.c.assigned_at, cases.c.closed_at).where(
                cases.c.status == "closed",
                cases.c.closed_at >= since,
                cases.c.assigned_at.is_not(None),
            )
        )
    ).all()
    return [Finished(assigned_at=r.assigned_at, closed_at=r.closed_at) for r in rows]


async def answered_since(session: AsyncSession, *, since: datetime) -> list[Answered]:
    rows = (
        await session.execute(
            select(cases.c.queued_at, cases.c.first_response_at).where(
                cases.c.first_response_at >= since
            )
        )
    ).all()
    return [Answered(queued_at=r.queued_at, first_response_at=r.first_response_at) for r in rows]


async def record_staff_message(session: AsyncSession, *, case_id: UUID, at: datetime) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(
            last_staff_message_at=func.greatest(
                func.coalesce(cases.c.last_staff_message_at, at), at
            )
        )
    )


@dataclass(frozen=True)
class Unanswered:
    case: CaseRow
    assigned_at: datetime


async def lock_unanswered_cases(
    session: AsyncSession, *, assigned_before: datetime
) -> list[Unanswered]:
    """Assigned before then, no counsellor message since their assignment."""
    rows = (
        await session.execute(
            select(*_CASE_COLUMNS, cases.c.assigned_at)
            .where(
                cases.c.status == "assigned",
                cases.c.assigned_at <= assigned_before,
                or_(
                    cases.c.last_staff_message_at.is_(None),
                    cases.c.last_staff_message_at < cases.c.assigned_at,
                ),
            )
            .order_by(cases.c.assigned_at)
            .with_for_update(skip_locked=True, of=cases)
        )
    ).all()
    return [Unanswered(case=_case(r), assigned_at=r.assigned_at) for r in rows]


async def set_first_response(session: AsyncSession, *, case_id: UUID, at: datetime) -> bool:
    """The first counsellor message of an assigned case (later ones change nothing)."""
    row = (
        await session.execute(
            update(cases)
            .where(
                cases.c.case_id == case_id,
                cases.c.first_response_at.is_(None),
                cases.c.assigned_at.is_not(None),
            )
            .values(first_response_at=at)
            .returning(cases.c.case_id)
        )
    ).first()
    return row is not None


@dataclass(frozen=True)
class DeskState:
    level: str
    desk_open: bool
    seq: int


async def lock_desk_state(session: AsyncSession) -> DeskState | None:
    row = (await session.execute(select(desk_state).with_for_update())).first()
    return DeskState(level=row.level, desk_open=row.desk_open, seq=row.seq) if row else None


async def save_desk_state(
    session: AsyncSession, *, level: str, desk_open: bool, seq: int, at: datetime
) -> None:
    stmt = pg_insert(desk_state).values(
        id=1, level=level, desk_open=desk_open, seq=seq, changed_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[desk_state.c.id],
            set_={"level": level, "desk_open": desk_open, "seq": seq, "changed_at": at},
        )
    )


async def queued_clients(session: AsyncSession) -> list[UUID]:
    rows = await session.execute(
        select(cases.c.client_id).where(cases.c.status == "queued", cases.c.client_no.is_not(None))
    )
    return [r.client_id for r in rows]


# --- the intake questionnaire (事前アンケート) --------------------------------------


@dataclass(frozen=True)
class IntakeRow:
    step: str | None
    retried: bool
    consent: str | None
    age_group: str | None
    region: str | None
    gender_report: str | None


async def intake_of(session: AsyncSession, *, case_id: UUID) -> IntakeRow:
    row = (
        await session.execute(
            select(
                cases.c.intake_step,
                cases.c.intake_retried,
                cases.c.intake_consent,
                cases.c.intake_age_group,
                cases.c.intake_region,
                cases.c.intake_gender_report,
            ).where(cases.c.case_id == case_id)
        )
    ).one()
    return IntakeRow(
        step=row.intake_step,
        retried=row.intake_retried,
        consent=row.intake_consent,
        age_group=row.intake_age_group,
        region=row.intake_region,
        gender_report=row.intake_gender_report,
    )


async def save_intake(
    session: AsyncSession,
    *,
    case_id: UUID,
    step: str,
    retried: bool,
    consent: str | None,
    age_group: str | None,
    region: str | None,
    at: datetime,
) -> None:
    """The question now asked and the answers so far; the case waits in 'intake'."""
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(
            status="intake",
            intake_step=step,
            intake_retried=retried,
            intake_asked_at=at,
            intake_consent=consent,
            intake_age_group=age_group,
            intake_region=region,
        )
    )


async def finish_intake(
    session: AsyncSession,
    *,
    case_id: UUID,
    outcome: str,
    consent: str | None,
    age_group: str | None,
    region: str | None,
    gender_identity: str | None,
    gender_report: str | None,
    queue: bool,
) -> None:
    """The questionnaire ended: keep the answers; a case to serve joins the queue
    (queued_at kept: it waits from the client's first message)."""
    values: dict[str, object] = {
        "intake_step": None,
        "intake_outcome": outcome,
        "intake_consent": consent,
        "intake_age_group": age_group,
        "intake_region": region,
        "intake_gender_identity": gender_identity,
        "intake_gender_report": gender_report,
    }
    if queue:
        values["status"] = "queued"
    await session.execute(update(cases).where(cases.c.case_id == case_id).values(**values))


async def lock_stale_intakes(session: AsyncSession, *, asked_before: datetime) -> list[CaseRow]:
    """Cases whose client has not answered the last question since then."""
    rows = (
        await session.execute(
            select(*_CASE_COLUMNS)
            .where(
                cases.c.status == "intake",
                func.greatest(
                    cases.c.intake_asked_at,
                    func.coalesce(cases.c.last_message_at, cases.c.intake_asked_at),
                )
                < asked_before,
            )
            .order_by(cases.c.queued_at)
            .with_for_update(skip_locked=True, of=cases)
        )
    ).all()
    return [_case(r) for r in rows]


async def intake_clients(session: AsyncSession) -> list[UUID]:
    rows = await session.execute(select(cases.c.client_id).where(cases.c.status == "intake"))
    return [r.client_id for r in rows]
