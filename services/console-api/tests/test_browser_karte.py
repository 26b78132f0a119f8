"""The 相談者カルテ in a real browser: a counsellor opens a case, edits 特徴 and
注意事項 and a flag, saves, reloads and sees them; the 注意事項 banner shows above
the conversation; the client's earlier case is listed with its outcome; a note
is added; a save over someone else's newer save shows the conflict and keeps
the typed text."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from console_support import CSRF, STAFF, make_case_assigned, make_case_opened, new_client
from nats.js import JetStreamContext
from sodan_console.seed import DEMO_STAFF
from sodan_console.state import ConsoleState
from sodan_shared.events.routing import CaseAssigned, CaseAssignedV1, CaseClosed, CaseClosedV1
from sodan_shared.nats import publish_event
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received
from test_browser import SCREENSHOTS_ENV, served  # noqa: F401  (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHARACTERISTICS = "高校2年生。学校の友人関係の相談が多い。家族にはカミングアウトしていない。"
CAUTION = "家族と同居。夜は返信が遅れることがある（急かさない）"


async def test_editing_a_client_record(
    served: tuple[str, ConsoleState],  # noqa: F811
    js: JetStreamContext,
    browser: Browser,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    url, state = served
    screenshot = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-karte.png"
    counsellor = next(s for s in DEMO_STAFF if s.login == "counsellor1")
    async with open_page(browser, viewport={"width": 1366, "height": 900}) as page:
        await page.goto(url)
        await page.fill("#login-id", counsellor.login)
        await page.fill("#login-password", counsellor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")
        me = await page.evaluate("fetch('/api/me').then(r => r.json())")

        # The client's earlier case (closed with the closing form), then today's.
        identity, cipher = await new_client(state.keyring)
        earlier_msg = make_message_received(
            cipher=cipher,
            client_no=identity.client_no,
            text="先月も相談しました",
            sent_at=datetime.now(UTC) - timedelta(days=30),
        )
        earlier = make_case_opened(
            identity=identity,
            first_message_id=earlier_msg.id,
            queued_at=datetime.now(UTC) - timedelta(days=30),
        )
        closed = CaseClosed.new(
            channel="demo",
            caused_by=earlier,
            occurred_at=datetime.now(UTC) - timedelta(days=30) + timedelta(minutes=40),
            payload=CaseClosedV1(
                case_id=earlier.payload.case_id,
                client_id=identity.client_id,
                closed_by=me["staff_id"],
                outcome="傾聴・情報提供",
                topics=["学校・職場", "カミングアウト"],
            ),
        )
        first = make_message_received(
            cipher=cipher,
            client_no=identity.client_no,
            text="また相談したいことがあります。",
            sent_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        opened = make_case_opened(identity=identity, first_message_id=first.id)
        # another client's case, to switch to in the middle of an edit
        other, other_cipher = await new_client(state.keyring)
        other_msg = make_message_received(
            cipher=other_cipher, client_no=other.client_no, text="こんにちは"
        )
        other_case = make_case_opened(identity=other, first_message_id=other_msg.id)
        for event in (
            earlier_msg,
            earlier,
            CaseAssigned.new(
                channel="demo",
                caused_by=earlier,
                occurred_at=datetime.now(UTC) - timedelta(days=30) + timedelta(minutes=2),
                payload=CaseAssignedV1(
                    case_id=earlier.payload.case_id,
                    client_id=identity.client_id,
                    counsellor_id=me["staff_id"],
                ),
            ),
            closed,
            first,
            opened,
            make_case_assigned(opened, counsellor_id=me["staff_id"]),
            other_msg,
            other_case,
            make_case_assigned(other_case, counsellor_id=me["staff_id"]),
        ):
            await publish_event(js, event)

        row = page.locator(f'.case[data-case-id="{opened.payload.case_id}"]')
        await expect(row).to_be_visible(timeout=15_000)
        await row.click()
        karte = page.locator("#karte")
        await expect(karte).to_contain_text("まだ記入されていません")
        await expect(page.locator("#karte-banner")).to_be_hidden()
        past = page.locator("#karte-case-list > li")
        await expect(past).to_have_count(2)
        await expect(past.nth(1)).to_contain_text("対応結果: 傾聴・情報提供")
        await expect(past.nth(1)).to_contain_text("相談内容: 学校・職場、カミングアウト")

        await page.click("#karte-edit")
        await page.fill("#karte-cautions-input", CAUTION)
        await page.fill("#karte-characteristics-input", CHARACTERISTICS)
        await karte.locator("button.karte-flag", has_text="継続支援").click()
        # switching to another chat and back keeps what was typed
        other_row = page.locator(f'.case[data-case-id="{other_case.payload.case_id}"]')
        await other_row.click()
        await expect(page.locator("#chat-client")).to_have_text(f"C-{other.client_no:06d}")
        await expect(karte).to_contain_text("まだ記入されていません")
        await row.click()
        await expect(page.locator("#karte-cautions-input")).to_have_value(CAUTION)
        await expect(page.locator("#karte-characteristics-input")).to_have_value(CHARACTERISTICS)
        await page.click("#karte-save")
        await expect(karte).to_contain_text("第1版")

        await page.fill("#karte-note-input", "次回は進路の話の続きから")
        await page.click("#karte-note-add")
        await expect(page.locator("#karte-note-list")).to_contain_text("次回は進路の話の続きから")

        # After a reload everything is still there, and the caution is above the chat.
        await page.reload()
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")
        await row.click()
        await expect(karte).to_contain_text(CHARACTERISTICS)
        await expect(karte.locator(".karte-flag.on")).to_have_text(["継続支援"])
        banner = page.locator("#karte-banner")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text(CAUTION)
        await expect(page.locator("#karte-note-list")).to_contain_text("次回は進路の話の続きから")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(screenshot))

        # text is shown as text, never as markup
        await page.fill("#karte-note-input", "<b>太字</b>にはならない")
        await page.click("#karte-note-add")
        await expect(page.locator("#karte-note-list")).to_contain_text("<b>太字</b>にはならない")
        await expect(karte.locator("b")).to_have_count(0)

        # A supervisor saves while this counsellor is editing: the conflict is shown
        # and the counsellor's typed text stays.
        await page.click("#karte-edit")
        await page.fill("#karte-characteristics-input", "相談員の追記")
        sv = httpx.AsyncClient(base_url=url)
        login = await sv.post(
            "/api/login",
            json={"login": "supervisor", "password": STAFF["supervisor"].password},
            headers=CSRF,
        )
        assert login.status_code == 200, login.text
        record = (await sv.get(f"/api/clients/{identity.client_id}/record")).json()
        saved = await sv.put(
            f"/api/clients/{identity.client_id}/record",
            json={**_edit(record), "cautions": "SVが更新", "version": record["version"]},
            headers=CSRF,
        )
        assert saved.status_code == 200, saved.text
        await sv.aclose()
        await page.click("#karte-save")
        await expect(page.locator("#karte-error")).to_contain_text("他のスタッフが先に更新しました")
        await expect(page.locator("#karte-characteristics-input")).to_have_value("相談員の追記")
        await expect(page.locator(".karte-conflict")).to_contain_text("SVが更新")
        # merged by hand (the supervisor's caution taken over), then saved on top of it
        await page.fill("#karte-cautions-input", "SVが更新")
        await page.click("#karte-save")
        await expect(karte).to_contain_text("第3版")
        await expect(karte).to_contain_text("相談員の追記")
        await expect(banner).to_contain_text("SVが更新")


def _edit(record: dict[str, object]) -> dict[str, object]:
    return {k: record[k] for k in ("characteristics", "cautions", "flags")}
