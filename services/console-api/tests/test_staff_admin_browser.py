"""In a real browser: an admin adds a counsellor on スタッフ管理, who logs in with the
initial password and must change it; a counsellor enrols TOTP from アカウント設定 by
the QR code shown (decoded here from the screen) and logs in with a code next time."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import pyotp
import pytest
from console_support import STAFF, served_console
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_shared.testing.browser import open_page
from totp_support import make_staff

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

SCREENSHOTS_ENV = "SODAN_SCREENSHOTS_DIR"


@pytest.fixture
async def served(seeded: ConsoleSettings) -> AsyncIterator[tuple[str, ConsoleState]]:
    async with served_console(seeded) as (url, state):
        yield url, state


@asynccontextmanager
async def _page(browser: Browser, url: str) -> AsyncIterator[Page]:
    """The console's login page in a context of its own (one per person)."""
    async with open_page(browser, viewport={"width": 1360, "height": 900}) as page:
        # every admin action asks first: accept, as the admin would
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.goto(url)
        yield page


async def _log_in(page: Page, login: str, password: str) -> None:
    await page.fill("#login-id", login)
    await page.fill("#login-password", password)
    await page.click("#login-form button[type=submit]")


async def test_admin_adds_a_counsellor_who_changes_the_password_at_first_login(
    served: tuple[str, ConsoleState], browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    url, _ = served
    login = f"satsuki-{uuid4().hex[:6]}"
    # a supervisor has no admin menu
    async with _page(browser, url) as page:
        await _log_in(page, "supervisor", STAFF["supervisor"].password)
        await expect(page.locator("#me-name")).to_have_text(STAFF["supervisor"].display_name)
        await expect(page.locator("#open-account")).to_be_visible()
        await expect(page.locator("#admin-nav")).to_be_hidden()

    async with AsyncExitStack() as pages:  # the admin and the new counsellor, side by side
        admin = await pages.enter_async_context(_page(browser, url))
        await _log_in(admin, "admin", STAFF["admin"].password)
        await expect(admin.locator("#me-name")).to_have_text(STAFF["admin"].display_name)
        await admin.click("#admin-nav summary")
        await admin.click("#open-staff-admin")
        await expect(admin.locator("#admin-nav .admin-menu")).to_be_hidden()
        view = admin.locator("#staff-admin-view")
        await expect(view.locator("h2")).to_have_text("スタッフ管理")
        own = view.locator("tr[data-login='admin']")
        await expect(own).to_contain_text("（自分）")
        await expect(own.locator("[data-op=disable]")).to_have_count(0)

        # bad input first: a clear message, nothing added
        await view.locator("#sa-create-box summary").click()
        await admin.fill("#sa-login", "Bad Login")
        await admin.fill("#sa-name", "相談員 五月")
        await view.locator("#sa-create button[type=submit]").click()
        await expect(view.locator("#sa-create-error")).to_contain_text("ログインIDは半角")
        await admin.fill("#sa-login", login)
        await view.locator("#sa-create button[type=submit]").click()
        await expect(view.locator("#sa-secret")).to_be_visible()
        temporary = (await view.locator("#sa-secret-value").text_content() or "").strip()
        assert len(temporary) == 19
        row = view.locator(f"tr[data-login='{login}']")
        await expect(row).to_contain_text("相談員 五月")
        await expect(row).to_contain_text("相談員")
        await expect(row.locator("[data-status=enabled]")).to_contain_text("パスワード変更待ち")
        shots = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path))
        await admin.screenshot(path=str(shots / "console-admin-staff.png"))

        # the new counsellor: initial password, then a new one of their own
        person = await pages.enter_async_context(_page(browser, url))
        await _log_in(person, login, temporary)
        await expect(person.locator("#password-form")).to_be_visible()
        await person.fill("#pw-current", temporary)
        await person.fill("#pw-new", "short")
        await person.fill("#pw-again", "short")
        await person.click("#password-form button[type=submit]")
        await expect(person.locator("#pw-error")).to_contain_text("10文字以上")
        await person.fill("#pw-new", "haru no soyokaze 5")
        await person.fill("#pw-again", "haru no soyokaze 5")
        await person.click("#password-form button[type=submit]")
        await expect(person.locator("#main-view")).to_be_visible()
        await expect(person.locator("#me-name")).to_have_text("相談員 五月")

        # the admin sees the change, ends the session, disables the account
        await view.locator("button", has_text="閉じる").click()
        await expect(view).to_be_hidden()
        await admin.click("#admin-nav summary")
        await admin.click("#open-staff-admin")
        row = view.locator(f"tr[data-login='{login}']")
        await expect(row.locator("[data-status=enabled]")).not_to_contain_text("変更待ち")
        await expect(row.locator("td").nth(6)).to_have_text("1")
        await row.locator("[data-op=sessions]").click()
        await expect(row.locator("td").nth(6)).to_have_text("0")
        await person.reload()
        await expect(person.locator("#login-form")).to_be_visible()
        await row.locator("[data-op=disable]").click()
        await expect(row.locator("[data-status=disabled]")).to_have_text("無効")
        await expect(view.locator("#sa-message")).to_contain_text("無効にしました")
        await _log_in(person, login, "haru no soyokaze 5")
        await expect(person.locator("#login-error")).to_be_visible()

        # enabled again with a reset password, shown once
        await row.locator("[data-op=enable]").click()
        await expect(row.locator("[data-status=enabled]")).to_be_visible()
        await row.locator("[data-op=password-reset]").click()
        await expect(view.locator("#sa-secret-value")).not_to_have_text(temporary)
        await expect(row.locator("[data-status=enabled]")).to_contain_text("パスワード変更待ち")


