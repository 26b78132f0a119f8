"""緊急対応モード in a real browser: a supervisor switches it on with a reason, the
badge shows, a stored image opens on request, a fetch failure reads as 取得失敗."""

from __future__ import annotations

import asyncio
import hashlib
import struct
import zlib
from typing import TYPE_CHECKING
from uuid import UUID

from console_support import make_case_assigned, make_case_opened, new_client
from nats.js import JetStreamContext
from sodan_console.seed import DEMO_STAFF
from sodan_console.state import ConsoleState
from sodan_shared.events.line import (
    MediaFetchFailed,
    MediaFetchFailedV1,
    MediaStored,
    MediaStoredV1,
)
from sodan_shared.media_store import MEDIA_BUCKET, MEDIA_PURPOSE, media_object_name, media_store
from sodan_shared.nats import publish_event
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received
from test_browser import served  # noqa: F401  (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Browser


def _png(width: int = 4, height: int = 4) -> bytes:
    """A real (tiny, red) PNG, so the browser actually decodes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_supervisor_switches_emergency_mode_and_opens_a_stored_image(
    served: tuple[str, ConsoleState],  # noqa: F811
    js: JetStreamContext,
    browser: Browser,
) -> None:
    from playwright.async_api import expect

    url, state = served
    png = _png()
    counsellor = next(s for s in DEMO_STAFF if s.login == "counsellor1")
    supervisor = next(s for s in DEMO_STAFF if s.login == "supervisor")
    identity, cipher = await new_client(state.keyring)
    first = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    image = make_message_received(
        cipher=cipher, client_no=identity.client_no, text=None, kind="image", media="pending"
    )
    video = make_message_received(
        cipher=cipher, client_no=identity.client_no, text=None, kind="video", media="pending"
    )
    opened = make_case_opened(identity=identity, first_message_id=first.id)
    async with state.db.sessions() as session:
        from sodan_console.db import queries

        counsellor_id = (await queries.staff_by_login(session, login=counsellor.login)).staff_id
    name = media_object_name(identity.client_id, image.payload.line_message_id)
    await (await media_store(js)).put(name, cipher.seal_bytes(MEDIA_PURPOSE, png))
    stored = MediaStored.new(
        channel="demo",
        payload=MediaStoredV1(
            client_id=identity.client_id,
            message_event_id=image.id,
            line_message_id=image.payload.line_message_id,
            kind="image",
            bucket=MEDIA_BUCKET,
            object_name=name,
            content_type="image/png",
            size=len(png),
            sha256=hashlib.sha256(png).hexdigest(),
        ),
    )
    failed = MediaFetchFailed.new(
        channel="demo",
        payload=MediaFetchFailedV1(
            client_id=identity.client_id,
            message_event_id=video.id,
            line_message_id=video.payload.line_message_id,
            kind="video",
            reason="expired",
            status=404,
        ),
    )
    for event in (
        first,
        opened,
        make_case_assigned(opened, counsellor_id=UUID(str(counsellor_id))),
        image,
        video,
        stored,
        failed,
    ):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async with open_page(browser) as page:
        page.on("dialog", lambda d: asyncio.ensure_future(d.accept("写真で状況確認が必要なため")))
        await page.goto(url)
        await page.fill("#login-id", supervisor.login)
        await page.fill("#login-password", supervisor.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()
        await page.locator(f'li[data-case-id="{case_id}"]').click()
        await expect(page.locator("#chat-client")).to_have_text(f"C-{identity.client_no:06d}")
        toggle = page.locator("#emergency-toggle")
        await expect(toggle).to_have_text("緊急対応モードにする")
        await expect(page.locator("#chat-emergency")).to_be_hidden()

        await toggle.click()

        await expect(page.locator("#chat-emergency")).to_be_visible()
        await expect(page.locator("#chat-emergency")).to_have_text("緊急対応モード")
        await expect(toggle).to_have_text("緊急対応モードを解除")
        await expect(page.locator("#messages")).to_contain_text(
            "（動画：取得失敗 — LINE の保存期間が過ぎていました）"
        )
        await page.get_by_role("button", name="画像を表示").click()
        img = page.locator("img.media-image")
        await expect(img).to_be_visible()
        width = await img.evaluate("i => i.complete && i.naturalWidth")
        assert width == 4
