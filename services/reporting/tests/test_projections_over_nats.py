"""A known event history through real NATS gives known figures, live and after rebuild."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from nats.js import JetStreamContext
from sodan_reporting.main import ReportingApp, consumers_caught_up, create_app, migrate, rebuild
from sodan_reporting.settings import ReportingSettings
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import PushRequested, PushRequestedV1, PushResult, PushResultV1
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseAssignedV1,
    CaseClosed,
    CaseClosedV1,
    CaseOpened,
    CaseOpenedV1,
    CaseUrgencyChanged,
    CaseUrgencyChangedV1,
)
from sodan_shared.events.triage import MessageScored, MessageScoredV1
from sodan_shared.nats import publish_event
from sodan_shared.subjects import subject_for
from sodan_shared.testing.factories import make_cipher, make_message_received

T0 = datetime(2026, 5, 31, 15, 30, tzinfo=UTC)  # 2026-06-01 00:30 in Japan


def _history(channel: str) -> list[Envelope[Any]]:
    a, b = make_cipher(), make_cipher()
    a1 = make_message_received(cipher=a, channel=channel, sent_at=T0)
    a2 = make_message_received(
        cipher=a, channel=channel, sent_at=T0 + timedelta(hours=9, minutes=30)
    )
    b1 = make_message_received(
        cipher=b, text=None, channel=channel, refused=True, sent_at=T0 + timedelta(days=1, hours=11)
    )
    scored = MessageScored.new(
        channel=channel,
        caused_by=a1,
        occurred_at=T0,
        payload=MessageScoredV1(
            message_event_id=a1.id,
            client_id=a.client_id,
            line_message_id=a1.payload.line_message_id,
            level="critical",
            score=9.0,
            lexicon_version="test",
        ),
    )
    case_x, case_y, counsellor = uuid4(), uuid4(), uuid4()

    def case(cls: Any, payload: Any, at: datetime) -> Envelope[Any]:
        return cls.new(channel=channel, payload=payload, occurred_at=at)  # type: ignore[no-any-return]

    def push(at: datetime, status: str | None) -> Envelope[Any]:
        push_id = uuid4()
        if status is None:
            texts = [a.seal("message.text", "ご相談ありがとうございます")]
            return PushRequested.new(
                channel=channel,
                occurred_at=at,
                payload=PushRequestedV1(
                    push_id=push_id, client_id=a.client_id, texts=texts, origin="counsellor"
                ),
            )
        return PushResult.new(
            channel=channel,
            occurred_at=at,
            payload=PushResultV1(push_id=push_id, client_id=a.client_id, status=status, attempts=1),
        )

    y_opened = T0 + timedelta(days=1, hours=11, minutes=1)
    return [
        a1,
        scored,
        case(
            CaseOpened,
            CaseOpenedV1(
                case_id=case_x,
                client_id=a.client_id,
                client_no=1,
                first_message_event_id=a1.id,
                queued_at=T0 + timedelta(minutes=1),
            ),
            T0 + timedelta(minutes=1),
        ),
        case(
            CaseAssigned,
            CaseAssignedV1(case_id=case_x, client_id=a.client_id, counsellor_id=counsellor),
            T0 + timedelta(minutes=3),
        ),
        case(
            CaseUrgencyChanged,
            CaseUrgencyChangedV1(
                case_id=case_x,
                client_id=a.client_id,
                urgency="critical",
                score=9.0,
                cause_message_event_id=a1.id,
            ),
            T0 + timedelta(minutes=1),
        ),
        a2,
        push(T0 + timedelta(hours=10), None),
        push(T0 + timedelta(hours=10), None),
        push(T0 + timedelta(hours=10), "sent"),
        push(T0 + timedelta(hours=10), "failed"),
        case(
            CaseClosed,
            CaseClosedV1(case_id=case_x, client_id=a.client_id, closed_by=counsellor),
            T0 + timedelta(hours=11),
        ),
        b1,
        case(
            CaseOpened,
            CaseOpenedV1(
                case_id=case_y,
                client_id=b.client_id,
                client_no=2,
                first_message_event_id=b1.id,
                queued_at=y_opened,
            ),
            y_opened,
        ),
        case(
            CaseAssigned,
            CaseAssignedV1(case_id=case_y, client_id=b.client_id, counsellor_id=counsellor),
            y_opened + timedelta(minutes=10),
        ),
    ]


EXPECTED_JUNE_1 = {
    "messages_in": 2,
    "clients_new": 1,
    "urgent_messages": 1,
    "cases_opened": 1,
    "urgent_cases": 1,
    "cases_closed": 1,
    "pushes_requested": 2,
    "messages_out": 1,
    "pushes_failed": 1,
}
EXPECTED_JUNE_2 = {"messages_in": 1, "media_refused": 1, "clients_new": 1, "cases_opened": 1}


@pytest.fixture
async def settings(nats_url: str, fresh_database_url: str) -> ReportingSettings:
    s = ReportingSettings(nats_url=nats_url, database_url=fresh_database_url, log_format="console")
    await asyncio.to_thread(migrate, s)
    return s


@pytest.fixture
async def running(settings: ReportingSettings) -> AsyncIterator[ReportingApp]:
    app = create_app(settings)
    await app.start()
    yield app
    await app.stop()


async def _until_caught_up(js: JetStreamContext) -> None:
    for _ in range(200):
        if await consumers_caught_up(js):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("reporting consumers did not catch up")


async def _get(app: ReportingApp, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as client:
        return await client.get(path)


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


async def _figures(app: ReportingApp, channel: str) -> tuple[Any, Any]:
    daily = await _get(app, f"/api/reports/daily?from=2026-05-31&to=2026-06-03&channel={channel}")
    summary = await _get(app, f"/api/reports/summary?month=2026-06&channel={channel}")
    assert daily.status_code == 200, daily.text
    assert summary.status_code == 200, summary.text
    return daily.json(), summary.json()


async def test_known_history_gives_known_figures_in_japan_days(
    running: ReportingApp, js: JetStreamContext
) -> None:
    channel = f"ch-{uuid4().hex[:8]}"
    for event in _history(channel):
        await publish_event(js, event)
    await _until_caught_up(js)

    daily, summary = await _figures(running, channel)
    by_day = {d["day"]: _nonzero(d["counts"]) for d in daily["days"]}
    assert by_day == {"2026-06-01": EXPECTED_JUNE_1, "2026-06-02": EXPECTED_JUNE_2}
    assert daily["from"] == "2026-05-31" and daily["to"] == "2026-06-03"
    assert daily["totals"]["messages_in"] == 3
    assert summary["counts"]["cases_opened"] == 2
    assert summary["counts"]["clients_new"] == 2
    wait = summary["first_assignment_wait"]
    assert wait == {
        "assigned_cases": 2,
        "unassigned_cases": 0,
        "median_seconds": 360.0,
        "p90_seconds": pytest.approx(552.0),
    }
    may = await _get(running, f"/api/reports/summary?month=2026-05&channel={channel}")
    assert _nonzero(may.json()["counts"]) == {}


async def test_a_redelivered_or_republished_event_is_counted_once(
    running: ReportingApp, js: JetStreamContext
) -> None:
    channel = f"ch-{uuid4().hex[:8]}"
    history = _history(channel)
    for event in history:
        await publish_event(js, event)
    # the same events again under other message ids: JetStream keeps both copies
    for event in history:
        await js.publish(
            subject_for(event).name, event.to_bytes(), headers={"Nats-Msg-Id": f"again-{event.id}"}
        )
    await _until_caught_up(js)

    daily, _ = await _figures(running, channel)
    by_day = {d["day"]: _nonzero(d["counts"]) for d in daily["days"]}
    assert by_day == {"2026-06-01": EXPECTED_JUNE_1, "2026-06-02": EXPECTED_JUNE_2}


async def test_rebuild_from_the_stream_gives_the_same_figures_as_live(
    settings: ReportingSettings, js: JetStreamContext
) -> None:
    channel = f"ch-{uuid4().hex[:8]}"
    app = create_app(settings)
    await app.start()
    try:
        for event in _history(channel):
            await publish_event(js, event)
        await _until_caught_up(js)
        live = await _figures(app, channel)
    finally:
        await app.stop()

    await rebuild(settings)

    reader = create_app(settings)  # API only: not started, so nothing consumes meanwhile
    try:
        assert await _figures(reader, channel) == live
    finally:
        await reader.db.dispose()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/reports/daily?from=2026-6-1&to=2026-06-30", "from must be a date"),
        ("/api/reports/daily?from=2026-06-01&to=2026-06-31", "not a valid calendar date"),
        ("/api/reports/daily?from=2026-06-30&to=2026-06-01", "before"),
        ("/api/reports/daily?to=2026-06-01", "from"),
        ("/api/reports/summary?month=2026-13", "month must look like"),
    ],
)
async def test_bad_periods_get_400_with_a_clear_message(
    settings: ReportingSettings, path: str, message: str
) -> None:
    app = create_app(settings)
    try:
        response = await _get(app, path)
    finally:
        await app.db.dispose()
    assert response.status_code == 400
    assert message in response.json()["detail"]


async def test_healthz_answers(settings: ReportingSettings) -> None:
    app = create_app(settings)
    try:
        response = await _get(app, "/healthz")
    finally:
        await app.db.dispose()
    assert response.json() == {"status": "ok"}
