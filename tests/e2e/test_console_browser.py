"""The console's screens against the whole stack, in a real headless Chromium.

A client writes through the LINE platform simulator; the case appears on the
counsellor's page without a reload; the counsellor answers from the page and the
simulated LINE user receives it. Then the client writes something urgent: the
supervisor's page raises the alert, and the counsellor sees the words marked.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack

from tests.e2e.conftest import _routing_has_available_staff

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


async def _login(browser: Any, url: str, login: str, password: str) -> Any:
    from playwright.async_api import expect

    context = await browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = await context.new_page()
    await page.goto(url)
    await page.fill("#login-id", login)
    await page.fill("#login-password", password)
    await page.click("button[type=submit]")
    await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中", timeout=20_000)
    return page


async def _until_routing_knows_someone_is_available(database_url: str) -> None:
    deadline = time.monotonic() + 30
    while not await asyncio.to_thread(_routing_has_available_staff, database_url):
        assert time.monotonic() < deadline, "routing never learned the counsellor is available"
        await asyncio.sleep(0.2)


async def _inbox_texts(sim: SimulatorClient, user_id: str) -> list[str]:
    return [str(e.message.get("text")) for e in await sim.inbox(user_id) if e.message.get("text")]


async def test_a_counsellor_answers_from_the_page_and_an_urgent_message_alerts_the_supervisor(
    stack: Stack, sim: SimulatorClient
) -> None:
    from playwright.async_api import async_playwright, expect

    url = stack.url("console")
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        counsellor = await _login(browser, url, "counsellor1", "demo-pass-1")
        counsellor.on("pageerror", lambda exc: errors.append(str(exc)))
        await counsellor.select_option("#presence", "available")
        await _until_routing_knows_someone_is_available(stack.database_url)
        supervisor = await _login(browser, url, "supervisor", "demo-pass-sv")

        user = await sim.create_user("ブラウザで確かめる利用者")
        delivery = await sim.send_text(user.user_id, "はじめまして。話を聞いてほしいです")
        assert delivery.outcome == "delivered"

        # pushed to the open page: no reload
        row = counsellor.locator(".case", has_text="対応中").first
        await expect(row).to_be_visible(timeout=30_000)
        await row.click()
        bubble = counsellor.locator(".msg.from-client .bubble").first
        await expect(bubble).to_have_text("はじめまして。話を聞いてほしいです", timeout=15_000)

        reply = "こんばんは。相談員です。ゆっくりで大丈夫なので、聞かせてください。"
        await counsellor.fill("#reply-text", reply)
        await counsellor.press("#reply-text", "Control+Enter")
        mine = counsellor.locator(".msg.from-staff .bubble", has_text=reply)
        await expect(mine).to_be_visible()
        deadline = time.monotonic() + 30
        while reply not in await _inbox_texts(sim, user.user_id):
            assert time.monotonic() < deadline, "the simulated LINE user never got the reply"
            await asyncio.sleep(0.2)
        await expect(counsellor.locator(".msg.from-staff .msg-meta").last).to_contain_text(
            "送信済み", timeout=30_000
        )

        # something urgent: the supervisor is alerted at once, the words are marked
        await sim.send_text(user.user_id, "もう死にたい")
        alert = supervisor.locator("#urgent-alert")
        await expect(alert).to_be_visible(timeout=30_000)
        await expect(alert).to_contain_text("C-")
        marked = counsellor.locator(".msg.from-client .bubble mark.urgent-word")
        await expect(marked.first).to_have_text("死にたい", timeout=30_000)
        await browser.close()
    assert errors == []
