from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack, running_stack
from sodan_shared.testing.infra import fresh_database
from sqlalchemy import create_engine
from sqlalchemy import text as sql

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0, what: str = ""
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.2)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stack_env(**settings): environment of the test's own for every service"
    )


# Settings most tests share: the desk always open, and counsellor1 taking up to 20
# chats, so the cases the tests leave open never queue a later test's client.
SHARED_CAPACITY = 20


@pytest.fixture(scope="package")
def shared_stack(tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str) -> Iterator[Stack]:
    """One stack with the default settings for every test without a ``stack_env`` mark:
    starting seven processes is most of an end-to-end test's time. Tests on it find
    their case by their own client's words (``Console.case_with``), never by its place
    in the list, and put back what they change (the assignment mode, presence)."""
    workdir = Path(tmp_path_factory.mktemp("shared-stack"))
    with fresh_database(pg_admin_url) as database_url, running_stack(workdir, database_url) as s:
        _raise_counsellor_capacity(s, "相談員 一郎", SHARED_CAPACITY)
        yield s


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The shared stack, or, for a test with a ``stack_env`` mark, a stack of its own
    with those settings (and a database of its own)."""
    marker = request.node.get_closest_marker("stack_env")
    if marker is None:
        yield request.getfixturevalue("shared_stack")
        return
    tmp_path: Path = request.getfixturevalue("tmp_path")
    database_url: str = request.getfixturevalue("fresh_database_url")
    with running_stack(tmp_path, database_url, **marker.kwargs) as own:
        yield own


def _raise_counsellor_capacity(stack: Stack, display_name: str, capacity: int) -> None:
    """As a supervisor would on the staff panel; returns once routing has it."""
    with httpx.Client(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=10
    ) as http:
        r = http.post("/api/login", json={"login": "supervisor", "password": "demo-pass-sv"})
        assert r.status_code == 200, r.text
        staff = http.get("/api/staff").json()
        staff_id = next(p["staff_id"] for p in staff if p["display_name"] == display_name)
        r = http.put(f"/api/staff/{staff_id}/capacity", json={"capacity": capacity})
        assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    condition = "staff_id = :s AND capacity = :c"
    while not routing_knows(stack.database_url, condition, s=staff_id, c=capacity):
        assert time.monotonic() < deadline, "routing never learned the new capacity"
        time.sleep(0.2)


def routing_knows(database_url: str, condition: str, **params: object) -> bool:
    """Whether routing's own table of counsellors has a row where ``condition`` holds:
    routing's view, not the console's, is what decides where a client's case goes."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sql(f"SELECT 1 FROM routing.counsellors WHERE {condition}")
            return conn.execute(query, params).first() is not None
    finally:
        engine.dispose()


async def until_routing_knows(database_url: str, condition: str, **params: object) -> None:
    async def probe() -> bool:
        return await asyncio.to_thread(routing_knows, database_url, condition, **params)

    await eventually(probe, what=f"routing.counsellors where {condition} {params}")


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

    async def go_on_duty(self, database_url: str) -> None:
        """Available, and routing knows it: a client writing before that is rightly
        told to wait first (an automatic message most tests do not expect)."""
        await self.set_presence("available")
        await until_routing_knows(database_url, "presence = 'available'")

    async def cases(self) -> list[dict[str, Any]]:
        r = await self.http.get("/api/cases")
        assert r.status_code == 200, r.text
        body = r.json()
        return list(body["items"] if isinstance(body, dict) else body)

    async def case(self, case_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/cases/{case_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def case_with(self, words: str, *, status: str | None = None) -> dict[str, Any] | None:
        """The list item of the case whose client wrote ``words`` (looked at without
        marking it read), if the list has it (with ``status``, if given)."""
        for case in await self.cases():
            if status is not None and case.get("status") != status:
                continue
            r = await self.http.get(f"/api/cases/{case['case_id']}?mark_read=false")
            if r.status_code == 200 and any(
                m["direction"] == "in" and words in (m.get("text") or "")
                for m in r.json()["messages"]
            ):
                return case
        return None

    async def wait_for_case(self, words: str, *, status: str) -> dict[str, Any]:
        """``case_with``, once the console has projected both the case and the words."""
        return await eventually(
            lambda: self.case_with(words, status=status), what=f"a {status} case with {words!r}"
        )

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
