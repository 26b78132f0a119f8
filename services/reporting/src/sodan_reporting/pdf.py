"""HTML to PDF with the machine's Chromium (Playwright drives it; no browser download).

Chromium lays out Japanese text properly (line breaking, the IPAex font from
fontconfig) and embeds the font subset it used in the PDF. It runs offline
with networking off: the report HTML is self-contained (inline CSS and SVG).
"""

from __future__ import annotations

from playwright.async_api import async_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class PdfUnavailableError(RuntimeError):
    """Chromium could not be started (not installed, or the path is wrong)."""


async def html_to_pdf(html: str, *, chromium_path: str, timeout_s: float = 60.0) -> bytes:
    async with async_playwright() as p:
        try:
            browser = await p.chromium.launch(
                executable_path=chromium_path, args=CHROMIUM_ARGS, timeout=timeout_s * 1000
            )
        except Exception as exc:
            raise PdfUnavailableError(f"cannot start Chromium at {chromium_path}: {exc}") from exc
        try:
            context = await browser.new_context(offline=True, java_script_enabled=False)
            page = await context.new_page()
            await page.set_content(html, wait_until="load", timeout=timeout_s * 1000)
            return await page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            await browser.close()
