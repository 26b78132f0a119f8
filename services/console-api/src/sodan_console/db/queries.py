"""Reads and writes of the ``console`` schema: keyword-only, explicit session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from sodan_shared.events.triage import URGENCY_RANK
from sqlalchemy import (
    BigInteger,
    Select,
    String,
    Text,
    Uuid,
    and_,
    case,
    delete,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.cursor import CaseCursor
from sodan_console.db import karte
from sodan_console.db.tables import (
    case_assignments,
    case_labels,
    case_reads,
    cases,
    clients,
    desk_status,
    messages,
    push_results,
    sessions,
    staff,
    unsent_messages,
)
from sodan_console.policy import Viewer, sees_every_case

# --- staff and sessions -----------------------------------------------------


async def staff_by_login(session: AsyncSession, *, login: str) -> Any:
    return (await session.execute(select(staff).where(staff.c.login == login))).first()


async def staff_by_id(session: AsyncSession, *, staff_id: UUID) -> Any:
    return (await session.execute(select(staff).where(staff.c.staff_id == staff_id))).first()


async def set_password_hash(session: AsyncSession, *, staff_id: UUID, password_hash: str) -> None:
    await session.execute(
        update(staff).where(staff.c.staff_id == staff_id).values(password_hash=password_hash)
    )


async def upsert_staff(
    session: AsyncSession,
    *,
    staff_id: UUID,
    login: str,
    display_name: str,
    role: str,
    password_hash: str,
    capacity: int = 3,
) -> None:
    stmt = pg_insert(staff).values(
        staff_id=staff_id,
        login=login,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        capacity=capacity,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[staff.c.login],
            set_={
                "display_name": stmt.excluded.display_name,
                "role": stmt.excluded.role,
                "password_hash": stmt.excluded.password_hash,
                "disabled": False,
                # the seed sets a known password: nothing left to change
                "password_change_required": False,
            },
        )
    )


async def set_presence(
    session: AsyncSession, *, staff_id: UUID, presence: str, now: datetime
) -> Any:
    return (
        await session.execute(
            update(staff)
            .where(staff.c.staff_id == staff_id)
            .values(presence=presence, presence_changed_at=now)
            .returning(staff)
        )
    ).one()


async def create_session(
    session: AsyncSession,
    *,
    token_hash: bytes,
    staff_id: UUID,
    now: datetime,
    expires_at: datetime,
    enrol_only: bool = False,
) -> None:
    await session.execute(
        sessions.insert().values(
            token_hash=token_hash,
            staff_id=staff_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            enrol_only=enrol_only,
        )
    )


async def session_with_staff(session: AsyncSession, *, token_hash: bytes) -> Any:
    """The session and its staff member, or None; disabled staff have no session."""
    query = (
        select(
            sessions.c.created_at,
            sessions.c.last_seen_at,
            sessions.c.expires_at,
            sessions.c.enrol_only,
            staff.c.password_change_required,
            staff.c.staff_id,
            staff.c.login,
            staff.c.display_name,
            staff.c.role,
            staff.c.capacity,
            staff.c.presence,
        )
        .join(staff, staff.c.staff_id == sessions.c.staff_id)
        .where(sessions.c.token_hash == token_hash, staff.c.disabled.is_(False))
    )
    return (await session.execute(query)).first()


async def touch_session(session: AsyncSession, *, token_hash: bytes, now: datetime) -> None:
    await session.execute(
        update(sessions).where(sessions.c.token_hash == token_hash).values(last_seen_at=now)
    )


async def delete_session(session: AsyncSession, *, token_hash: bytes) -> None:
    await session.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


async def purge_expired_sessions(session: AsyncSession, *, now: datetime) -> None:
    await session.execute(delete(sessions).where(sessions.c.expires_at < now))


# --- projections fed by the stream ---------------------------------------------


async def upsert_client(
    session: AsyncSession, *, client_id: UUID, client_no: int, channel: str, seen_at: datetime
) -> None:
    stmt = pg_insert(clients).values(
        client_id=client_id, client_no=client_no, channel=channel, first_seen_at=seen_at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[clients.c.client_id],
            set_={
                "first_seen_at": func.least(clients.c.first_seen_at, stmt.excluded.first_seen_at)
            },
        )
    )


# Chat lines for follow events: stored with the messages, but not something the
# client wrote (they never make a case's last message time).
FOLLOW_LINES = ("followed", "blocked", "unblocked")


async def client_follow_changed(
    session: AsyncSession,
    *,
    event_id: UUID,
    client_id: UUID,
    client_no: int,
    channel: str,
    blocked: bool,
    line: str,
    at: datetime,
) -> None:
    """The client followed, blocked or unblocked the account: the latest by LINE's
    time decides ``blocked``, and the chat gets a line (``line`` is its kind)."""
    await upsert_client(
        session, client_id=client_id, client_no=client_no, channel=channel, seen_at=at
    )
    await session.execute(
        update(clients)
        .where(
            clients.c.client_id == client_id,
            or_(clients.c.follow_changed_at.is_(None), clients.c.follow_changed_at <= at),
        )
        .values(blocked=blocked, follow_changed_at=at)
    )
    await session.execute(
        pg_insert(messages)
        .values(message_id=event_id, client_id=client_id, direction="in", kind=line, sent_at=at)
        .on_conflict_do_nothing(index_elements=[messages.c.message_id])
    )


async def client_blocked(session: AsyncSession, *, client_id: UUID) -> bool:
    found = (
        await session.execute(select(clients.c.blocked).where(clients.c.client_id == client_id))
    ).scalar_one_or_none()
    return bool(found)


async def _lock_line_message(session: AsyncSession, client_id: UUID, line_message_id: str) -> None:
    """Serialise the message, its score and its unsend for one LINE message.

    Without it an unsend and its message consumed at the same moment could each
    miss the other's uncommitted row, and the deleted message would stay.
    """
    await _advisory_lock(session, f"{client_id}:{line_message_id}")


async def _advisory_lock(session: AsyncSession, key: str) -> None:
    """A lock on ``key`` until the transaction ends (PostgreSQL advisory lock)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def _is_unsent(session: AsyncSession, client_id: UUID, line_message_id: str) -> bool:
    found = (
        await session.execute(
            select(unsent_messages.c.client_id).where(
                unsent_messages.c.client_id == client_id,
                unsent_messages.c.line_message_id == line_message_id,
            )
        )
    ).first()
    return found is not None


