"""Backup keys: derived (HKDF-SHA256) from the operator's master keys.

A file records the id of the master key its key came from, so files written
before a rotation stay readable while that master key is still configured.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sodan_shared.crypto import MasterKeys

ARCHIVE_INFO = b"sodan-archive"
DUMP_INFO = b"sodan-dump"


def _raw_master_keys(spec: str) -> dict[str, bytes]:
    # sodan_shared.crypto.MasterKeys validates the spec but does not expose the
    # raw keys a derivation needs, so the (validated) spec is parsed again here.
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, encoded = item.partition(":")
        keys[key_id] = base64.b64decode(encoded)
    return keys


@dataclass(frozen=True)
class BackupKeys:
    """Derives the key of one purpose (archive or dump) under any configured master key."""

    info: bytes
    active_id: str
    _master: dict[str, bytes]

    @classmethod
    def from_spec(cls, spec: str, active_id: str = "", *, info: bytes) -> BackupKeys:
        validated = MasterKeys(spec, active_id)
        return cls(info=info, active_id=validated.active_id, _master=_raw_master_keys(spec))

    def key(self, key_id: str) -> bytes:
        if key_id not in self._master:
            raise KeyError(f"master key {key_id!r} is not configured; cannot read this backup")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=self.info).derive(
            self._master[key_id]
        )

    def active(self) -> tuple[str, bytes]:
        return self.active_id, self.key(self.active_id)
