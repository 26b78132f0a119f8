"""Composition root of the backup service and its CLI."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.crypto import migrate_keyring
from sodan_shared.db.migrations import upgrade
from sodan_shared.events.backup import BackupCompleted, BackupFailed
from sodan_shared.logging import get_logger
from sodan_shared.nats import connect, jstream
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import Database, broker_for, connect_and_declare, observe, service_cli
from sodan_shared.subjects import BACKUP_COMPLETED, BACKUP_FAILED

from sodan_backup.archive import Archiver, verify_archive
from sodan_backup.db import queries
from sodan_backup.db.tables import SCHEMA, outbox
from sodan_backup.dumpfile import DumpFileError
from sodan_backup.dumps import DumpRunner, restore_dump
from sodan_backup.generations import dumps_newest_first
from sodan_backup.handlers import register_handlers
from sodan_backup.keys import ARCHIVE_INFO, DUMP_INFO, BackupKeys
from sodan_backup.pgtools import PgToolError
from sodan_backup.scheduler import DailyDumps
from sodan_backup.settings import BackupSettings

log = get_logger()
ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
ASYNCAPI_TITLE = "sodan backup"
ASYNCAPI_DESCRIPTION = (
    "Archives every event of every stream, encrypted, in order; runs the daily encrypted "
    "database dumps and reports their outcome."
)


def archive_keys(settings: BackupSettings) -> BackupKeys:
    spec = settings.master_keys.get_secret_value()
    return BackupKeys.from_spec(spec, settings.master_key_id, info=ARCHIVE_INFO)


def dump_keys(settings: BackupSettings) -> BackupKeys:
    spec = settings.master_keys.get_secret_value()
    return BackupKeys.from_spec(spec, settings.master_key_id, info=DUMP_INFO)


@dataclass
class BackupApp:
    settings: BackupSettings
    db: Database
    broker: NatsBroker
    archiver: Archiver
    dumps: DumpRunner
    relay: OutboxRelay | None = None
    timer: DailyDumps | None = None

    async def start(self) -> None:
        js = await connect_and_declare(self.broker)
        self.relay = OutboxRelay(self.db.sessions, outbox, js)
        self.relay.start()
        await self.broker.start()
        if self.settings.backup_schedule_enabled:
            self.timer = DailyDumps(
                lambda trigger: self.dumps.run(trigger=trigger),
                dumps_dir=self.settings.dumps_dir,
                at=self.settings.daily_at,
                after_dump=self.relay.wake,
            )
            self.timer.start()

    async def stop(self) -> None:
        if self.timer is not None:
            await self.timer.stop()
        await self.broker.stop()
        if self.relay is not None:
            await self.relay.stop()
        await self.db.dispose()


def create_app(
    settings: BackupSettings, *, tracer_provider: TracerProvider | None = None
) -> BackupApp:
    """Builds the broker, archive consumers and dump runner; connects to nothing."""
    db = Database.from_settings(settings)
    broker = broker_for(settings, tracer_provider)
    archiver = Archiver(settings.archive_dir, archive_keys(settings), db.sessions)
    register_handlers(broker, archiver)
    # Declared for the contract; the outbox relay does the publishing.
    broker.publisher(
        BACKUP_COMPLETED.name,
        stream=jstream(BACKUP_COMPLETED.stream),
        schema=BackupCompleted,
        description="A daily dump was written, encrypted, and old generations pruned",
    )
    broker.publisher(
        BACKUP_FAILED.name,
        stream=jstream(BACKUP_FAILED.stream),
        schema=BackupFailed,
        description="A dump could not be made; the reason says why",
    )
    dumps = DumpRunner(
        database_url=settings.database_url,
        dumps_dir=settings.dumps_dir,
        keys=dump_keys(settings),
        sessions=db.sessions,
        generations=settings.backup_generations,
        pg_dump=settings.backup_pg_dump,
    )
    return BackupApp(settings=settings, db=db, broker=broker, archiver=archiver, dumps=dumps)


def migrate(settings: BackupSettings) -> None:
    migrate_keyring(settings.database_url)
    upgrade(
        database_url=settings.database_url,
        script_location=Path(__file__).parent / "db" / "migrations",
        schema=SCHEMA,
    )


async def serve(settings: BackupSettings) -> None:
    tracer = observe(settings, settings.service_name)
    app = create_app(settings, tracer_provider=tracer)
    await app.start()
    log.info("backup.running", backup_dir=str(settings.backup_dir))
    try:
        await asyncio.Event().wait()
    finally:
        await app.stop()


async def dump_now(settings: BackupSettings) -> int:
    app = create_app(settings)
    try:
        outcome = await app.dumps.run(trigger="manual")
        try:
            nc = await connect(settings.nats_url, connect_timeout=3, max_reconnect_attempts=0)
        except Exception:
            print("NATS unreachable: the outcome event stays in the outbox for `run` to publish")
        else:
            try:
                await OutboxRelay(app.db.sessions, outbox, nc.jetstream()).publish_pending()
            finally:
                await nc.drain()
    finally:
        await app.db.dispose()
    if outcome.ok:
        print(f"dump written: {settings.dumps_dir / str(outcome.file_name)}")
        return 0
    print(f"dump failed: {outcome.reason}")
    return 1


async def list_backups(settings: BackupSettings) -> int:
    names = dumps_newest_first(p.name for p in settings.dumps_dir.glob("*.dump.enc"))
    print(f"dumps in {settings.dumps_dir} (newest first, keeping {settings.backup_generations}):")
    for name in names:
        print(f"  {name}  {(settings.dumps_dir / name).stat().st_size} bytes")
    app = create_app(settings)
    try:
        async with app.db.sessions() as session:
            runs = await queries.recent_runs(session)
    finally:
        await app.db.dispose()
    print("recent runs:")
    for r in runs:
        detail = r["file_name"] if r["status"] == "completed" else (r["reason"] or "")
        print(
            f"  {r['started_at']:%Y-%m-%d %H:%M:%S%z}  {r['trigger']:<8} {r['status']:<9} {detail}"
        )
    return 0


def _restore_command(args: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sodan-backup restore-dump")
    parser.add_argument("file", type=Path)
    parser.add_argument("--into", required=True, help="database URL to restore into")
    ns = parser.parse_args(args)
    settings = BackupSettings()
    try:
        warnings = asyncio.run(
            restore_dump(
                ns.file, into=ns.into, keys=dump_keys(settings), pg_dump=settings.backup_pg_dump
            )
        )
    except (PgToolError, DumpFileError, KeyError, OSError) as exc:
        print(f"restore failed: {exc}")
        return 1
    if warnings:
        print(warnings)
    print(f"restored {ns.file.name}")
    return 0


def _verify_command(_: Sequence[str]) -> int:
    settings = BackupSettings()
    checks = verify_archive(settings.archive_dir, archive_keys(settings))
    if not checks:
        print(f"no archive under {settings.archive_dir}")
    for c in checks:
        span = f"{c.first}..{c.last}" if c.records else "-"
        status = "ok" if c.ok else "PROBLEM"
        print(f"{c.stream:<10} files={c.files} records={c.records} seq={span} {status}")
        for first, last in c.problems:
            print(f"  sequence problem at {first}..{last}")
        for error in c.errors:
            print(f"  {error}")
    return 0 if all(c.ok for c in checks) else 1


def generate_asyncapi() -> str:
    # fixed server address: the document must not depend on the local environment
    app = create_app(BackupSettings(nats_url="nats://127.0.0.1:4222"))
    return asyncapi_yaml(app.broker, title=ASYNCAPI_TITLE, description=ASYNCAPI_DESCRIPTION)


def _migrated(settings: BackupSettings) -> int:
    migrate(settings)
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    settings = BackupSettings()
    return service_cli(
        prog="sodan-backup",
        description="sodan backup: encrypted event archive and daily database dumps",
        migrate=lambda: migrate(settings),
        run=lambda: serve(settings),
        extra={
            "asyncapi": asyncapi_command(generate_asyncapi, ASYNCAPI_PATH),
            "dump-now": lambda _: _migrated(settings) or asyncio.run(dump_now(settings)),
            "list": lambda _: _migrated(settings) or asyncio.run(list_backups(settings)),
            "restore-dump": _restore_command,
            "verify-archive": _verify_command,
        },
        argv=argv,
    )