async def upsert_inbound_message(
    session: AsyncSession,
    *,
    message_id: UUID,
    client_id: UUID,
    line_message_id: str,
    kind: str,
    body: str | None,
    sent_at: datetime,
    personal_data: list[str],
    late: bool,
    media_status: str | None = None,
    location: str | None = None,
) -> bool:
    """Store a client message; False (and nothing kept) when the client already unsent it."""
    await _lock_line_message(session, client_id, line_message_id)
    if await _is_unsent(session, client_id, line_message_id):
        # A score may have left a placeholder row before the unsend: drop it too.
        await session.execute(delete(messages).where(messages.c.message_id == message_id))
        return False
    stmt = pg_insert(messages).values(
        message_id=message_id,
        client_id=client_id,
        direction="in",
        kind=kind,
        body=body,
        sent_at=sent_at,
        line_message_id=line_message_id,
        personal_data=personal_data,
        late=late,
        media_status=media_status,
        location=location,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[messages.c.message_id],
            set_={
                "kind": stmt.excluded.kind,
                "body": stmt.excluded.body,
                "sent_at": sent_at,
                "line_message_id": line_message_id,
                "personal_data": stmt.excluded.personal_data,
                "late": late,
                # The media outcome may have come first: never back to pending.
                "media_status": func.coalesce(messages.c.media_status, media_status),
                "location": stmt.excluded.location,
            },
        )
    )
    return True


