"""In a real browser: a case answering the questionnaire shows アンケート中, then its answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console_support import make_case_opened, new_client
from nats.js import JetStreamContext
from sodan_console.seed import DEMO_STAFF
from sodan_console.state import ConsoleState
from sodan_shared.events.routing import CaseIntakeFinished, CaseIntakeFinishedV1
from sodan_shared.nats import publish_event
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received
from test_browser import served  # noqa: F401  (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Browser


async def test_a_supervisor_sees_a_case_in_intake_and_then_the_answers(
    served: tuple[str, ConsoleState],  # noqa: F811
    js: JetStreamContext,
    browser: Browser,
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

        identity, cipher = await new_client(state.keyring)
        first = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
        opened = make_case_opened(identity=identity, first_message_id=first.id, intake=True)
        for event in (first, opened):
            await publish_event(js, event)
        row = page.locator(f'.case[data-case-id="{opened.payload.case_id}"]')
        await expect(row).to_contain_text("アンケート中", timeout=15_000)
        await row.click()
        block = page.locator("#chat-intake")
        await expect(block).to_contain_text("事前アンケート")
        await expect(block).to_contain_text("回答中")

        await publish_event(
            js,
            CaseIntakeFinished.new(
                channel="demo",
                payload=CaseIntakeFinishedV1(
                    case_id=opened.payload.case_id,
                    client_id=identity.client_id,
                    outcome="completed",
                    consent="同意",
                    age_group="20代",
                    region="不明",
                    gender_identity=cipher.seal("intake.gender_identity", "<b>まだ考え中</b>"),
                ),
            ),
        )
        await expect(row).not_to_contain_text("アンケート中", timeout=15_000)
        await expect(block).to_contain_text("回答済み", timeout=15_000)
        await expect(block).to_contain_text("20代")
        await expect(block).to_contain_text("答えたくない")  # 不明 as the client chose it
        await expect(block.locator("dd").last).to_have_text("<b>まだ考え中</b>")  # text, not markup
