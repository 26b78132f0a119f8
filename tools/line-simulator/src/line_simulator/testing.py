"""Run the simulator inside a test process: real HTTP on a free port, no subprocess.

Example::

    with running_simulator(SimulatorSettings(webhook_url=...)) as server:
        async with SimulatorClient(server.url) as sim: ...
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from line_simulator.main import create_app
from line_simulator.settings import SimulatorSettings


class ServerThread:
    """uvicorn in a daemon thread, on a socket bound before start so no port race."""

    def __init__(self, app: FastAPI) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("server thread did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


@contextmanager
def running_simulator(settings: SimulatorSettings) -> Iterator[ServerThread]:
    with ServerThread(create_app(settings)) as server:
        yield server