async def test_counsellor_enrols_totp_from_account_settings_with_the_qr_code(
    served: tuple[str, ConsoleState], browser: Browser, tmp_path: Path
) -> None:
    from PIL import Image
    from playwright.async_api import expect

    zxingcpp = pytest.importorskip("zxingcpp")
    url, state = served
    person = await make_staff(state, "counsellor")
    async with _page(browser, url) as page:
        await _log_in(page, person.login, person.password)
        await expect(page.locator("#me-name")).to_have_text("テスト counsellor")
        await page.click("#open-account")
        view = page.locator("#account-view")
        await expect(view.locator("h2")).to_have_text("アカウント設定")
        await expect(view.locator("#acc-totp-status")).to_contain_text("未登録")
        await expect(view.locator("#acc-logins tbody tr").first).to_contain_text("ログイン")

        await view.locator("#acc-totp-start").click()
        qr = view.locator("#acc-totp-qr")
        await expect(qr).to_be_visible()
        uri = (await view.locator("#acc-totp-uri").text_content() or "").strip()
        secret = (await view.locator("#acc-totp-secret").text_content() or "").strip()
        assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
        # what the screen shows decodes back to the URI
        shown = Image.open(io.BytesIO(await qr.screenshot())).convert("L")
        assert [code.text for code in zxingcpp.read_barcodes(shown)] == [uri]
        shots = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path))
        await page.screenshot(path=str(shots / "console-totp-qr.png"))

        await page.fill("#acc-totp-code", "000")
        await view.locator(".totp-setup button[type=submit]").click()
        await expect(view.locator("#acc-totp-message")).to_contain_text("確認コード")
        await page.fill("#acc-totp-code", pyotp.TOTP(secret).now())
        await view.locator(".totp-setup button[type=submit]").click()
        await expect(view.locator("#acc-totp-status")).to_contain_text("登録しました")
        await expect(view.locator("#acc-totp-start")).to_contain_text("登録し直す")

        # next login asks for a code
        await page.click("#logout")
        await expect(page.locator("#login-view")).to_be_visible()
        await _log_in(page, person.login, person.password)
        await expect(page.locator("#login-totp-row")).to_be_visible()
        later = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
        await page.fill("#login-totp", later)
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()
        await expect(page.locator("#me-name")).to_have_text("テスト counsellor")
