"""The real console (its app on a free port, real NATS and PostgreSQL) for the client.

The client is synchronous: tests call it in a worker thread (asyncio.to_thread)
while the console keeps serving in the test's event loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from sodan_console.main import create_app, migrate
from sodan_console.seed import seed_demo
from sodan_console.settings import ConsoleSettings
from sodan_devstack.nats import free_port

# Tests import client_support (--import-mode=importlib puts no test dir on the path).
sys.path.insert(0, str(Path(__file__).parent))

from client_support import Console


@pytest.fixture(scope="session")
async def client_console_settings(nats_url: str, database_url: str) -> ConsoleSettings:
    settings = ConsoleSettings(
        nats_url=nats_url, database_url=database_url, environment="test", _env_file=None
    )
    migrate(settings)
    await seed_demo(settings)
    return settings


@pytest.fixture(scope="module")
async def console(client_console_settings: ConsoleSettings) -> AsyncIterator[Console]:
    port = free_port()
    app = create_app(client_console_settings.model_copy(update={"console_port": port}))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            # a pooled connection must not be dropped by the server just as it is reused
            timeout_keep_alive=60,
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "console did not start"
    yield Console(f"http://127.0.0.1:{port}", app.state.console)
    server.should_exit = True
    await task
