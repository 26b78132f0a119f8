"""保留 and the closing form in a real browser: the counsellor puts a case on hold,
sees it as 保留, then closes it with 対応結果, 相談内容 and the after-survey."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console_support import make_case_assigned, make_case_opened, new_client
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console.seed import DEMO_STAFF
from sodan_console.state import ConsoleState
from sodan_shared.events.console import CloseCase, HoldCase
from sodan_shared.events.routing import (
    CaseClosed,
    CaseClosedV1,
    CaseHoldChanged,
    CaseHoldChangedV1,
)
from sodan_shared.nats import publish_event
from sodan_shared.subjects import CLOSE_CASE, HOLD_CASE, Subject
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received
from test_browser import SCREENSHOTS_ENV, served  # noqa: F401  (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Browser


async def _next_for(sub: Any, subject: Subject, case_id: object) -> Any:
    while True:
        command = subject.event.model_validate_json((await sub.next_msg(timeout=10)).data)
        if command.payload.case_id == case_id:
            return command


async def test_counsellor_holds_a_case_then_closes_it_with_the_closing_form(
    served: tuple[str, ConsoleState],  # noqa: F811
    js: JetStreamContext,
    browser: Browser,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    url, state = served
    screenshot = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-closing-form.png"
    counsellor = next(s for s in DEMO_STAFF if s.login == "counsellor1")
    holds = await js.subscribe(
        HOLD_CASE.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    closes = await js.subscribe(
        CLOSE_CASE.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    async with open_page(browser, viewport={"width": 1280, "height": 900}) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        await page.goto(url)
        await page.fill("#login-id", counsellor.login)
        await page.fill("#login-password", counsellor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")

        identity, cipher = await new_client(state.keyring)
        first = make_message_received(
            cipher=cipher, client_no=identity.client_no, text="家族に話すか迷っています"
        )
        opened = make_case_opened(identity=identity, first_message_id=first.id)
        me = await page.evaluate("fetch('/api/me').then(r => r.json())")
        for event in (first, opened, make_case_assigned(opened, counsellor_id=me["staff_id"])):
            await publish_event(js, event)
        case_id = opened.payload.case_id
        row = page.locator(f'.case[data-case-id="{case_id}"]')
        await expect(row).to_contain_text("対応中", timeout=15_000)
        await row.click()

        # 保留: the command goes to routing; its event makes the case 保留 everywhere.
        await expect(page.locator("#hold-case")).to_have_text("保留")
        await page.click("#hold-case")
        held: HoldCase = await _next_for(holds, HOLD_CASE, case_id)
        assert held.payload.hold is True
        await publish_event(
            js,
            CaseHoldChanged.new(
                channel="demo",
                payload=CaseHoldChangedV1(
                    case_id=case_id,
                    client_id=identity.client_id,
                    counsellor_id=me["staff_id"],
                    on_hold=True,
                ),
            ),
        )
        await expect(row).to_contain_text("保留", timeout=15_000)
        await expect(page.locator("#chat-status")).to_have_text("保留")
        await expect(page.locator("#hold-case")).to_have_text("保留を解除")
        await expect(page.locator(".case-log").last).to_contain_text("保留にしました")

        # 終了 opens the closing form; the outcome is required.
        await page.click("#close-case")
        form = page.locator("#close-form")
        await expect(form).to_be_visible()
        await page.click("#close-submit")
        await expect(page.locator("#close-error")).to_have_text("対応結果を選んでください")
        await form.get_by_label("他機関紹介").check()
        await expect(page.locator("#close-error")).to_be_hidden()
        await form.get_by_label("家族", exact=True).check()
        await form.get_by_label("学校・職場").check()
        await page.check("#close-survey")
        if os.environ.get(SCREENSHOTS_ENV):
            await page.screenshot(path=str(screenshot))
        await page.click("#close-submit")
        await expect(form).to_be_hidden()
        closing: CloseCase = await _next_for(closes, CLOSE_CASE, case_id)
        assert closing.payload.outcome == "他機関紹介"
        assert closing.payload.topics == ["家族", "学校・職場"]
        assert closing.payload.send_survey is True

        await publish_event(
            js,
            CaseClosed.new(
                channel="demo",
                payload=CaseClosedV1(
                    case_id=case_id,
                    client_id=identity.client_id,
                    closed_by=me["staff_id"],
                    outcome="他機関紹介",
                    topics=["家族", "学校・職場"],
                ),
            ),
        )
        await expect(page.locator("#chat-status")).to_have_text("終了", timeout=15_000)
        await expect(page.locator("#case-notice")).to_contain_text("対応結果: 他機関紹介")
        await expect(page.locator("#close-case")).to_be_hidden()
    await holds.unsubscribe()
    await closes.unsubscribe()
