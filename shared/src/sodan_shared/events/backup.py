"""Events produced by the backup service (daily database dumps)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from sodan_shared.events.envelope import Envelope, Payload

BackupKind = Literal["database_dump"]


class BackupCompletedV1(Payload):
    run_id: UUID
    kind: BackupKind = "database_dump"
    file_name: str = Field(description="Encrypted dump file name in the backup directory")
    size_bytes: int = Field(ge=0, description="Size of the encrypted file")
    sha256: str = Field(description="SHA-256 of the encrypted file, hex")
    key_id: str = Field(description="Master key id the dump key was derived from")
    started_at: AwareDatetime
    finished_at: AwareDatetime
    kept: list[str] = Field(description="Dump files kept after pruning, newest first")
    deleted: list[str] = Field(default_factory=list, description="Older generations removed")


class BackupCompleted(Envelope[BackupCompletedV1]):
    TYPE = "backup.completed"


class BackupFailedV1(Payload):
    run_id: UUID
    kind: BackupKind = "database_dump"
    reason: str = Field(max_length=2000, description="Why it failed (tool output, no data)")
    started_at: AwareDatetime
    failed_at: AwareDatetime


class BackupFailed(Envelope[BackupFailedV1]):
    TYPE = "backup.failed"
