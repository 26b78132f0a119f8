"""The reporting schema: projections built only from events (no text, no LINE ids)."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "reporting"
metadata = MetaData(schema=SCHEMA)

processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)

# One row per case: everything the monthly report says about a case. The
# client id is the pseudonymous one, only to tell new clients from returning.
case_facts = Table(
    "case_facts",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("client_id", Uuid, nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=True, index=True),
    Column("first_assigned_at", DateTime(timezone=True), nullable=True),
    Column("first_response_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("max_urgency", String(16), nullable=False),
    Column("counsellor_ids", ARRAY(Uuid), nullable=False),
    Column("counsellor_messages", Integer, nullable=False, server_default="0"),
    Column("urgent_counted", Boolean, nullable=False),
    Column("outcome", String(200), nullable=True),
    Column("topics", ARRAY(String(100)), nullable=False, server_default="{}"),
    Column("age_group", String(40), nullable=True),
    Column("region", String(60), nullable=True),
    Column("gender_identity", String(60), nullable=True),
    Column("refused", String(40), nullable=True),
    Column("survey_sent", Boolean, nullable=False, server_default="false"),
    Column("survey_answer", String(40), nullable=True),
    Index("ix_case_facts_channel_opened_at", "channel", "opened_at"),
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

# A counsellor's workload per day: cases newly assigned, messages sent.
staff_counts = Table(
    "staff_counts",
    metadata,
    Column("day", Date, primary_key=True, comment="Japan-time (Asia/Tokyo) calendar day"),
    Column("channel", String(64), primary_key=True),
    Column("staff_id", Uuid, primary_key=True),
    Column("metric", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

PROJECTION_TABLES = (processed_events, case_facts, daily_counts, clients_seen, staff_counts)

# Not projections (a rebuild keeps them): what staff wrote and what was produced.
# channel '' means all channels together.
report_notes = Table(
    "report_notes",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("edited_by", Uuid, nullable=True),
    Column("edited_at", DateTime(timezone=True), nullable=False),
)

monthly_reports = Table(
    "monthly_reports",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("report", JSONB, nullable=False),
)
