"""pg_dump / pg_restore: found on this machine, fed and drained as streams.

The plaintext dump never touches the disk: pg_dump's output is encrypted as
it arrives, and a restore decrypts straight into pg_restore's input.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

READ_SIZE = 1 << 20


class PgToolError(RuntimeError):
    """pg_dump or pg_restore is missing or failed; the message says why."""


@dataclass(frozen=True)
class Libpq:
    url: str  # without the password
    env: dict[str, str]  # PGPASSWORD when the URL had one (kept off the command line)


def libpq_target(database_url: str) -> Libpq:
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return Libpq(url=plain.render_as_string(hide_password=False), env=env)


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def find_tool(name: str, configured_pg_dump: str = "") -> str:
    """The tool from the configured pg_dump's directory, PATH, or the newest PostgreSQL."""
    if configured_pg_dump:
        candidate = (
            Path(configured_pg_dump).with_name(name)
            if name != "pg_dump"
            else Path(configured_pg_dump)
        )
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise PgToolError(f"{name} not found at {candidate} (SODAN_BACKUP_PG_DUMP)")
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if installed:
        return installed[-1]
    raise PgToolError(f"{name} not found on PATH nor in /usr/lib/postgresql/*/bin")


async def _drain(stream: asyncio.StreamReader | None) -> bytes:
    return await stream.read() if stream is not None else b""


def _tail(stderr: bytes) -> str:
    return stderr.decode(errors="replace").strip()[-1500:]


async def dump_database(pg_dump: str, database_url: str, sink: Callable[[bytes], None]) -> None:
    """Run ``pg_dump --format=custom`` and pass its output to ``sink`` chunk by chunk."""
    target = libpq_target(database_url)
    try:
        proc = await asyncio.create_subprocess_exec(
            pg_dump,
            "--format=custom",
            "--no-password",
            f"--dbname={target.url}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=target.env,
        )
    except OSError as exc:
        raise PgToolError(f"cannot start pg_dump ({pg_dump}): {exc}") from exc
    errors = asyncio.create_task(_drain(proc.stderr))
    assert proc.stdout is not None
    try:
        while chunk := await proc.stdout.read(READ_SIZE):
            sink(chunk)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    finally:
        stderr = await errors
    if await proc.wait() != 0:
        raise PgToolError(f"pg_dump exited with {proc.returncode}: {_tail(stderr)}")


async def restore_database(pg_restore: str, database_url: str, chunks: Iterator[bytes]) -> str:
    """Feed a custom-format dump to ``pg_restore --clean --if-exists``; returns its warnings."""
    target = libpq_target(database_url)
    try:
        proc = await asyncio.create_subprocess_exec(
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-password",
            "--exit-on-error",
            f"--dbname={target.url}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=target.env,
        )
    except OSError as exc:
        raise PgToolError(f"cannot start pg_restore ({pg_restore}): {exc}") from exc
    assert proc.stdin is not None
    errors = asyncio.create_task(_drain(proc.stderr))
    output = asyncio.create_task(_drain(proc.stdout))
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
            await proc.stdin.drain()
        proc.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # pg_restore stopped early; its exit status and stderr say why
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    stderr = await errors
    await output
    if await proc.wait() != 0:
        raise PgToolError(f"pg_restore exited with {proc.returncode}: {_tail(stderr)}")
    return _tail(stderr)
