"""FastStream subscribers: one durable consumer per stream feeding the archive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig
from sodan_shared.nats import jstream
from sodan_shared.subjects import STREAMS, StreamSpec

from sodan_backup.archive import Archiver
from sodan_backup.segments import KEPT_HEADERS, ArchivedEvent


def archive_durable(spec: StreamSpec, index: int = 0) -> str:
    return f"backup-archive-{spec.name}" + (f"-{index}" if index else "")


def to_archived(stream: str, msg: NatsMessage) -> ArchivedEvent:
    raw: Any = msg.raw_message
    meta = raw.metadata
    stored_at: datetime = meta.timestamp  # when JetStream stored it (aware, UTC)
    headers = raw.headers or {}
    return ArchivedEvent(
        stream=stream,
        sequence=int(meta.sequence.stream),
        subject=raw.subject,
        stored_at=stored_at,
        headers={k: v for k, v in headers.items() if k in KEPT_HEADERS},
        data=bytes(raw.data),
    )


def register_handlers(broker: NatsBroker, archiver: Archiver) -> None:
    for spec in STREAMS:
        for index, pattern in enumerate(spec.subjects):
            _subscribe_stream(broker, archiver, spec, pattern, archive_durable(spec, index))


def _subscribe_stream(
    broker: NatsBroker, archiver: Archiver, spec: StreamSpec, pattern: str, durable: str
) -> None:
    # One message in flight per stream: the archive is written in stream order,
    # and a redelivery comes before anything newer.
    @broker.subscriber(
        pattern,
        stream=jstream(spec),
        durable=durable,
        config=ConsumerConfig(max_ack_pending=1),
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"archive-{spec.name}",
        description=f"Appends every event of {spec.name} to the encrypted archive, in order",
    )
    async def on_event(msg: NatsMessage) -> None:
        await archiver.archive(to_archived(spec.name, msg))
