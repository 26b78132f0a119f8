"""Archive segment files: one per stream per Japan-time day, append-only.

Layout: header ``SODANSEG`` + version + key id + stream name, then records
``u32 length | u64 stream sequence | 12-byte nonce | AES-GCM ciphertext``. The
sequence is in clear (it says nothing about anyone) so duplicates and gaps can
be found without the key; it is bound to the ciphertext as associated data.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sodan_backup.keys import BackupKeys

MAGIC = b"SODANSEG"
VERSION = 1
_LEN = struct.Struct(">I")
_SEQ = struct.Struct(">Q")
_NONCE = 12
# headers worth keeping: the dedup id and the trace context
KEPT_HEADERS = ("Nats-Msg-Id", "traceparent", "tracestate")


class SegmentError(ValueError):
    """A segment file is damaged or not a segment."""


@dataclass(frozen=True)
class ArchivedEvent:
    stream: str
    sequence: int
    subject: str
    stored_at: datetime
    headers: dict[str, str]
    data: bytes


def _aad(stream: str, sequence: int) -> bytes:
    return b"sodan-archive|" + stream.encode() + b"|" + _SEQ.pack(sequence)


def encode_header(*, key_id: str, stream: str) -> bytes:
    k, s = key_id.encode(), stream.encode()
    return MAGIC + bytes([VERSION, len(k)]) + k + bytes([len(s)]) + s


def read_header(f: BinaryIO) -> tuple[str, str]:
    """(key id, stream) of a segment, the file positioned at its first record."""
    head = f.read(len(MAGIC) + 2)
    if len(head) < len(MAGIC) + 2 or head[: len(MAGIC)] != MAGIC or head[len(MAGIC)] != VERSION:
        raise SegmentError("not a sodan archive segment")
    key_id = f.read(head[-1]).decode()
    stream = f.read(f.read(1)[0]).decode()
    return key_id, stream


def encode_record(event: ArchivedEvent, *, key: bytes) -> bytes:
    plain = json.dumps(
        {
            "subject": event.subject,
            "stored_at": event.stored_at.isoformat(),
            "headers": event.headers,
            "data": base64.b64encode(event.data).decode(),
        },
        separators=(",", ":"),
    ).encode()
    nonce = os.urandom(_NONCE)
    body = (
        _SEQ.pack(event.sequence)
        + nonce
        + AESGCM(key).encrypt(nonce, plain, _aad(event.stream, event.sequence))
    )
    return _LEN.pack(len(body)) + body


def _raw_records(f: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(offset after the record, sequence, body) of each complete record."""
    while True:
        size = f.read(_LEN.size)
        if len(size) < _LEN.size:
            return
        body = f.read(_LEN.unpack(size)[0])
        if len(body) < _LEN.unpack(size)[0] or len(body) < _SEQ.size + _NONCE:
            return  # torn tail: a write the crash interrupted
        yield f.tell(), _SEQ.unpack(body[: _SEQ.size])[0], body


def read_segment(path: Path, keys: BackupKeys) -> Iterator[ArchivedEvent]:
    with path.open("rb") as f:
        key_id, stream = read_header(f)
        key = keys.key(key_id)
        for _, seq, body in _raw_records(f):
            nonce, ct = body[_SEQ.size : _SEQ.size + _NONCE], body[_SEQ.size + _NONCE :]
            try:
                plain = json.loads(AESGCM(key).decrypt(nonce, ct, _aad(stream, seq)))
            except Exception as exc:
                raise SegmentError(f"{path.name}: record {seq} does not decrypt") from exc
            yield ArchivedEvent(
                stream=stream,
                sequence=seq,
                subject=plain["subject"],
                stored_at=datetime.fromisoformat(plain["stored_at"]),
                headers=plain["headers"],
                data=base64.b64decode(plain["data"]),
            )


def scan_tail(path: Path) -> tuple[int | None, int]:
    """Last complete record's sequence and the length of the intact prefix."""
    with path.open("rb") as f:
        read_header(f)
        end, last = f.tell(), None
        for end, last, _ in _raw_records(f):  # noqa: B007 - the last one is what we want
            pass
    return last, end


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_record(path: Path, record: bytes, *, key_id: str, stream: str) -> str:
    """Append one record durably (fsync); creates the segment with its header.

    Returns the key id the segment is written under (an existing segment keeps
    the key it was started with, also across a master key rotation).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    if created:
        with path.open("xb") as f:
            f.write(encode_header(key_id=key_id, stream=stream))
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(path.parent)
    else:
        _, intact = scan_tail(path)
        if intact != path.stat().st_size:
            os.truncate(path, intact)  # drop a torn record left by a crash
    with path.open("ab") as f:
        f.write(record)
        f.flush()
        os.fsync(f.fileno())
    return key_id


def segment_key_id(path: Path) -> str:
    with path.open("rb") as f:
        return read_header(f)[0]


def find_gaps(sequences: list[int]) -> list[tuple[int, int]]:
    """Missing (first, last) ranges and duplicates as (seq, seq) in a stream's sequences."""
    problems: list[tuple[int, int]] = []
    for prev, cur in itertools.pairwise(sequences):
        if cur == prev:
            problems.append((cur, cur))
        elif cur > prev + 1:
            problems.append((prev + 1, cur - 1))
        elif cur < prev:
            problems.append((cur, prev))
    return problems
