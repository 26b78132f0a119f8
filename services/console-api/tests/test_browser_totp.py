"""In a real browser: a supervisor enrols TOTP, logs in with a code, and a login is
locked after repeated failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyotp
import pytest
from console_support import served_console
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_shared.testing.browser import open_page
from totp_support import make_staff

if TYPE_CHECKING:
    from playwright.async_api import Browser

CLEAR_ERROR = (
    "const e = document.getElementById('login-error'); e.hidden = true; e.textContent = ''"
)


@pytest.fixture
async def served(seeded: ConsoleSettings) -> AsyncIterator[tuple[str, ConsoleState]]:
    settings = seeded.model_copy(
        update={
            "console_totp_required_for": ["supervisor", "admin"],
            "console_login_max_failures": 3,
        }
    )
    async with served_console(settings) as (url, state):
        yield url, state


async def test_supervisor_enrols_then_logs_in_with_a_code(
    served: tuple[str, ConsoleState], browser: Browser
) -> None:
    from playwright.async_api import expect

    url, state = served
    person = await make_staff(state, "supervisor")
    async with open_page(
        browser, viewport={"width": 1280, "height": 860}, timezone_id=None
    ) as page:
        await page.goto(url)
        await page.fill("#login-id", person.login)
        await page.fill("#login-password", person.password)
        await page.click("#login-form button[type=submit]")

        # Enrolment screen: the key and the otpauth:// URI as text.
        await expect(page.locator("#enrol-form")).to_be_visible()
        await expect(page.locator("#enrol-uri")).to_contain_text("otpauth://totp/")
        await expect(page.locator("#enrol-qr")).to_be_visible()  # and as a QR code
        secret = (await page.locator("#enrol-secret").text_content() or "").strip()
        assert secret
        await page.fill("#enrol-code", "12")
        await page.click("#enrol-form button[type=submit]")
        await expect(page.locator("#enrol-error")).to_contain_text("確認コードが正しくありません")
        await page.fill("#enrol-code", pyotp.TOTP(secret).now())
        await page.click("#enrol-form button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()
        await expect(page.locator("#me-name")).to_have_text("テスト supervisor")

        # Log out and in again: the code field appears once the password is right.
        await page.click("#logout")
        await expect(page.locator("#login-view")).to_be_visible()
        await page.fill("#login-id", person.login)
        await page.fill("#login-password", person.password)
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#login-totp-row")).to_be_visible()
        await expect(page.locator("#login-error")).to_contain_text("確認コード")
        next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
        await page.fill("#login-totp", next_code)
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()
        await expect(page.locator("#me-name")).to_have_text("テスト supervisor")


async def test_repeated_failures_show_the_lockout_message(
    served: tuple[str, ConsoleState], browser: Browser
) -> None:
    from playwright.async_api import expect

    url, state = served
    person = await make_staff(state, "counsellor")
    async with open_page(
        browser, viewport={"width": 1280, "height": 860}, timezone_id=None
    ) as page:
        await page.goto(url)
        await page.fill("#login-id", person.login)
        for attempt in range(1, 4):
            await page.fill("#login-password", f"wrong-password-{attempt}")
            await page.click("#login-form button[type=submit]")
            if attempt < 3:
                await expect(page.locator("#login-error")).to_have_text(
                    "ログインID・パスワード・確認コードのいずれかが正しくありません"
                )
                await page.evaluate(CLEAR_ERROR)
        await expect(page.locator("#login-error")).to_contain_text("一時的にロックされています")
        # Even the right password is refused while locked.
        await page.evaluate(CLEAR_ERROR)
        await page.fill("#login-password", person.password)
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#login-error")).to_contain_text("一時的にロックされています")
        await expect(page.locator("#main-view")).to_be_hidden()
