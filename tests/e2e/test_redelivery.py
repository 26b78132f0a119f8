"""A webhook LINE redelivers long after the first delivery is stored once.

Nats-Msg-Id deduplication only covers JetStream's duplicate window (minutes).
Here the window is shrunk to one second and then outlived, so the redelivered
event really is a second copy on LINE_IN; each consumer's processed_events
(keyed by the event id derived from webhookEventId) must drop it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack
from sodan_shared.nats import stream_config
from sodan_shared.subjects import LINE_IN, MESSAGE_RECEIVED

from tests.e2e.conftest import Console
from tests.e2e.test_thin_path import eventually, texts_of

JST = ZoneInfo("Asia/Tokyo")


async def _shrink_dedup_window(nats_url: str, seconds: float) -> None:
    nc = await nats.connect(nats_url)
    try:
        config = dataclasses.replace(stream_config(LINE_IN), duplicate_window=seconds)
        await nc.jetstream().update_stream(config)
    finally:
        await nc.close()


async def _copies_on_line_in(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(LINE_IN.name, subjects_filter=MESSAGE_RECEIVED.name)
        return int((info.state.subjects or {}).get(MESSAGE_RECEIVED.name, 0))
    finally:
        await nc.close()


async def _consumers_drained(nats_url: str) -> bool:
    """Every durable consumer of LINE_IN has acknowledged everything."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        consumers = await js.consumers_info(LINE_IN.name)
        return bool(consumers) and all(
            c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers
        )
    finally:
        await nc.close()


async def test_a_webhook_redelivered_after_the_dedup_window_is_stored_once(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    await counsellor.set_presence("available")
    user = await sim.create_user()
    first = await sim.send_text(user.user_id, "一度だけ届くはずのメッセージ")
    assert first.final_status == 200

    async def assigned() -> dict[str, Any] | None:
        cases = await counsellor.cases()
        return dict(cases[0]) if cases and cases[0].get("status") == "assigned" else None

    case = await eventually(assigned, what="the case is assigned")
    await _shrink_dedup_window(stack.nats_url, 1.0)
    await asyncio.sleep(2.5)  # outlive the window: JetStream forgets the Nats-Msg-Id

    again = await sim.redeliver(first.webhook_event_id)

    assert again.final_status == 200
    assert [a.is_redelivery for a in again.attempts] == [True]
    assert await _copies_on_line_in(stack.nats_url) == 2, "the stream should hold a second copy"
    await eventually(
        lambda: _consumers_drained(stack.nats_url), what="every consumer took the copy"
    )
    detail = await counsellor.case(str(case["case_id"]))
    assert texts_of(detail, "in") == ["一度だけ届くはずのメッセージ"]

    today = datetime.now(JST).date().isoformat()
    async with httpx.AsyncClient(base_url=stack.url("reporting")) as reporting:

        async def counted() -> dict[str, int] | None:
            response = await reporting.get(
                "/api/reports/daily", params={"from": today, "to": today}
            )
            totals: dict[str, int] = response.json()["totals"]
            return totals if totals["messages_in"] else None

        totals = await eventually(counted, what="reporting counted the message")
    assert totals["messages_in"] == 1
    assert totals["cases_opened"] == 1
    assert totals["clients_new"] == 1
