"""The ingress schema: who our LINE users are (sealed), and push idempotency."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, Uuid, func

SCHEMA = "ingress"
metadata = MetaData(schema=SCHEMA)

clients = Table(
    "clients",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("channel", String(64), nullable=False),
    # Sealed under the client's data key ("line_user_id"): needed to push, never plain.
    Column("line_user_id", Text, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    # Set by the client's end word (their LINE time), cleared by their next message:
    # while set, nothing is pushed to them.
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)