async def upsert_message_score(
    session: AsyncSession,
    *,
    message_id: UUID,
    client_id: UUID,
    line_message_id: str,
    urgency: str,
    matched_terms: list[str],
    score_reasons: list[dict[str, Any]] | None = None,
) -> bool:
    """Attach a score (a placeholder row if the message is not here yet); False if unsent."""
    await _lock_line_message(session, client_id, line_message_id)
    if await _is_unsent(session, client_id, line_message_id):
        return False
    stmt = pg_insert(messages).values(
        message_id=message_id,
        client_id=client_id,
        direction="in",
        urgency=urgency,
        matched_terms=matched_terms,
        score_reasons=score_reasons or [],
        # Set on the placeholder too, so an unsend before the message finds it.
        line_message_id=line_message_id,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[messages.c.message_id],
            set_={
                "urgency": urgency,
                "matched_terms": stmt.excluded.matched_terms,
                "score_reasons": stmt.excluded.score_reasons,
            },
        )
    )
    return True


async def unsend_message(
    session: AsyncSession, *, client_id: UUID, line_message_id: str, unsent_at: datetime
) -> int:
    """Remember the unsend and delete the message (ciphertext included); returns rows deleted."""
    await _lock_line_message(session, client_id, line_message_id)
    await session.execute(
        pg_insert(unsent_messages)
        .values(client_id=client_id, line_message_id=line_message_id, unsent_at=unsent_at)
        .on_conflict_do_nothing(
            index_elements=[unsent_messages.c.client_id, unsent_messages.c.line_message_id]
        )
    )
    result = await session.execute(
        delete(messages).where(
            messages.c.client_id == client_id,
            messages.c.line_message_id == line_message_id,
            messages.c.direction == "in",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def note_client_message(
    session: AsyncSession, *, client_id: UUID, client_no: int, at: datetime
) -> list[UUID]:
    """A client wrote: bump their cases' last message time; returns those case ids."""
    rows = await session.execute(
        update(cases)
        .where(cases.c.client_id == client_id)
        .values(
            last_message_at=func.greatest(func.coalesce(cases.c.last_message_at, at), at),
            client_no=func.coalesce(cases.c.client_no, client_no),
            updated_at=func.now(),
        )
        .returning(cases.c.case_id)
    )
    return [r.case_id for r in rows]


async def _latest_message_at(session: AsyncSession, client_id: UUID) -> datetime | None:
    latest: datetime | None = (
        await session.execute(
            select(func.max(messages.c.sent_at)).where(
                messages.c.client_id == client_id,
                messages.c.direction == "in",
                messages.c.kind.not_in(FOLLOW_LINES),
            )
        )
    ).scalar()
    return latest


def _status_at_least(new: str) -> Any:
    """Statuses only move forward (queued < assigned < closed) whatever the arrival order."""
    order = {"queued": 0, "assigned": 1, "on_hold": 1, "closed": 2}
    current = case(order, value=cases.c.status, else_=0)
    return case((current >= order[new], cases.c.status), else_=new)


async def case_opened(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_id: UUID,
    client_no: int,
    channel: str,
    urgency: str,
    queued_at: datetime,
    event_at: datetime,
    first_message_id: UUID,
    previous_case_id: UUID | None = None,
    intake: bool = False,
) -> None:
    rank = URGENCY_RANK[urgency]
    stmt = pg_insert(cases).values(
        previous_case_id=previous_case_id,
        case_id=case_id,
        client_id=client_id,
        client_no=client_no,
        channel=channel,
        status="queued",
        urgency=urgency,
        urgency_rank=rank,
        urgency_at=event_at,
        opened_at=queued_at,
        open_known=True,
        last_message_at=await _latest_message_at(session, client_id),
        intake="running" if intake else None,
    )
    newer_urgency = or_(cases.c.urgency_at.is_(None), cases.c.urgency_at <= event_at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[cases.c.case_id],
            set_={
                "client_no": client_no,
                "channel": channel,
                "opened_at": queued_at,
                "open_known": True,
                "previous_case_id": previous_case_id,
                # the questionnaire's end may have been projected first
                "intake": func.coalesce(cases.c.intake, stmt.excluded.intake),
                "status": _status_at_least("queued"),
                "urgency": case((newer_urgency, urgency), else_=cases.c.urgency),
                "urgency_rank": case((newer_urgency, rank), else_=cases.c.urgency_rank),
                "urgency_at": case((newer_urgency, event_at), else_=cases.c.urgency_at),
                "last_message_at": func.greatest(
                    cases.c.last_message_at, stmt.excluded.last_message_at
                ),
                "updated_at": func.now(),
            },
        )
    )
    await session.execute(
        update(messages)
        .where(messages.c.message_id == first_message_id, messages.c.case_id.is_(None))
        .values(case_id=case_id)
    )


async def _client_no(session: AsyncSession, client_id: UUID) -> int | None:
    found: int | None = (
        await session.execute(select(clients.c.client_no).where(clients.c.client_id == client_id))
    ).scalar()
    return found


async def case_assigned(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_id: UUID,
    channel: str,
    counsellor_id: UUID,
    event_at: datetime,
) -> None:
    stmt = pg_insert(cases).values(
        case_id=case_id,
        client_id=client_id,
        client_no=await _client_no(session, client_id),
        channel=channel,
        status="assigned",
        assigned_to=counsellor_id,
        assignment_at=event_at,
        assigned_at=event_at,
        opened_at=event_at,  # provisional until case.opened arrives
        last_message_at=await _latest_message_at(session, client_id),
    )
    newer = or_(cases.c.assignment_at.is_(None), cases.c.assignment_at <= event_at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[cases.c.case_id],
            set_={
                "status": case(
                    # a closed case is assigned again only once it reopened after that close
                    (
                        and_(
                            cases.c.status == "closed",
                            or_(cases.c.closed_at.is_(None), cases.c.closed_at >= event_at),
                        ),
                        cases.c.status,
                    ),
                    (newer, "assigned"),
                    else_=cases.c.status,
                ),
                "assigned_to": case((newer, counsellor_id), else_=cases.c.assigned_to),
                "assigned_at": case((newer, event_at), else_=cases.c.assigned_at),
                "assignment_at": case((newer, event_at), else_=cases.c.assignment_at),
                "opened_at": case(
                    (cases.c.open_known, cases.c.opened_at),
                    else_=func.least(cases.c.opened_at, event_at),
                ),
                "updated_at": func.now(),
            },
        )
    )
    await karte.note_assignment(session, case_id=case_id, staff_id=counsellor_id, at=event_at)


