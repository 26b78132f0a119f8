"""The console's screens against the whole stack, in a real headless Chromium.

A client writes through the LINE platform simulator; the case appears on the
counsellor's page without a reload; the counsellor answers from the page and the
simulated LINE user receives it. Then the client writes something urgent: the
supervisor's page raises the alert, and the counsellor sees the words marked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack
from sodan_shared.testing.browser import open_page

from tests.e2e.conftest import Console, until_routing_knows

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page


@asynccontextmanager
async def _login(browser: Browser, url: str, login: str, password: str) -> AsyncIterator[Page]:
    from playwright.async_api import expect

    async with open_page(browser) as page:
        await page.goto(url)
        await page.fill("#login-id", login)
        await page.fill("#login-password", password)
        await page.click("button[type=submit]")
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中", timeout=20_000)
        yield page


async def _inbox_texts(sim: SimulatorClient, user_id: str) -> list[str]:
    return [str(e.message.get("text")) for e in await sim.inbox(user_id) if e.message.get("text")]


async def test_a_counsellor_answers_from_the_page_and_an_urgent_message_alerts_the_supervisor(
    stack: Stack, sim: SimulatorClient, counsellor: Console, browser: Browser
) -> None:
    from playwright.async_api import expect

    url = stack.url("console")
    errors: list[str] = []
    async with AsyncExitStack() as pages:  # the counsellor and the supervisor, each logged in
        counsellor_page = await pages.enter_async_context(
            _login(browser, url, "counsellor1", "demo-pass-1")
        )
        counsellor_page.on("pageerror", lambda exc: errors.append(str(exc)))
        await counsellor_page.select_option("#presence", "available")
        await until_routing_knows(stack.database_url, "presence = 'available'")
        supervisor = await pages.enter_async_context(
            _login(browser, url, "supervisor", "demo-pass-sv")
        )

        user = await sim.create_user("ブラウザで確かめる利用者")
        words = f"はじめまして。話を聞いてほしいです（{user.user_id[-6:]}）"
        delivery = await sim.send_text(user.user_id, words)
        assert delivery.outcome == "delivered"

        # pushed to the open page: no reload (the shared stack's list holds other
        # tests' cases too: the row is the one with this client's label)
        label = str((await counsellor.wait_for_case(words, status="assigned"))["client_label"])
        row = counsellor_page.locator(".case", has_text=label).filter(has_text="対応中")
        await expect(row).to_be_visible(timeout=30_000)
        await row.click()
        bubble = counsellor_page.locator(".msg.from-client .bubble").first
        await expect(bubble).to_have_text(words, timeout=15_000)

        reply = "こんばんは。相談員です。ゆっくりで大丈夫なので、聞かせてください。"
        await counsellor_page.fill("#reply-text", reply)
        await counsellor_page.press("#reply-text", "Control+Enter")
        mine = counsellor_page.locator(".msg.from-staff .bubble", has_text=reply)
        await expect(mine).to_be_visible()
        deadline = time.monotonic() + 30
        while reply not in await _inbox_texts(sim, user.user_id):
            assert time.monotonic() < deadline, "the simulated LINE user never got the reply"
            await asyncio.sleep(0.2)
        await expect(counsellor_page.locator(".msg.from-staff .msg-meta").last).to_contain_text(
            "送信済み", timeout=30_000
        )

        # something urgent: the supervisor is alerted at once, the words are marked
        await sim.send_text(user.user_id, "もう死にたい")
        alert = supervisor.locator("#urgent-alert")
        await expect(alert).to_be_visible(timeout=30_000)
        await expect(alert).to_contain_text(label)
        marked = counsellor_page.locator(".msg.from-client .bubble mark.urgent-word")
        await expect(marked.first).to_have_text("死にたい", timeout=30_000)
    assert errors == []
