"""The versioned envelope every event on the stream carries.

Events are past-tense facts. A breaking change to a payload is a new class with
``version`` + 1 on a new subject, never an edit of the old one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sodan_shared.tracing import current_trace_id

Sealed = Annotated[
    str,
    Field(
        description="AES-GCM ciphertext under the client's data key ('v1.' + base64url); "
        "plaintext never travels on the stream",
        pattern=r"^v1\.[A-Za-z0-9_-]+$",
    ),
]


class Payload(BaseModel):
    # Unknown fields are ignored, not refused: a producer may add an optional
    # field while older consumers still run (a rolling deploy). Removing,
    # renaming or retyping a field is breaking: that is a new version.
    model_config = ConfigDict(frozen=True, extra="ignore")


P = TypeVar("P", bound=Payload)


class Envelope(BaseModel, Generic[P]):
    """Common fields; subclasses fix ``TYPE`` and ``VERSION`` and the payload class."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    id: UUID = Field(description="Stable event id; also the Nats-Msg-Id used for dedup")
    type: str
    version: int
    occurred_at: AwareDatetime
    channel: str = Field(description="The desk's LINE channel this event belongs to")
    correlation_id: UUID = Field(description="Id of the first event of this chain")
    causation_id: UUID | None = Field(default=None, description="Id of the event that caused it")
    trace_id: str | None = None
    payload: P

    @classmethod
    def new(
        cls,
        *,
        channel: str,
        payload: P,
        caused_by: Envelope[Any] | None = None,
        event_id: UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Self:
        eid = event_id or uuid4()
        return cls(
            id=eid,
            type=cls.TYPE,
            version=cls.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            channel=channel,
            correlation_id=caused_by.correlation_id if caused_by else eid,
            causation_id=caused_by.id if caused_by else None,
            trace_id=current_trace_id(),
            payload=payload,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()
