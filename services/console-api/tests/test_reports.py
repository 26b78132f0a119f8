"""The reports page's API: console-api checks the role and calls reporting over HTTP."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from console_support import CSRF, STAFF, client_for, logged_in, served_console
from fastapi import FastAPI
from nats.js import JetStreamContext
from sodan_console.main import create_app
from sodan_console.settings import ConsoleSettings
from sodan_devstack.nats import free_port
from sodan_reporting.job import produce_month
from sodan_reporting.main import create_app as create_reporting
from sodan_reporting.main import migrate as migrate_reporting
from sodan_reporting.settings import ReportingSettings
from sodan_shared.events.reporting import MonthlyReportReady, MonthlyReportReadyV1
from sodan_shared.nats import publish_event
from sodan_shared.testing.browser import open_page

if TYPE_CHECKING:
    from playwright.async_api import Browser


@pytest.fixture
async def reporting_url(seeded: ConsoleSettings) -> AsyncIterator[str]:
    settings = ReportingSettings(
        nats_url=seeded.nats_url, database_url=seeded.database_url, _env_file=None
    )
    await asyncio.to_thread(migrate_reporting, settings)
    reporting = create_reporting(settings)
    port = free_port()
    # the report API alone (no lifespan: nothing consumes or schedules here)
    server = uvicorn.Server(
        uvicorn.Config(
            reporting.api,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_config=None,
            timeout_graceful_shutdown=5,
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=30)
    await reporting.db.dispose()


async def _console(settings: ConsoleSettings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def console(seeded: ConsoleSettings, reporting_url: str) -> AsyncIterator[FastAPI]:
    async for application in _console(
        seeded.model_copy(update={"console_reporting_url": reporting_url})
    ):
        yield application


async def test_supervisors_get_the_monthly_report_and_downloads(console: FastAPI) -> None:
    client = await logged_in(console, "supervisor")
    try:
        r = await client.get("/api/reports/monthly?month=2026-06")
        assert r.status_code == 200, r.text
        assert r.json()["title"] == "SNS相談 月次報告（2026年6月）"
        csv = await client.get("/api/reports/monthly?month=2026-06&format=csv")
        assert csv.content.startswith(b"\xef\xbb\xbf")
        assert "monthly-report-2026-06.csv" in csv.headers["content-disposition"]
        final = await client.get("/api/reports/final?from=2026-04-01&to=2026-06-30")
        assert [m["month"] for m in final.json()["months"]] == ["2026-04", "2026-05", "2026-06"]
    finally:
        await client.aclose()


async def test_counsellors_and_strangers_get_no_report(console: FastAPI) -> None:
    async with client_for(console) as anonymous:
        assert (await anonymous.get("/api/reports/monthly?month=2026-06")).status_code == 401
    client = await logged_in(console, "counsellor1")
    try:
        r = await client.get("/api/reports/monthly?month=2026-06")
        assert r.status_code == 403
        assert "スーパーバイザー" in r.json()["detail"]
    finally:
        await client.aclose()


async def test_reporting_errors_are_passed_on_and_the_analysis_edit_is_kept(
    console: FastAPI,
) -> None:
    client = await logged_in(console, "supervisor")
    try:
        bad = await client.get("/api/reports/monthly?month=2026-13")
        assert bad.status_code == 400
        assert bad.json()["detail"].startswith("集計の指定が正しくありません")
        assert "month must look like" in bad.json()["detail"]
        body = {"month": "2026-06", "channel": None, "text": "編集した所見"}
        no_csrf = await client.put("/api/reports/monthly/analysis", json=body)
        assert no_csrf.status_code == 403
        saved = await client.put("/api/reports/monthly/analysis", json=body, headers=CSRF)
        assert saved.status_code == 200, saved.text
        report = (await client.get("/api/reports/monthly?month=2026-06")).json()
        assert report["analysis"] == "編集した所見"
        assert report["analysis_edited"] is True
        await client.put("/api/reports/monthly/analysis", json={**body, "text": ""}, headers=CSRF)
    finally:
        await client.aclose()


async def test_reporting_down_is_a_clear_503(seeded: ConsoleSettings) -> None:
    down = seeded.model_copy(update={"console_reporting_url": f"http://127.0.0.1:{free_port()}"})
    async for application in _console(down):
        client = await logged_in(application, "supervisor")
        try:
            r = await client.get("/api/reports/monthly?month=2026-06")
        finally:
            await client.aclose()
        assert r.status_code == 503
        assert r.json()["detail"] == "集計サービスに接続できません"


@asynccontextmanager
async def _served(settings: ConsoleSettings, reporting_url: str) -> AsyncIterator[str]:
    async with served_console(
        settings.model_copy(update={"console_reporting_url": reporting_url})
    ) as (url, _):
        yield url


async def test_the_reports_page_shows_the_report_to_a_supervisor(
    seeded: ConsoleSettings, reporting_url: str, browser: Browser
) -> None:
    from playwright.async_api import expect

    supervisor = STAFF["supervisor"]
    errors: list[str] = []
    async with _served(seeded, reporting_url) as url, open_page(browser) as page:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{url}/")
        await page.fill("#login-id", supervisor.login)
        await page.fill("#login-password", supervisor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#reports-link")).to_be_visible()
        await page.click("#reports-link")
        await expect(page.locator("#report-title")).to_contain_text("SNS相談 月次報告")
        await expect(page.locator("#figures .figure")).to_have_count(14)
        assert await page.locator("#breakdowns svg").count() >= 6
        shots = os.environ.get("SODAN_SCREENSHOTS_DIR")
        if shots:
            await page.screenshot(path=str(Path(shots) / "console-reports.png"))
        href = await page.get_attribute("#dl-pdf", "href")
        assert href is not None and "format=pdf" in href
        await page.fill("#analysis", "ブラウザで編集した所見")
        await page.click("#analysis-save")
        await expect(page.locator("#analysis-state")).to_have_text("所見を保存しました")
        await page.click("#analysis-reset")
        await expect(page.locator("#analysis-state")).to_have_text("自動生成の文に戻しました")
    assert errors == []


async def _produce(seeded: ConsoleSettings, month: str) -> None:
    reporting = create_reporting(
        ReportingSettings(
            nats_url=seeded.nats_url, database_url=seeded.database_url, _env_file=None
        )
    )
    try:
        await produce_month(reporting.db.sessions, month=month, threshold=3)
    finally:
        await reporting.db.dispose()


async def test_supervisors_are_told_when_the_monthly_report_is_produced(
    seeded: ConsoleSettings, reporting_url: str, js: JetStreamContext, browser: Browser
) -> None:
    """At login for a report made while away, and live when the job makes one."""
    from playwright.async_api import expect

    await _produce(seeded, "2026-09")
    supervisor = STAFF["supervisor"]
    errors: list[str] = []
    async with _served(seeded, reporting_url) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            login = {"login": "counsellor1", "password": STAFF["counsellor1"].password}
            assert (await api.post("/api/login", json=login, headers=CSRF)).status_code == 200
            assert (await api.get("/api/reports/produced")).status_code == 403
        async with open_page(browser) as page:
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{url}/")
            await page.fill("#login-id", supervisor.login)
            await page.fill("#login-password", supervisor.password)
            await page.click("button[type=submit]")
            notice = page.locator("#report-notice")
            await expect(notice).to_contain_text("2026年9月の月次報告ができました")
            await page.click("#report-notice-dismiss")
            await expect(notice).to_be_hidden()
            await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")

            # the job produces October's while the page is open: told at once, no reload
            await _produce(seeded, "2026-10")
            ready = MonthlyReportReady.new(
                channel="", payload=MonthlyReportReadyV1(month="2026-10", channels=[], cases=0)
            )
            await publish_event(js, ready)
            await expect(notice).to_contain_text("2026年10月の月次報告ができました", timeout=15_000)
            await page.click("#report-notice-open")
            await expect(page.locator("#report-month")).to_have_value("2026-10")
    assert errors == []
