"""Fixtures: a running ingress (uvicorn on a free port) and the LINE simulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from line_simulator.client import SimulatorClient
from line_simulator.main import create_app as create_simulator
from line_simulator.settings import SimulatorSettings
from line_simulator.webhook import make_webhook_body, webhook_headers
from nats.js import JetStreamContext
from sodan_devstack.nats import free_port
from sodan_ingress.db import migrate
from sodan_ingress.main import create_app
from sodan_ingress.settings import IngressSettings
from sodan_shared.crypto import Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.settings import (
    DEMO_CHANNEL_ACCESS_TOKEN,
    DEMO_CHANNEL_SECRET,
    DEMO_MASTER_KEYS,
    LineChannelConfig,
)

BOT_USER_ID = "Ua2d4d6e51f5372a7c7d0ff3f3187734b"
# A second official account served by the same ingress, with its own simulator.
YOUTH = SimulatorSettings(
    channel_secret="youth-channel-secret",
    channel_access_token="youth-channel-access-token",
    bot_user_id="U0000000000000000000000000000f00d",
    redelivery_attempts=0,
)
MEDIA_MAX_BYTES = 50_000  # emergency-mode downloads above this are refused in tests


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn (lifespan included) on a free port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.025)
    else:
        raise TimeoutError("server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


def ingress_settings(nats_url: str, database_url: str, **overrides: Any) -> IngressSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "nats_url": nats_url,
        "database_url": database_url,
        "line_channel_id": "demo",
        "ingress_max_body_bytes": 64 * 1024,
        "ingress_publish_timeout_s": 1.0,
        "push_retry_delays_s": [0.2, 0.2],
        "line_timeout_s": 5.0,
    }
    values.update(overrides)
    return IngressSettings(**values)


@pytest.fixture(scope="session")
def migrated_database_url(database_url: str) -> str:
    migrate(database_url)
    return database_url


@pytest.fixture(scope="package")
async def simulator_url() -> AsyncIterator[str]:
    settings = SimulatorSettings(redelivery_attempts=0, webhook_timeout_s=10.0)
    async with serving(create_simulator(settings)) as url:
        yield url


@pytest.fixture(scope="package")
async def youth_simulator_url() -> AsyncIterator[str]:
    async with serving(create_simulator(YOUTH)) as url:
        yield url


@pytest.fixture(scope="package")
async def ingress_url(
    nats_url: str, migrated_database_url: str, simulator_url: str, youth_simulator_url: str
) -> AsyncIterator[str]:
    """One ingress serving two channels: ``demo`` (most tests) and ``youth``.

    Package-scoped: it stops after these tests, so it never consumes commands
    that other services' tests publish on the same NATS server."""
    channels = [
        LineChannelConfig(
            id="demo",
            secret=DEMO_CHANNEL_SECRET,
            access_token=DEMO_CHANNEL_ACCESS_TOKEN,
            bot_user_id=BOT_USER_ID,
        ),
        LineChannelConfig(
            id="youth",
            secret=YOUTH.channel_secret,
            access_token=YOUTH.channel_access_token,
            bot_user_id=YOUTH.bot_user_id,
            api_base=youth_simulator_url,
            quiet_hours="",
        ),
    ]
    settings = ingress_settings(
        nats_url,
        migrated_database_url,
        line_api_base=simulator_url,
        line_data_api_base=simulator_url,
        line_channels=channels,
        ingress_media_max_bytes=MEDIA_MAX_BYTES,
        max_deliveries=3,
        redelivery_delays_s=[0.2],
    )
    async with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
async def sim(simulator_url: str, ingress_url: str) -> AsyncIterator[SimulatorClient]:
    async with SimulatorClient(simulator_url) as client:
        await client.configure(webhook_url=f"{ingress_url}/line/webhook/demo")
        await client.clear_faults()
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
async def keyring(migrated_database_url: str) -> AsyncIterator[Keyring]:
    engine = create_engine(migrated_database_url)
    yield Keyring(session_factory(engine), MasterKeys(DEMO_MASTER_KEYS))
    await engine.dispose()


@dataclass
class Webhook:
    body: bytes
    headers: dict[str, str]


def signed_webhook(events: list[dict[str, Any]], *, secret: str = DEMO_CHANNEL_SECRET) -> Webhook:
    body = make_webhook_body(BOT_USER_ID, events)
    return Webhook(body=body, headers=webhook_headers(body, secret))


async def stream_messages(
    js: JetStreamContext, subject: str, *, where: Callable[[dict[str, Any]], bool] | None = None
) -> list[tuple[bytes, dict[str, Any]]]:
    """Every message on ``subject`` now (raw bytes and parsed JSON), oldest first."""
    sub = await js.pull_subscribe(subject, durable=None)
    found: list[tuple[bytes, dict[str, Any]]] = []
    try:
        while True:
            try:
                batch = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                break
            for msg in batch:
                await msg.ack()
                data = json.loads(msg.data)
                if where is None or where(data):
                    found.append((msg.data, data))
    finally:
        await sub.unsubscribe()
    return found


async def wait_for_messages(
    js: JetStreamContext,
    subject: str,
    *,
    where: Callable[[dict[str, Any]], bool],
    count: int = 1,
    timeout: float = 10.0,
) -> list[tuple[bytes, dict[str, Any]]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await stream_messages(js, subject, where=where)
        if len(found) >= count or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)