async def case_unanswered(session: AsyncSession, *, case_id: UUID, assigned_at: datetime) -> None:
    """Routing says this assignment has had no counsellor message for too long."""
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id, cases.c.status == "assigned")
        .values(unanswered_assignment_at=assigned_at, updated_at=func.now())
    )


async def case_returned_to_queue(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_id: UUID,
    channel: str,
    event_at: datetime,
) -> None:
    """Back in the queue (its counsellor left), unless a later assignment or close won."""
    stmt = pg_insert(cases).values(
        case_id=case_id,
        client_id=client_id,
        client_no=await _client_no(session, client_id),
        channel=channel,
        status="queued",
        assignment_at=event_at,
        opened_at=event_at,  # provisional until case.opened arrives
        last_message_at=await _latest_message_at(session, client_id),
    )
    newer = and_(
        cases.c.status != "closed",
        or_(cases.c.assignment_at.is_(None), cases.c.assignment_at <= event_at),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[cases.c.case_id],
            set_={
                "status": case((newer, "queued"), else_=cases.c.status),
                "assigned_to": case((newer, None), else_=cases.c.assigned_to),
                "assigned_at": case((newer, None), else_=cases.c.assigned_at),
                "assignment_at": case((newer, event_at), else_=cases.c.assignment_at),
                "updated_at": func.now(),
            },
        )
    )


async def case_urgency_changed(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_id: UUID,
    channel: str,
    urgency: str,
    event_at: datetime,
) -> None:
    rank = URGENCY_RANK[urgency]
    stmt = pg_insert(cases).values(
        case_id=case_id,
        client_id=client_id,
        client_no=await _client_no(session, client_id),
        channel=channel,
        status="queued",
        urgency=urgency,
        urgency_rank=rank,
        urgency_at=event_at,
        opened_at=event_at,
        last_message_at=await _latest_message_at(session, client_id),
    )
    newer = or_(cases.c.urgency_at.is_(None), cases.c.urgency_at <= event_at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[cases.c.case_id],
            set_={
                "urgency": case((newer, urgency), else_=cases.c.urgency),
                "urgency_rank": case((newer, rank), else_=cases.c.urgency_rank),
                "urgency_at": case((newer, event_at), else_=cases.c.urgency_at),
                "updated_at": func.now(),
            },
        )
    )


