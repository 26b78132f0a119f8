"""Routing test rig: a private NATS and database per test, apps started in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import nats
import pytest
from nats.js import JetStreamContext
from sodan_routing.main import create_app, migrate
from sodan_routing.settings import RoutingSettings
from sodan_shared.db import create_engine
from sodan_shared.events.console import (
    CloseCase,
    CloseCaseV1,
    StaffPresenceChanged,
    StaffPresenceChangedV1,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.nats import ensure_streams, publish_event
from sodan_shared.subjects import ALL_SUBJECTS, CASES
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def make_presence(
    staff_id: UUID,
    presence: str = "available",
    *,
    capacity: int = 3,
    role: str = "counsellor",
    occurred_at: datetime | None = None,
) -> StaffPresenceChanged:
    return StaffPresenceChanged.new(
        channel="demo",
        occurred_at=occurred_at,
        payload=StaffPresenceChangedV1(
            staff_id=staff_id,
            role=role,
            presence=presence,
            capacity=capacity,  # type: ignore[arg-type]
        ),
    )


def make_close(case_id: UUID, staff_id: UUID) -> CloseCase:
    return CloseCase.new(
        channel="demo", payload=CloseCaseV1(case_id=case_id, staff_id=staff_id, outcome="対応完了")
    )


class CaseLog:
    """Every event on the CASES stream, decoded, as it arrives."""

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []
        self._changed = asyncio.Event()
        self._types = {s.name: s.event for s in ALL_SUBJECTS if s.stream is CASES}

    async def follow(self, js: JetStreamContext) -> None:
        async def on_msg(msg: Any) -> None:
            self.events.append(self._types[msg.subject].model_validate_json(msg.data))
            self._changed.set()

        await js.subscribe(CASES.subjects[0], cb=on_msg, ordered_consumer=True)

    def of(self, kind: type[Envelope[Any]]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(
        self, predicate: Callable[[CaseLog], bool], *, timeout: float = 15.0
    ) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()


class Rig:
    def __init__(self, settings: RoutingSettings, js: JetStreamContext, engine: AsyncEngine):
        self.settings = settings
        self.js = js
        self.engine = engine
        self.cases = CaseLog()

    async def publish(self, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_event(self.js, event)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    @asynccontextmanager
    async def app(self) -> AsyncIterator[None]:
        app = create_app(self.settings)
        await app.start()
        try:
            yield
        finally:
            await app.stop()


@pytest.fixture
def private_nats_url(tmp_path: Path) -> Iterator[str]:
    """NATS of the test's own: durable consumers and streams start empty."""
    from sodan_devstack.nats import NatsServer

    server = NatsServer(store_dir=tmp_path / "nats").start()
    yield str(server.url)
    server.stop()


@pytest.fixture
async def rig(private_nats_url: str, fresh_database_url: str) -> AsyncIterator[Rig]:
    migrate(fresh_database_url)
    settings = RoutingSettings(
        nats_url=private_nats_url,
        database_url=fresh_database_url,
        environment="test",
        routing_sweep_interval_s=0.5,
        # the calendar has its own tests; these must not depend on the hour they run at
        routing_always_open=True,
    )
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await ensure_streams(js)
    engine = create_engine(fresh_database_url)
    rig = Rig(settings, js, engine)
    await rig.cases.follow(js)
    yield rig
    await nc.drain()
    await engine.dispose()


def staff() -> UUID:
    return uuid4()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
