"""Deterministic stand-in bytes for media a simulated user sent.

The bytes are not a playable file; they start with the right magic number
and are derived from the message id, so the same id always yields the same
content (handy for checksum and dedup tests).
"""

from __future__ import annotations

import hashlib
import mimetypes

from line_simulator.state import MediaRef

_FORMATS: dict[str, tuple[str, bytes, int]] = {
    # type: (content type LINE answers with, magic prefix, size)
    "image": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", 2048),
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42", 16384),
    "audio": ("audio/x-m4a", b"\x00\x00\x00\x18ftypM4A ", 8192),
}
_MAX_FILE = 1_000_000


def content_for(message_id: str, ref: MediaRef) -> tuple[str, bytes]:
    """Content type and body served by ``GET /v2/bot/message/{id}/content``."""
    if ref.media_type == "file":
        guessed, _ = mimetypes.guess_type(ref.file_name or "")
        size = min(ref.size or 1024, _MAX_FILE)
        return guessed or "application/octet-stream", _stream(message_id, size)
    content_type, magic, size = _FORMATS[ref.media_type]
    return content_type, magic + _stream(message_id, size - len(magic))


def _stream(seed: str, size: int) -> bytes:
    # A SHA-256 hash chain: cheap, deterministic, and incompressible like real media.
    chunks: list[bytes] = []
    block = hashlib.sha256(seed.encode()).digest()
    for _ in range(-(-size // len(block))):
        chunks.append(block)
        block = hashlib.sha256(block).digest()
    return b"".join(chunks)[:size]
