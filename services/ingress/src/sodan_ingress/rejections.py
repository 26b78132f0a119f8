"""Forged webhooks are audited by the window, not one by one.

A flood of forgeries must not cost one fsynced JetStream publish, one archive
write and one log line per request: that is what slowed valid webhooks in the
junk-flood drill. The first rejection of a kind (channel, reason, source) in a
window is audited at once, so the trail shows an attack the moment it starts;
the rest of that window are counted and audited as one entry with their count
when the window ends. The 401 never waits for any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from nats.js import JetStreamContext
from sodan_shared.events.line import WebhookRejected, WebhookRejectedV1
from sodan_shared.logging import get_logger
from sodan_shared.nats import publish_event
from sodan_shared.runtime import cancel_and_wait

log = get_logger(__name__)

RejectReason = Literal["missing_signature", "bad_signature"]

_PUBLISH_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Rejection:
    channel: str
    reason: RejectReason
    source_address: str | None


@dataclass
class Count:
    count: int
    largest_body: int | None
    since: datetime


def _larger(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class RejectionWindow:
    """Which rejections to audit now and which to count for the window's end (no I/O).

    At most ``max_kinds`` kinds are told apart per window; past that, further
    sources are counted together under ``source_address=None``, so memory stays
    bounded whatever addresses a flood comes from.
    """

    def __init__(self, max_kinds: int) -> None:
        self._max_kinds = max_kinds
        self._first: set[Rejection] = set()
        self._counted: dict[Rejection, Count] = {}

    def add(self, rejection: Rejection, body_size: int | None, now: datetime) -> bool:
        """True when this is the first of its kind in the window: audit it now."""
        if rejection not in self._first:
            if len(self._first) < self._max_kinds:
                self._first.add(rejection)
                return True
            rejection = replace(rejection, source_address=None)
        counted = self._counted.get(rejection)
        if counted is None:
            self._counted[rejection] = Count(1, body_size, now)
        else:
            counted.count += 1
            counted.largest_body = _larger(counted.largest_body, body_size)
        return False

    def close(self) -> list[tuple[Rejection, Count]]:
        """What was counted since the window opened; a new window opens."""
        counted = list(self._counted.items())
        self._first.clear()
        self._counted.clear()
        return counted


def audit_event(
    rejection: Rejection, *, body_size: int | None, count: int = 1, since: datetime | None = None
) -> WebhookRejected:
    return WebhookRejected.new(
        channel=rejection.channel,
        payload=WebhookRejectedV1(
            reason=rejection.reason,
            source_address=rejection.source_address,
            body_size=body_size,
            count=count,
            since=since,
        ),
    )


class RejectionAudit:
    """Publishes the window's audit entries from one background task."""

    def __init__(self, *, window_s: float, max_kinds: int) -> None:
        self._window_s = window_s
        self._window = RejectionWindow(max_kinds)
        self._max_pending = 4 * max_kinds
        self._pending: list[WebhookRejected] = []
        self._wake = asyncio.Event()
        self._js: JetStreamContext | None = None
        self._task: asyncio.Task[None] | None = None

    def record(
        self,
        *,
        channel: str,
        reason: RejectReason,
        source_address: str | None,
        body_size: int | None,
    ) -> None:
        rejection = Rejection(channel, reason, source_address)
        if self._window.add(rejection, body_size, datetime.now(UTC)):
            log.warning(
                "webhook.rejected",
                channel=channel,
                reason=reason,
                source_address=source_address,
                body_size=body_size,
            )
            self._pending.append(audit_event(rejection, body_size=body_size))
            self._wake.set()

    def start(self, js: JetStreamContext) -> None:
        self._js = js
        self._task = asyncio.create_task(self._run(), name="webhook-rejection-audit")

    async def stop(self) -> None:
        """Audits what was counted so far (a graceful stop loses no count)."""
        await cancel_and_wait(self._task)
        self._task = None
        self._close_window()
        await self._publish_pending()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        window_ends = loop.time() + self._window_s
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, window_ends - loop.time())):
                    await self._wake.wait()
            self._wake.clear()
            if loop.time() >= window_ends:
                self._close_window()
                window_ends = loop.time() + self._window_s
            await self._publish_pending()

    def _close_window(self) -> None:
        for rejection, count in self._window.close():
            log.warning(
                "webhook.rejected_repeatedly",
                channel=rejection.channel,
                reason=rejection.reason,
                source_address=rejection.source_address,
                count=count.count,
            )
            self._pending.append(
                audit_event(
                    rejection, body_size=count.largest_body, count=count.count, since=count.since
                )
            )

    async def _publish_pending(self) -> None:
        """In order; what NATS did not take is kept for the next round, up to a bound
        (an outage during a flood must not grow memory without end)."""
        while self._pending and self._js is not None:
            event = self._pending[0]
            try:
                await publish_event(self._js, event, timeout=_PUBLISH_TIMEOUT_S)
            except Exception as exc:  # an outage delays the entry, never the 401
                log.error("webhook.audit_failed", channel=event.channel, error=type(exc).__name__)
                break
            self._pending.pop(0)
        if len(self._pending) > self._max_pending:
            dropped = len(self._pending) - self._max_pending
            del self._pending[:dropped]
            log.error("webhook.audit_dropped", count=dropped)
