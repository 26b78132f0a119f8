"""The composer in a real browser: sticker picker, quick replies, typing signal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from console_support import eventually, make_case_assigned, make_case_opened, new_client
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console.seed import DEMO_STAFF
from sodan_console.state import ConsoleState
from sodan_shared.events.line import LoadingRequested, PushRequested
from sodan_shared.nats import publish_event
from sodan_shared.subjects import LOADING_REQUESTED, PUSH_REQUESTED
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received
from test_browser import SCREENSHOTS_ENV, served  # noqa: F401  (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Browser


async def test_counsellor_sends_a_sticker_with_quick_replies_from_the_composer(
    served: tuple[str, ConsoleState],  # noqa: F811
    js: JetStreamContext,
    browser: Browser,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    url, state = served
    screenshot = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-composer.png"
    counsellor = next(s for s in DEMO_STAFF if s.login == "counsellor1")
    pushes = await js.subscribe(
        PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    loading = await js.subscribe(
        LOADING_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    async with open_page(browser, viewport={"width": 1280, "height": 800}) as page:
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(url) else None,
        )
        await page.goto(url)
        await page.fill("#login-id", counsellor.login)
        await page.fill("#login-password", counsellor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()

        identity, cipher = await new_client(state.keyring)
        first = make_message_received(
            cipher=cipher, client_no=identity.client_no, text="こんにちは"
        )
        opened = make_case_opened(identity=identity, first_message_id=first.id)
        me = await page.evaluate("fetch('/api/me').then(r => r.json())")
        for event in (first, opened, make_case_assigned(opened, counsellor_id=me["staff_id"])):
            await publish_event(js, event)
        row = page.locator(f'.case[data-case-id="{opened.payload.case_id}"]')
        await expect(row).to_be_visible(timeout=15_000)
        await row.click()
        await expect(page.locator(".msg.from-client .bubble").first).to_have_text("こんにちは")

        await page.type("#reply-text", "今、話せますか？")  # typing → one loading signal
        await page.click("#sticker-picker summary")
        await page.click('#sticker-list button[data-sticker="thumbs_up"]')
        await page.click("#quick-reply-editor summary")
        for label in ("はい", "いいえ"):
            await page.fill("#qr-label", label)
            await page.click("#qr-add")
        await expect(page.locator("#reply-attachments button")).to_have_count(3)
        await page.click("#send")

        mine = page.locator(".msg.from-staff").last
        await expect(mine.locator(".bubble")).to_have_text(
            "今、話せますか？\n［スタンプ］👍 いいね"
        )
        await expect(mine.locator(".msg-quick-replies")).to_have_text(
            "クイックリプライ: はい / いいえ"
        )
        await expect(page.locator("#reply-attachments button")).to_have_count(0)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(screenshot))

    async def pushed() -> PushRequested | None:
        push = PushRequested.model_validate_json((await pushes.next_msg(timeout=10)).data)
        return push if push.payload.case_id == opened.payload.case_id else None

    push = await eventually(pushed, what="the push")
    assert push.payload.sticker is not None and push.payload.sticker.sticker_id == "52002734"
    assert len(push.payload.texts) == 1
    signal = LoadingRequested.model_validate_json((await loading.next_msg(timeout=10)).data)
    assert signal.payload.case_id == opened.payload.case_id
    await asyncio.sleep(0)
    assert outside == []  # no sticker pictures or anything else from outside
