from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack, running_stack
from sqlalchemy import create_engine
from sqlalchemy import text as sql


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stack_env(**settings): environment of the test's own for every service"
    )


@pytest.fixture
def stack(
    tmp_path: Path, fresh_database_url: str, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """A whole stack for this test alone (modules may share one: see test_rich_outbound);
    a ``stack_env`` mark sets settings of the test's own."""
    marker = request.node.get_closest_marker("stack_env")
    env = dict(marker.kwargs) if marker else {}
    with running_stack(tmp_path, fresh_database_url, **env) as stack:
        yield stack


@pytest.fixture
async def sim(stack: Stack) -> AsyncIterator[SimulatorClient]:
    async with SimulatorClient(stack.url("line-sim")) as client:
        yield client


class Console:
    """A counsellor's browser session, through the console's JSON API."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def login(self, login: str, password: str) -> None:
        r = await self.http.post("/api/login", json={"login": login, "password": password})
        assert r.status_code == 200, r.text

    async def set_presence(self, presence: str) -> None:
        r = await self.http.put("/api/me/presence", json={"presence": presence})
        assert r.status_code in (200, 204), r.text

    async def go_on_duty(self, database_url: str, *, timeout: float = 30.0) -> None:
        """Available, and routing knows it: a client writing before that is rightly
        told to wait first (an automatic message most tests do not expect)."""
        await self.set_presence("available")
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(_routing_has_available_staff, database_url):
            if time.monotonic() > deadline:
                raise TimeoutError("routing never learned the counsellor is available")
            await asyncio.sleep(0.2)

    async def cases(self) -> list[dict[str, object]]:
        r = await self.http.get("/api/cases")
        assert r.status_code == 200, r.text
        body = r.json()
        return list(body["items"] if isinstance(body, dict) else body)

    async def case(self, case_id: str) -> dict[str, object]:
        r = await self.http.get(f"/api/cases/{case_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def reply(self, case_id: str, text: str) -> None:
        r = await self.http.post(f"/api/cases/{case_id}/replies", json={"text": text})
        assert r.status_code in (200, 201, 202), r.text


def _routing_has_available_staff(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sql("SELECT 1 FROM routing.counsellors WHERE presence = 'available'")
                ).first()
            )
    finally:
        engine.dispose()


@pytest.fixture
async def counsellor(stack: Stack) -> AsyncIterator[Console]:
    async with httpx.AsyncClient(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=10
    ) as client:
        console = Console(client)
        await console.login("counsellor1", "demo-pass-1")
        yield console
