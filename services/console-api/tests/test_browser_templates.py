"""定型文 and the personal-data confirmation in a real browser, by keyboard."""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from console_support import STAFF, logged_in_page, make_case_assigned, make_case_opened, new_client
from nats.js import JetStreamContext
from sodan_console.state import ConsoleState
from sodan_shared.nats import publish_event
from sodan_shared.testing.factories import make_message_received
from test_browser import SCREENSHOTS_ENV, served  # noqa: F401  (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page


def _login(browser: Browser, url: str, login: str) -> AbstractAsyncContextManager[Page]:
    return logged_in_page(browser, url, login, viewport={"width": 1280, "height": 800})


async def _open_assigned_case(page: Page, state: ConsoleState, js: JetStreamContext) -> None:
    from playwright.async_api import expect

    identity, cipher = await new_client(state.keyring)
    first = make_message_received(
        cipher=cipher, client_no=identity.client_no, text="こんばんは、相談したいです"
    )
    opened = make_case_opened(identity=identity, first_message_id=first.id)
    me = await page.evaluate("fetch('/api/me').then(r => r.json())")
    for event in (first, opened, make_case_assigned(opened, counsellor_id=me["staff_id"])):
        await publish_event(js, event)
    row = page.locator(f'.case[data-case-id="{opened.payload.case_id}"]')
    await expect(row).to_be_visible(timeout=15_000)
    await row.click()
    await expect(page.locator(".msg.from-client .bubble").first).to_have_text(
        "こんばんは、相談したいです"
    )


async def test_counsellor_inserts_a_template_by_keyboard_and_confirms_personal_data(
    served: tuple[str, ConsoleState],  # noqa: F811
    js: JetStreamContext,
    browser: Browser,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    url, state = served
    screenshot = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-templates.png"
    name = STAFF["counsellor1"].display_name
    async with _login(browser, url, "counsellor1") as page:
        await _open_assigned_case(page, state, js)
        box = page.locator("#reply-text")
        sent = page.locator(".msg.from-staff")

        # Enter is a new line, never a send.
        await box.focus()
        await page.keyboard.type("よろしくお願いします。")
        await page.keyboard.press("Enter")
        await page.keyboard.type("続けてどうぞ")
        await expect(box).to_have_value("よろしくお願いします。\n続けてどうぞ")
        await expect(sent).to_have_count(0)

        # Ctrl+/ opens the picker with the caret at the very start.
        await page.keyboard.press("Control+Home")
        await page.keyboard.press("Control+/")
        picker = page.locator("#template-picker")
        await expect(picker).to_be_visible()
        await expect(page.locator("#template-search")).to_be_focused()
        options = page.locator("#template-list [role=option]")
        greeting = options.filter(has_text="はじめのあいさつ")
        await expect(greeting).to_contain_text(f"担当の{name}です")  # filled in
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(screenshot))

        # Esc closes without touching the text; the caret is back where it was.
        await page.keyboard.press("Escape")
        await expect(picker).to_be_hidden()
        await expect(box).to_be_focused()
        await expect(box).to_have_value("よろしくお願いします。\n続けてどうぞ")

        # Search, move with the arrows, Enter inserts at the caret and sends nothing.
        await page.keyboard.press("Control+/")
        await page.keyboard.type("待って")
        await expect(options).to_have_count(2)
        await page.keyboard.press("ArrowDown")
        await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        await expect(options.nth(1)).to_contain_text("確認に時間がかかる")
        await page.keyboard.press("Enter")
        await expect(picker).to_be_hidden()
        await expect(box).to_be_focused()
        inserted = (
            "大切なことなので、確認のため少しお時間をください。"
            "メッセージはちゃんと届いています。このままお待ちいただけますか。"
        )
        await expect(box).to_have_value(inserted + "よろしくお願いします。\n続けてどうぞ")
        await expect(sent).to_have_count(0)
        await page.keyboard.type("\n")  # typing goes on right after the inserted text
        await expect(box).to_have_value(inserted + "\nよろしくお願いします。\n続けてどうぞ")

        await page.keyboard.press("Control+Enter")
        await expect(sent.last.locator(".bubble")).to_have_text(
            inserted + "\nよろしくお願いします。\n続けてどうぞ"
        )
        await expect(box).to_have_value("")

        # A phone number: the warning names it and marks it; 修正する keeps the text.
        draft = "急ぎのときは 090-1234-5678 に電話してください"
        await box.fill(draft)
        await page.keyboard.press("Control+Enter")
        dialog = page.locator("#pd-dialog")
        await expect(dialog).to_be_visible()
        await expect(page.locator("#pd-kinds")).to_contain_text("電話番号")
        await expect(page.locator("#pd-preview .pd-mark")).to_have_text("090-1234-5678")
        await expect(page.locator("#pd-edit")).to_be_focused()
        await page.screenshot(path=str(screenshot.with_name("console-personal-data.png")))
        await page.click("#pd-edit")
        await expect(dialog).to_be_hidden()
        await expect(box).to_have_value(draft)
        await expect(box).to_be_focused()
        selected = await box.evaluate("b => b.value.slice(b.selectionStart, b.selectionEnd)")
        assert selected == "090-1234-5678"
        await expect(sent).to_have_count(1)

        # Esc in the dialog is 修正する too; then 送信する sends it as written.
        await page.keyboard.press("Control+Enter")
        await expect(dialog).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(box).to_have_value(draft)
        await page.keyboard.press("Control+Enter")
        await expect(dialog).to_be_visible()
        await page.click("#pd-send")
        await expect(dialog).to_be_hidden()
        await expect(sent).to_have_count(2)
        await expect(sent.last.locator(".bubble")).to_have_text(draft)
        await expect(box).to_have_value("")


