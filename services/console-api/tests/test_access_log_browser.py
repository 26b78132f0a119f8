"""In a real browser: an admin opens the アクセスログ screen, filters it and downloads
the CSV; a supervisor has no such button."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from console_support import logged_in_page, served_console
from sodan_console.settings import ConsoleSettings
from sodan_shared.testing.browser import open_page

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

SCREENSHOTS_ENV = "SODAN_SCREENSHOTS_DIR"


@pytest.fixture
async def served(seeded: ConsoleSettings) -> AsyncIterator[str]:
    async with served_console(seeded) as (url, _):
        yield url


def login(browser: Browser, url: str, login: str) -> AbstractAsyncContextManager[Page]:
    return logged_in_page(
        browser, url, login, viewport={"width": 1280, "height": 860}, timezone_id=None
    )


async def test_admin_filters_the_access_log_and_downloads_the_csv(
    served: str, browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    url = served
    # a failed login first: it must show up in the log with its reason
    async with open_page(browser, timezone_id=None) as page:
        await page.goto(url)
        await page.fill("#login-id", "counsellor2")
        await page.fill("#login-password", "wrong-password-1")
        await page.click("button[type=submit]")
        await expect(page.locator("#login-error")).to_be_visible()

    async with login(browser, url, "supervisor") as supervisor:
        await expect(supervisor.locator("#settings-nav")).to_be_visible()
        await expect(supervisor.locator("#open-access-log")).to_be_hidden()

    async with login(browser, url, "admin") as page:
        await page.click("#admin-nav summary")  # the 管理 menu
        await page.click("#open-access-log")
        view = page.locator("#access-log-view")
        await expect(view.locator("h2")).to_have_text("アクセスログ")
        await expect(view.locator("#al-rows tr").first).to_be_visible()

        await page.select_option("#al-action", "login.failed")
        await view.locator("button", has_text="検索").click()
        failed = view.locator("#al-rows tr", has_text="相談員 二葉")
        await expect(failed.first).to_contain_text("パスワード誤り")
        await expect(view.locator("#al-rows tr:not([data-action='login.failed'])")).to_have_count(0)
        shots = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path))
        await page.screenshot(path=str(shots / "console-access-log.png"))

        href = await view.locator("#al-csv").get_attribute("href")
        assert href is not None and "action=login.failed" in href
        response = await page.request.get(url + href)
        assert response.status == 200
        body = await response.body()
        assert body.startswith("\ufeff".encode())
        assert "wrong_password" in body.decode("utf-8-sig")
