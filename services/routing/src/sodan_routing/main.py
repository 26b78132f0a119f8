"""Composition root of the routing service and its CLI (``sodan-routing``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from faststream import FastStream
from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.crypto import migrate_keyring
from sodan_shared.db.migrations import upgrade
from sodan_shared.logging import get_logger
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import (
    Database,
    broker_for,
    cancel_and_wait,
    connect_and_declare,
    faststream_app,
    keyring_for,
    observe,
    service_cli,
)

from sodan_routing import hours, service
from sodan_routing.db import queries
from sodan_routing.db.tables import SCHEMA, outbox
from sodan_routing.handlers import RoutingDeps, register_handlers
from sodan_routing.settings import RoutingSettings

log = get_logger(__name__)

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
MIGRATIONS = Path(__file__).resolve().parent / "db" / "migrations"
TITLE = "sodan routing"
DESCRIPTION = (
    "The case lifecycle: opens cases from client messages, queues them by urgency then "
    "wait, assigns them to available counsellors by load and capacity, closes them."
)


def migrate(database_url: str) -> None:
    """The keyring (shared, idempotent) and routing's own schema."""
    migrate_keyring(database_url)
    upgrade(database_url=database_url, script_location=MIGRATIONS, schema=SCHEMA)


async def _sweep_forever(desk: service.Desk, relay: OutboxRelay, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            if await service.sweep(desk):
                relay.wake()
        except asyncio.CancelledError:
            raise
        except Exception:  # DB away: the next round tries again
            log.warning("routing.sweep_failed", exc_info=True)


def create_app(
    settings: RoutingSettings, *, tracer_provider: TracerProvider | None = None
) -> FastStream:
    """The FastStream app; connects only when started (schema must be migrated)."""
    return _compose(settings, tracer_provider)[0]


def _compose(
    settings: RoutingSettings, tracer_provider: TracerProvider | None
) -> tuple[FastStream, NatsBroker]:
    broker = broker_for(settings, tracer_provider)
    deps = RoutingDeps()
    register_handlers(broker, deps)
    resources: dict[str, object] = {}

    async def connect() -> None:
        db = Database.from_settings(settings)
        js = await connect_and_declare(broker)
        relay = OutboxRelay(db.sessions, outbox, js)
        relay.start()
        deps.desk = service.Desk(
            sessions=db.sessions, keyring=keyring_for(settings, db), settings=settings
        )
        deps.relay = relay
        resources.update(db=db, relay=relay)

    async def start_sweeping() -> None:
        desk, relay = deps.ready()
        resources["sweeper"] = asyncio.create_task(
            _sweep_forever(desk, relay, settings.routing_sweep_interval_s),
            name="routing-sweep",
        )

    async def stop_sweeping() -> None:
        task = resources.pop("sweeper", None)
        if isinstance(task, asyncio.Task):
            await cancel_and_wait(task)

    async def dispose() -> None:
        relay = resources.pop("relay", None)
        if isinstance(relay, OutboxRelay):
            await relay.stop()
        db = resources.pop("db", None)
        if isinstance(db, Database):
            await db.dispose()

    app = faststream_app(
        broker,
        on_startup=[connect],
        after_startup=[start_sweeping],
        on_shutdown=[stop_sweeping],
        after_shutdown=[dispose],
    )
    return app, broker


def asyncapi_document(settings: RoutingSettings | None = None) -> str:
    # a fixed server address: the committed document must not depend on the environment
    settings = settings or RoutingSettings(nats_url="nats://127.0.0.1:4222")
    _, broker = _compose(settings, None)
    return asyncapi_yaml(broker, title=TITLE, description=DESCRIPTION)


def show_hours(argv: Sequence[str]) -> int:
    """``sodan-routing hours [N]``: the calendar's rules and its next N openings (Japan
    time), so an operator can check a calendar before the desk relies on it."""
    count = int(argv[0]) if argv else 10
    settings = RoutingSettings()

    async def run() -> None:
        db = Database.from_settings(settings)
        try:
            async with db.sessions() as session:
                calendar = await queries.load_calendar(session, always_open=False)
        finally:
            await db.dispose()
        if settings.always_open:
            print("SODAN_ROUTING_ALWAYS_OPEN: 常に受付中 / always open (calendar below unused)")
        for rule in calendar.weekly:
            day = hours.WEEKDAYS_JA[rule.weekday]
            every = (
                "毎週"
                if rule.nth is None
                else ("毎月最終" if rule.nth == -1 else f"毎月第{rule.nth}")
            )
            print(f"{every}{day}曜 {rule.starts:%H:%M}〜{rule.ends:%H:%M} holidays={rule.holidays}")
        for d in calendar.dated:
            print(f"{d.day} {d.starts:%H:%M}〜{d.ends:%H:%M}")
        for c in sorted(calendar.closed_days):
            print(f"{c} 休み closed")
        print("次の受付 next openings:")
        for session_ in hours.upcoming(datetime.now(UTC), calendar, count):
            print(f"  {hours.format_session(session_)}")

    asyncio.run(run())
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    async def run() -> None:
        settings = RoutingSettings()
        app = create_app(settings, tracer_provider=observe(settings, settings.service_name))
        await app.run()

    return service_cli(
        prog="sodan-routing",
        description=DESCRIPTION,
        migrate=lambda: migrate(RoutingSettings().database_url),
        run=run,
        extra={
            "asyncapi": asyncapi_command(asyncapi_document, ASYNCAPI_PATH),
            "hours": show_hours,
        },
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(cli())
