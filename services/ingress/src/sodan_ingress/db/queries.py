"""Keyword-only queries on the ingress schema; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import CTE, Update, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from sodan_ingress.db.tables import (
    clients,
    emergency_modes,
    processed_events,
    read_tokens,
    unsent_media,
)


@dataclass(frozen=True)
class KnownClient:
    client_id: UUID
    channel: str
    sealed_line_user_id: str
    ended_at: datetime | None = None


async def remember_client(
    session: AsyncSession | AsyncConnection,
    *,
    client_id: UUID,
    channel: str,
    sealed_line_user_id: str,
) -> None:
    """Keep the first sealed LINE user id we saw for this client (to push later)."""
    await session.execute(
        pg_insert(clients)
        .values(client_id=client_id, channel=channel, line_user_id=sealed_line_user_id)
        .on_conflict_do_nothing(index_elements=["client_id"])
    )


async def find_client(session: AsyncSession, *, client_id: UUID) -> KnownClient | None:
    row = (
        await session.execute(
            select(clients.c.channel, clients.c.line_user_id, clients.c.ended_at).where(
                clients.c.client_id == client_id
            )
        )
    ).first()
    if row is None:
        return None
    return KnownClient(
        client_id=client_id,
        channel=row.channel,
        sealed_line_user_id=row.line_user_id,
        ended_at=row.ended_at,
    )


def _conversation_state(*, client_id: UUID, sent_at: datetime, ends: bool) -> Update:
    """The end word marks the client ended; any later message (by LINE time, so a
    late redelivery of an older one changes nothing) opens them up again."""
    if ends:
        newer = or_(clients.c.ended_at.is_(None), clients.c.ended_at < sent_at)
        return (
            update(clients).where(clients.c.client_id == client_id, newer).values(ended_at=sent_at)
        )
    return (
        update(clients)
        .where(clients.c.client_id == client_id, clients.c.ended_at < sent_at)
        .values(ended_at=None)
    )


async def note_message(
    connection: AsyncConnection,
    *,
    client_id: UUID,
    sent_at: datetime,
    ends: bool,
    read_token: tuple[UUID, str] | None = None,
) -> bool:
    """For a client message: their conversation state, the message's sealed read token
    (message event id, token), and whether they are in emergency mode (the result).

    One statement, so one round trip on the webhook's hot path and atomic without a
    transaction around it. The client's row must exist already (:func:`remember_client`):
    the UPDATE runs on the statement's snapshot and would not see a row inserted beside it.
    """
    writes: list[CTE] = [
        _conversation_state(client_id=client_id, sent_at=sent_at, ends=ends).cte("state")
    ]
    if read_token is not None:
        message_event_id, sealed_token = read_token
        writes.append(
            pg_insert(read_tokens)
            .values(
                message_event_id=message_event_id,
                client_id=client_id,
                sent_at=sent_at,
                token=sealed_token,
            )
            .on_conflict_do_nothing(index_elements=["message_event_id"])
            .cte("token")
        )
    # PostgreSQL runs every data-modifying WITH once, to completion, read or not.
    emergency = select(exists().where(emergency_modes.c.client_id == client_id)).add_cte(*writes)
    return bool((await connection.execute(emergency)).scalar())


async def was_processed(session: AsyncSession, *, event_id: UUID, consumer: str) -> bool:
    stmt = select(
        exists().where(
            processed_events.c.event_id == event_id, processed_events.c.consumer == consumer
        )
    )
    return bool((await session.execute(stmt)).scalar())


async def start_emergency_mode(
    session: AsyncSession, *, client_id: UUID, case_id: UUID, staff_id: UUID, at: datetime
) -> None:
    stmt = pg_insert(emergency_modes).values(
        client_id=client_id, case_id=case_id, enabled_by=staff_id, enabled_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["client_id"],
            set_={"case_id": case_id, "enabled_by": staff_id, "enabled_at": at},
        )
    )


async def end_emergency_mode(
    session: AsyncSession, *, client_id: UUID, case_id: UUID | None = None
) -> bool:
    """Off for the client; with ``case_id`` only if that case switched it on."""
    stmt = delete(emergency_modes).where(emergency_modes.c.client_id == client_id)
    if case_id is not None:
        stmt = stmt.where(emergency_modes.c.case_id == case_id)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def note_unsent_media(
    session: AsyncSession, *, client_id: UUID, line_message_id: str
) -> None:
    await session.execute(
        pg_insert(unsent_media)
        .values(client_id=client_id, line_message_id=line_message_id[:64])
        .on_conflict_do_nothing()
    )


async def was_unsent(session: AsyncSession, *, client_id: UUID, line_message_id: str) -> bool:
    stmt = select(
        exists().where(
            unsent_media.c.client_id == client_id,
            unsent_media.c.line_message_id == line_message_id[:64],
        )
    )
    return bool((await session.execute(stmt)).scalar())


@dataclass(frozen=True)
class ReadToken:
    client_id: UUID
    sent_at: datetime
    sealed_token: str | None  # None: already marked (itself or a later message)


async def find_read_token(session: AsyncSession, *, message_event_id: UUID) -> ReadToken | None:
    row = (
        await session.execute(
            select(read_tokens.c.client_id, read_tokens.c.sent_at, read_tokens.c.token).where(
                read_tokens.c.message_event_id == message_event_id
            )
        )
    ).first()
    if row is None:
        return None
    return ReadToken(client_id=row.client_id, sent_at=row.sent_at, sealed_token=row.token)


async def note_marked_read(
    session: AsyncSession, *, client_id: UUID, up_to: datetime, at: datetime
) -> int:
    """LINE marked this message and every earlier one: their tokens are spent."""
    result = await session.execute(
        update(read_tokens)
        .where(
            read_tokens.c.client_id == client_id,
            read_tokens.c.sent_at <= up_to,
            read_tokens.c.token.is_not(None),
        )
        .values(token=None, marked_at=at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
