"""Pid files under `.run/pids/` so `sodan-dev stop` / `status` can find a running stack."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    marker: str  # a substring of the process's command line, guarding against pid reuse
    extra: dict[str, Any] = field(default_factory=dict)


def write_record(path: Path, record: PidRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"name": record.name, "pid": record.pid, "marker": record.marker, **record.extra}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    tmp.replace(path)


def read_record(path: Path) -> PidRecord | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        extra = {k: v for k, v in payload.items() if k not in ("name", "pid", "marker")}
        return PidRecord(str(payload["name"]), int(payload["pid"]), str(payload["marker"]), extra)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_records(directory: Path) -> list[PidRecord]:
    if not directory.is_dir():
        return []
    records = (read_record(path) for path in sorted(directory.glob("*.json")))
    return [record for record in records if record is not None]


def command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def is_alive(record: PidRecord) -> bool:
    """The process exists, is not a zombie, and is still the one we recorded."""
    cmdline = command_line(record.pid)
    if not cmdline:  # gone, or a zombie (empty cmdline)
        return False
    return record.marker in cmdline


def terminate(record: PidRecord, *, timeout: float) -> bool:
    """SIGTERM, wait up to `timeout` s, then SIGKILL. Returns whether it had to kill."""
    if not is_alive(record):
        return False
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(record):
            return False
        time.sleep(0.1)
    try:
        os.kill(record.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
