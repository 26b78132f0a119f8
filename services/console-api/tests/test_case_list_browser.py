"""In a real browser: the case list's filter bar, kept in the URL across a reload,
labels attached from the chat head shown on the row, and live updates that respect
the filters."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest
from console_support import STAFF, new_client, served_console
from nats.js import JetStreamContext
from sodan_console.db import channels, labels, queries
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_shared.db import transaction
from sodan_shared.events.routing import CaseOpened, CaseOpenedV1
from sodan_shared.hours import JST
from sodan_shared.nats import publish_event
from sodan_shared.testing.browser import open_page
from sodan_shared.testing.factories import make_message_received
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from playwright.async_api import Browser

SCREENSHOTS_ENV = "SODAN_SCREENSHOTS_DIR"  # `make screenshots` refreshes docs/screenshots/


@pytest.fixture
async def served(seeded: ConsoleSettings) -> AsyncIterator[tuple[str, ConsoleState]]:
    async with served_console(seeded) as (url, state):
        yield url, state


async def _case(
    state: ConsoleState,
    *,
    channel: str,
    urgency: str,
    minutes_ago: int,
    assigned_to: UUID | None = None,
) -> str:
    case_id, client_id = uuid4(), uuid4()
    opened = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    async with transaction(state.db.sessions) as session:
        await queries.case_opened(
            session,
            case_id=case_id,
            client_id=client_id,
            client_no=int(uuid4().int % 900000),
            channel=channel,
            urgency=urgency,
            queued_at=opened,
            event_at=opened,
            first_message_id=uuid4(),
        )
        if assigned_to is not None:
            await queries.case_assigned(
                session,
                case_id=case_id,
                client_id=client_id,
                channel=channel,
                counsellor_id=assigned_to,
                event_at=opened,
            )
    return str(case_id)


async def _label(session: AsyncSession, name: str, colour: str, by: UUID) -> Any:
    """The label of that name (the session's database may have it from an earlier test)."""
    try:
        return await labels.create_label(
            session, name=name, colour=colour, by=by, at=datetime.now(UTC)
        )
    except labels.DuplicateLabelError:
        found = [r for r in await labels.all_labels(session) if r.name == name]
        return found[0]


async def test_filters_survive_a_reload_and_a_label_shows_on_its_row(
    served: tuple[str, ConsoleState], js: JetStreamContext, browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    screenshot = Path(os.environ.get(SCREENSHOTS_ENV, tmp_path)) / "console-list.png"
    url, state = served
    channel = f"b{uuid4().hex[:10]}"
    sv = STAFF["supervisor"]
    c1, c2 = STAFF["counsellor1"].staff_id, STAFF["counsellor2"].staff_id
    follow_up = await _case(state, channel=channel, urgency="high", minutes_ago=42, assigned_to=c1)
    await _case(state, channel=channel, urgency="critical", minutes_ago=7)
    await _case(state, channel=channel, urgency="medium", minutes_ago=25, assigned_to=c2)
    await _case(state, channel=channel, urgency="normal", minutes_ago=12)
    now = datetime.now(UTC)
    async with transaction(state.db.sessions) as session:
        await channels.save(
            session,
            channel=channel,
            display_name="にじいろ相談（県）",
            note=None,
            by=sv.staff_id,
            at=now,
        )
        label = await _label(session, "要フォロー", "orange", sv.staff_id)
        await _label(session, "継続", "blue", sv.staff_id)
    today = datetime.now(JST).date().isoformat()

    async with open_page(browser, viewport={"width": 1280, "height": 800}) as page:
        await page.goto(url)
        await page.fill("#login-id", sv.login)
        await page.fill("#login-password", sv.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")

        await page.select_option("#channel-filter", channel)
        rows = page.locator("#case-list .case")
        await expect(rows).to_have_count(4)
        await expect(rows.first).to_contain_text("緊急")
        await expect(rows.first).to_contain_text("にじいろ相談（県）")

        # attach the label from the chat head: the chip shows there and on the row
        row = page.locator(f'.case[data-case-id="{follow_up}"]')
        await row.click()
        await page.select_option("#chat-label-add", str(label.label_id))
        chip = f'.label-chip[data-label-id="{label.label_id}"]'
        await expect(page.locator(f"#chat-labels {chip}")).to_be_visible()
        await expect(row.locator(chip)).to_have_text(label.name)
        await page.fill("#from-filter", today)
        await page.fill("#to-filter", today)
        await page.dispatch_event("#to-filter", "change")
        await expect(rows).to_have_count(4)
        if await page.locator("#urgent-alert").is_visible():  # the 緊急 case's banner
            await page.click("#urgent-alert-dismiss")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(screenshot))

        await page.select_option("#label-filter", str(label.label_id))
        await page.select_option("#urgency-filter", "high")
        await expect(rows).to_have_count(1)
        assert f"label={label.label_id}" in page.url and f"channel={channel}" in page.url

        await page.reload()
        await expect(page.locator("#live-state")).to_have_text("リアルタイム更新中")
        await expect(page.locator("#channel-filter")).to_have_value(channel)
        await expect(page.locator("#label-filter")).to_have_value(str(label.label_id))
        await expect(page.locator("#urgency-filter")).to_have_value("high")
        await expect(page.locator("#from-filter")).to_have_value(today)
        await expect(page.locator("#to-filter")).to_have_value(today)
        await expect(rows).to_have_count(1)
        await expect(rows.first.locator(chip)).to_have_text(label.name)

        # a case arriving live that the filters exclude (no label) stays out...
        identity, cipher = await new_client(state.keyring)
        first = make_message_received(
            cipher=cipher, client_no=identity.client_no, text="こんばんは"
        )
        opened = CaseOpened.new(
            channel=channel,
            payload=CaseOpenedV1(
                case_id=uuid4(),
                client_id=identity.client_id,
                client_no=identity.client_no,
                first_message_event_id=first.id,
                queued_at=datetime.now(UTC),
                urgency="high",
            ),
        )
        await publish_event(js, first)
        await publish_event(js, opened)
        arrived = page.locator(f'.case[data-case-id="{opened.payload.case_id}"]')
        # ...while the same list without the label filter shows it, live
        await page.select_option("#label-filter", "")
        await expect(arrived).to_be_visible(timeout=15_000)
        await page.select_option("#label-filter", str(label.label_id))
        await expect(rows).to_have_count(1)
        await page.wait_for_timeout(600)  # a refresh pushed by the stream changes nothing
        await expect(arrived).to_have_count(0)

        # a bad bookmarked filter gets the server's Japanese reason, not a blank list
        await page.goto(f"{url}/?label=99999999")
        await expect(page.locator("#case-error")).to_have_text(
            "ラベル: 存在しないラベルです（ID 99999999）"
        )


async def test_an_admin_keeps_labels_and_names_a_channel(
    served: tuple[str, ConsoleState], browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    url, state = served
    channel = f"n{uuid4().hex[:10]}"
    await _case(state, channel=channel, urgency="normal", minutes_ago=3)
    admin = STAFF["admin"]
    name = f"関係機関{uuid4().hex[:4]}"
    async with open_page(browser) as page:
        await page.goto(url)
        await page.fill("#login-id", admin.login)
        await page.fill("#login-password", admin.password)
        await page.click("button[type=submit]")
        await expect(page.locator("#main-view")).to_be_visible()

        await page.click("#settings-nav summary")  # the 設定 menu

        await page.click("#open-labels")
        await page.fill("#label-new-name", name)
        await page.select_option("#label-new-colour", "purple")
        await page.click(".label-new button[type=submit]")
        await expect(page.locator("#label-message")).to_have_text(f"ラベル「{name}」を追加しました")
        row = page.locator("#labels-view tr", has_text=name)
        await expect(row.locator(".label-chip")).to_have_class(re.compile("colour-purple"))
        await row.locator("input[type=checkbox]").check()
        await row.locator("button").click()
        await expect(page.locator("#label-message")).to_have_text(f"ラベル「{name}」を保存しました")
        await page.fill("#label-new-name", name)
        await page.click(".label-new button[type=submit]")
        await expect(page.locator("#label-message")).to_have_text(
            "同じ名前のラベルがすでにあります"
        )
        await expect(
            page.locator("#label-filter option", has_text=f"{name}（使用終了）")
        ).to_have_count(1)

        await page.click("#admin-nav summary")  # the 管理 menu

        await page.click("#open-channels")
        channel_row = page.locator(f'#channels-view tr[data-channel="{channel}"]')
        await expect(channel_row).to_contain_text("1件（1／0）")
        await channel_row.locator("input").first.fill("若者向け窓口")
        await channel_row.locator("button").click()
        await expect(page.locator("#channel-message")).to_have_text(f"{channel} を保存しました")
        await expect(page.locator(f'#channel-filter option[value="{channel}"]')).to_have_text(
            "若者向け窓口"
        )
