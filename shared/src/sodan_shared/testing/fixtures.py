"""pytest fixtures (loaded by the root conftest.py as a plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from sodan_shared.nats import ensure_streams
from sodan_shared.testing.browser import CHROMIUM, EXPECT_TIMEOUT_MS, LAUNCH_ARGS
from sodan_shared.testing.infra import fresh_database, postgres_admin_url

if TYPE_CHECKING:
    from playwright.async_api import Browser


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from sodan_devstack.nats import NatsServer

    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: object) -> str:
    return str(nats_server.url)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres_admin_url(Path(tmp_path_factory.mktemp("pg-state"))) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    """One fresh database for the whole run (each service uses its own schema)."""
    with fresh_database(pg_admin_url) as url:
        yield url


@pytest.fixture
def fresh_database_url(pg_admin_url: str) -> Iterator[str]:
    """A database of the test's own, for tests that must start empty."""
    with fresh_database(pg_admin_url) as url:
        yield url


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def js(nc: Client) -> JetStreamContext:
    context = nc.jetstream()
    await ensure_streams(context)
    return context


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the session (per xdist worker), started by the first test
    that needs it; tests open their pages with sodan_shared.testing.browser.open_page."""
    from playwright.async_api import async_playwright, expect

    assert CHROMIUM.exists(), "Debian's chromium is needed: make system-deps installs it"
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=list(LAUNCH_ARGS))
        try:
            yield launched
        finally:
            await launched.close()
