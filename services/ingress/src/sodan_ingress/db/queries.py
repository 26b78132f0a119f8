"""Keyword-only queries on the ingress schema; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from uuid import UUID

from sqlalchemy import (
    CTE,
    DateTime,
    Select,
    Text,
    Uuid,
    bindparam,
    delete,
    exists,
    null,
    or_,
    select,
    update,
)
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


@cache
def _note_message_statement(*, ends: bool, with_token: bool) -> Select[bool]:
    """Built once per shape with bound parameters: building and keying a statement with
    CTEs costs more CPU than running it, and this runs for every message. No parameter
    is named like a column: SQLAlchemy would take it as a value for the UPDATE's SET."""
    client_id = bindparam("for_client", type_=Uuid)
    sent_at = bindparam("message_sent_at", type_=DateTime(timezone=True))
    # The end word marks the client ended; any later message (by LINE time, so a
    # late redelivery of an older one changes nothing) opens them up again.
    state = update(clients).where(clients.c.client_id == client_id)
    if ends:
        state = state.where(or_(clients.c.ended_at.is_(None), clients.c.ended_at < sent_at)).values(
            ended_at=sent_at
        )
    else:
        state = state.where(clients.c.ended_at < sent_at).values(ended_at=null())
    writes: list[CTE] = [state.cte("state")]
    if with_token:
        writes.append(
            pg_insert(read_tokens)
            .values(
                message_event_id=bindparam("token_event_id", type_=Uuid),
                client_id=client_id,
                sent_at=sent_at,
                token=bindparam("sealed_token", type_=Text),
            )
            .on_conflict_do_nothing(index_elements=["message_event_id"])
            .cte("token")
        )
    # PostgreSQL runs every data-modifying WITH once, to completion, read or not.
    return select(exists().where(emergency_modes.c.client_id == client_id)).add_cte(*writes)


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
    params: dict[str, object] = {"for_client": client_id, "message_sent_at": sent_at}
    if read_token is not None:
        params["token_event_id"], params["sealed_token"] = read_token
    statement = _note_message_statement(ends=ends, with_token=read_token is not None)
    return bool((await connection.execute(statement, params)).scalar())


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
