"""Exactly-once effect on top of at-least-once delivery.

Each service keeps a ``processed_events`` table in its own schema; a handler
records the event id in the same transaction as its effect, so a redelivered
event changes nothing. An ``outbox`` table holds events to publish, written in
the same transaction as the state they describe; :mod:`sodan_shared.outbox`
relays them to JetStream.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from sodan_shared.events.envelope import Envelope
from sodan_shared.subjects import subject_for
from sodan_shared.tracing import inject_headers


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(80), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    )


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("data", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    )


# Statements built once per table: every event runs both, and building a statement and
# its cache key again each time cost more of a consumer's CPU than running it.
@cache
def _first_time_statement(table: Table) -> Executable:
    return (
        pg_insert(table)
        .values(event_id=bindparam("event_id"), consumer=bindparam("consumer"))
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(table.c.event_id)
    )


@cache
def _outbox_statement(table: Table) -> Executable:
    return insert(table).values(
        event_id=bindparam("event_id"),
        subject=bindparam("subject"),
        data=bindparam("data"),
        headers=bindparam("headers", type_=table.c.headers.type),
    )


async def first_time(session: AsyncSession, table: Table, *, event_id: UUID, consumer: str) -> bool:
    """Record the event as processed; False if it already was (then do nothing)."""
    result = await session.execute(
        _first_time_statement(table), {"event_id": event_id, "consumer": consumer}
    )
    return result.first() is not None


async def add_to_outbox(session: AsyncSession, table: Table, event: Envelope[Any]) -> None:
    """Queue an event for publishing, atomically with the caller's other writes."""
    await session.execute(
        _outbox_statement(table),
        {
            "event_id": event.id,
            "subject": subject_for(event).name,
            "data": event.to_bytes(),
            "headers": inject_headers({"Nats-Msg-Id": str(event.id)}),
        },
    )
