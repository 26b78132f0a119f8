"""Helpers for console-api tests (a uniquely named module: all tests share one process)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

import httpx
import uvicorn
from fastapi import FastAPI
from sodan_console.main import create_app
from sodan_console.seed import DEMO_STAFF
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_devstack.nats import free_port
from sodan_shared.crypto import ClientCipher, ClientIdentity, Keyring
from sodan_shared.events.line import MessageReceived, MessageUnsent, MessageUnsentV1
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseAssignedV1,
    CaseClosed,
    CaseClosedV1,
    CaseOpened,
    CaseOpenedV1,
)
from sodan_shared.testing.browser import open_page

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

T = TypeVar("T")


@asynccontextmanager
async def logged_in_page(
    browser: Browser, url: str, login: str, **page: Any
) -> AsyncIterator[Page]:
    """A console page logged in as one of the demo STAFF, in a browser context of its
    own (its own session cookie); every confirm() is accepted, as the person would.
    ``page`` goes to open_page (viewport, locale, timezone_id)."""
    from playwright.async_api import expect

    async with open_page(browser, **page) as opened:
        opened.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await opened.goto(url)
        await opened.fill("#login-id", login)
        await opened.fill("#login-password", STAFF[login].password)
        await opened.click("button[type=submit]")
        await expect(opened.locator("#me-name")).to_have_text(STAFF[login].display_name)
        yield opened


@asynccontextmanager
async def served_console(settings: ConsoleSettings) -> AsyncIterator[tuple[str, ConsoleState]]:
    """The console app on a free port with its lifespan (broker, relay, live feed), for
    browsers and HTTP clients; it stops within 30 s even with live streams open."""
    port = free_port()
    app = create_app(settings.model_copy(update={"console_port": port}))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=5,
            # longer than any test waits: a pooled connection the server dropped after
            # uvicorn's 5 s default could be reused at that very moment (ReadError)
            timeout_keep_alive=60,
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(400):  # up to 20 s for the lifespan (broker, relay) to start
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "console did not start"
    try:
        yield f"http://127.0.0.1:{port}", app.state.console
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


CSRF = {"X-Requested-With": "sodan"}
STAFF = {s.login: s for s in DEMO_STAFF}


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def logged_in(app: FastAPI, login: str) -> httpx.AsyncClient:
    client = client_for(app)
    response = await client.post(
        "/api/login", json={"login": login, "password": STAFF[login].password}, headers=CSRF
    )
    assert response.status_code == 200, response.text
    return client


async def every_listed(
    client: httpx.AsyncClient, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every case the list shows this caller, page after page: the tests share one
    database, so a new case need not be on the first page (oldest waiting first)."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 200, **(params or {})}
    while True:
        response = await client.get("/api/cases", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        query["cursor"] = page["next_cursor"]


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "condition"
) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result is not None and result is not False:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def new_client(keyring: Keyring) -> tuple[ClientIdentity, ClientCipher]:
    identity = await keyring.ensure_client(channel="demo", line_user_id="U" + uuid4().hex)
    return identity, await keyring.cipher(identity.client_id)


def make_case_opened(
    *, identity: ClientIdentity, first_message_id: UUID, case_id: UUID | None = None, **kw: Any
) -> CaseOpened:
    return CaseOpened.new(
        channel="demo",
        payload=CaseOpenedV1(
            case_id=case_id or uuid4(),
            client_id=identity.client_id,
            client_no=identity.client_no,
            first_message_event_id=first_message_id,
            queued_at=kw.pop("queued_at", datetime.now(UTC)),
            **kw,
        ),
    )


def make_case_assigned(opened: CaseOpened, *, counsellor_id: UUID) -> CaseAssigned:
    return CaseAssigned.new(
        channel="demo",
        caused_by=opened,
        payload=CaseAssignedV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            counsellor_id=counsellor_id,
        ),
    )


def make_case_closed(opened: CaseOpened, *, by: UUID | None = None) -> CaseClosed:
    return CaseClosed.new(
        channel="demo",
        caused_by=opened,
        payload=CaseClosedV1(
            case_id=opened.payload.case_id, client_id=opened.payload.client_id, closed_by=by
        ),
    )


def make_message_unsent(received: MessageReceived, **kw: Any) -> MessageUnsent:
    """The client unsends ``received`` (送信取消)."""
    p = received.payload
    return MessageUnsent.new(
        channel=received.channel,
        payload=MessageUnsentV1(
            client_id=p.client_id,
            client_no=p.client_no,
            webhook_event_id=kw.pop("webhook_event_id", uuid4().hex[:26].upper()),
            sent_at=kw.pop("sent_at", datetime.now(UTC)),
            line_message_id=p.line_message_id,
            **kw,
        ),
    )
