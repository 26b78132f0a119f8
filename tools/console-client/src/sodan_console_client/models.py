"""What the client returns: the parts of the console's answers a script needs.

Mirrors (does not import) the console's schemas, so a script host needs only this
package. Unknown fields are ignored: a newer console adding fields does not
break an older client.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Staff(_Answer):
    """A staff member (``whoami``)."""

    staff_id: UUID
    login: str
    display_name: str
    role: str = Field(description="counsellor, supervisor or admin")
    presence: str = Field(description="available, away, break or offline")
    capacity: int


class Case(_Answer):
    """A line of the case list. The client is only ever a number (C-000123)."""

    case_id: UUID
    client_label: str
    status: str = Field(description="queued, assigned, on_hold or closed")
    urgency: str = Field(description="critical, high, medium or normal")
    opened_at: datetime
    assigned_to: UUID | None = None
    assignee_name: str | None = None
    assigned_at: datetime | None = None
    closed_at: datetime | None = None
    last_message_at: datetime | None = None
    can_act: bool = False
    unanswered: bool = False
    emergency_mode: bool = False
    attention: str | None = None
    in_intake: bool = False


class Message(_Answer):
    """A message of the conversation, decrypted by the console for this staff member."""

    message_id: UUID
    case_id: UUID | None = None
    direction: str = Field(description="in: from the client; out: to the client")
    kind: str
    text: str | None = None
    unreadable: bool = False
    sent_at: datetime
    urgency: str | None = None
    delivery: str | None = Field(default=None, description="pending, sent or failed")
    delivery_error: str | None = None
    staff_name: str | None = None
    automatic: bool = False
    sticker_label: str | None = None


class CaseDetail(_Answer):
    case: Case
    messages: list[Message]


class CasePage(_Answer):
    """One page of the case list; ``next_cursor`` fetches the next one."""

    items: list[Case]
    next_cursor: str | None = None
