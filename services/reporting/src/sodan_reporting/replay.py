"""Replay a period of the stream into a separate schema, for an analyst.

The live projections are untouched: the period's events are read with
ephemeral consumers (nothing durable is created) and applied by the same
Projector into ``<into>``'s copy of the projection tables, so the figures an
analyst rebuilds are computed exactly as the live ones.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError
from pydantic import ValidationError
from sodan_shared.db import session_factory, transaction
from sodan_shared.events.envelope import Envelope
from sodan_shared.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sodan_reporting.db.tables import PROJECTION_TABLES, SCHEMA, metadata, report_notes
from sodan_reporting.handlers import CONSUMERS, Consumer
from sodan_reporting.projector import Projector

log = get_logger()
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class BadReplayError(ValueError):
    """A replay the caller asked for wrongly; the message is shown as is."""


@dataclass(frozen=True)
class ReplayResult:
    schema: str
    applied: int
    skipped_outside: int
    invalid: int


def check_target(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise BadReplayError("--into must be a lowercase schema name (letters, digits, _)")
    if schema in {SCHEMA, "public"} or schema.startswith("pg_"):
        raise BadReplayError(f"--into must not be the live schema or a system one: {schema!r}")
    return schema


def _apply_for(projector: Projector, consumer: Consumer) -> Callable[[Any], Awaitable[bool]]:
    by_durable: dict[str, Callable[..., Awaitable[bool]]] = {
        "reporting-messages-received": projector.message_received,
        "reporting-messages-scored": projector.message_scored,
        "reporting-push-requested": projector.push_requested,
        "reporting-push-results": projector.push_result,
        "reporting-cases-opened": projector.case_opened,
        "reporting-cases-assigned": projector.case_assigned,
        "reporting-cases-urgency": projector.case_urgency_changed,
        "reporting-cases-closed": projector.case_closed,
    }
    method = by_durable[consumer.durable]

    async def apply(event: Any) -> bool:
        return await method(event, consumer=consumer.durable)

    return apply


async def prepare_schema(engine: AsyncEngine, schema: str) -> None:
    """Creates (or empties) the projection tables in ``schema``."""
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        mapped = await conn.execution_options(schema_translate_map={SCHEMA: schema})
        # the notes table too (empty): the report reads an edited analysis from it
        tables = [*PROJECTION_TABLES, report_notes]
        await mapped.run_sync(lambda c: metadata.create_all(c, tables=tables))
        names = ", ".join(f'"{schema}".{t.name}' for t in PROJECTION_TABLES)
        await conn.execute(text(f"TRUNCATE {names}"))


async def _read_subject(
    js: JetStreamContext, consumer: Consumer, since: datetime, batch: int = 200
) -> Any:
    sub = await js.pull_subscribe(
        consumer.subject.name,
        stream=consumer.subject.stream.name,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            # a start with no fractional second breaks nats-py's parsing of the
            # server's answer; a second earlier (the occurred_at filter applies anyway)
            opt_start_time=(since - timedelta(seconds=1)).replace(microsecond=1),
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,
        ),
    )
    try:
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=1.0)
            except (TimeoutError, FetchTimeoutError):
                return
            for msg in msgs:
                yield msg.data
            if msgs and msgs[-1].metadata.num_pending == 0:
                return
    finally:
        await sub.unsubscribe()


async def replay_period(
    *, nats_url: str, engine: AsyncEngine, since: datetime, until: datetime, into: str
) -> ReplayResult:
    """Applies every event that happened in [since, until) to ``into``'s projections."""
    if until <= since:
        raise BadReplayError("--until must be after --since")
    schema = check_target(into)
    await prepare_schema(engine, schema)
    projector = Projector(schema_sessions(engine, schema))
    nc = await nats.connect(nats_url)
    applied = outside = invalid = 0
    try:
        js = nc.jetstream()
        for consumer in CONSUMERS:
            event_type: type[Envelope[Any]] = consumer.subject.event
            apply = _apply_for(projector, consumer)
            async for data in _read_subject(js, consumer, since):
                try:
                    event = event_type.model_validate_json(data)
                except ValidationError:
                    invalid += 1
                    continue
                if not since <= event.occurred_at < until:
                    outside += 1
                    continue
                if await apply(event):
                    applied += 1
    finally:
        await nc.close()
    log.info(
        "reporting.replay_done", schema=schema, applied=applied, outside=outside, invalid=invalid
    )
    return ReplayResult(schema=schema, applied=applied, skipped_outside=outside, invalid=invalid)


def schema_sessions(engine: AsyncEngine, schema: str) -> async_sessionmaker[AsyncSession]:
    """Sessions that read and write ``schema``'s projections instead of the live ones."""
    return session_factory(engine.execution_options(schema_translate_map={SCHEMA: schema}))


async def drop_schema(engine: AsyncEngine, schema: str) -> None:
    async with transaction(session_factory(engine)) as session:
        await session.execute(text(f'DROP SCHEMA IF EXISTS "{check_target(schema)}" CASCADE'))
