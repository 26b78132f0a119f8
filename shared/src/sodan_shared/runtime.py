"""The composition pieces every service's ``main.py`` assembles.

Nothing here runs at import time: a service calls these from ``create_app``
or its CLI with the settings object it was given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sodan_shared.crypto import Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.deadletter import dead_letter
from sodan_shared.logging import configure_logging
from sodan_shared.nats import create_broker, ensure_streams
from sodan_shared.settings import SodanSettings
from sodan_shared.tracing import configure_tracing


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait until it has unwound (None: nothing to do)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def instance_name(settings: SodanSettings) -> str:
    return settings.instance_id or f"{socket.gethostname()}:{os.getpid()}"


def observe(settings: SodanSettings, service: str) -> TracerProvider:
    """Logging and tracing for one process."""
    configure_logging(service=service, level=settings.log_level, fmt=settings.log_format)
    return configure_tracing(service=service, exporter=settings.otel_exporter)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: SodanSettings, *, keep_connections: bool = False) -> Database:
        """``keep_connections``: the same cap (twice ``db_pool_size``) but every connection
        stays open once made, for a service whose bursts would otherwise open and close
        overflow connections (a new PostgreSQL backend each) per request."""
        size = settings.db_pool_size
        engine = (
            create_engine(settings.database_url, pool_size=2 * size, max_overflow=0)
            if keep_connections
            else create_engine(settings.database_url, pool_size=size)
        )
        return cls(engine=engine, sessions=session_factory(engine))

    async def dispose(self) -> None:
        await self.engine.dispose()


def keyring_for(settings: SodanSettings, db: Database) -> Keyring:
    master = MasterKeys(settings.master_keys.get_secret_value(), settings.master_key_id)
    return Keyring(db.sessions, master)


def broker_for(settings: SodanSettings, tracer_provider: TracerProvider | None) -> NatsBroker:
    # Reconnect forever: a NATS restart must not kill the service; JetStream
    # redelivers whatever was not acked meanwhile.
    broker = create_broker(
        settings.nats_url,
        tracer_provider=tracer_provider,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        name=f"{settings.service_name}@{instance_name(settings)}",
    )
    # Also takes schema-invalid events: kept on DEADLETTER at once, never dropped.
    broker.add_middleware(
        dead_letter(
            lambda: broker.connection,
            max_deliveries=settings.max_deliveries,
            delays_s=settings.redelivery_delays_s,
        )
    )
    return broker


async def connect_and_declare(broker: NatsBroker) -> JetStreamContext:
    """Connect, make sure every stream exists (before subscribers bind durable
    consumers), and return the raw JetStream context for the outbox relay."""
    nc = await broker.connect()
    js = nc.jetstream()
    await ensure_streams(js)
    return js


def faststream_app(broker: NatsBroker, **hooks: Any) -> FastStream:
    """A FastStream application whose own log lines are JSON like everything else."""
    return FastStream(broker, logger=logging.getLogger("sodan.app"), **hooks)


def service_cli(
    *,
    prog: str,
    description: str,
    migrate: Callable[[], None] | None,
    run: Callable[[], Coroutine[Any, Any, None]],
    extra: dict[str, Callable[[Sequence[str]], int]] | None = None,
    argv: Sequence[str] | None = None,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> int:
    """``prog migrate`` / ``prog run`` (run migrates first) and service-specific extras;
    ``loop_factory`` picks the event loop ``run`` runs on (default: asyncio's)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    commands = ["run", *(["migrate"] if migrate else []), *(extra or {})]
    parser.add_argument("command", choices=commands)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    if ns.command == "migrate" and migrate:
        migrate()
        return 0
    if ns.command == "run":
        if migrate:
            migrate()
        try:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.run(run())
        except KeyboardInterrupt:
            pass
        return 0
    return (extra or {})[ns.command](ns.args)
