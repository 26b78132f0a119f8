"""One daily dump: pg_dump → encrypt → atomic file → prune → record → event."""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal
from uuid import UUID, uuid4

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.backup import (
    BackupCompleted,
    BackupCompletedV1,
    BackupFailed,
    BackupFailedV1,
)
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_backup.db import queries
from sodan_backup.db.tables import outbox
from sodan_backup.dumpfile import DumpEncryptor, decrypt_chunks
from sodan_backup.generations import dump_name, dump_time, dumps_newest_first, generations_to_delete
from sodan_backup.keys import BackupKeys
from sodan_backup.pgtools import PgToolError, dump_database, find_tool, restore_database

log = get_logger()
Trigger = Literal["schedule", "startup", "manual"]
# Backups concern the whole installation, not one LINE channel.
SYSTEM_CHANNEL = "system"


@dataclass(frozen=True)
class DumpOutcome:
    run_id: UUID
    ok: bool
    file_name: str | None = None
    reason: str | None = None


class _HashingWriter:
    """Writes through to the file, hashing what it writes (the event carries the sum)."""

    def __init__(self, out: BinaryIO, digest: hashlib._Hash) -> None:
        self._out, self._digest = out, digest

    def write(self, data: bytes, /) -> int:
        self._digest.update(data)
        return self._out.write(data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def newest_dump_time(dumps_dir: Path) -> datetime | None:
    names = dumps_newest_first(p.name for p in dumps_dir.glob("*.dump.enc"))
    return dump_time(names[0]) if names else None


class DumpRunner:
    def __init__(
        self,
        *,
        database_url: str,
        dumps_dir: Path,
        keys: BackupKeys,
        sessions: async_sessionmaker[AsyncSession],
        generations: int,
        pg_dump: str = "",
    ) -> None:
        self._database_url = database_url
        self._dir = dumps_dir
        self._keys = keys
        self._sessions = sessions
        self._generations = generations
        self._pg_dump = pg_dump

    async def _write_dump(self, started: datetime) -> tuple[str, int, str, str]:
        self._dir.mkdir(parents=True, exist_ok=True)
        pg_dump = find_tool("pg_dump", self._pg_dump)
        name = dump_name(started)
        final, tmp = self._dir / name, self._dir / f".{name}.tmp"
        key_id, key = self._keys.active()
        digest = hashlib.sha256()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw:
                enc = DumpEncryptor(_HashingWriter(raw, digest), key_id=key_id, key=key)
                await dump_database(pg_dump, self._database_url, enc.write)
                enc.close()
                raw.flush()
                os.fsync(raw.fileno())
            size = tmp.stat().st_size
            os.replace(tmp, final)
            _fsync_dir(self._dir)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return name, size, digest.hexdigest(), key_id

    def _prune(self) -> tuple[list[str], list[str]]:
        names = [p.name for p in self._dir.glob("*.dump.enc")]
        doomed = generations_to_delete(names, self._generations)
        for name in doomed:
            (self._dir / name).unlink(missing_ok=True)
        if doomed:
            _fsync_dir(self._dir)
        return dumps_newest_first(set(names) - set(doomed)), doomed

    async def run(self, *, trigger: Trigger) -> DumpOutcome:
        """One dump; failures are recorded and published, never raised."""
        run_id, started = uuid4(), datetime.now(UTC)
        async with transaction(self._sessions) as session:
            await queries.start_run(session, run_id=run_id, trigger=trigger, started_at=started)
        log.info("backup.dump_started", run_id=str(run_id), trigger=trigger)
        try:
            name, size, sha256, key_id = await self._write_dump(started)
            kept, deleted = await asyncio.to_thread(self._prune)
        except (PgToolError, OSError, KeyError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            failed = datetime.now(UTC)
            async with transaction(self._sessions) as session:
                await queries.finish_run(
                    session, run_id=run_id, status="failed", finished_at=failed, reason=reason
                )
                await add_to_outbox(
                    session,
                    outbox,
                    BackupFailed.new(
                        channel=SYSTEM_CHANNEL,
                        event_id=run_id,
                        payload=BackupFailedV1(
                            run_id=run_id,
                            reason=reason[:2000],
                            started_at=started,
                            failed_at=failed,
                        ),
                    ),
                )
            log.error("backup.dump_failed", run_id=str(run_id), reason=reason)
            return DumpOutcome(run_id=run_id, ok=False, reason=reason)
        finished = datetime.now(UTC)
        async with transaction(self._sessions) as session:
            await queries.finish_run(
                session,
                run_id=run_id,
                status="completed",
                finished_at=finished,
                file_name=name,
                size_bytes=size,
                sha256=sha256,
                key_id=key_id,
            )
            await add_to_outbox(
                session,
                outbox,
                BackupCompleted.new(
                    channel=SYSTEM_CHANNEL,
                    event_id=run_id,
                    payload=BackupCompletedV1(
                        run_id=run_id,
                        file_name=name,
                        size_bytes=size,
                        sha256=sha256,
                        key_id=key_id,
                        started_at=started,
                        finished_at=finished,
                        kept=kept,
                        deleted=deleted,
                    ),
                ),
            )
        log.info("backup.dump_completed", run_id=str(run_id), file=name, size=size, deleted=deleted)
        return DumpOutcome(run_id=run_id, ok=True, file_name=name)


async def restore_dump(path: Path, *, into: str, keys: BackupKeys, pg_dump: str = "") -> str:
    """Decrypt ``path`` into ``pg_restore --clean --if-exists`` on database ``into``."""
    pg_restore = find_tool("pg_restore", pg_dump)
    with path.open("rb") as f:
        return await restore_database(pg_restore, into, decrypt_chunks(f, keys))
