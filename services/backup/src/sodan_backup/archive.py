"""The encrypted event archive: every event of every stream, once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sodan_shared.db import transaction
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_backup.db import queries
from sodan_backup.generations import TOKYO
from sodan_backup.keys import BackupKeys
from sodan_backup.segments import (
    ArchivedEvent,
    SegmentError,
    append_record,
    encode_record,
    find_gaps,
    read_segment,
    scan_tail,
    segment_key_id,
)

log = get_logger()


def segment_path(root: Path, stream: str, stored_at: datetime) -> Path:
    return root / stream / f"{stored_at.astimezone(TOKYO):%Y-%m-%d}.seg"


def segments_of(root: Path, stream: str) -> list[Path]:
    return sorted((root / stream).glob("*.seg"))


class Archiver:
    """Appends events to the archive; a stream sequence already archived is skipped.

    Run one backup replica: the archive is a directory on its disk.
    """

    def __init__(
        self, root: Path, keys: BackupKeys, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._root = root
        self._keys = keys
        self._sessions = sessions
        self._last: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._loaded = False

    async def _load(self) -> None:
        """Last archived sequence per stream: the database's, or the files' if further.

        The record is fsynced before the position commits, so after a crash the
        file may be one record ahead of the table, never behind.
        """
        async with transaction(self._sessions) as session:
            self._last = await queries.positions(session)
            for stream_dir in (p for p in self._root.glob("*") if p.is_dir()):
                files = segments_of(self._root, stream_dir.name)
                if not files:
                    continue
                on_disk, _ = scan_tail(files[-1])
                if on_disk is not None and on_disk > self._last.get(stream_dir.name, 0):
                    await queries.advance_position(
                        session, stream=stream_dir.name, sequence=on_disk
                    )
                    self._last[stream_dir.name] = on_disk
        self._loaded = True

    async def archive(self, event: ArchivedEvent) -> bool:
        """Store one event durably; False when that sequence is already archived."""
        async with self._lock:
            if not self._loaded:
                await self._load()
            last = self._last.get(event.stream, 0)
            if event.sequence <= last:
                return False
            if event.sequence != last + 1 and last:
                # messages removed from the stream before we saw them; verify-archive reports it
                log.warning("archive.gap", stream=event.stream, after=last, sequence=event.sequence)
            path = segment_path(self._root, event.stream, event.stored_at)
            key_id = segment_key_id(path) if path.exists() else self._keys.active_id
            record = encode_record(event, key=self._keys.key(key_id))
            await asyncio.to_thread(append_record, path, record, key_id=key_id, stream=event.stream)
            async with transaction(self._sessions) as session:
                await queries.advance_position(
                    session, stream=event.stream, sequence=event.sequence
                )
            self._last[event.stream] = event.sequence
            return True


@dataclass
class StreamCheck:
    stream: str
    files: int = 0
    records: int = 0
    first: int | None = None
    last: int | None = None
    problems: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.errors


def read_archive(root: Path, keys: BackupKeys, stream: str) -> Iterator[ArchivedEvent]:
    for path in segments_of(root, stream):
        yield from read_segment(path, keys)


def verify_archive(root: Path, keys: BackupKeys) -> list[StreamCheck]:
    """Decrypt every record; sequences must be contiguous per stream."""
    checks = []
    for stream_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        check = StreamCheck(stream=stream_dir.name)
        sequences: list[int] = []
        for path in segments_of(root, stream_dir.name):
            check.files += 1
            try:
                sequences += [e.sequence for e in read_segment(path, keys)]
            except (SegmentError, KeyError) as exc:
                check.errors.append(f"{path.name}: {exc}")
        check.records = len(sequences)
        if sequences:
            check.first, check.last = sequences[0], sequences[-1]
        check.problems = find_gaps(sequences)
        checks.append(check)
    return checks
