"""Composition root and command line: ``sodan-ingress run | migrate | asyncapi``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.events.line import (
    MediaFetchFailed,
    MediaStored,
    MessageReceived,
    PushResult,
    ReplyRequested,
    WebhookRejected,
)
from sodan_shared.nats import jstream
from sodan_shared.runtime import Database, broker_for, keyring_for, observe, service_cli
from sodan_shared.subjects import (
    CLIENT_FOLLOWED,
    CLIENT_UNFOLLOWED,
    MEDIA_FETCH_FAILED,
    MEDIA_STORED,
    MESSAGE_RECEIVED,
    MESSAGE_UNSENT,
    POSTBACK_RECEIVED,
    PUSH_RESULT,
    REPLY_REQUESTED,
    UNKNOWN_EVENT_RECEIVED,
    WEBHOOK_REJECTED,
)

from sodan_ingress.api import health, webhook
from sodan_ingress.channels import ChannelRegistry
from sodan_ingress.content_api import LineContent
from sodan_ingress.db import migrate
from sodan_ingress.handlers import register_handlers
from sodan_ingress.line_api import LinePusher
from sodan_ingress.service import Ingress
from sodan_ingress.settings import IngressSettings

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
ASYNCAPI_TITLE = "sodan ingress"
ASYNCAPI_DESCRIPTION = (
    "LINE in both directions: verified webhooks become sealed events; push "
    "and reply requests are delivered to LINE (replies with the reply token while it is "
    "fresh, pushes with a retry key) and their outcome published."
)


def declare_publishers(broker: NatsBroker) -> None:
    """What ingress publishes, for the AsyncAPI document. Messages leave through
    ``publish_event`` (webhooks: awaited before answering LINE) or the outbox."""
    broker.publisher(
        MESSAGE_RECEIVED.name,
        stream=jstream(MESSAGE_RECEIVED.stream),
        schema=MessageReceived,
        description="A message a client sent on LINE, sealed; published before LINE gets 200. "
        "Event id = uuid5(namespace, channel:webhookEventId), also the Nats-Msg-Id.",
    )
    for subject, description in (
        (CLIENT_FOLLOWED, "The client added the desk as a friend or unblocked it."),
        (CLIENT_UNFOLLOWED, "The client blocked the desk; pushes to them fail from now on."),
        (POSTBACK_RECEIVED, "A quick-reply or button answer; its data sealed ('postback.data')."),
        (MESSAGE_UNSENT, "The client unsent a message: consumers delete what they kept of it."),
        (UNKNOWN_EVENT_RECEIVED, "A LINE event type ingress does not know: type name and ids."),
    ):
        broker.publisher(
            subject.name,
            stream=jstream(subject.stream),
            schema=subject.event,
            description=description + " Same id rule and ack-before-200 as messages.",
        )
    broker.publisher(
        REPLY_REQUESTED.name,
        stream=jstream(REPLY_REQUESTED.stream),
        schema=ReplyRequested,
        description="The refused-media notice for a client who sent an image, video, audio, "
        "file or location; id = reply_id = uuid5(MessageReceived id, 'refused-notice').",
    )
    broker.publisher(
        PUSH_RESULT.name,
        stream=jstream(PUSH_RESULT.stream),
        schema=PushResult,
        description="Outcome of a PushRequested: sent (LINE accepted it) or failed.",
    )
    broker.publisher(
        MEDIA_STORED.name,
        stream=jstream(MEDIA_STORED.stream),
        schema=MediaStored,
        description="Emergency mode: a client's media fetched from LINE and stored sealed "
        "('media.content') in the object store; size and sha256 only, no content.",
    )
    broker.publisher(
        MEDIA_FETCH_FAILED.name,
        stream=jstream(MEDIA_FETCH_FAILED.stream),
        schema=MediaFetchFailed,
        description="Emergency mode: a client's media could not be fetched (expired, too "
        "large, LINE unavailable after retries); not retried further.",
    )
    broker.publisher(
        WEBHOOK_REJECTED.name,
        stream=jstream(WEBHOOK_REJECTED.stream),
        schema=WebhookRejected,
        description="A webhook with a missing or wrong X-Line-Signature (no body content).",
    )


def create_app(
    settings: IngressSettings, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """Build everything without connecting; the lifespan connects and starts."""
    broker = broker_for(settings, tracer_provider)
    # Webhook bursts: see Database.from_settings. Measured under 32 concurrent senders,
    # opening overflow connections was a fifth of the webhook path's database time.
    db = Database.from_settings(settings, keep_connections=True)
    ingress = Ingress(
        settings=settings,
        channels=ChannelRegistry.from_settings(settings),
        db=db,
        keyring=keyring_for(settings, db),
        broker=broker,
        pusher=LinePusher(api_base=settings.line_api_base, timeout_s=settings.line_timeout_s),
        content=LineContent(
            data_api_base=settings.line_data_api_base,
            timeout_s=settings.ingress_media_timeout_s,
            max_bytes=settings.ingress_media_max_bytes,
        ),
    )
    register_handlers(broker, ingress)
    declare_publishers(broker)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ingress.start()
        try:
            yield
        finally:
            await ingress.stop()

    app = FastAPI(title="sodan ingress", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.ingress = ingress
    app.include_router(webhook.router)
    app.include_router(health.router)
    return app


def render_asyncapi() -> str:
    """The contract from code; fixed settings so the environment cannot change it."""
    settings = IngressSettings(environment="development", nats_url="nats://127.0.0.1:4222")
    broker: NatsBroker = create_app(settings).state.ingress.broker
    return asyncapi_yaml(broker, title=ASYNCAPI_TITLE, description=ASYNCAPI_DESCRIPTION)


async def serve(settings: IngressSettings) -> None:
    tracer_provider = observe(settings, settings.service_name)
    app = create_app(settings, tracer_provider=tracer_provider)
    config = uvicorn.Config(
        app,
        host=settings.ingress_host,
        port=settings.ingress_port,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    await uvicorn.Server(config).serve()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is built (as ``uvicorn --loop auto`` would pick): the webhook path is
    socket-bound (HTTP, PostgreSQL, NATS per request) and uvloop's transports and
    reader callbacks cost less CPU than asyncio's selector loop."""
    try:
        import uvloop
    except ImportError:  # Windows, PyPy: the standard loop
        return None
    return uvloop.new_event_loop


def cli(argv: Sequence[str] | None = None) -> int:
    settings = IngressSettings()
    return service_cli(
        prog="sodan-ingress",
        description="LINE webhook intake and push delivery",
        migrate=lambda: migrate(settings.database_url),
        run=lambda: serve(settings),
        extra={"asyncapi": asyncapi_command(render_asyncapi, ASYNCAPI_PATH)},
        argv=argv,
        loop_factory=event_loop_factory(),
    )
