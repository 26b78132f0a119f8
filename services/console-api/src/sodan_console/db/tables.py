"""Tables of the ``console`` schema: staff, sessions and projections of the stream."""

from __future__ import annotations

from sodan_shared.db.idempotency import outbox_table, processed_events_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

SCHEMA = "console"
metadata = MetaData(schema=SCHEMA)

staff = Table(
    "staff",
    metadata,
    Column("staff_id", Uuid, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("capacity", SmallInteger, nullable=False, server_default="3"),
    Column("presence", String(16), nullable=False, server_default="offline"),
    Column("presence_changed_at", DateTime(timezone=True), nullable=True),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    # TOTP second factor: the secret sealed with a key derived from the master key
    # (never in clear); confirmed once a first code matched; the last accepted
    # time step refuses a replayed code.
    Column("totp_secret", LargeBinary, nullable=True),
    Column("totp_key_id", String(64), nullable=True),
    Column("totp_confirmed_at", DateTime(timezone=True), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
    # Set for a new account and after an admin's password reset: only changing the
    # password is allowed until the staff member has done so.
    Column("password_change_required", Boolean, nullable=False, server_default=false()),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    # Re-enrolling TOTP from アカウント設定: the new secret waits here (sealed like the
    # active one) until a first code confirms it; the active one works meanwhile.
    Column("totp_pending_secret", LargeBinary, nullable=True),
    Column("totp_pending_key_id", String(64), nullable=True),
    CheckConstraint("role IN ('counsellor', 'supervisor', 'admin')", name="staff_role"),
    CheckConstraint("presence IN ('available', 'away', 'break', 'offline')", name="staff_presence"),
)

# Only a SHA-256 of the session token is stored: a leaked table opens no session.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column(
        "staff_id",
        Uuid,
        ForeignKey("console.staff.staff_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    # A supervisor/admin who must enrol TOTP first gets a session good only for that.
    Column("enrol_only", Boolean, nullable=False, server_default=false()),
)

# Failed logins per login name (known or not, so a lockout does not reveal which
# logins exist): too many within the window lock the name for a while.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("failures", SmallInteger, nullable=False),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)

clients = Table(
    "clients",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("client_no", BigInteger, nullable=False),
    Column("channel", String(64), nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    # The client blocked the desk's account (LINE unfollow): nothing reaches them.
    Column("blocked", Boolean, nullable=False, server_default=false()),
    Column(
        "follow_changed_at",
        DateTime(timezone=True),
        nullable=True,
        comment="LINE time of the latest follow/unfollow: an older one never wins",
    ),
)

# Projection of case.* events. Columns stamped *_at from event times decide which
# of two out-of-order events wins, so replays and redeliveries converge.
cases = Table(
    "cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("client_id", Uuid, nullable=False, index=True),
    Column("client_no", BigInteger, nullable=True),
    Column("channel", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("urgency", String(16), nullable=False, server_default="normal"),
    Column("urgency_rank", SmallInteger, nullable=False, server_default="0"),
    Column("urgency_at", DateTime(timezone=True), nullable=True),
    Column("assigned_to", Uuid, nullable=True, index=True),
    Column("assignment_at", DateTime(timezone=True), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("open_known", Boolean, nullable=False, server_default=false()),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("last_message_at", DateTime(timezone=True), nullable=True),
    Column(
        "unanswered_assignment_at",
        DateTime(timezone=True),
        nullable=True,
        comment="The assignment routing reported unanswered; cleared by a counsellor message",
    ),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Set by a supervisor here (the console emits the command); cleared by case.closed.
    Column("emergency_mode", Boolean, nullable=False, server_default=false()),
    Column("emergency_changed_at", DateTime(timezone=True), nullable=True),
    # the client's earlier case (前回の相談), when this one opened after the reopen window
    Column("previous_case_id", Uuid, nullable=True),
    Column("reopened_at", DateTime(timezone=True), nullable=True),
    # the closing form: 対応結果 and 相談内容 (sodan_shared.closing)
    Column("outcome", String(200), nullable=True),
    Column("topics", JSONB, nullable=False, server_default="[]"),
    # a counsellor's request to close this 緊急 case, waiting for a supervisor
    Column("close_request", JSONB, nullable=True),
    # what its counsellor should look at (handed_over, resumed, close_declined, refused);
    # cleared when they open the case
    Column("attention", String(32), nullable=True),
    Column("survey_answer", String(32), nullable=True),
    CheckConstraint("status IN ('queued', 'assigned', 'on_hold', 'closed')", name="case_status"),
    # routing's intake questionnaire (事前アンケート): case.opened (intake) and
    # case.intake_finished (the answers)
    Column(
        "intake",
        String(16),
        nullable=True,
        comment="running while the client answers; then how it ended (routing's outcome)",
    ),
    Column("intake_consent", String(16), nullable=True),
    Column("intake_age_group", String(16), nullable=True),
    Column("intake_region", String(16), nullable=True),
    Column(
        "intake_gender_identity",
        Text,
        nullable=True,
        comment="Sealed under the client's key, 'intake.gender_identity'",
    ),
    # The case list's order (urgency rank desc, opened_at, case_id) for every filter:
    # the open queue, by assignee, by channel; dates use opened_at (migration 0017).
    Index("cases_list_order", text("urgency_rank DESC"), "opened_at", "case_id"),
    Index(
        "cases_open_order",
        text("urgency_rank DESC"),
        "opened_at",
        "case_id",
        postgresql_where=text("status <> 'closed'"),
    ),
    Index(
        "cases_by_assignee_order", "assigned_to", text("urgency_rank DESC"), "opened_at", "case_id"
    ),
    Index("cases_by_channel_order", "channel", text("urgency_rank DESC"), "opened_at", "case_id"),
    Index("cases_by_opened_at", "opened_at"),
)

# The staff-only timeline of a case (保留, 転送 with its sealed note, reopening,
# close requests and decisions, refusals, the after-survey), one row per event.
case_log = Table(
    "case_log",
    metadata,
    Column("entry_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("staff_id", Uuid, nullable=True),
    Column("other_staff_id", Uuid, nullable=True),
    # 引き継ぎメモ, sealed with the client's key ('handover.note')
    Column("note", Text, nullable=True),
    Column("data", JSONB, nullable=False, server_default="{}"),
)

# Who was ever assigned each case (case.assigned, 転送 to a colleague): a counsellor
# keeps read access to the 相談者カルテ of clients they once handled.
case_assignments = Table(
    "case_assignments",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("staff_id", Uuid, primary_key=True, index=True),
    Column("first_at", DateTime(timezone=True), nullable=False),
)

# The 相談者カルテ, one row per saved version (append-only: triggers refuse UPDATE and
# DELETE): the newest row is the record; a save names the version it edited and
# the primary key refuses a second save of the same version (optimistic locking).
# Everything describing the client is sealed with the client's key.
client_record_versions = Table(
    "client_record_versions",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column(
        "characteristics", Text, nullable=True, comment="Sealed 'client_record.characteristics'"
    ),
    Column("cautions", Text, nullable=True, comment="Sealed 'client_record.cautions'"),
    Column("flags", Text, nullable=True, comment="Sealed 'client_record.flags' (JSON list)"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Uuid, nullable=False),
)

# ケースメモ: staff-only notes on a case, append-only. A correction is a new version
# of the same note by its author; every version's text is kept.
case_notes = Table(
    "case_notes",
    metadata,
    Column("note_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("case_id", Uuid, nullable=False, index=True),
    Column("client_id", Uuid, nullable=False, index=True),
    Column("staff_id", Uuid, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False, comment="Sealed 'case.note'"),
)

# Inbound rows are keyed by the MessageReceived event id, outbound by the push id.
# A score may arrive before its message, so the message's own columns are nullable
# and filled when it arrives; readers show only rows with sent_at set.
messages = Table(
    "messages",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("client_id", Uuid, nullable=False),
    Column("case_id", Uuid, nullable=True),
    Column("direction", String(3), nullable=False),
    Column("kind", String(16), nullable=True),
    Column("body", Text, nullable=True, comment="Sealed under the client's key, 'message.text'"),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("urgency", String(16), nullable=True),
    Column("matched_terms", JSONB, nullable=True),
    Column(
        "score_reasons",
        JSONB,
        nullable=True,
        comment="Lexicon categories that matched, with subject/hedged; never the words",
    ),
    Column("delivery", String(16), nullable=True),
    Column("staff_id", Uuid, nullable=True),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    # LINE's id of an inbound message: what an unsend (送信取消) names.
    Column("line_message_id", Text, nullable=True, index=True),
    Column("personal_data", JSONB, nullable=True, comment="Kinds flagged by ingress, never values"),
    Column("late", Boolean, nullable=False, server_default=false()),
    Column(
        "push_id",
        Uuid,
        nullable=True,
        index=True,
        comment="The push/reply command that carries this outbound text",
    ),
    # Sent by the system (e.g. the refused-media notice), not by a counsellor.
    Column("automatic", Boolean, nullable=False, server_default=false()),
    Column(
        "delivery_error",
        String(200),
        nullable=True,
        comment="Why a push failed: HTTP status and LINE's message, or our reason code",
    ),
    # Emergency mode: pending → stored | failed (from ingress' media events); the
    # bytes stay sealed in the object store under media_object.
    Column("media_status", String(16), nullable=True),
    Column("media_content_type", Text, nullable=True),
    Column("media_size", BigInteger, nullable=True),
    Column("media_object", Text, nullable=True),
    Column("media_error", String(32), nullable=True),
    Column("location", Text, nullable=True, comment="Sealed 'message.location' (JSON)"),
    Column("sticker", String(32), nullable=True, comment="packageId/stickerId a counsellor sent"),
    Column(
        "quick_replies",
        Text,
        nullable=True,
        comment="Sealed JSON of the quick-reply buttons, 'quick_replies'",
    ),
    CheckConstraint("direction IN ('in', 'out')", name="message_direction"),
    CheckConstraint(
        "delivery IS NULL OR delivery IN ('pending', 'sent', 'failed')", name="message_delivery"
    ),
    Index("messages_by_client", "client_id", "sent_at"),
)

# Messages the client unsent. Kept so that a message (or its score) arriving after
# its unsend is never stored again: the ciphertext must not come back.
unsent_messages = Table(
    "unsent_messages",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("line_message_id", Text, primary_key=True),
    Column("unsent_at", DateTime(timezone=True), nullable=False),
)

# Every push/reply outcome by command id: an automatic message may be projected
# after its result arrived (different consumers), and then takes it from here.
push_results = Table(
    "push_results",
    metadata,
    Column("push_id", Uuid, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error", String(200), nullable=True),
)

# The newest client message each case's counsellor has seen and asked LINE to mark
# read (既読): one command per new newest message, however often the case is opened.
case_reads = Table(
    "case_reads",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("up_to_message_id", Uuid, nullable=False),
    # Only ever forward: after an unsend the newest message shown can be older.
    Column("up_to_sent_at", DateTime(timezone=True), nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)

# The desk's congestion level and open state, as routing last announced it
# (case.congestion.v1); an older announcement never overwrites a newer one.
desk_status = Table(
    "desk_status",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("desk_open", Boolean, nullable=False),
    Column("queue_length", Integer, nullable=False),
    Column("active_counsellors", Integer, nullable=False),
    Column("free_capacity", Integer, nullable=False),
    Column("next_wait_s", Float, nullable=True),
    Column("next_opening", DateTime(timezone=True), nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# Supervisors' settings as routing last applied them (audit.auto_text.changed,
# audit.hours.changed), with the latest outcome for the editors. No row: the
# shared defaults (sodan_shared.auto_texts) are in use, as routing seeds them.
auto_texts = Table(
    "auto_texts",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("body", Text, nullable=True, comment="NULL: never edited, the default applies"),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("updated_by", Uuid, nullable=True),
    Column("last_outcome", String(8), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("last_command_id", Uuid, nullable=False),
)

hours_calendar = Table(
    "hours_calendar",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("rules", JSONB, nullable=True, comment="NULL: never edited here"),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("updated_by", Uuid, nullable=True),
    Column("last_outcome", String(8), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("last_command_id", Uuid, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# The closing form's 対応結果/相談内容 lists as routing last announced them
# (audit.closing_categories.changed); NULL lists: never edited, the shared defaults apply.
closing_categories = Table(
    "closing_categories",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("outcomes", ARRAY(Text), nullable=True),
    Column("topics", ARRAY(Text), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("updated_by", Uuid, nullable=True),
    Column("last_outcome", String(8), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("last_command_id", Uuid, nullable=False),
    CheckConstraint("id = 1", name="closing_categories_single_row"),
)

# The desk's assignment mode as routing announced it (case.assignment_mode.v1).
desk_controls = Table(
    "desk_controls",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("assignment_mode", String(8), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", Uuid, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)

# Cases routing handed back to the queue, one row per cause (a counsellor going
# offline returns all their cases in one go): the supervisors' notice.
handbacks = Table(
    "handbacks",
    metadata,
    Column("cause_id", Uuid, primary_key=True),
    Column("counsellor_id", Uuid, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("cases", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

# The access log (spec 4(1)(イ)): logins, logouts, case reads and every change by
# staff. Append-only: triggers refuse UPDATE, DELETE and TRUNCATE (migration 0013a).
# Never message text, never a LINE user id; an unknown login is kept only as a
# short digest (sodan_console.access_log.login_digest).
access_log = Table(
    "access_log",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("at", DateTime(timezone=True), server_default=func.now(), nullable=False, index=True),
    Column("staff_id", Uuid, nullable=True, index=True),
    Column("login", String(64), nullable=True),
    Column("action", String(32), nullable=False),
    Column("method", String(8), nullable=True),
    Column("path", String(200), nullable=True),
    Column("target_kind", String(16), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("status", SmallInteger, nullable=True),
    Column("reason", String(32), nullable=True),
    Column("client_addr", String(64), nullable=True),
    Column("user_agent", String(200), nullable=True),
)

# 定型文: reply templates for the whole desk, edited by supervisors and admins.
# Desk text, not client data: stored in clear. Never deleted: retiring hides a
# template from counsellors and every saved version is kept below.
reply_templates = Table(
    "reply_templates",
    metadata,
    Column("template_id", Uuid, primary_key=True),
    Column("title", String(40), nullable=False),
    Column("category", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, comment="Bumped by every save; edits name it"),
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Uuid, nullable=True, comment="NULL: seeded"),
)

# Every saved state of a template (created, edited, retired, restored): nothing an
# edit replaced is lost. Append-only by use.
reply_template_versions = Table(
    "reply_template_versions",
    metadata,
    Column(
        "template_id",
        Uuid,
        ForeignKey(f"{SCHEMA}.reply_templates.template_id"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("title", String(40), nullable=False),
    Column("category", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("retired", Boolean, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    Column("saved_by", Uuid, nullable=True),
)

# The desk's case labels (ラベル), kept by supervisors and admins. Names are working
# categories of the desk (要フォロー, 継続), not descriptions of a client: what
# describes a person belongs in sealed notes. A retired label stays on the cases
# that carry it but cannot be attached any more.
LABEL_COLOURS = ("gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink")
labels = Table(
    "labels",
    metadata,
    Column("label_id", Integer, Identity(always=False), primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("colour", String(16), nullable=False),
    Column("retired", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Uuid, nullable=True),
    CheckConstraint(
        "colour IN (" + ", ".join(f"'{c}'" for c in LABEL_COLOURS) + ")", name="label_colour"
    ),
)

case_labels = Table(
    "case_labels",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column(
        "label_id",
        Integer,
        ForeignKey("console.labels.label_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", Uuid, nullable=True),
    Index("case_labels_by_label", "label_id", "case_id"),
)

# What staff call each LINE official account (表示名) and an admin's note. The
# channel ids come from the events; LINE credentials never live here (they stay in
# ingress' environment).
channels = Table(
    "channels",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("display_name", String(60), nullable=True),
    Column("note", String(400), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Uuid, nullable=True),
)

processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)