async def case_closed(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_id: UUID,
    channel: str,
    event_at: datetime,
    outcome: str | None = None,
    topics: Sequence[str] = (),
) -> None:
    stmt = pg_insert(cases).values(
        case_id=case_id,
        client_id=client_id,
        client_no=await _client_no(session, client_id),
        channel=channel,
        status="closed",
        opened_at=event_at,
        closed_at=event_at,
        last_message_at=await _latest_message_at(session, client_id),
        outcome=outcome,
        topics=list(topics),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[cases.c.case_id],
            set_={
                "status": "closed",
                "closed_at": event_at,
                "outcome": outcome,
                "topics": list(topics),
                "close_request": None,
                "attention": None,
                # Ingress ends the mode with the case too (it follows case.closed).
                "emergency_mode": False,
                "updated_at": func.now(),
            },
        )
    )


async def _lock_push(session: AsyncSession, push_id: UUID) -> None:
    """Serialise a push's result with the projection of its automatic message."""
    await _advisory_lock(session, f"push:{push_id}")


async def record_media(
    session: AsyncSession,
    *,
    message_id: UUID,
    client_id: UUID,
    line_message_id: str,
    status: str,
    content_type: str | None = None,
    size: int | None = None,
    object_name: str | None = None,
    error: str | None = None,
) -> bool:
    """Ingress stored (or could not fetch) a message's media; a placeholder row if the
    message is not here yet. A late 'failed' never undoes 'stored'. False if unsent."""
    await _lock_line_message(session, client_id, line_message_id)
    if await _is_unsent(session, client_id, line_message_id):
        return False
    values = {
        "media_status": status,
        "media_content_type": content_type,
        "media_size": size,
        "media_object": object_name,
        "media_error": error,
    }
    stmt = pg_insert(messages).values(
        message_id=message_id,
        client_id=client_id,
        direction="in",
        line_message_id=line_message_id,
        **values,
    )
    stored = messages.c.media_status == "stored"
    set_: dict[str, Any] = (
        values
        if status == "stored"
        else {k: case((stored, messages.c[k]), else_=v) for k, v in values.items()}
    )
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[messages.c.message_id], set_=set_)
    )
    return True


async def set_emergency_mode(
    session: AsyncSession, *, case_id: UUID, enabled: bool, at: datetime
) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(emergency_mode=enabled, emergency_changed_at=at, updated_at=func.now())
    )


async def media_message(session: AsyncSession, *, message_id: UUID, client_id: UUID) -> Any:
    query = select(
        messages.c.message_id,
        messages.c.kind,
        messages.c.media_status,
        messages.c.media_content_type,
        messages.c.media_object,
    ).where(
        messages.c.message_id == message_id,
        messages.c.client_id == client_id,
        messages.c.direction == "in",
    )
    return (await session.execute(query)).first()


async def record_push_result(
    session: AsyncSession, *, push_id: UUID, status: str, error: str | None = None
) -> UUID | None:
    """Mark an outbound message sent/failed; a late 'failed' never undoes 'sent'.

    The result is also kept by push id, for an automatic message projected later.
    Returns the client id of the message, or None when no message is here (yet).
    """
    await _lock_push(session, push_id)
    error = error[:200] if error and status == "failed" else None
    stmt = pg_insert(push_results).values(push_id=push_id, status=status, error=error)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[push_results.c.push_id],
            set_={"status": stmt.excluded.status, "error": stmt.excluded.error},
            where=push_results.c.status != "sent",
        )
    )
    row = (
        await session.execute(
            update(messages)
            .where(
                or_(messages.c.message_id == push_id, messages.c.push_id == push_id),
                messages.c.direction == "out",
                or_(messages.c.delivery.is_(None), messages.c.delivery != "sent"),
            )
            .values(delivery=status, delivery_error=error)
            .returning(messages.c.client_id)
        )
    ).first()
    return row.client_id if row else None


