"""Plain factory functions with overrides, for events in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sodan_shared.crypto import ClientCipher
from sodan_shared.events.line import MessageReceived, MessageReceivedV1
from sodan_shared.events.triage import MessageScored, MessageScoredV1


def make_cipher(client_id: UUID | None = None) -> ClientCipher:
    return ClientCipher(client_id=client_id or uuid4(), data_key=bytes(range(32)))


def make_message_received(
    *,
    cipher: ClientCipher | None = None,
    text: str | None = "こんにちは",
    channel: str = "demo",
    client_no: int = 1,
    **overrides: Any,
) -> MessageReceived:
    cipher = cipher or make_cipher()
    fields: dict[str, Any] = {
        "client_id": cipher.client_id,
        "client_no": client_no,
        "line_user_id": cipher.seal("line_user_id", "U" + uuid4().hex),
        "webhook_event_id": uuid4().hex[:26].upper(),
        "line_message_id": str(uuid4().int)[:18],
        "kind": "text" if text is not None else "image",
        "text": cipher.seal("message.text", text) if text is not None else None,
        "sent_at": datetime.now(UTC),
    }
    fields.update(overrides)
    return MessageReceived.new(channel=channel, payload=MessageReceivedV1(**fields))


def make_message_scored(
    received: MessageReceived, *, level: str = "normal", score: float = 0.0, **overrides: Any
) -> MessageScored:
    fields: dict[str, Any] = {
        "message_event_id": received.id,
        "client_id": received.payload.client_id,
        "line_message_id": received.payload.line_message_id,
        "level": level,
        "score": score,
        "lexicon_version": "test",
    }
    fields.update(overrides)
    return MessageScored.new(
        channel=received.channel, payload=MessageScoredV1(**fields), caused_by=received
    )
