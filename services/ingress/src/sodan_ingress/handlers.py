"""FastStream subscribers: pushes, replies, and the refused-media notice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from faststream.exceptions import NackMessage
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from sodan_shared.deadletter import RetriesExhaustedError, is_transient, retry_through_outage
from sodan_shared.events.console import EmergencyModeSet
from sodan_shared.events.line import (
    LoadingRequested,
    MarkReadRequested,
    MessageReceived,
    MessageUnsent,
    PushRequested,
    ReplyRequested,
)
from sodan_shared.events.routing import CaseClosed
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream
from sodan_shared.subjects import (
    CASE_CLOSED,
    EMERGENCY_MODE_SET,
    LOADING_REQUESTED,
    MARK_READ_REQUESTED,
    MESSAGE_RECEIVED,
    MESSAGE_UNSENT,
    PUSH_REQUESTED,
    REPLY_REQUESTED,
)

from sodan_ingress.chat_actions import (
    LOADING_CONSUMER,
    MARK_READ_CONSUMER,
    mark_read,
    show_loading,
)
from sodan_ingress.media import (
    EMERGENCY_CLOSE_CONSUMER,
    EMERGENCY_CONSUMER,
    MEDIA_CONSUMER,
    MEDIA_UNSEND_CONSUMER,
    delete_unsent_media,
    end_emergency_mode_on_close,
    fetch_media,
    set_emergency_mode,
)
from sodan_ingress.outbound import PUSH_CONSUMER, deliver_push
from sodan_ingress.replies import (
    REFUSED_NOTICE_CONSUMER,
    REPLY_CONSUMER,
    deliver_reply,
    request_refused_notice,
)
from sodan_ingress.service import Ingress

log = get_logger(__name__)

# Deliveries beyond the push attempts, so a DB or keyring outage (nacked with a
# delay) does not eat the attempts LINE itself is entitled to.
_INFRA_SLACK = 3
_INFRA_RETRY_S = 5.0
# 既読 is a courtesy: a few tries on LINE's 5xx, then given up without a dead letter.
_MARK_READ_DELIVERIES = 3
_MARK_READ_RETRY_S = 5.0


async def _deliver_once_settled(
    deliver: Callable[[], Awaitable[float | None]],
    msg: NatsMessage,
    *,
    attempt: int,
    max_deliver: int,
    failure_event: str,
    **ids: str,
) -> None:
    """One delivery of a push or reply command: LINE's own retries come back as a
    pause (nack with delay); our own dependency failing is retried after a pause,
    held through on the last delivery if it is an outage, else dead-lettered."""
    try:
        retry_in = await deliver()
    except Exception as exc:
        log.warning(failure_event, attempt=attempt, error=type(exc).__name__, **ids)
        if attempt < max_deliver:
            raise NackMessage(delay=_INFRA_RETRY_S) from exc
        if not is_transient(exc):
            raise RetriesExhaustedError(type(exc).__name__) from exc
        retry_in = await retry_through_outage(
            deliver, keep_alive=msg.raw_message.in_progress, pause_s=_INFRA_RETRY_S
        )
    if retry_in is not None:
        raise NackMessage(delay=retry_in)


def register_handlers(broker: NatsBroker, ingress: Ingress) -> None:
    settings = ingress.settings
    # LINE's own answers are retried and settled (PushResult sent/failed) within
    # push_max_attempts. Our infrastructure failing is retried after a pause; on the
    # last delivery (JetStream stops at max_deliver) an outage is held through until it
    # ends, and any other failure is raised as RetriesExhaustedError so the shared
    # middleware dead-letters it instead of JetStream silently giving up.
    max_deliver = max(settings.push_max_attempts + _INFRA_SLACK, settings.max_deliveries)

    @broker.subscriber(
        PUSH_REQUESTED.name,
        stream=jstream(PUSH_REQUESTED.stream),
        durable=PUSH_CONSUMER,
        config=ConsumerConfig(
            max_deliver=max_deliver,
            ack_wait=settings.push_ack_wait_s,
        ),
        pull_sub=PullSub(batch_size=10, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Deliver texts to a client on LINE (X-Line-Retry-Key = push_id), "
        "then publish the PushResult",
    )
    async def on_push_requested(event: PushRequested, msg: NatsMessage) -> None:
        attempt = int(msg.raw_message.metadata.num_delivered or 1)
        await _deliver_once_settled(
            lambda: deliver_push(ingress, event, attempt=attempt),
            msg,
            attempt=attempt,
            max_deliver=max_deliver,
            failure_event="push.infra_error",
            push_id=str(event.payload.push_id),
        )

    @broker.subscriber(
        MESSAGE_RECEIVED.name,
        stream=jstream(MESSAGE_RECEIVED.stream),
        durable=REFUSED_NOTICE_CONSUMER,
        pull_sub=PullSub(batch_size=20, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="For an image, video, audio, file or location (refused, never "
        "downloaded), ask for the refused-media notice to be sent to the client at once",
    )
    async def on_message_received(event: MessageReceived) -> None:
        await request_refused_notice(ingress, event)

    @broker.subscriber(
        REPLY_REQUESTED.name,
        stream=jstream(REPLY_REQUESTED.stream),
        durable=REPLY_CONSUMER,
        config=ConsumerConfig(max_deliver=max_deliver, ack_wait=settings.push_ack_wait_s),
        pull_sub=PullSub(batch_size=10, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Answer with the reply token while LINE accepts it, else push "
        "(X-Line-Retry-Key = reply_id); then publish a PushResult with push_id = reply_id",
    )
    async def on_reply_requested(event: ReplyRequested, msg: NatsMessage) -> None:
        attempt = int(msg.raw_message.metadata.num_delivered or 1)
        await _deliver_once_settled(
            lambda: deliver_reply(ingress, event, attempt=attempt),
            msg,
            attempt=attempt,
            max_deliver=max_deliver,
            failure_event="reply.infra_error",
            reply_id=str(event.payload.reply_id),
        )

    @broker.subscriber(
        LOADING_REQUESTED.name,
        stream=jstream(LOADING_REQUESTED.stream),
        durable=LOADING_CONSUMER,
        config=ConsumerConfig(max_deliver=1),
        pull_sub=PullSub(batch_size=10, timeout=1.0),
        ack_policy=AckPolicy.ACK,
        description="Show LINE's loading animation while a counsellor types: one attempt, "
        "dropped when stale or when the client ended the conversation",
    )
    async def on_loading_requested(event: LoadingRequested) -> None:
        try:
            await show_loading(ingress, event, now=datetime.now(UTC))
        except Exception as exc:  # best effort: never redelivered, never dead-lettered
            log.warning(
                "loading.failed", client_id=str(event.payload.client_id), error=type(exc).__name__
            )

    @broker.subscriber(
        MARK_READ_REQUESTED.name,
        stream=jstream(MARK_READ_REQUESTED.stream),
        durable=MARK_READ_CONSUMER,
        config=ConsumerConfig(max_deliver=_MARK_READ_DELIVERIES),
        pull_sub=PullSub(batch_size=10, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Mark the client's messages read on LINE (既読) up to the newest one their "
        "counsellor saw, with the token kept by ingress; once per token",
    )
    async def on_mark_read_requested(event: MarkReadRequested, msg: NatsMessage) -> None:
        attempt = int(msg.raw_message.metadata.num_delivered or 1)
        try:
            outcome = await mark_read(ingress, event, now=datetime.now(UTC))
        except Exception as exc:
            outcome_reason = type(exc).__name__
            done = False
        else:
            outcome_reason, done = outcome.reason, outcome.done
        log.info(
            "mark_read.done" if done else "mark_read.retry",
            client_id=str(event.payload.client_id),
            reason=outcome_reason,
            attempt=attempt,
        )
        if not done and attempt < _MARK_READ_DELIVERIES:
            raise NackMessage(delay=_MARK_READ_RETRY_S)

    register_media_handlers(broker, ingress)


def register_media_handlers(broker: NatsBroker, ingress: Ingress) -> None:
    """Emergency mode: its switch, its end with the case, and the media downloads."""
    settings = ingress.settings

    @broker.subscriber(
        EMERGENCY_MODE_SET.name,
        stream=jstream(EMERGENCY_MODE_SET.stream),
        durable=EMERGENCY_CONSUMER,
        pull_sub=PullSub(batch_size=10, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="A supervisor switched a case's emergency mode: from now on the "
        "client's media are fetched and stored sealed (on) or refused (off)",
    )
    async def on_emergency_mode_set(event: EmergencyModeSet) -> None:
        await set_emergency_mode(ingress, event)

    @broker.subscriber(
        CASE_CLOSED.name,
        stream=jstream(CASE_CLOSED.stream),
        durable=EMERGENCY_CLOSE_CONSUMER,
        pull_sub=PullSub(batch_size=20, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="A closed case ends the emergency mode it had switched on",
    )
    async def on_case_closed(event: CaseClosed) -> None:
        await end_emergency_mode_on_close(ingress, event)

    @broker.subscriber(
        MESSAGE_RECEIVED.name,
        stream=jstream(MESSAGE_RECEIVED.stream),
        durable=MEDIA_CONSUMER,
        # One more than the dead-letter limit: the last delivery records the failure.
        config=ConsumerConfig(
            max_deliver=settings.max_deliveries + 1,
            ack_wait=settings.ingress_media_timeout_s + 60.0,  # download, seal and put
        ),
        pull_sub=PullSub(batch_size=2, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Emergency mode (media=pending): fetch the content from LINE's content "
        "API, seal it ('media.content') into the object store, publish MediaStored or "
        "MediaFetchFailed",
    )
    async def on_media_pending(event: MessageReceived, msg: NatsMessage) -> None:
        attempt = int(msg.raw_message.metadata.num_delivered or 1)
        await fetch_media(ingress, event, attempt=attempt)

    @broker.subscriber(
        MESSAGE_UNSENT.name,
        stream=jstream(MESSAGE_UNSENT.stream),
        durable=MEDIA_UNSEND_CONSUMER,
        pull_sub=PullSub(batch_size=20, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="The client unsent a message: delete its stored media, if any",
    )
    async def on_message_unsent(event: MessageUnsent) -> None:
        await delete_unsent_media(ingress, event)