async def add_automatic_messages(
    session: AsyncSession,
    *,
    push_id: UUID,
    message_ids: Sequence[UUID],
    client_id: UUID,
    case_id: UUID | None,
    bodies: Sequence[str],
    sent_at: datetime,
    quick_replies: str | None = None,
) -> None:
    """Project what the system sent a client (still sealed), with any result already known;
    its quick-reply buttons (sealed) go with the last text, as LINE shows them."""
    await _lock_push(session, push_id)
    known = (
        await session.execute(
            select(push_results.c.status, push_results.c.error).where(
                push_results.c.push_id == push_id
            )
        )
    ).first()
    last = len(bodies) - 1
    for i, (message_id, body) in enumerate(zip(message_ids, bodies, strict=True)):
        await session.execute(
            pg_insert(messages)
            .values(
                message_id=message_id,
                client_id=client_id,
                case_id=case_id,
                direction="out",
                kind="text",
                body=body,
                sent_at=sent_at,
                delivery=known.status if known else "pending",
                delivery_error=known.error if known else None,
                push_id=push_id,
                automatic=True,
                quick_replies=quick_replies if i == last else None,
            )
            .on_conflict_do_nothing(index_elements=[messages.c.message_id])
        )


async def add_outbound_message(
    session: AsyncSession,
    *,
    message_id: UUID,
    client_id: UUID,
    case_id: UUID,
    body: str | None,
    staff_id: UUID,
    sent_at: datetime,
    sticker: str | None = None,
    quick_replies: str | None = None,
) -> None:
    await session.execute(
        messages.insert().values(
            message_id=message_id,
            client_id=client_id,
            case_id=case_id,
            direction="out",
            kind="text" if body is not None else "sticker",
            body=body,
            sent_at=sent_at,
            delivery="pending",
            staff_id=staff_id,
            sticker=sticker,
            quick_replies=quick_replies,
        )
    )
    # A counsellor wrote: routing's "unanswered" alert for this case is over.
    await session.execute(
        update(cases).where(cases.c.case_id == case_id).values(unanswered_assignment_at=None)
    )


async def take_failed_reply(session: AsyncSession, *, message_id: UUID, case_id: UUID) -> Any:
    """A counsellor's reply in this case whose delivery failed, marked pending again for
    its resend (locked: two clicks resend once). None when there is no such reply."""
    row = (
        await session.execute(
            select(messages)
            .where(
                messages.c.message_id == message_id,
                messages.c.case_id == case_id,
                messages.c.direction == "out",
                messages.c.staff_id.is_not(None),
            )
            .with_for_update()
        )
    ).first()
    if row is None or row.delivery != "failed":
        return row
    await session.execute(
        update(messages)
        .where(messages.c.message_id == message_id)
        .values(delivery="pending", delivery_error=None)
    )
    return row


async def note_case_read(
    session: AsyncSession,
    *,
    case_id: UUID,
    up_to_message_id: UUID,
    up_to_sent_at: datetime,
    at: datetime,
) -> bool:
    """Remember the newest message marked read for a case; True only when it is newer
    than any marked before (concurrent opens race on the row: exactly one gets True;
    after an unsend the newest shown may be older, and nothing is marked again)."""
    stmt = pg_insert(case_reads).values(
        case_id=case_id,
        up_to_message_id=up_to_message_id,
        up_to_sent_at=up_to_sent_at,
        marked_at=at,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[case_reads.c.case_id],
        set_={
            "up_to_message_id": stmt.excluded.up_to_message_id,
            "up_to_sent_at": stmt.excluded.up_to_sent_at,
            "marked_at": at,
        },
        where=case_reads.c.up_to_sent_at < stmt.excluded.up_to_sent_at,
    ).returning(case_reads.c.case_id)
    return (await session.execute(upsert)).first() is not None


async def desk_status_changed(
    session: AsyncSession, *, channel: str, values: dict[str, Any], at: datetime
) -> None:
    """Keep routing's latest announcement per channel; an older one never wins."""
    stmt = pg_insert(desk_status).values(channel=channel, changed_at=at, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[desk_status.c.channel],
            set_={**{k: stmt.excluded[k] for k in values}, "changed_at": at},
            where=desk_status.c.changed_at <= at,
        )
    )


