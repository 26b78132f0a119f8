"""NATS / JetStream plumbing: streams, the FastStream broker, raw publishing."""

from __future__ import annotations

import logging
from typing import Any

import nats
from faststream.nats import JStream, NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from opentelemetry.sdk.trace import TracerProvider

from sodan_shared.events.envelope import Envelope
from sodan_shared.subjects import STREAMS, StreamSpec, subject_for
from sodan_shared.tracing import inject_headers

# Nats-Msg-Id dedup window: LINE retries within seconds to minutes; later
# redeliveries are caught by the consumers' processed_events tables.
DUPLICATE_WINDOW_S = 600.0


def stream_config(spec: StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        description=spec.description,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


async def ensure_streams(js: JetStreamContext) -> None:
    """Create or update every stream the project declares (idempotent)."""
    for spec in STREAMS:
        config = stream_config(spec)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


def jstream(spec: StreamSpec) -> JStream:
    """A FastStream handle on a stream we declare ourselves (never redeclared by it)."""
    return JStream(name=spec.name, subjects=list(spec.subjects), declare=False)


def create_broker(
    url: str, *, tracer_provider: TracerProvider | None = None, **kwargs: Any
) -> NatsBroker:
    middlewares = (
        [NatsTelemetryMiddleware(tracer_provider=tracer_provider)] if tracer_provider else []
    )
    # FastStream's own lines go through the root logger, so they come out as the
    # same JSON as ours; its per-message "Received"/"Processed" pairs are debug
    # detail (handlers log what they decided, with ids).
    kwargs.setdefault("logger", logging.getLogger("sodan.broker"))
    kwargs.setdefault("log_level", logging.DEBUG)
    return NatsBroker(url, middlewares=middlewares, **kwargs)


async def connect(url: str, **kwargs: Any) -> Client:
    return await nats.connect(url, **kwargs)


async def publish_event(
    js: JetStreamContext, event: Envelope[Any], *, timeout: float = 5.0
) -> None:
    """Publish and wait for JetStream's ack; the event id is the dedup key."""
    await js.publish(
        subject_for(event).name,
        event.to_bytes(),
        timeout=timeout,
        headers=inject_headers({"Nats-Msg-Id": str(event.id)}),
    )
