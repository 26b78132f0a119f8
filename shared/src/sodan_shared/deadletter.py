"""Dead-letter for poison messages, added to every broker by ``runtime.broker_for``.

A handler that raises makes FastStream nack its message (``NACK_ON_ERROR``), and
JetStream redelivers it at once, forever. This middleware changes two things for
JetStream messages whose handler raised an unexpected exception:

- before the ``max_deliveries``-th delivery, the nack carries a growing delay, so
  a failing message (or a short database outage) does not spin;
- on the ``max_deliveries``-th delivery, unless the error is an outage of the
  database or NATS (:func:`is_transient`: those are retried until it ends), the original message (data and headers)
  is copied to ``deadletter.<original subject>`` on the DEADLETTER stream, with
  why and from where in ``Sodan-Dead-Letter-*`` headers, and then acked, so the
  rest of the consumer keeps flowing.

An event that does not match its schema (pydantic's ``ValidationError``) is
dead-lettered on its first delivery: it would fail the same way every time, and
acking it without a copy would lose something JetStream had accepted.

Control-flow exceptions (``AckMessage``/``NackMessage``/``RejectMessage``) are
the handler's own decision and are left alone, as are messages already acked or
nacked by the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import psycopg
import sqlalchemy.exc
from faststream._internal.context.repository import ContextRepo
from faststream.exceptions import HandlerException
from faststream.middlewares import BaseMiddleware
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import NotJSMessageError
from pydantic import ValidationError

from sodan_shared.logging import get_logger
from sodan_shared.subjects import DEADLETTER

DEAD_LETTER_PREFIX = "deadletter."
REASON_HEADER = "Sodan-Dead-Letter-Reason"
STREAM_HEADER = "Sodan-Dead-Letter-Stream"
SUBJECT_HEADER = "Sodan-Dead-Letter-Subject"
CONSUMER_HEADER = "Sodan-Dead-Letter-Consumer"
ORIGINAL_MSG_ID_HEADER = "Sodan-Dead-Letter-Msg-Id"

log = get_logger(__name__)

T = TypeVar("T")


def dead_letter_subject(subject: str) -> str:
    return f"{DEAD_LETTER_PREFIX}{subject}"


def redelivery_delay(num_delivered: int, delays_s: Sequence[float]) -> float | None:
    """Pause before the next delivery after the ``num_delivered``-th failed (the
    last delay repeats); None means redeliver at once."""
    if not delays_s:
        return None
    return delays_s[min(max(num_delivered, 1), len(delays_s)) - 1]


class RetriesExhaustedError(Exception):
    """Raised by a handler whose consumer has its own ``max_deliver``: on the last
    delivery a failure must be dead-lettered, or JetStream drops it silently. (An
    outage on the last delivery is held through instead: ``retry_through_outage``.)"""


# An outage, not a poison message: the same delivery will succeed once the
# database or NATS is back, however long that takes, so these never dead-letter.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    ConnectionError,
    TimeoutError,
    NatsError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


async def retry_through_outage(
    attempt: Callable[[], Awaitable[T]],
    *,
    keep_alive: Callable[[], Awaitable[object]],
    pause_s: float,
) -> T:
    """Call ``attempt`` until it returns, or raises something other than an outage.

    For a message on the last delivery its consumer's ``max_deliver`` allows: a nack
    would never come back, and dead-lettering a reply that only a database restart
    held up would leave a client unanswered until an operator replays it. So the
    handler holds the message, telling JetStream it is still at work on it
    (``keep_alive``, which may itself fail while NATS is the outage)."""
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("message.held_through_outage", error=type(exc).__name__, retry_in_s=pause_s)
        with contextlib.suppress(Exception):
            await keep_alive()
        await asyncio.sleep(pause_s)


def dead_letter_headers(raw: Msg, *, reason: str, stream: str, consumer: str) -> dict[str, str]:
    """The original headers plus where it came from and why (a type name only,
    never the exception text, which may quote message content)."""
    headers = dict(raw.headers or {})
    original_id = headers.pop("Nats-Msg-Id", None)
    if original_id is not None:
        headers[ORIGINAL_MSG_ID_HEADER] = original_id
    # One dead letter per (consumer, message): two consumers failing on the same
    # event must both be recorded, and a retry of the same one deduplicated.
    stream_seq = raw.metadata.sequence.stream
    headers["Nats-Msg-Id"] = f"deadletter:{stream}:{consumer}:{stream_seq}"
    headers[REASON_HEADER] = reason
    headers[STREAM_HEADER] = stream
    headers[SUBJECT_HEADER] = raw.subject
    headers[CONSUMER_HEADER] = consumer
    return headers


class DeadLetterMiddleware(BaseMiddleware):
    """One instance per message (FastStream builds it from ``dead_letter``)."""

    def __init__(
        self,
        msg: Any,
        /,
        *,
        context: ContextRepo,
        connection: Callable[[], Client],
        max_deliveries: int,
        delays_s: Sequence[float],
    ) -> None:
        super().__init__(msg, context=context)
        self._connection = connection
        self._max_deliveries = max_deliveries
        self._delays_s = delays_s

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        raw = self.msg
        if (
            exc_val is None
            or not isinstance(exc_val, Exception)
            or isinstance(exc_val, HandlerException | asyncio.CancelledError)
            or not isinstance(raw, Msg)
            or raw._ackd  # the handler settled it itself
        ):
            return False
        try:
            meta = raw.metadata
        except NotJSMessageError:
            return False  # core NATS: nothing to redeliver
        reason = type(exc_val).__name__
        if exc_val.__cause__ is not None:
            reason = f"{reason}:{type(exc_val.__cause__).__name__}"
        # A consumer of the dead letters themselves (the archive) never dead-letters
        # again: deadletter.deadletter.… could grow without end.
        malformed = isinstance(exc_val, ValidationError)
        if raw.subject.startswith(DEAD_LETTER_PREFIX) or (
            not malformed and (meta.num_delivered < self._max_deliveries or is_transient(exc_val))
        ):
            delay = redelivery_delay(meta.num_delivered, self._delays_s)
            log.warning(
                "message.handler_failed",
                stream=meta.stream,
                consumer=meta.consumer,
                stream_seq=meta.sequence.stream,
                num_delivered=meta.num_delivered,
                error=reason,
                retry_in_s=delay,
            )
            await raw.nak(delay=delay)
            return False
        headers = dead_letter_headers(
            raw, reason=reason, stream=meta.stream, consumer=meta.consumer
        )
        try:
            js = self._connection().jetstream()
            ack = await js.publish(
                dead_letter_subject(raw.subject), raw.data, headers=headers, timeout=5.0
            )
        except (NatsError, TimeoutError) as exc:
            # Not recorded: keep it on its stream and try again later.
            log.error(
                "message.dead_letter_failed",
                stream=meta.stream,
                consumer=meta.consumer,
                stream_seq=meta.sequence.stream,
                error=type(exc).__name__,
            )
            await raw.nak(delay=redelivery_delay(meta.num_delivered, self._delays_s))
            return False
        await raw.ack()
        log.error(
            "message.dead_lettered",
            stream=meta.stream,
            consumer=meta.consumer,
            subject=raw.subject,
            stream_seq=meta.sequence.stream,
            dead_letter_seq=ack.seq,
            msg_id=headers.get(ORIGINAL_MSG_ID_HEADER),
            num_delivered=meta.num_delivered,
            error=reason,
        )
        # Not suppressed: FastStream still logs the failure; its own nack is a
        # no-op now that the message is acked.
        return False


def dead_letter(
    connection: Callable[[], Client], *, max_deliveries: int, delays_s: Sequence[float]
) -> Callable[..., DeadLetterMiddleware]:
    """The middleware factory ``broker.add_middleware`` takes. ``connection`` is
    called only when a message must be dead-lettered (the broker is connected)."""
    delays = tuple(delays_s)

    def build(msg: Any, /, *, context: ContextRepo) -> DeadLetterMiddleware:
        return DeadLetterMiddleware(
            msg,
            context=context,
            connection=connection,
            max_deliveries=max_deliveries,
            delays_s=delays,
        )

    return build


__all__ = [
    "CONSUMER_HEADER",
    "DEADLETTER",
    "REASON_HEADER",
    "STREAM_HEADER",
    "SUBJECT_HEADER",
    "DeadLetterMiddleware",
    "RetriesExhaustedError",
    "dead_letter",
    "dead_letter_subject",
    "redelivery_delay",
    "retry_through_outage",
]