async def desk_statuses(session: AsyncSession) -> Sequence[Any]:
    return (await session.execute(select(desk_status).order_by(desk_status.c.channel))).all()


# --- reads for the API ------------------------------------------------------------

assignee = staff.alias("assignee")

_CASE_COLUMNS = (
    cases.c.case_id,
    cases.c.client_id,
    cases.c.client_no,
    cases.c.channel,
    cases.c.status,
    cases.c.urgency,
    cases.c.urgency_rank,
    cases.c.assigned_to,
    assignee.c.display_name.label("assignee_name"),
    cases.c.opened_at,
    cases.c.assigned_at,
    cases.c.closed_at,
    cases.c.last_message_at,
    cases.c.emergency_mode,
    cases.c.unanswered_assignment_at,
    cases.c.previous_case_id,
    cases.c.outcome,
    cases.c.topics,
    cases.c.close_request,
    cases.c.attention,
    cases.c.survey_answer,
    cases.c.intake,
    cases.c.intake_consent,
    cases.c.intake_age_group,
    cases.c.intake_region,
    cases.c.intake_gender_identity,
)


async def list_cases(session: AsyncSession, query: Select[Any]) -> Sequence[Any]:
    """A page of the case list (``query`` from :func:`case_list_query`)."""
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows


def case_list_query(
    *,
    viewer: Viewer,
    statuses: Sequence[str],
    urgencies: Sequence[str] | None,
    after: CaseCursor | None,
    limit: int,
    assigned: UUID | Literal["unassigned"] | None = None,
    channels: Sequence[str] = (),
    opened_since: datetime | None = None,
    opened_until: datetime | None = None,
    label_ids: Sequence[int] = (),
) -> Select[Any]:
    """The case list's SELECT: most urgent first, then longest waiting, after ``after``.

    Every filter narrows the list; none widens what a counsellor may see. Each is
    written so that an index in the list's order serves it (migration 0017).
    """
    query = select(*_CASE_COLUMNS).select_from(
        cases.outerjoin(assignee, assignee.c.staff_id == cases.c.assigned_to)
    )
    # Every open status is "not closed", and every status is no condition: said that way,
    # the planner estimates the rows well and walks the (partial) index in order.
    wanted = set(statuses)
    if wanted == {"queued", "assigned", "on_hold"}:
        query = query.where(cases.c.status != "closed")
    elif wanted != {"queued", "assigned", "on_hold", "closed"}:
        query = query.where(cases.c.status.in_(sorted(wanted)))
    if not sees_every_case(viewer):
        # the queue, their own cases and, read-only, the cases they once had
        once = select(case_assignments.c.case_id).where(
            case_assignments.c.staff_id == viewer.staff_id
        )
        mine = or_(cases.c.assigned_to == viewer.staff_id, cases.c.case_id.in_(once))
        if "queued" in statuses:
            query = query.where(or_(cases.c.status == "queued", mine))
        else:
            query = query.where(mine)
    if urgencies:
        ranks = sorted({URGENCY_RANK[u] for u in urgencies})
        query = query.where(cases.c.urgency_rank.in_(ranks))
    if assigned == "unassigned":
        query = query.where(cases.c.assigned_to.is_(None))
    elif assigned is not None:
        query = query.where(cases.c.assigned_to == assigned)
    if channels:
        query = query.where(cases.c.channel.in_(channels))
    if opened_since is not None:
        query = query.where(cases.c.opened_at >= opened_since)
    if opened_until is not None:
        query = query.where(cases.c.opened_at < opened_until)
    if label_ids:
        labelled = select(case_labels.c.case_id).where(
            case_labels.c.case_id == cases.c.case_id, case_labels.c.label_id.in_(label_ids)
        )
        query = query.where(labelled.exists())
    if after is not None:
        query = query.where(
            or_(
                cases.c.urgency_rank < after.urgency_rank,
                and_(
                    cases.c.urgency_rank == after.urgency_rank,
                    or_(
                        cases.c.opened_at > after.opened_at,
                        and_(
                            cases.c.opened_at == after.opened_at,
                            cases.c.case_id > after.case_id,
                        ),
                    ),
                ),
            )
        )
    return query.order_by(cases.c.urgency_rank.desc(), cases.c.opened_at, cases.c.case_id).limit(
        limit
    )


