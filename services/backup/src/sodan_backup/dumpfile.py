"""Encrypted dump files, written and read in chunks (dumps can be large).

Layout: ``SODANDMP`` + version + key id + 16-byte file id, then chunks
``u8 final | u32 length | 12-byte nonce | ciphertext``; each chunk's associated
data binds the file id, its index and whether it is the last, so chunks cannot
be reordered, moved between files or cut off without detection.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sodan_backup.keys import BackupKeys

MAGIC = b"SODANDMP"
VERSION = 1
CHUNK = 1 << 20
_HEAD = struct.Struct(">BI")
_NONCE = 12


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class DumpFileError(ValueError):
    """An encrypted dump is damaged, truncated or not ours."""


def _aad(file_id: bytes, index: int, final: bool) -> bytes:
    return file_id + struct.pack(">QB", index, final)


class DumpEncryptor:
    """Feed plaintext with :meth:`write`, then :meth:`close`; ciphertext goes to ``out``."""

    def __init__(self, out: Writable, *, key_id: str, key: bytes) -> None:
        self._out = out
        self._aes = AESGCM(key)
        self._file_id = os.urandom(16)
        self._index = 0
        self._buffer = bytearray()
        k = key_id.encode()
        out.write(MAGIC + bytes([VERSION, len(k)]) + k + self._file_id)

    def _emit(self, plain: bytes, *, final: bool) -> None:
        nonce = os.urandom(_NONCE)
        ct = self._aes.encrypt(nonce, plain, _aad(self._file_id, self._index, final))
        self._out.write(_HEAD.pack(final, len(ct)) + nonce + ct)
        self._index += 1

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._emit(bytes(self._buffer), final=True)
        self._buffer.clear()


def decrypt_chunks(f: BinaryIO, keys: BackupKeys) -> Iterator[bytes]:
    head = f.read(len(MAGIC) + 2)
    if len(head) < len(MAGIC) + 2 or head[: len(MAGIC)] != MAGIC or head[len(MAGIC)] != VERSION:
        raise DumpFileError("not a sodan encrypted dump")
    key_id = f.read(head[-1]).decode()
    file_id = f.read(16)
    aes = AESGCM(keys.key(key_id))
    index = 0
    while True:
        raw = f.read(_HEAD.size)
        if len(raw) < _HEAD.size:
            raise DumpFileError("dump is truncated (no final chunk)")
        final, size = _HEAD.unpack(raw)
        nonce, ct = f.read(_NONCE), f.read(size)
        if len(ct) < size:
            raise DumpFileError("dump is truncated")
        try:
            yield aes.decrypt(nonce, ct, _aad(file_id, index, bool(final)))
        except Exception as exc:
            raise DumpFileError(f"chunk {index} does not decrypt (wrong key or damaged)") from exc
        if final:
            if f.read(1):
                raise DumpFileError("data after the final chunk")
            return
        index += 1
