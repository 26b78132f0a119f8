"""The archive and the dumps against real NATS, PostgreSQL and pg_dump/pg_restore."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sodan_backup.archive import read_archive, verify_archive
from sodan_backup.dumps import restore_dump
from sodan_backup.handlers import archive_durable
from sodan_backup.main import BackupApp, archive_keys, create_app, dump_keys, migrate
from sodan_backup.settings import BackupSettings
from sodan_shared.nats import publish_event
from sodan_shared.subjects import BACKUP_COMPLETED, BACKUP_FAILED, STREAMS
from sodan_shared.testing.factories import make_cipher, make_message_received, make_message_scored
from sqlalchemy.engine import make_url

PG_BIN = "/usr/lib/postgresql/15/bin/pg_dump"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reset_archive_consumers(js: JetStreamContext) -> None:
    for spec in STREAMS:
        try:
            await js.delete_consumer(spec.name, archive_durable(spec))
        except NotFoundError:
            pass


@pytest.fixture
async def settings(
    nats_url: str, fresh_database_url: str, tmp_path: Path, js: JetStreamContext
) -> BackupSettings:
    await _reset_archive_consumers(js)  # each test's archive starts at the streams' start
    s = BackupSettings(
        nats_url=nats_url,
        database_url=fresh_database_url,
        backup_dir=tmp_path / "backup",
        backup_schedule_enabled=False,
        backup_pg_dump=PG_BIN,
        log_format="console",
    )
    await asyncio.to_thread(migrate, s)
    return s


@pytest.fixture
async def running(settings: BackupSettings) -> AsyncIterator[BackupApp]:
    app = create_app(settings)
    await app.start()
    yield app
    await app.stop()


async def _archived_until(settings: BackupSettings, js: JetStreamContext) -> None:
    """Until the archive holds every stream up to its last sequence."""
    for _ in range(300):
        done = True
        for spec in STREAMS:
            info = await js.stream_info(spec.name)
            if info.state.messages and not (settings.archive_dir / spec.name).exists():
                done = False
                break
            archived = list(read_archive(settings.archive_dir, archive_keys(settings), spec.name))
            if info.state.messages and (
                not archived or archived[-1].sequence < info.state.last_seq
            ):
                done = False
                break
        if done:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("archive did not catch up")


def _ids_in_archive(settings: BackupSettings) -> list[str]:
    """Envelope ids in the archive. The session's NATS server also holds other
    tests' messages, dead letters among them, which need not be envelopes."""
    keys = archive_keys(settings)
    ids = []
    for spec in STREAMS:
        for event in read_archive(settings.archive_dir, keys, spec.name):
            try:
                data = json.loads(event.data)
            except ValueError:
                continue
            if isinstance(data, dict) and "id" in data:
                ids.append(data["id"])
    return ids


def _history() -> list[Any]:
    events: list[Any] = []
    for _ in range(3):
        received = make_message_received(cipher=make_cipher(), text="死にたい 本名は山田です")
        events += [received, make_message_scored(received, level="critical", score=9.0)]
    return events


async def test_every_event_is_archived_once_even_when_redelivered(
    settings: BackupSettings, js: JetStreamContext
) -> None:
    events = _history()
    app = create_app(settings)
    await app.start()
    try:
        for event in events:
            await publish_event(js, event)
        await _archived_until(settings, js)
    finally:
        await app.stop()

    # JetStream redelivers everything (consumer recreated) and the database lost its
    # positions (as after restoring an older dump): the files still hold each once.
    await _reset_archive_consumers(js)
    with psycopg.connect(_libpq(settings.database_url), autocommit=True) as conn:
        conn.execute("DELETE FROM backup.archive_positions")
    again = create_app(settings)
    await again.start()
    try:
        await _archived_until(settings, js)
        await asyncio.sleep(0.5)  # give any duplicate a chance to land
    finally:
        await again.stop()

    ids = _ids_in_archive(settings)
    for event in events:
        assert ids.count(str(event.id)) == 1
    checks = verify_archive(settings.archive_dir, archive_keys(settings))
    assert checks and all(c.ok for c in checks), checks
    assert {c.stream: c.first for c in checks if c.records}.keys() >= {"LINE_IN", "TRIAGE"}
    assert all(c.first == 1 for c in checks if c.records)