async def test_supervisor_adds_a_template_and_a_bad_placeholder_loses_nothing(
    served: tuple[str, ConsoleState],  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    url, _ = served
    async with _login(browser, url, "supervisor") as page:
        await page.click("#settings-nav summary")  # the 設定 menu
        await page.click("#open-templates")
        view = page.locator("#templates-view")
        await expect(view.locator("h2")).to_have_text("定型文")
        await expect(
            view.locator(".template-card[data-template-id]:not([hidden]) h3").first
        ).to_be_visible()

        await page.click("#template-new")
        card = view.locator('.template-card[data-template-id="new"]')
        await card.locator("input.title").fill("夜遅い時間の声かけ")
        await card.locator("input.category").fill("あいさつ")
        body = card.locator("textarea")
        await body.fill("遅い時間までありがとう。{担当者}が聞いています。")
        await card.get_by_role("button", name="追加").click()
        await expect(card.locator("p.error")).to_contain_text("使えない差し込み {担当者}")
        await expect(body).to_have_value("遅い時間までありがとう。{担当者}が聞いています。")

        await body.fill("遅い時間までありがとう。")
        await body.press("End")
        await card.get_by_role("button", name="{相談員名}").click()
        await body.press("End")
        await page.keyboard.type("が聞いています。")
        await card.get_by_role("button", name="追加").click()
        added = view.locator(".template-card", has_text="夜遅い時間の声かけ").first
        await expect(added).to_be_visible()
        await expect(added.locator("textarea")).to_have_value(
            "遅い時間までありがとう。{相談員名}が聞いています。"
        )
        shots = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path))
        await page.screenshot(path=str(shots / "console-templates-editor.png"))

        # It is in the picker at once, filled in for whoever inserts it.
        await page.click("#templates-view >> text=閉じる")
        listed = await page.evaluate("fetch('/api/reply-templates').then(r => r.json())")
        texts = [t["text"] for t in listed["items"] if t["title"] == "夜遅い時間の声かけ"]
        assert texts == [
            f"遅い時間までありがとう。{STAFF['supervisor'].display_name}が聞いています。"
        ]
