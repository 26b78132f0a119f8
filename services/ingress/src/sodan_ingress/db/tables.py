"""The ingress schema: who our LINE users are (sealed), and push idempotency."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, Text, Uuid, func

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

# Clients whose case a supervisor switched to emergency mode: their media are
# fetched and stored sealed. A row per client (messages carry no case id); the
# case id lets its case.closed end the mode without ending a newer case's.
emergency_modes = Table(
    "emergency_modes",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("enabled_by", Uuid, nullable=False),
    Column("enabled_at", DateTime(timezone=True), nullable=False),
)

# LINE messages the client unsent, for emergency-mode media only: a download that
# finishes after the unsend finds its row here and deletes what it just stored.
unsent_media = Table(
    "unsent_media",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("line_message_id", String(64), primary_key=True),
    Column("unsent_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

# LINE's markAsReadToken of each client message, sealed ("mark_as_read_token"), kept
# here so it never travels to other services. Marking one message marks every
# earlier one too, so a use clears the token of all messages up to it.
read_tokens = Table(
    "read_tokens",
    metadata,
    Column("message_event_id", Uuid, primary_key=True),
    Column("client_id", Uuid, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("token", Text, nullable=True),
    Column("marked_at", DateTime(timezone=True), nullable=True),
    Index("read_tokens_by_client", "client_id", "sent_at"),
)

processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)