async def test_the_archive_is_unreadable_without_the_key(
    running: BackupApp, settings: BackupSettings, js: JetStreamContext
) -> None:
    received = make_message_received(cipher=make_cipher(), text="だれにも言えない")
    await publish_event(js, received)
    await _archived_until(settings, js)
    assert str(received.id) in _ids_in_archive(settings)

    sealed = received.payload.text
    assert sealed is not None
    envelope_json = received.to_bytes()
    for path in settings.archive_dir.rglob("*.seg"):
        raw = path.read_bytes()
        for secret in (
            sealed.encode(),
            sealed[3:40].encode(),
            received.payload.line_user_id.encode(),
            str(received.id).encode(),
            str(received.payload.client_id).encode(),
            b'"payload"',
            b"line.message_received",
            b"line.in.message.v1",
            envelope_json[:30],
        ):
            assert secret not in raw, (path, secret)


async def test_a_dump_restores_into_a_fresh_database(
    settings: BackupSettings,
    database_url: str,
    fresh_database_url: str,
    tmp_path: Path,
    js: JetStreamContext,
) -> None:
    # the source is the run's shared database; the target a fresh one
    source = BackupSettings(**{**settings.model_dump(), "database_url": database_url})
    await asyncio.to_thread(migrate, source)
    table = f"roundtrip_{uuid4().hex[:8]}"
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE public.{table} (id int primary key, note text)")
        conn.execute(f"INSERT INTO public.{table} VALUES (1, '相談記録'), (2, 'second')")

    app = create_app(source)
    try:
        outcome = await app.dumps.run(trigger="manual")
    finally:
        await app.db.dispose()
    assert outcome.ok, outcome.reason
    dump = source.dumps_dir / str(outcome.file_name)
    assert "相談記録".encode() not in dump.read_bytes()
    assert table.encode() not in dump.read_bytes()

    await restore_dump(dump, into=fresh_database_url, keys=dump_keys(source), pg_dump=PG_BIN)
    with psycopg.connect(_libpq(fresh_database_url)) as conn:
        rows = conn.execute(f"SELECT id, note FROM public.{table} ORDER BY id").fetchall()
        runs = conn.execute("SELECT count(*) FROM backup.dump_runs").fetchone()
    assert rows == [(1, "相談記録"), (2, "second")]
    assert runs is not None


async def test_old_generations_are_pruned_and_the_outcome_published(
    running: BackupApp, settings: BackupSettings, js: JetStreamContext
) -> None:
    seen: list[str] = []
    sub = await js.subscribe(BACKUP_COMPLETED.name, ordered_consumer=True, deliver_policy="new")
    names = []
    for _ in range(3):
        outcome = await running.dumps.run(trigger="manual")
        assert outcome.ok, outcome.reason
        names.append(outcome.file_name)
        await asyncio.sleep(1.1)  # dump names have one-second resolution
    assert running.relay is not None
    running.relay.wake()
    for _ in range(3):
        msg = await sub.next_msg(timeout=10)
        seen.append(json.loads(msg.data)["payload"]["file_name"])
    await sub.unsubscribe()
    on_disk = sorted(p.name for p in settings.dumps_dir.glob("*.dump.enc"))
    assert on_disk == sorted(names[1:])
    assert seen == names


async def test_a_missing_pg_dump_is_recorded_and_published_not_raised(
    settings: BackupSettings, js: JetStreamContext, tmp_path: Path
) -> None:
    broken = BackupSettings(
        **{**settings.model_dump(), "backup_pg_dump": str(tmp_path / "no" / "pg_dump")}
    )
    app = create_app(broken)
    await app.start()
    sub = await js.subscribe(BACKUP_FAILED.name, ordered_consumer=True, deliver_policy="new")
    try:
        outcome = await app.dumps.run(trigger="manual")
        assert app.relay is not None
        app.relay.wake()
        msg = await sub.next_msg(timeout=10)
    finally:
        await sub.unsubscribe()
        await app.stop()
    assert not outcome.ok
    assert "pg_dump not found" in str(outcome.reason)
    payload = json.loads(msg.data)["payload"]
    assert payload["run_id"] == str(outcome.run_id)
    assert "pg_dump not found" in payload["reason"]
    with psycopg.connect(_libpq(settings.database_url)) as conn:
        status = conn.execute(
            "SELECT status FROM backup.dump_runs WHERE run_id = %s", (outcome.run_id,)
        ).fetchone()
    assert status == ("failed",)
