"""End to end in a real browser: log in, a case appears live, open it, reply."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid5

import pytest
from console_support import (
    eventually,
    make_case_assigned,
    make_case_closed,
    make_case_opened,
    new_client,
    served_console,
)
from nats.js import JetStreamContext
from sodan_console.db.tables import cases
from sodan_console.seed import DEMO_STAFF
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_shared.events.line import PushRequested, PushResult, PushResultV1
from sodan_shared.events.routing import CaseOpened
from sodan_shared.events.triage import UrgencyMatch
from sodan_shared.nats import publish_event
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received, make_message_scored
from sqlalchemy import func, select

if TYPE_CHECKING:
    from playwright.async_api import Browser

# `make screenshots` points this at docs/screenshots/ to refresh the committed
# picture; an ordinary test run must not modify the work tree.
SCREENSHOTS_ENV = "SODAN_SCREENSHOTS_DIR"


@pytest.fixture
async def served(seeded: ConsoleSettings) -> AsyncIterator[tuple[str, ConsoleState]]:
    async with served_console(seeded) as (url, state):
        yield url, state


async def test_counsellor_sees_a_case_arrive_live_and_replies(
    served: tuple[str, ConsoleState], js: JetStreamContext, browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    screenshot = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-chat.png"

    url, state = served
    counsellor = next(s for s in DEMO_STAFF if s.login == "counsellor1")
    async with open_page(browser, viewport={"width": 1280, "height": 800}) as page:
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.goto(url)
        await page.fill("#login-id", counsellor.login)
        await page.fill("#login-password", counsellor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()
        await expect(page.locator("#me-name")).to_have_text(counsellor.display_name)
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")
        await page.select_option("#presence", "available")

        # A waiting critical case from another client, for the queue.
        other, other_cipher = await new_client(state.keyring)
        other_msg = make_message_received(
            cipher=other_cipher, client_no=other.client_no, text="もう限界かもしれない"
        )
        other_case = make_case_opened(
            identity=other,
            first_message_id=other_msg.id,
            urgency="critical",
            queued_at=datetime.now(UTC) - timedelta(minutes=4),
        )
        # The case assigned to this counsellor, arriving while the page is open.
        identity, cipher = await new_client(state.keyring)
        first = make_message_received(
            cipher=cipher,
            client_no=identity.client_no,
            text="はじめまして。学校で自分のことを話せる人がいなくて、相談してみました。",
            sent_at=datetime.now(UTC) - timedelta(minutes=2),
        )
        second = make_message_received(
            cipher=cipher,
            client_no=identity.client_no,
            text="友達にカミングアウトするか迷っています。",
            sent_at=datetime.now(UTC) - timedelta(minutes=1),
            personal_data=["phone"],
        )
        opened = make_case_opened(
            identity=identity,
            first_message_id=first.id,
            urgency="medium",
            queued_at=datetime.now(UTC) - timedelta(minutes=2),
        )
        me = await page.evaluate("fetch('/api/me').then(r => r.json())")
        assigned = make_case_assigned(opened, counsellor_id=me["staff_id"])
        for event in (
            other_msg,
            other_case,
            first,
            make_message_scored(first, level="medium", score=1.0),
            second,
            opened,
            assigned,
        ):
            await publish_event(js, event)

        row = page.locator(f'.case[data-case-id="{opened.payload.case_id}"]')
        await expect(row).to_be_visible(timeout=15_000)  # no reload: pushed by /api/stream
        await expect(row).to_contain_text(f"C-{identity.client_no:06d}")
        await expect(row).to_contain_text("対応中")
        await expect(
            page.locator(f'.case[data-case-id="{other_case.payload.case_id}"]')
        ).to_contain_text("緊急")

        await row.click()
        await expect(page.locator(".msg.from-client .bubble").first).to_have_text(
            "はじめまして。学校で自分のことを話せる人がいなくて、相談してみました。"
        )
        # Ingress flagged the second message: a warning, never the matched text itself.
        await expect(page.locator(".msg.from-client .msg-warning")).to_have_text(
            "⚠ 個人情報の可能性: 電話番号"
        )
        await page.fill(
            "#reply-text",
            "話してくれてありがとうございます。ゆっくりで大丈夫なので、聞かせてください。",
        )
        await page.press("#reply-text", "Control+Enter")
        mine = page.locator(".msg.from-staff").last
        await expect(mine.locator(".bubble")).to_have_text(
            "話してくれてありがとうございます。ゆっくりで大丈夫なので、聞かせてください。"
        )
        await expect(mine.locator(".msg-meta")).to_contain_text("送信中")

        # ingress reports the delivery: the bubble updates live
        push = await _pushed(js, opened.payload.case_id)
        await publish_event(
            js,
            PushResult.new(
                channel="demo",
                caused_by=push,
                payload=PushResultV1(
                    push_id=push.payload.push_id,
                    client_id=push.payload.client_id,
                    case_id=push.payload.case_id,
                    status="sent",
                    attempts=1,
                ),
            ),
        )
        await expect(mine.locator(".msg-meta")).to_contain_text("送信済み", timeout=15_000)

        # LINE refuses the next one: 送信失敗 with the reason, and 再送する sends it again
        await page.fill("#reply-text", "もう一度お送りします。")
        await page.press("#reply-text", "Control+Enter")
        refused = page.locator(".msg.from-staff", has_text="もう一度お送りします。")
        await expect(refused.locator(".msg-meta")).to_contain_text("送信中")
        second = await _pushed(js, opened.payload.case_id)
        assert second.payload.push_id != push.payload.push_id
        await publish_event(
            js,
            PushResult.new(
                channel="demo",
                caused_by=second,
                event_id=uuid5(second.id, "result"),
                payload=PushResultV1(
                    push_id=second.payload.push_id,
                    client_id=second.payload.client_id,
                    case_id=second.payload.case_id,
                    status="failed",
                    attempts=5,
                    error="500 Internal Server Error",
                ),
            ),
        )
        await expect(refused.locator(".msg-meta")).to_contain_text("送信失敗", timeout=15_000)
        await refused.locator("button.resend").click()
        await expect(refused.locator(".msg-meta")).to_contain_text("送信中", timeout=15_000)
        await expect(refused.locator("button.resend")).to_have_count(0)

        screenshot.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(screenshot))


async def test_a_critical_case_alerts_a_supervisor_at_once(
    served: tuple[str, ConsoleState], js: JetStreamContext, browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    url, state = served
    supervisor = next(s for s in DEMO_STAFF if s.role == "supervisor")
    async with open_page(browser) as page:
        await page.goto(url)
        await page.fill("#login-id", supervisor.login)
        await page.fill("#login-password", supervisor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")
        await page.wait_for_timeout(500)
        # Critical cases of earlier tests alert at login too (as they should): clear that.
        if await page.locator("#urgent-alert").is_visible():
            await page.click("#urgent-alert-dismiss")

        identity, cipher = await new_client(state.keyring)
        first = make_message_received(
            cipher=cipher, client_no=identity.client_no, text="もう終わりにしたい"
        )
        opened = make_case_opened(identity=identity, first_message_id=first.id, urgency="critical")
        words = UrgencyMatch(
            term_id="suicide.end_it", category="自殺・自傷", weight=1.0, spans=[(2, 9)]
        )
        scored = make_message_scored(first, level="critical", score=1.0, matches=[words])
        for event in (first, opened, scored):
            await publish_event(js, event)

        banner = page.locator("#urgent-alert")
        await expect(banner).to_be_visible(timeout=15_000)  # pushed live, no reload
        await expect(banner).to_contain_text(f"C-{identity.client_no:06d}")
        shots = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path))
        await page.screenshot(path=str(shots / "console-urgent-alert.png"))
        await page.click("#urgent-alert-open")
        await expect(banner).to_be_hidden()
        await expect(page.locator("#chat-client")).to_have_text(f"C-{identity.client_no:06d}")
        # the words that raised the urgency are marked in the client's own text
        marked = page.locator(".msg.from-client .bubble mark.urgent-word")
        await expect(marked).to_have_text("終わりにしたい", timeout=15_000)
        await expect(page.locator(".msg.from-client .bubble").first).to_have_text(
            "もう終わりにしたい"
        )


async def _pushed(js: JetStreamContext, case_id: object) -> PushRequested:
    from nats.js.api import DeliverPolicy
    from sodan_shared.subjects import PUSH_REQUESTED

    sub = await js.subscribe(
        PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.LAST_PER_SUBJECT
    )
    try:
        while True:
            push = PushRequested.model_validate_json((await sub.next_msg(timeout=10)).data)
            if push.payload.case_id == case_id:
                return push
    finally:
        await sub.unsubscribe()


async def test_a_new_critical_case_alerts_even_with_a_page_of_older_ones_open(
    served: tuple[str, ConsoleState], js: JetStreamContext, browser: Browser
) -> None:
    """The list shows the oldest first; the alert check reads past its first page."""
    url, state = served
    opened_cases = []
    try:
        for _ in range(51):  # more than a page (50) of open 緊急 cases
            opened_cases.append(await _open_critical_case(state, js))
        await _alert_for_a_new_one_past_the_first_page(browser, url, state, js, opened_cases)
    finally:
        # The database is the session's: other tests' cases must stay on the first page.
        for opened in opened_cases:
            await publish_event(js, make_case_closed(opened))
        ids = [o.payload.case_id for o in opened_cases]

        async def all_closed() -> bool:
            async with state.db.sessions() as session:
                still_open = await session.scalar(
                    select(func.count())
                    .select_from(cases)
                    .where(cases.c.case_id.in_(ids), cases.c.status != "closed")
                )
            return still_open == 0

        await eventually(all_closed, what="the test's cases to close")


async def _open_critical_case(state: ConsoleState, js: JetStreamContext) -> CaseOpened:
    identity, cipher = await new_client(state.keyring)
    first = make_message_received(cipher=cipher, client_no=identity.client_no, text="…")
    opened = make_case_opened(identity=identity, first_message_id=first.id, urgency="critical")
    await publish_event(js, opened)
    return opened


async def _alert_for_a_new_one_past_the_first_page(
    browser: Browser,
    url: str,
    state: ConsoleState,
    js: JetStreamContext,
    opened_cases: list[CaseOpened],
) -> None:
    from playwright.async_api import expect

    supervisor = next(s for s in DEMO_STAFF if s.role == "supervisor")
    async with open_page(browser) as page:
        await page.goto(url)
        await page.fill("#login-id", supervisor.login)
        await page.fill("#login-password", supervisor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")
        banner = page.locator("#urgent-alert")
        await expect(banner).to_be_visible(timeout=15_000)  # the open ones, at login
        await page.click("#urgent-alert-dismiss")

        newest = await _open_critical_case(state, js)
        opened_cases.append(newest)
        await expect(banner).to_be_visible(timeout=15_000)
        await expect(banner).to_contain_text(f"C-{newest.payload.client_no:06d}")
