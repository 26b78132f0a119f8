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
from sodan_shared.crypto import ClientCipher, Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.events.console import (
    CloseCase,
    CloseCaseV1,
    StaffPresenceChanged,
    StaffPresenceChangedV1,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import ReplyRequested
from sodan_shared.nats import ensure_streams, publish_event
from sodan_shared.subjects import ALL_SUBJECTS, AUDIT, CASES, REPLY_REQUESTED
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


def make_close(case_id: UUID, staff_id: UUID, **kw: Any) -> CloseCase:
    return CloseCase.new(
        channel="demo",
        payload=CloseCaseV1(
            case_id=case_id,
            staff_id=staff_id,
            outcome=kw.pop("outcome", "傾聴・情報提供"),
            topics=kw.pop("topics", ["家族"]),
            **kw,
        ),
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


class ReplyLog:
    """Every automatic message routing asked ingress to send, decrypted."""

    def __init__(self, keyring: Keyring) -> None:
        self.events: list[ReplyRequested] = []
        self.keyring = keyring
        self._changed = asyncio.Event()

    async def follow(self, js: JetStreamContext) -> None:
        async def on_msg(msg: Any) -> None:
            self.events.append(ReplyRequested.model_validate_json(msg.data))
            self._changed.set()

        await js.subscribe(REPLY_REQUESTED.name, cb=on_msg, ordered_consumer=True)

    async def texts(self, client_id: UUID | None = None) -> list[str]:
        out = []
        for e in self.events:
            if client_id is None or e.payload.client_id == client_id:
                cipher = await self.keyring.cipher(e.payload.client_id)
                out.extend(cipher.open("message.text", t) for t in e.payload.texts)
        return out

    async def wait_for(self, count: int, *, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()


class Rig:
    def __init__(self, settings: RoutingSettings, js: JetStreamContext, engine: AsyncEngine):
        self.settings = settings
        self.js = js
        self.engine = engine
        self.cases = CaseLog()
        self.keyring = Keyring(
            session_factory(engine), MasterKeys(settings.master_keys.get_secret_value())
        )
        self.replies = ReplyLog(self.keyring)

    async def client(self) -> tuple[ClientCipher, int]:
        """A client the keyring knows (automatic texts are sealed for them)."""
        identity = await self.keyring.ensure_client(channel="demo", line_user_id="U" + uuid4().hex)
        return await self.keyring.cipher(identity.client_id), identity.client_no

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), params)

    async def publish(self, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_event(self.js, event)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    @asynccontextmanager
    async def app(self, **overrides: Any) -> AsyncIterator[None]:
        settings = RoutingSettings(**{**self.settings.model_dump(), **overrides})
        app = create_app(settings)
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
        # the questionnaire has its own tests (test_intake_flow): here a first message queues
        routing_intake_enabled=False,
    )
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await ensure_streams(js)
    engine = create_engine(fresh_database_url)
    rig = Rig(settings, js, engine)
    await rig.cases.follow(js)
    await rig.replies.follow(js)
    yield rig
    await nc.drain()
    await engine.dispose()


def staff() -> UUID:
    return uuid4()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class AuditLog:
    """What routing announced on the AUDIT stream (supervisors' edits), in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Event()

    async def follow(self, rig: Rig) -> None:
        types = {s.name: s.event for s in ALL_SUBJECTS if s.stream is AUDIT}

        async def on_msg(msg: Any) -> None:
            self.events.append(types[msg.subject].model_validate_json(msg.data))
            self._changed.set()

        await rig.js.subscribe(AUDIT.subjects[0], cb=on_msg, ordered_consumer=True)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(15):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
