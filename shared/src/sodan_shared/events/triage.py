"""Events produced by the triage service."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from sodan_shared.events.envelope import Envelope, Payload

UrgencyLevel = Literal["critical", "high", "medium", "normal"]
URGENCY_RANK: dict[str, int] = {"normal": 0, "medium": 1, "high": 2, "critical": 3}
URGENCY_LABEL_JA: dict[str, str] = {
    "critical": "緊急",
    "high": "高",
    "medium": "中",
    "normal": "通常",
}


class UrgencyMatch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    term_id: str = Field(description="Lexicon term id (the lexicon's word, not the client's text)")
    category: str
    weight: float
    negated: bool = False
    subject: Literal["self", "other"] = Field(
        default="self", description="other: the client reports someone else (友達が…って言ってた)"
    )
    hedged: bool = Field(default=False, description="Put in the past or at a distance (前は…)")
    spans: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Where the client wrote it: [start, end) code-point offsets into the "
        "message text (offsets only, never the words), for highlighting in the console",
    )


class MessageScoredV1(Payload):
    message_event_id: UUID
    client_id: UUID
    line_message_id: str
    level: UrgencyLevel
    score: float
    matches: list[UrgencyMatch] = Field(default_factory=list)
    lexicon_version: str
    base_level: UrgencyLevel | None = Field(
        default=None,
        description="The level of this message alone; level may be higher because of the "
        "client's previous messages (context)",
    )


class MessageScored(Envelope[MessageScoredV1]):
    TYPE = "triage.message_scored"


class LexiconRejectedV1(Payload):
    command_id: UUID
    staff_id: UUID
    reason: str = Field(description="Why nothing changed (validation errors, a stale base)")


class LexiconRejected(Envelope[LexiconRejectedV1]):
    TYPE = "triage.lexicon_rejected"


class LexiconChangedV1(Payload):
    command_id: UUID
    staff_id: UUID
    version: str
    previous_version: str
    comment: str
    added: list[str] = Field(default_factory=list, description="Term ids added")
    removed: list[str] = Field(default_factory=list, description="Term ids removed")
    changed: list[str] = Field(default_factory=list, description="Term ids changed")
    settings_changed: bool = False


class LexiconChanged(Envelope[LexiconChangedV1]):
    """Audit: a new lexicon version is live (term ids only; no client data)."""

    TYPE = "audit.lexicon_changed"
