"""SQLAlchemy Core tables of the ``triage`` schema (no client words anywhere)."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "triage"
metadata = MetaData(schema=SCHEMA)

# The last scores of each client, for context: a level and a number per
# message, pruned once older than the context window.
recent_scores = Table(
    "recent_scores",
    metadata,
    Column("message_event_id", Uuid, primary_key=True),
    Column("client_id", Uuid, nullable=False),
    Column("level", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Index("recent_scores_by_client", "client_id", "sent_at"),
)

# Every accepted lexicon edit: who, why, when and the whole content.
lexicon_history = Table(
    "lexicon_history",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("version", String(64), nullable=False, unique=True),
    Column("content", JSONB, nullable=False),
    Column("staff_id", Uuid, nullable=False),
    Column("comment", Text, nullable=False),
    Column("command_event_id", Uuid, nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Lexicon commands handled once; their audit and refusal events leave through the outbox,
# in the same transaction as the history row.
processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)
