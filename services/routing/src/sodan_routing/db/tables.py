"""SQLAlchemy Core tables of the ``routing`` schema."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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
    # first counsellor message after assignment (for first-response times)
    Column("first_response_at", DateTime(timezone=True), nullable=True),
    # latest counsellor message (the unanswered guard: none since assigned_at)
    Column("last_staff_message_at", DateTime(timezone=True), nullable=True),
    # the client's latest earlier case, when this one was opened after the reopen window
    Column("previous_case_id", Uuid, nullable=True),
    # 保留 since then (status on_hold): still its counsellor's, waiting for the client
    Column("held_at", DateTime(timezone=True), nullable=True),
    # a counsellor's request to close this 緊急 case, waiting for a supervisor:
    # {"staff_id", "outcome", "topics", "send_survey", "requested_at"}
    Column("close_request", JSONB, nullable=True),
    Column("survey_sent_at", DateTime(timezone=True), nullable=True),
    Column("survey_answer", String(32), nullable=True),
    # The intake questionnaire (事前アンケート) while status = 'intake': the question
    # last asked; the answers stay after it ends (reported in case.closed).
    Column("intake_step", String(16), nullable=True),
    Column("intake_retried", Boolean, nullable=False, server_default=false()),
    Column("intake_asked_at", DateTime(timezone=True), nullable=True),
    Column("intake_outcome", String(16), nullable=True),
    Column("intake_consent", String(16), nullable=True),
    Column("intake_age_group", String(16), nullable=True),
    Column("intake_region", String(16), nullable=True),
    # sealed under the client's key ('intake.gender_identity'): the client's own words
    Column("intake_gender_identity", Text, nullable=True),
    # what case.closed reports (short, nothing that looked like personal data)
    Column("intake_gender_report", String(40), nullable=True),
    CheckConstraint(
        "status IN ('intake', 'queued', 'assigned', 'on_hold', 'closed')", name="status_known"
    ),
    CheckConstraint("urgency IN ('critical', 'high', 'medium', 'normal')", name="urgency_known"),
    CheckConstraint(
        "status NOT IN ('assigned', 'on_hold') OR assigned_to IS NOT NULL",
        name="assigned_has_staff",
    ),
    # a client has at most one case that is not closed
    Index(
        "one_open_case_per_client",
        "client_id",
        unique=True,
        postgresql_where=text("status <> 'closed'"),
    ),
    Index("queued_cases", "queued_at", postgresql_where=text("status = 'queued'")),
    Index("assigned_cases", "assigned_to", postgresql_where=text("status = 'assigned'")),
    # counsellors' loads (every unit of work): held cases, 保留 included
    Index("held_cases", "assigned_to", postgresql_where=text("status IN ('assigned', 'on_hold')")),
    # congestion's measuring window (the sweep, a queued client's first greeting)
    Index("closed_cases", "closed_at", postgresql_where=text("status = 'closed'")),
    Index(
        "first_responses",
        "first_response_at",
        postgresql_where=text("first_response_at IS NOT NULL"),
    ),
    Index(
        "closed_cases_of_client",
        "client_id",
        "closed_at",
        postgresql_where=text("status = 'closed'"),
    ),
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

# The consultation calendar: weekly rules, dated sessions, closed days (Japan time).
hours_rules = Table(
    "hours_rules",
    metadata,
    Column("rule_id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("kind", String(8), nullable=False),
    Column("weekday", SmallInteger, nullable=True),  # 0 = Monday
    Column("day", Date, nullable=True),
    Column("starts", Time, nullable=True),
    Column("ends", Time, nullable=True),  # not after starts: runs past midnight
    Column("holidays", String(8), nullable=False, server_default="any"),
    Column("note", Text, nullable=True),
    # weekly only: just the nth such weekday of the month (1-5; -1 = the last)
    Column("nth", SmallInteger, nullable=True),
    CheckConstraint("kind IN ('weekly', 'dated', 'closed')", name="kind_known"),
    CheckConstraint(
        "nth IS NULL OR (kind = 'weekly' AND nth IN (-1, 1, 2, 3, 4, 5))", name="nth_weekly"
    ),
    CheckConstraint("holidays IN ('any', 'skip', 'only')", name="holidays_known"),
    CheckConstraint(
        "(kind = 'weekly' AND weekday BETWEEN 0 AND 6 AND starts IS NOT NULL "
        "AND ends IS NOT NULL AND starts <> ends) "
        "OR (kind = 'dated' AND day IS NOT NULL AND starts IS NOT NULL AND ends IS NOT NULL "
        "AND starts <> ends) "
        "OR (kind = 'closed' AND day IS NOT NULL)",
        name="rule_complete",
    ),
)

# Automatic texts to clients, editable by supervisors (defaults seeded).
auto_texts = Table(
    "auto_texts",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("body", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_by", Uuid, nullable=True),
)

# The closing form's lists as supervisors last edited them (one row; none: the defaults).
closing_categories = Table(
    "closing_categories",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("outcomes", ARRAY(Text), nullable=False),
    Column("topics", ARRAY(Text), nullable=False),
    Column("updated_by", Uuid, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Automatic messages sent per case: a notice goes out once per (kind, key), however
# many replicas or redeliveries try (key: e.g. the opening it is about).
case_notices = Table(
    "case_notices",
    metadata,
    Column("case_id", Uuid, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("case_id", "kind", "key"),
)

# One row: the congestion level and open state last announced (CongestionChanged).
desk_state = Table(
    "desk_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("level", String(16), nullable=False),
    Column("desk_open", Boolean, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# One row: how cases reach counsellors, as a supervisor last set it (no row: auto).
desk_settings = Table(
    "desk_settings",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("assignment_mode", String(8), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", Uuid, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
    CheckConstraint("assignment_mode IN ('auto', 'manual')", name="mode_known"),
)

processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)
