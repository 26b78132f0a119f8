"""Request and response bodies of the console API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sodan_shared.events.console import Presence, StaffRole
from sodan_shared.events.line import PersonalDataKind
from sodan_shared.events.triage import UrgencyLevel

from sodan_console.karte import MAX_CAUTIONS, MAX_CHARACTERISTICS, MAX_NOTE, flags_problem


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class LoginIn(_In):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp: str | None = Field(
        default=None, max_length=16, description="The 6-digit code when the account uses TOTP"
    )


class TotpCodeIn(_In):
    code: str = Field(min_length=1, max_length=16)


class TotpSetupOut(BaseModel):
    uri: str = Field(description="otpauth:// URI for the authenticator app")
    secret: str = Field(description="The same secret for manual entry (base32)")
    issuer: str
    qr_svg: str = Field(
        default="", description="The URI as a QR code: an SVG document (shown as an image)"
    )


class PresenceIn(_In):
    presence: Presence


# LINE takes 13 quick-reply buttons; ingress adds the client's end button last.
MAX_COUNSELLOR_QUICK_REPLIES = 12
# What a counsellor can never send (design rule: no images, no locations), named so
# the refusal says so instead of "unknown field".
_MEDIA_KEYS = frozenset(
    {"type", "image", "images", "video", "audio", "file", "location", "latitude", "longitude"}
    | {"original_content_url", "originalContentUrl", "preview_image_url", "previewImageUrl"}
    | {"url", "address", "title", "package_id", "packageId", "sticker_id", "stickerId"}
)
MEDIA_REFUSED = "送信できるのは文章と決められたスタンプだけです（画像・位置情報などは送れません）"


class QuickReplyIn(_In):
    """A button under the message; tapping it sends ``text`` as the client's message."""

    label: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=300)

    @field_validator("label", "text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("blank")
        return value


class EmergencyModeIn(_In):
    enabled: bool
    reason: str | None = Field(default=None, max_length=500, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _reason_when_enabling(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Switching on fetches a client's photos: the audit trail must say why.
        if info.data.get("enabled") and (value is None or not value.strip()):
            raise ValueError("blank")
        return value


class ReplyIn(_In):
    text: str | None = Field(default=None, min_length=1, max_length=5000)
    sticker: str | None = Field(
        default=None, max_length=32, description="Key of a sticker from GET /api/stickers"
    )
    quick_replies: list[QuickReplyIn] = Field(
        default_factory=list, max_length=MAX_COUNSELLOR_QUICK_REPLIES
    )
    confirm_personal_data: bool = Field(
        default=False,
        description="The counsellor saw the personal-data warning (409) and sends anyway",
    )

    @model_validator(mode="before")
    @classmethod
    def _text_or_sticker_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and _MEDIA_KEYS & set(data):
            raise ValueError(MEDIA_REFUSED)
        return data

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("blank")
        return value

    @field_validator("sticker")
    @classmethod
    def _allowed_sticker(cls, value: str | None) -> str | None:
        from sodan_console.stickers import catalogue

        if value is not None and catalogue().by_key(value) is None:
            raise ValueError("使えるスタンプの中から選んでください")
        return value

    @model_validator(mode="after")
    def _something_to_send(self) -> ReplyIn:
        if self.text is None and self.sticker is None:
            raise ValueError("本文またはスタンプを指定してください")
        return self


class StickerPublic(BaseModel):
    key: str
    label: str


class TypingOut(BaseModel):
    signalled: bool = Field(description="False when throttled or the client is away")


class StaffPublic(BaseModel):
    staff_id: UUID
    login: str
    display_name: str
    role: StaffRole
    presence: Presence
    capacity: int


class LoginOut(StaffPublic):
    enrolment_required: bool = Field(
        default=False, description="Only TOTP enrolment is allowed until a first code is confirmed"
    )
    totp_enrolled: bool = False
    password_change_required: bool = Field(
        default=False, description="Only changing the password is allowed until it is done"
    )


class StaffAdminRow(BaseModel):
    staff_id: UUID
    login: str
    display_name: str
    role: StaffRole
    disabled: bool
    totp_enrolled: bool
    locked: bool
    # スタッフ管理 (admin screen)
    password_change_required: bool = False
    last_login_at: datetime | None = None
    sessions: int = Field(default=0, description="Sessions alive now (not expired, not idle)")
    created_at: datetime | None = None


# Lengths are checked loosely here and precisely by staff_rules (clear messages).
class StaffCreateIn(_In):
    login: str = Field(max_length=200)
    display_name: str = Field(max_length=1000)
    role: StaffRole
    password: str | None = Field(
        default=None, max_length=1000, description="Omitted or empty: one is generated"
    )


class StaffCreatedOut(BaseModel):
    staff: StaffAdminRow
    temporary_password: str | None = Field(
        default=None, description="The generated initial password, shown this once"
    )


class StaffUpdateIn(_In):
    display_name: str | None = Field(default=None, max_length=1000)
    role: StaffRole | None = None


class TemporaryPasswordOut(BaseModel):
    temporary_password: str = Field(description="Shown this once; must be changed at login")


class PasswordChangeIn(_In):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=1000)


class PasswordCheckIn(_In):
    password: str = Field(min_length=1, max_length=256)


class AccountOut(BaseModel):
    staff_id: UUID
    login: str
    display_name: str
    role: StaffRole
    totp_enrolled: bool
    totp_required: bool = Field(description="The role must use TOTP (settings)")
    password_change_required: bool


class LoginRecordOut(BaseModel):
    at: datetime
    action: str
    reason: str | None
    client_addr: str | None
    user_agent: str | None


CaseStatus = Literal["queued", "assigned", "on_hold", "closed"]


class CloseRequestPublic(BaseModel):
    """A counsellor's request to close a 緊急 case, waiting for a supervisor."""

    staff_id: UUID
    staff_name: str | None = None
    outcome: str | None = None
    topics: list[str] = Field(default_factory=list)
    send_survey: bool = False
    requested_at: datetime | None = None


class IntakePublic(BaseModel):
    """The intake questionnaire (事前アンケート) as the client answered it; None: skipped."""

    status: str = Field(
        description="running (アンケート中), or how it ended: completed, declined, "
        "not_an_answer, urgent, timeout, closed"
    )
    consent: str | None = None
    age_group: str | None = None
    region: str | None = None
    gender_identity: str | None = Field(default=None, description="In the client's own words")


class CaseLabelPublic(BaseModel):
    label_id: int
    name: str
    colour: str
    retired: bool = False


class CasePublic(BaseModel):
    case_id: UUID
    client_label: str = Field(description="C-000123; the LINE user id is never exposed")
    status: CaseStatus
    urgency: UrgencyLevel
    opened_at: datetime
    assigned_to: UUID | None
    assignee_name: str | None
    assigned_at: datetime | None
    closed_at: datetime | None
    last_message_at: datetime | None
    can_act: bool = Field(description="Whether the viewer may reply to and close it")
    unanswered: bool = Field(
        default=False,
        description="Routing reports no counsellor message since this assignment for too long",
    )
    urgent_alert: bool = Field(
        default=False,
        description="緊急 and open, and the viewer is a supervisor or its counsellor: alert them",
    )
    client_blocked: bool = Field(
        default=False,
        description="The client blocked the account: replies cannot reach them (case detail only)",
    )
    emergency_mode: bool = Field(
        default=False, description="緊急対応モード: the client's media are fetched and stored"
    )
    can_switch_emergency_mode: bool = Field(
        default=False, description="Whether the viewer may switch emergency mode (supervisors)"
    )
    can_hold: bool = Field(default=False, description="The viewer may put it on hold (保留)")
    can_hand_over: bool = Field(default=False, description="The viewer may hand it over (転送)")
    attention: str | None = Field(
        default=None,
        description="What its counsellor should look at: handed_over, resumed, reopened, "
        "close_declined, refused (cleared when they open it)",
    )
    previous_case_id: UUID | None = Field(default=None, description="前回の相談")
    outcome: str | None = Field(default=None, description="対応結果 (closed)")
    topics: list[str] = Field(default_factory=list, description="相談内容 (closed)")
    close_request: CloseRequestPublic | None = None
    can_decide_close: bool = Field(
        default=False, description="The viewer may confirm or decline the close request"
    )
    survey_answer: str | None = None
    in_intake: bool = Field(
        default=False,
        description="アンケート中: the client is still answering the intake questionnaire "
        "(routing assigns it when it ends)",
    )
    intake: IntakePublic | None = Field(
        default=None, description="The questionnaire's answers (case detail only)"
    )
    channel: str = Field(default="", description="The LINE official account's channel id")
    channel_name: str | None = Field(
        default=None, description="The channel's 表示名, when an admin has set one"
    )
    labels: list[CaseLabelPublic] = Field(
        default_factory=list, description="The desk's labels on this case (list and detail)"
    )
    can_label: bool = Field(default=False, description="The viewer may add or remove labels")


class CasesPublic(BaseModel):
    items: list[CasePublic]
    next_cursor: str | None


class MediaPublic(BaseModel):
    status: Literal["pending", "stored", "failed"]
    content_type: str | None = None
    size: int | None = None
    error: str | None = Field(default=None, description="expired, too_large, unavailable, …")
    url: str | None = Field(default=None, description="Where a stored item is served (audited)")


class LocationPublic(BaseModel):
    title: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class ScoreReason(BaseModel):
    category: str = Field(description="Lexicon category, e.g. 自殺・自傷")
    subject: Literal["self", "other"] = Field(
        default="self", description="other: about someone else"
    )
    hedged: bool = Field(default=False, description="Put in the past or at a distance")
    spans: list[tuple[int, int]] = Field(
        default_factory=list,
        description="[start, end) code-point offsets of the matched words in the text, to mark",
    )


class MessagePublic(BaseModel):
    message_id: UUID
    case_id: UUID | None
    direction: Literal["in", "out"]
    kind: str = Field(
        description="text, sticker, image, … or 'unsent': a message the client unsent"
    )
    text: str | None = Field(description="Decrypted text; None for non-text or unreadable")
    unreadable: bool = False
    sent_at: datetime
    urgency: UrgencyLevel | None
    matched_terms: list[str]
    personal_data: list[PersonalDataKind] = Field(
        default_factory=list, description="Kinds of personal data the text seems to contain"
    )
    score_reasons: list[ScoreReason] = Field(
        default_factory=list, description="Why triage scored it: categories, never the words"
    )
    late: bool = Field(default=False, description="LINE delivered it later than usual")
    delivery: Literal["pending", "sent", "failed"] | None
    delivery_error: str | None = Field(
        default=None,
        description="Why it failed: LINE's status and message, or a reason code "
        "(client_ended_conversation, client_erased, client_unknown, channel_unknown)",
    )
    staff_name: str | None
    automatic: bool = Field(
        default=False, description="Sent by the system (e.g. the refused-media notice)"
    )
    media: MediaPublic | None = Field(default=None, description="Emergency mode only")
    location: LocationPublic | None = Field(default=None, description="Emergency mode only")
    sticker_label: str | None = Field(
        default=None, description="A sticker the counsellor sent (its label), or ［スタンプ］"
    )
    quick_replies: list[str] = Field(
        default_factory=list, description="Labels of the quick-reply buttons the counsellor added"
    )


class CaseLogEntry(BaseModel):
    """A line of the case's staff-only timeline (never sent to the client)."""

    entry_id: UUID
    kind: str = Field(
        description="reopened, hold_changed, handed_over, close_requested, close_declined, "
        "command_refused, survey_sent, survey_answered, closed"
    )
    at: datetime
    staff_name: str | None = None
    other_staff_name: str | None = None
    note: str | None = Field(default=None, description="引き継ぎメモ (handed_over)")
    data: dict[str, Any] = Field(default_factory=dict)


class CaseDetail(BaseModel):
    case: CasePublic
    messages: list[MessagePublic]
    log: list[CaseLogEntry] = Field(default_factory=list)
    client_id: UUID | None = Field(
        default=None,
        description="The desk's id of the client (never the LINE id): GET /api/clients/"
        "{client_id}/record",
    )


# --- 相談者カルテ and ケースメモ -----------------------------------------------------


class CaseNoteVersionPublic(BaseModel):
    version: int
    text: str | None = Field(description="None when unreadable (the client was erased)")
    written_at: datetime


class CaseNotePublic(BaseModel):
    """A ケースメモ as it reads now (its latest version), with its earlier versions."""

    note_id: UUID
    case_id: UUID
    version: int = Field(description="1, or more once its author corrected it")
    text: str | None = Field(description="None when unreadable (the client was erased)")
    unreadable: bool = False
    author_id: UUID
    author_name: str | None
    first_written_at: datetime
    written_at: datetime = Field(description="When this version was written")
    history: list[CaseNoteVersionPublic] = Field(
        default_factory=list, description="Earlier versions, oldest first (never lost)"
    )
    can_correct: bool = Field(default=False, description="The viewer is its author and may")


class CaseNotesPublic(BaseModel):
    items: list[CaseNotePublic]
    can_add: bool = Field(description="The viewer may add a note to this case")
    max_length: int


class CaseNoteIn(_In):
    text: str = Field(min_length=1, max_length=MAX_NOTE)
    corrects: UUID | None = Field(
        default=None, description="The note this corrects (its author only): a new version"
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("メモを入力してください")
        return value


class HandoverNotePublic(BaseModel):
    at: datetime
    staff_name: str | None = None
    other_staff_name: str | None = Field(default=None, description="None: back to the queue")
    note: str | None = Field(default=None, description="引き継ぎメモ (None: none or unreadable)")


class PastCasePublic(BaseModel):
    case_id: UUID
    status: CaseStatus
    urgency: UrgencyLevel
    opened_at: datetime
    closed_at: datetime | None
    counsellors: list[str] = Field(description="Everyone assigned to it, in order")
    outcome: str | None = Field(default=None, description="対応結果")
    topics: list[str] = Field(default_factory=list, description="相談内容")
    survey_answer: str | None = None
    notes: list[CaseNotePublic] = Field(default_factory=list)
    handovers: list[HandoverNotePublic] = Field(default_factory=list)


class ClientRecordPublic(BaseModel):
    """The 相談者カルテ: 特徴, 注意事項, flags and the client's past cases."""

    client_id: UUID
    client_label: str
    characteristics: str = ""
    cautions: str = ""
    flags: list[str] = Field(default_factory=list)
    version: int = Field(description="0: never written. A save names the version it edited")
    updated_at: datetime | None = None
    updated_by_name: str | None = None
    unreadable: bool = Field(
        default=False, description="The client's key was destroyed: the record is erased"
    )
    can_edit: bool
    flag_options: list[str] = Field(description="The flags that can be set, in display order")
    max_characteristics: int
    max_cautions: int
    cases: list[PastCasePublic] = Field(default_factory=list, description="Newest first")


class ClientRecordIn(_In):
    version: int = Field(ge=0, description="The version this edit started from")
    characteristics: str = Field(default="", max_length=MAX_CHARACTERISTICS)
    cautions: str = Field(default="", max_length=MAX_CAUTIONS)
    flags: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, value: list[str]) -> list[str]:
        problem = flags_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ClosingOptions(BaseModel):
    outcomes: list[str]
    topics: list[str]
    survey_answers: list[str]


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(max_length=200, description="対応結果 (GET /api/closing-options)")
    topics: list[str] = Field(default_factory=list, max_length=20, description="相談内容")
    send_survey: bool = Field(default=False, description="Send the client the after-survey")


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold: bool = True


class HandOverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_staff_id: UUID | None = Field(description="None: back to the queue")
    note: str | None = Field(default=None, max_length=1000, description="引き継ぎメモ")


class CloseDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool


class HandoverTarget(BaseModel):
    staff_id: UUID
    display_name: str
    load: int
    capacity: int
    available: bool = Field(description="Has a free slot (and room under the 緊急 cap)")
    reason: str | None = Field(default=None, description="Why not, when not available")


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: MessagePublic | None = None
    pending_confirmation: bool = Field(
        default=False, description="A 緊急 case: closes once a supervisor confirms"
    )
    notice: str | None = Field(default=None, description="What happens next, for the staff member")


class PersonalDataSpan(BaseModel):
    kind: PersonalDataKind
    start: int = Field(description="In UTF-16 code units, as a browser's textarea counts")
    end: int


class PersonalDataRefusal(BaseModel):
    """409 from POST /api/cases/{case_id}/replies: confirm or edit (the text is not echoed)."""

    detail: str
    personal_data: list[PersonalDataKind]
    spans: list[PersonalDataSpan]
