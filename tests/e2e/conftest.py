from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from line_simulator.client import SimulatorClient
from sodan_devstack.nats import NatsServer

from tests.e2e.stack import Stack


@pytest.fixture
def stack(tmp_path: Path, fresh_database_url: str) -> Iterator[Stack]:
    """Every service as its own process, on a NATS server of this test's own."""
    nats = NatsServer(store_dir=tmp_path / "nats").start()
    stack = Stack(workdir=tmp_path, nats_url=nats.url, database_url=fresh_database_url)
    try:
        stack.run_command("sodan-console", "migrate")
        stack.run_command("sodan-console", "seed-demo")
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()
        nats.stop()


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


@pytest.fixture
async def counsellor(stack: Stack) -> AsyncIterator[Console]:
    async with httpx.AsyncClient(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=10
    ) as client:
        console = Console(client)
        await console.login("counsellor1", "demo-pass-1")
        yield console