async def get_case(session: AsyncSession, *, case_id: UUID) -> Any:
    query = (
        select(*_CASE_COLUMNS)
        .select_from(cases.outerjoin(assignee, assignee.c.staff_id == cases.c.assigned_to))
        .where(cases.c.case_id == case_id)
    )
    return (await session.execute(query)).first()


async def client_messages(session: AsyncSession, *, client_id: UUID, limit: int) -> Sequence[Any]:
    """The client's conversation (every case), oldest first, the latest ``limit``.

    An unsent message is gone, but a line says that one was unsent (and when), so
    a counsellor is not puzzled by a reply to something no longer there.
    """
    kept = (
        select(
            messages.c.message_id,
            messages.c.case_id,
            messages.c.direction,
            messages.c.kind,
            messages.c.body,
            messages.c.sent_at,
            messages.c.urgency,
            messages.c.matched_terms,
            messages.c.score_reasons,
            messages.c.delivery,
            messages.c.delivery_error,
            messages.c.staff_id,
            messages.c.personal_data,
            messages.c.late,
            messages.c.automatic,
            messages.c.media_status,
            messages.c.media_content_type,
            messages.c.media_size,
            messages.c.media_error,
            messages.c.location,
            messages.c.sticker,
            messages.c.quick_replies,
            staff.c.display_name.label("staff_name"),
        )
        .select_from(messages.outerjoin(staff, staff.c.staff_id == messages.c.staff_id))
        .where(messages.c.client_id == client_id, messages.c.sent_at.is_not(None))
    )
    unsent = select(
        func.md5(func.concat(unsent_messages.c.client_id, ":", unsent_messages.c.line_message_id))
        .cast(Uuid)
        .label("message_id"),
        null().cast(Uuid).label("case_id"),
        literal("in").label("direction"),
        literal("unsent").label("kind"),
        null().cast(Text).label("body"),
        unsent_messages.c.unsent_at.label("sent_at"),
        null().cast(String).label("urgency"),
        null().cast(JSONB).label("matched_terms"),
        null().cast(JSONB).label("score_reasons"),
        null().cast(String).label("delivery"),
        null().cast(String).label("delivery_error"),
        null().cast(Uuid).label("staff_id"),
        null().cast(JSONB).label("personal_data"),
        false().label("late"),
        false().label("automatic"),
        null().cast(String).label("media_status"),
        null().cast(Text).label("media_content_type"),
        null().cast(BigInteger).label("media_size"),
        null().cast(String).label("media_error"),
        null().cast(Text).label("location"),
        null().cast(String).label("sticker"),
        null().cast(Text).label("quick_replies"),
        null().cast(String).label("staff_name"),
    ).where(unsent_messages.c.client_id == client_id)
    both = union_all(kept, unsent).subquery()
    latest = (
        select(both).order_by(both.c.sent_at.desc(), both.c.message_id.desc()).limit(limit)
    ).subquery()
    rows = (
        await session.execute(select(latest).order_by(latest.c.sent_at, latest.c.message_id))
    ).all()
    return rows


async def case_intake_finished(
    session: AsyncSession,
    *,
    case_id: UUID,
    client_id: UUID,
    channel: str,
    outcome: str,
    consent: str | None,
    age_group: str | None,
    region: str | None,
    gender_identity: str | None,
    event_at: datetime,
) -> None:
    """The questionnaire ended: its answers, and no more アンケート中."""
    values = {
        "intake": outcome,
        "intake_consent": consent,
        "intake_age_group": age_group,
        "intake_region": region,
        "intake_gender_identity": gender_identity,
    }
    stmt = pg_insert(cases).values(
        case_id=case_id,
        client_id=client_id,
        client_no=await _client_no(session, client_id),
        channel=channel,
        status="queued",
        opened_at=event_at,
        last_message_at=await _latest_message_at(session, client_id),
        **values,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[cases.c.case_id], set_={**values, "updated_at": func.now()}
        )
    )
