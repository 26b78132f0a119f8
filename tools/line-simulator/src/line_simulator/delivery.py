"""Posting signed webhooks to our system, redelivering like LINE does."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import httpx

from line_simulator.schemas import AttemptRecord, DeliveryRecord, RuntimeConfig
from line_simulator.webhook import Event, as_redelivery, make_webhook_body, webhook_headers

log = logging.getLogger(__name__)


def backoff_for(config: RuntimeConfig, redelivery: int) -> float:
    """Delay before the n-th redelivery (1-based); the last step repeats."""
    steps = config.redelivery_backoff_s or [0.0]
    return steps[min(redelivery, len(steps)) - 1]


class WebhookSender:
    def __init__(self, http: httpx.AsyncClient, *, destination: str, channel_secret: str) -> None:
        self._http = http
        self._destination = destination
        self._secret = channel_secret

    async def deliver(self, event: Event, config: RuntimeConfig) -> DeliveryRecord:
        """Send one event; on a non-2xx answer or a network error, redeliver it.

        Each redelivery is a new body (``isRedelivery: true``, same
        ``webhookEventId``) and is therefore signed again.
        """
        record = DeliveryRecord(
            user_id=event["source"]["userId"],
            event_type=event["type"],
            webhook_event_id=event["webhookEventId"],
            message_id=event.get("message", {}).get("id"),
            reply_token=event.get("replyToken"),
            url=config.webhook_url,
            started_at=datetime.now(UTC),
        )
        started = time.perf_counter()
        for attempt in range(1 + config.redelivery_attempts):
            if attempt:
                await asyncio.sleep(backoff_for(config, attempt))
                event = as_redelivery(event)
            outcome = await self._attempt(event, config, attempt=attempt + 1)
            record.attempts.append(outcome)
            if outcome.status is not None and 200 <= outcome.status < 300:
                record.outcome = "delivered"
                break
        else:
            record.outcome = "failed"
        record.final_status = record.attempts[-1].status
        record.total_ms = round((time.perf_counter() - started) * 1000, 2)
        log.info(
            "webhook.%s event_id=%s event_type=%s attempts=%d status=%s",
            record.outcome,
            record.webhook_event_id,
            record.event_type,
            len(record.attempts),
            record.final_status,
        )
        return record

    async def _attempt(self, event: Event, config: RuntimeConfig, *, attempt: int) -> AttemptRecord:
        body = make_webhook_body(self._destination, [event])
        at = datetime.now(UTC)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = await self._http.post(
                config.webhook_url,
                content=body,
                headers=webhook_headers(body, self._secret),
                timeout=config.webhook_timeout_s,
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            # Connection refused / timeout count as failed attempts, as on LINE.
            error = type(exc).__name__
        return AttemptRecord(
            attempt=attempt,
            is_redelivery=event["deliveryContext"]["isRedelivery"],
            status=status,
            error=error,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            at=at,
        )
