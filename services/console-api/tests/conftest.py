"""Fixtures for console-api: a running app (lifespan started) on the real NATS and DB."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sodan_console.main import create_app, migrate
from sodan_console.seed import seed_demo
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_shared.crypto import Keyring

# Tests import console_support (--import-mode=importlib puts no test dir on the path).
sys.path.insert(0, str(Path(__file__).parent))

from console_support import client_for, logged_in


@pytest.fixture(scope="session")
def console_settings(nats_url: str, database_url: str) -> ConsoleSettings:
    settings = ConsoleSettings(
        nats_url=nats_url, database_url=database_url, environment="test", _env_file=None
    )
    migrate(settings)
    return settings


@pytest.fixture(scope="session")
async def seeded(console_settings: ConsoleSettings) -> ConsoleSettings:
    await seed_demo(console_settings)
    return console_settings


@pytest.fixture
async def app(seeded: ConsoleSettings) -> AsyncIterator[FastAPI]:
    application = create_app(seeded)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def state(app: FastAPI) -> ConsoleState:
    console: ConsoleState = app.state.console
    return console


@pytest.fixture
def keyring(state: ConsoleState) -> Keyring:
    return state.keyring


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def counsellor1(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "counsellor1")
    yield client
    await client.aclose()


@pytest.fixture
async def counsellor2(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "counsellor2")
    yield client
    await client.aclose()


@pytest.fixture
async def supervisor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "supervisor")
    yield client
    await client.aclose()
