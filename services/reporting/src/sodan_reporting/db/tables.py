"""The reporting schema: projections built only from events (no text, no LINE ids)."""

from __future__ import annotations

from sodan_shared.db.idempotency import processed_events_table
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    Uuid,
)

SCHEMA = "reporting"
metadata = MetaData(schema=SCHEMA)

processed_events = processed_events_table(metadata)

case_facts = Table(
    "case_facts",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=True, index=True),
    Column("first_assigned_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("max_urgency", String(16), nullable=False),
    Column("counsellor_ids", ARRAY(Uuid), nullable=False),
    Column("urgent_counted", Boolean, nullable=False),
)

daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", Date, primary_key=True, comment="Japan-time (Asia/Tokyo) calendar day"),
    Column("channel", String(64), primary_key=True),
    Column("metric", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Only the pseudonymous client id, to tell new clients from returning ones.
clients_seen = Table(
    "clients_seen",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
)

PROJECTION_TABLES = (processed_events, case_facts, daily_counts, clients_seen)
