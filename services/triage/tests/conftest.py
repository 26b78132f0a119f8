from collections.abc import AsyncIterator

import pytest
from faststream import FastStream
from sodan_shared.crypto import Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.settings import DEMO_MASTER_KEYS
from sodan_triage.main import create_app, migrate
from sodan_triage.settings import TriageSettings


@pytest.fixture
async def keyring(database_url: str) -> AsyncIterator[Keyring]:
    migrate(database_url)
    engine = create_engine(database_url)
    yield Keyring(session_factory(engine), MasterKeys(DEMO_MASTER_KEYS))
    await engine.dispose()


def settings_for(nats_url: str, database_url: str, instance: str = "") -> TriageSettings:
    return TriageSettings(
        nats_url=nats_url, database_url=database_url, environment="test", instance_id=instance
    )


@pytest.fixture
async def triage_app(
    nats_url: str, database_url: str, keyring: Keyring
) -> AsyncIterator[FastStream]:
    app = create_app(settings_for(nats_url, database_url))
    await app.start()
    yield app
    await app.stop()
