"""Replay a period of the stream into a separate schema, for an analyst.

The live projections are untouched: the period's events are read with
ephemeral consumers (nothing durable is created), folded in memory by the same
pure functions the live projector uses (``fold``), and written in bulk into
``<into>``'s copy of the projection tables.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
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
from sodan_reporting.fold import Fold
from sodan_reporting.handlers import CONSUMERS, Consumer

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
    js: JetStreamContext, consumer: Consumer, since: datetime | None, batch: int = 500
) -> AsyncIterator[tuple[bytes, int]]:
    """(data, stream sequence) of the subject's messages stored from ``since`` (None: all)."""
    if since is None:
        start = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    else:
        start = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            # a start with no fractional second breaks nats-py's parsing of the
            # server's answer; a second earlier (the occurred_at filter applies anyway)
            opt_start_time=(since - timedelta(seconds=1)).replace(microsecond=1),
        )
    start.ack_policy = AckPolicy.NONE
    start.inactive_threshold = 60.0
    sub = await js.pull_subscribe(
        consumer.subject.name, stream=consumer.subject.stream.name, config=start
    )
    try:
        if (await sub.consumer_info()).num_pending == 0:
            return  # nothing to read: don't wait for a fetch to time out
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=1.0)
            except (TimeoutError, FetchTimeoutError):
                return
            for msg in msgs:
                yield msg.data, msg.metadata.sequence.stream
            if msgs and msgs[-1].metadata.num_pending == 0:
                return
    finally:
        await sub.unsubscribe()


@dataclass
class Folded:
    fold: Fold
    last_seq: dict[str, int]  # durable name -> stream sequence of the last message read
    applied: int = 0
    outside: int = 0
    invalid: int = 0


async def fold_streams(
    js: JetStreamContext, *, since: datetime | None = None, until: datetime | None = None
) -> Folded:
    """Reads every subject reporting consumes and folds its events (within [since, until))."""
    result = Folded(fold=Fold(), last_seq={})
    for consumer in CONSUMERS:
        event_type: type[Envelope[Any]] = consumer.subject.event
        async for data, seq in _read_subject(js, consumer, since):
            result.last_seq[consumer.durable] = seq
            try:
                event = event_type.model_validate_json(data)
            except ValidationError:
                # skipped and counted; the live consumers dead-letter such an event
                result.invalid += 1
                continue
            if (since is not None and event.occurred_at < since) or (
                until is not None and event.occurred_at >= until
            ):
                result.outside += 1
                continue
            if result.fold.apply(consumer.durable, event):
                result.applied += 1
    return result


async def replay_period(
    *, nats_url: str, engine: AsyncEngine, since: datetime, until: datetime, into: str
) -> ReplayResult:
    """Applies every event that happened in [since, until) to ``into``'s projections."""
    if until <= since:
        raise BadReplayError("--until must be after --since")
    schema = check_target(into)
    await prepare_schema(engine, schema)
    nc = await nats.connect(nats_url)
    try:
        folded = await fold_streams(nc.jetstream(), since=since, until=until)
    finally:
        await nc.close()
    async with transaction(schema_sessions(engine, schema)) as session:
        await folded.fold.write(session)
    log.info(
        "reporting.replay_done",
        schema=schema,
        applied=folded.applied,
        outside=folded.outside,
        invalid=folded.invalid,
    )
    return ReplayResult(
        schema=schema,
        applied=folded.applied,
        skipped_outside=folded.outside,
        invalid=folded.invalid,
    )


def schema_sessions(engine: AsyncEngine, schema: str) -> async_sessionmaker[AsyncSession]:
    """Sessions that read and write ``schema``'s projections instead of the live ones."""
    return session_factory(engine.execution_options(schema_translate_map={SCHEMA: schema}))


async def drop_schema(engine: AsyncEngine, schema: str) -> None:
    async with transaction(session_factory(engine)) as session:
        await session.execute(text(f'DROP SCHEMA IF EXISTS "{check_target(schema)}" CASCADE'))
