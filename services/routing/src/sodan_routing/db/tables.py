"""SQLAlchemy Core tables of the ``routing`` schema."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    text,
)

SCHEMA = "routing"
metadata = MetaData(schema=SCHEMA)

cases = Table(
    "cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("client_id", Uuid, nullable=False),
    # NULL while the case only knows a triage score: filled (and the case
    # announced with CaseOpened) when the client's message itself arrives.
    Column("client_no", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("urgency", String(16), nullable=False, server_default="normal"),
    Column("urgency_score", Float, nullable=False, server_default="0"),
    Column("assigned_to", Uuid, nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("last_message_at", DateTime(timezone=True), nullable=True),
    Column("first_message_event_id", Uuid, nullable=True),
    CheckConstraint("status IN ('queued', 'assigned', 'closed')", name="status_known"),
    CheckConstraint("urgency IN ('critical', 'high', 'medium', 'normal')", name="urgency_known"),
    CheckConstraint("status <> 'assigned' OR assigned_to IS NOT NULL", name="assigned_has_staff"),
    # a client has at most one case that is not closed
    Index(
        "one_open_case_per_client",
        "client_id",
        unique=True,
        postgresql_where=text("status <> 'closed'"),
    ),
    Index("queued_cases", "queued_at", postgresql_where=text("status = 'queued'")),
    Index("assigned_cases", "assigned_to", postgresql_where=text("status = 'assigned'")),
)

case_messages = Table(
    "case_messages",
    metadata,
    Column("message_event_id", Uuid, primary_key=True),
    Column("case_id", Uuid, ForeignKey(cases.c.case_id), nullable=False, index=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

counsellors = Table(
    "counsellors",
    metadata,
    Column("staff_id", Uuid, primary_key=True),
    Column("role", String(16), nullable=False),
    Column("presence", String(16), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_assigned_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("capacity >= 0", name="capacity_not_negative"),
)

processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)
