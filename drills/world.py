"""The running world a drill acts on: every service, NATS, and a PostgreSQL of its own.

PostgreSQL is always a private cluster here, so the database drill can stop it
without disturbing anything else on the machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from line_simulator.client import SimulatorClient
from sodan_devstack.nats import NatsServer
from sodan_devstack.postgres import PrivatePostgres, admin_url, private_cluster
from sodan_devstack.stack import Stack
from sodan_shared.testing.infra import fresh_database

# LINE keeps redelivering a webhook it got no 2xx for; the simulator does the
# same, long enough to outlast the longest outage a drill plays (PostgreSQL, 60 s).
DRILL_ENV = {
    "SODAN_SIM_REDELIVERY_ATTEMPTS": "400",
    "SODAN_SIM_REDELIVERY_BACKOFF_S": "[0.2, 0.5, 1.0]",
    "SODAN_SIM_WEBHOOK_TIMEOUT_S": "5",
}

COUNSELLORS = (("counsellor1", "demo-pass-1"), ("counsellor2", "demo-pass-2"))
CAPACITY = 20  # concurrent chats each, so every drill user gets a counsellor


@dataclass
class World:
    stack: Stack
    nats: NatsServer
    postgres: PrivatePostgres
    database_url: str  # SQLAlchemy URL of the stack's database
    sim: SimulatorClient
    counsellors: list[httpx.AsyncClient]

    @property
    def libpq_url(self) -> str:
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def restart_nats(self, *, kill: bool) -> None:
        """Stop nats-server (SIGTERM, or SIGKILL) and start it again on the same
        port and store: the services reconnect by themselves."""
        self.nats.stop(kill=kill)
        self.nats.start()

    async def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        async with await psycopg.AsyncConnection.connect(self.libpq_url) as conn:
            cursor = await conn.execute(sql, params)
            return list(await cursor.fetchall())


async def _counsellor(stack: Stack, login: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=15
    )
    response = await client.post("/api/login", json={"login": login, "password": password})
    response.raise_for_status()
    response = await client.put("/api/me/presence", json={"presence": "available"})
    response.raise_for_status()
    return client


async def _routing_knows_counsellors(world: World, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await world.query(
            "SELECT count(*) FROM routing.counsellors WHERE presence = 'available'"
        )
        if rows and rows[0][0] == len(COUNSELLORS):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("routing never learned the counsellors are available")


@asynccontextmanager
async def open_world(workdir: Path, env: tuple[tuple[str, str], ...] = ()) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack_of:
        postgres = stack_of.enter_context(private_cluster(workdir / "pg"))
        database_url = stack_of.enter_context(fresh_database(admin_url(postgres)))
        nats = NatsServer(store_dir=workdir / "nats").start()
        stack_of.callback(nats.stop)
        stack = Stack(
            workdir=workdir,
            nats_url=nats.url,
            database_url=database_url,
            overrides={**DRILL_ENV, **dict(env)},
        )
        stack.run_command("sodan-console", "seed-demo")  # migrates first
        # A bigger caseload than the demo's, so no drill user waits in the queue.
        async with await psycopg.AsyncConnection.connect(
            database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        ) as conn:
            await conn.execute(
                "UPDATE console.staff SET capacity = %s WHERE role = 'counsellor'", (CAPACITY,)
            )
        stack_of.callback(stack.stop_all)
        stack.start_all()
        sim = await stack_of.enter_async_context(
            SimulatorClient(stack.url("line-sim"), timeout=900)
        )
        counsellors = [await _counsellor(stack, login, pw) for login, pw in COUNSELLORS]
        for client in counsellors:
            stack_of.push_async_callback(client.aclose)
        world = World(stack, nats, postgres, database_url, sim, counsellors)
        await _routing_knows_counsellors(world)
        yield world
