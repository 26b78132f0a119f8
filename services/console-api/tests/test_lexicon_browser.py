"""In a real browser: a supervisor adds a term to the lexicon and saves it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from console_support import served_console
from sodan_console.seed import DEMO_STAFF
from sodan_console.settings import ConsoleSettings
from sodan_shared.testing.browser import open_page
from sodan_triage.handlers import TriageDeps
from sodan_triage.main import compose
from sodan_triage.main import migrate as migrate_triage
from sodan_triage.settings import TriageSettings

if TYPE_CHECKING:
    from playwright.async_api import Browser

SCREENSHOTS_ENV = "SODAN_SCREENSHOTS_DIR"  # `make screenshots` refreshes docs/screenshots/


@pytest.fixture
async def triage(seeded: ConsoleSettings) -> AsyncIterator[TriageDeps]:
    migrate_triage(seeded.database_url)
    app, _, deps = compose(
        TriageSettings(
            nats_url=seeded.nats_url, database_url=seeded.database_url, environment="test"
        )
    )
    await app.start()
    yield deps
    await app.stop()


@pytest.fixture
async def served(seeded: ConsoleSettings, triage: TriageDeps) -> AsyncIterator[str]:
    async with served_console(seeded) as (url, _):
        yield url


async def test_supervisor_adds_a_term_and_saves_it(
    served: str, triage: TriageDeps, browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    supervisor = next(s for s in DEMO_STAFF if s.role == "supervisor")
    async with open_page(
        browser, viewport={"width": 1280, "height": 800}, timezone_id=None
    ) as page:
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.goto(served)
        await page.fill("#login-id", supervisor.login)
        await page.fill("#login-password", supervisor.password)
        await page.click("button[type=submit]")
        await page.click("#settings-nav summary")  # the 設定 menu
        await page.click("#open-lexicon")
        await expect(page.locator("#lexicon-version")).to_contain_text("版:")
        await expect(page.locator(".lexicon-category h3").first).to_contain_text("自殺・自傷")

        await page.screenshot(
            path=str(Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-lexicon.png")
        )
        await page.click("text=語を追加")
        await page.fill("input[name=id]", "slang.browser_test")
        await page.select_option("select[name=category]", "住居喪失")
        await page.select_option("select[name=level]", "high")
        await page.fill("textarea[name=patterns]", "ぶらうざてすと語\nブラウザテスト語")
        await page.click("text=この内容にする")
        await expect(page.locator("tr[data-term='slang.browser_test']")).to_be_visible()

        await page.fill("#lexicon-comment", "ブラウザからの追加")
        await page.click("#lexicon-save")
        await expect(page.locator(".lexicon-status")).to_contain_text("保存しました", timeout=15000)
        version = (await page.locator("#lexicon-version").text_content() or "").removeprefix("版: ")
    await triage.lexicon.wait_for_version(version)
    assert triage.lexicon.scorer.score("ﾌﾞﾗｳｻﾞﾃｽﾄ語").level == "high"


async def test_counsellors_do_not_see_the_lexicon_button(served: str, browser: Browser) -> None:
    from playwright.async_api import expect

    counsellor = next(s for s in DEMO_STAFF if s.role == "counsellor")
    async with open_page(browser, locale=None, timezone_id=None) as page:
        await page.goto(served)
        await page.fill("#login-id", counsellor.login)
        await page.fill("#login-password", counsellor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#me-name")).to_have_text(counsellor.display_name)
        await expect(page.locator("#open-lexicon")).to_be_hidden()
