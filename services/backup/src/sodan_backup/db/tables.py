"""The backup schema: archive positions, dump runs, outbox."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text, Uuid, func

SCHEMA = "backup"
metadata = MetaData(schema=SCHEMA)

outbox = outbox_table(metadata)

archive_positions = Table(
    "archive_positions",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

dump_runs = Table(
    "dump_runs",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("file_name", String(200), nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("key_id", String(64), nullable=True),
    Column("reason", Text, nullable=True),
)
