"""A known event history through real NATS gives every figure of the monthly report."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pypdfium2 as pdfium
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from openpyxl import load_workbook
from reporting_history import JST, S2, History, jst, june_2026
from sodan_reporting.db import queries
from sodan_reporting.job import MonthlyJob, month_before
from sodan_reporting.main import ReportingApp, consumers_caught_up, create_app, migrate, rebuild
from sodan_reporting.replay import BadReplayError, drop_schema, replay_period
from sodan_reporting.settings import ReportingSettings
from sodan_shared.events.reporting import MonthlyReportReady
from sodan_shared.nats import publish_event
from sodan_shared.subjects import MONTHLY_REPORT_READY
from sodan_shared.testing.factories import make_cipher

# `make screenshots` points this at docs/screenshots/ to refresh the sample page.
SCREENSHOTS_ENV = "SODAN_SCREENSHOTS_DIR"


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
    for _ in range(300):
        if await consumers_caught_up(js):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("reporting consumers did not catch up")


async def _call(app: ReportingApp, method: str, path: str, **kw: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as client:
        return await client.request(method, path, **kw)


async def _monthly(app: ReportingApp, channel: str, fmt: str = "json") -> httpx.Response:
    r = await _call(
        app, "GET", f"/api/reports/monthly?month=2026-06&channel={channel}&format={fmt}"
    )
    assert r.status_code == 200, r.text
    return r


async def _fed(js: JetStreamContext) -> str:
    channel = f"ch-{uuid4().hex[:8]}"
    for event in june_2026(channel):
        await publish_event(js, event)
    await _until_caught_up(js)
    return channel


def _cells(report: dict[str, Any], key: str) -> dict[str, str]:
    table = next(t for t in report["breakdowns"] if t["key"] == key)
    return {c["label"]: c["display"] for c in table["cells"] if c["display"] != "0"} | {
        "合計": table["total_display"]
    }


async def test_every_figure_of_the_monthly_report(
    running: ReportingApp, js: JetStreamContext
) -> None:
    channel = await _fed(js)
    report = (await _monthly(running, channel)).json()

    assert report["from"] == "2026-06-01" and report["to"] == "2026-06-30"
    assert report["threshold"] == 3
    assert report["figures"] == {
        "cases": 4,
        "cases_closed": 3,
        "clients_new": 2,
        "clients_returning": 1,
        "messages_in": 4,
        "media_refused": 0,
        "messages_out": 3,
        "pushes_failed": 0,
        "urgent_messages": 0,
        "urgent_cases": 1,
        "handled": 2,
        "abandoned": 1,
        "refused": 1,
        "open": 0,
    }
    # one small cell alone could be recovered from the total: its neighbour is hidden too
    assert _cells(report, "age_group") == {"20代": "3未満", "未回答": "3未満", "合計": "4"}
    assert _cells(report, "region") == {"北勢": "3未満", "未回答": "3未満", "合計": "4"}
    # free-text answers counted fewer than 3 times merge into その他: their wording never shows
    assert _cells(report, "gender_identity") == {"その他": "3未満", "未回答": "3未満", "合計": "4"}
    assert _cells(report, "topic") == {"その他": "3未満", "未回答": "3未満", "合計": "4"}
    assert _cells(report, "outcome") == {"その他": "3未満", "未回答": "3未満", "合計": "4"}
    # only the two cases the after-survey went to; one answered, one did not
    assert _cells(report, "survey") == {"役に立った": "3未満", "未回答": "3未満", "合計": "2"}
    assert "トランス女性" not in str(report) and "カミングアウト" not in str(report)
    assert _cells(report, "urgency") == {"緊急": "1", "通常": "3", "合計": "4"}
    assert _cells(report, "handling") == {"対応": "2", "離脱": "1", "受付不可": "1", "合計": "4"}
    assert _cells(report, "refused") == {"受付時間外": "1", "合計": "1"}
    assert _cells(report, "weekday") == {"月": "1", "火": "1", "水": "2", "合計": "4"}
    assert _cells(report, "hour") == {
        "0時": "1",
        "12時": "1",
        "13時": "1",
        "20時": "1",
        "合計": "4",
    }
    assert report["waiting"] == {"cases": 3, "median_minutes": 4.0, "p90_minutes": 8.8}
    assert report["first_response"] == {"cases": 2, "median_minutes": 5.5, "p90_minutes": 5.9}
    assert report["staff"] == [
        {"label": "相談員A", "cases_assigned": 2, "messages_sent": 1},
        {"label": "相談員B", "cases_assigned": 1, "messages_sent": 2},
    ]
    compared = {
        c["key"]: (c["current"], c["previous_month"], c["same_month_last_year"])
        for c in report["comparisons"]
    }
    assert compared == {
        "cases": (4, 1, 1),
        "clients_new": (2, 1, 1),
        "clients_returning": (1, 0, 0),
        "messages_in": (4, 1, 1),
        "messages_out": (3, 1, 1),
        "urgent_cases": (1, 0, 0),
        "handled": (2, 1, 1),
        "abandoned": (1, 0, 0),
        "refused": (1, 0, 0),
    }
    text = report["analysis"]
    assert "2026年6月の相談件数は4件でした（前月1件から3件増、300%）。" in text
    assert "前年同月は1件で、3件増、300%でした。" in text
    assert "緊急度の高い相談（緊急・高）は1件でした。" in text
    assert report["analysis_edited"] is False
    # privacy: nothing in the report names a client, a counsellor or quotes a message
    body = (await _monthly(running, channel)).text
    assert "ご相談ありがとうございます" not in body
    assert "00000000-0000-0000-0000-000000000001" not in body


async def test_staff_edit_of_the_analysis_is_kept_and_sent(
    running: ReportingApp, js: JetStreamContext
) -> None:
    channel = await _fed(js)
    edit = {"month": "2026-06", "channel": channel, "text": "6月は相談が増えました。"}
    saved = await _call(running, "PUT", "/api/reports/monthly/analysis", json=edit)
    assert saved.status_code == 200, saved.text
    report = (await _monthly(running, channel)).json()
    assert report["analysis"] == "6月は相談が増えました。"
    assert report["analysis_edited"] is True
    assert report["analysis_generated"].startswith("2026年6月の相談件数は4件")
    bad = await _call(
        running, "PUT", "/api/reports/monthly/analysis", json={**edit, "month": "2026-6"}
    )
    assert bad.status_code == 400
    assert "month must look like" in bad.json()["detail"]
    # an empty text returns to the generated draft
    await _call(running, "PUT", "/api/reports/monthly/analysis", json={**edit, "text": " "})
    assert (await _monthly(running, channel)).json()["analysis_edited"] is False


async def test_downloads_csv_xlsx_pdf(running: ReportingApp, js: JetStreamContext) -> None:
    channel = await _fed(js)
    r = await _monthly(running, channel, "csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert ["概要", "相談件数", "4", ""] in rows
    assert ["年齢別", "20代", "3未満", ""] in rows

    r = await _monthly(running, channel, "xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:3] == ["概要", "内訳", "相談員別"]
    summary = {row[0]: row[1] for row in wb["概要"].iter_rows(values_only=True) if row}
    assert summary["相談件数"] == 4
    staff = list(wb["相談員別"].iter_rows(values_only=True))
    assert staff[1] == ("相談員A", 2, 1)

    r = await _monthly(running, channel, "pdf")
    assert r.content.startswith(b"%PDF")
    assert b"IPAexGothic" in r.content  # the Japanese font is embedded
    pdf = pdfium.PdfDocument(r.content)
    page = pdf[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert "相談件数" in page.get_textpage().get_text_range()
    shots = os.environ.get(SCREENSHOTS_ENV)
    if shots:
        page.render(scale=1.5).to_pil().save(Path(shots) / "monthly-report.png")


async def test_final_report_over_a_range_has_every_month(
    running: ReportingApp, js: JetStreamContext
) -> None:
    channel = await _fed(js)
    r = await _call(
        running, "GET", f"/api/reports/final?from=2026-04-01&to=2026-06-30&channel={channel}"
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["kind"] == "final"
    assert [(m["month"], m["figures"]["cases"]) for m in report["months"]] == [
        ("2026-04", 0),
        ("2026-05", 1),
        ("2026-06", 4),
    ]
    assert report["figures"]["cases"] == 5
    assert report["figures"]["clients_new"] == 3
    bad = await _call(running, "GET", "/api/reports/final?from=2020-01-01&to=2026-06-30")
    assert bad.status_code == 400


async def test_rebuild_and_replay_give_the_same_report_as_live(
    settings: ReportingSettings, js: JetStreamContext
) -> None:
    app = create_app(settings)
    await app.start()
    try:
        channel = await _fed(js)
        live = (await _monthly(app, channel)).json()
    finally:
        await app.stop()

    await rebuild(settings)
    reader = create_app(settings)  # API only: not started, so nothing consumes meanwhile
    try:
        assert (await _monthly(reader, channel)).json() == live
        result = await replay_period(
            nats_url=settings.nats_url,
            engine=reader.db.engine,
            since=datetime(2020, 1, 1, tzinfo=UTC),
            until=datetime(2030, 1, 1, tzinfo=UTC),
            into="analyst_copy",
        )
        assert result.applied > 0
        from sodan_reporting.replay import schema_sessions
        from sodan_reporting.reports import monthly_report

        async with schema_sessions(reader.db.engine, "analyst_copy")() as session:
            copy = await monthly_report(session, month="2026-06", channel=channel, threshold=3)
        assert copy.model_dump(mode="json", by_alias=True) == live
        with pytest.raises(BadReplayError):
            await replay_period(
                nats_url=settings.nats_url,
                engine=reader.db.engine,
                since=datetime(2020, 1, 1, tzinfo=UTC),
                until=datetime(2030, 1, 1, tzinfo=UTC),
                into="reporting",
            )
        await drop_schema(reader.db.engine, "analyst_copy")
    finally:
        await reader.db.dispose()

    # after a rebuild the service goes on from the next message: nothing counted twice
    again = create_app(settings)
    await again.start()
    try:
        history = History(channel)
        history.case(make_cipher(), jst(2026, 6, 20, 10, 0), assigned=(S2, 1))
        for event in history.events:
            await publish_event(js, event)
        await _until_caught_up(js)
        figures = (await _monthly(again, channel)).json()["figures"]
        assert figures["cases"] == live["figures"]["cases"] + 1
        assert figures["messages_in"] == live["figures"]["messages_in"] + 1
    finally:
        await again.stop()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/reports/monthly?month=2026-13", "month must look like"),
        ("/api/reports/monthly?month=2026-06&format=doc", "format"),
        ("/api/reports/final?from=2026-06-30&to=2026-06-01", "before"),
    ],
)
async def test_bad_requests_get_400(settings: ReportingSettings, path: str, message: str) -> None:
    app = create_app(settings)
    try:
        response = await _call(app, "GET", path)
    finally:
        await app.db.dispose()
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_the_job_is_due_for_the_month_before_in_japan_time() -> None:
    # 2026-06-30 15:30 UTC is already 1 July in Japan
    assert month_before(datetime(2026, 6, 30, 15, 30, tzinfo=UTC)) == "2026-06"
    assert month_before(datetime(2026, 6, 30, 14, 59, tzinfo=UTC)) == "2026-05"
    assert month_before(datetime(2026, 1, 5, tzinfo=UTC)) == "2025-12"


async def test_the_monthly_job_produces_last_month_once_and_tells_admins(
    running: ReportingApp, js: JetStreamContext
) -> None:
    channel = await _fed(js)
    sub = await js.pull_subscribe(
        MONTHLY_REPORT_READY.name,
        stream=MONTHLY_REPORT_READY.stream.name,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
    )
    assert running.relay is not None
    job = MonthlyJob(
        running.db.sessions,
        threshold=3,
        interval_s=3600,
        after=running.relay.wake,
        clock=lambda: datetime(2026, 7, 1, 0, 5, tzinfo=JST),
    )
    # two replicas checking at once: one produces, the other finds it done
    assert sorted(await asyncio.gather(job.check(), job.check())) == [False, True]
    assert await job.check() is False  # produced once

    events = []
    for _ in range(20):
        for msg in await sub.fetch(10, timeout=2):
            events.append(MonthlyReportReady.model_validate_json(msg.data))
            await msg.ack()
        if any(e.payload.month == "2026-06" for e in events):
            break
    ready = next(e for e in events if e.payload.month == "2026-06")
    assert channel in ready.payload.channels
    async with running.db.sessions() as session:
        assert set(await queries.produced_reports(session, month="2026-06")) == {"", channel}
