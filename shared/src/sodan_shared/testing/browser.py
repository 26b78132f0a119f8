"""Chromium for the browser tests: one per pytest session, a fresh context per user.

Each launch of Debian's Chromium cost about a second of CPU, and every browser test
launched its own; now the ``browser`` fixture (sodan_shared.testing.fixtures) starts
one per session (per xdist worker) and ``open_page`` gives each page a context of its
own, so cookies and storage never carry over from one test or user to the next.

The timeouts are one policy for a loaded CI machine (two cores): Playwright's default
5 s for an ``expect`` made these tests flaky there. Playwright is imported only for
type checking: it is a dev dependency, and sodan_shared is a runtime library.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; `make system-deps` installs it
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    # nothing in the background competing with the tests for the CPU or the network
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
EXPECT_TIMEOUT_MS = 15_000  # for every expect(...) of the session
ACTION_TIMEOUT_MS = 30_000  # clicks, fills, navigation and waits on each page


@asynccontextmanager
async def open_page(
    browser: Browser,
    *,
    viewport: ViewportSize | None = None,
    locale: str | None = "ja-JP",
    timezone_id: str | None = "Asia/Tokyo",
    **context_kwargs: Any,
) -> AsyncIterator[Page]:
    """A page in a new browser context (its own cookies: one per user), closed on exit.

    ``None`` for ``viewport``, ``locale`` or ``timezone_id`` leaves Chromium's default.
    """
    context = await browser.new_context(
        viewport=viewport, locale=locale, timezone_id=timezone_id, **context_kwargs
    )
    try:
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        yield await context.new_page()
    finally:
        await context.close()
