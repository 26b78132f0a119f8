"""Backup keys: derived (HKDF-SHA256) from the operator's master keys.

A file records the id of the master key its key came from, so files written
before a rotation stay readable while that master key is still configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from sodan_shared.crypto import MasterKeys

ARCHIVE_INFO = b"sodan-archive"
DUMP_INFO = b"sodan-dump"


@dataclass(frozen=True)
class BackupKeys:
    """Derives the key of one purpose (archive or dump) under any configured master key."""

    info: bytes
    master: MasterKeys

    @classmethod
    def from_spec(cls, spec: str, active_id: str = "", *, info: bytes) -> BackupKeys:
        return cls(info=info, master=MasterKeys(spec, active_id))

    @property
    def active_id(self) -> str:
        return self.master.active_id

    def key(self, key_id: str) -> bytes:
        try:
            return self.master.derive(key_id, info=self.info)
        except KeyError:
            raise KeyError(
                f"master key {key_id!r} is not configured; cannot read this backup"
            ) from None

    def active(self) -> tuple[str, bytes]:
        return self.active_id, self.key(self.active_id)
