"""Composition root of the triage service and its CLI (``sodan-triage``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from faststream import FastStream
from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.crypto import migrate_keyring
from sodan_shared.runtime import (
    Database,
    broker_for,
    connect_and_declare,
    faststream_app,
    keyring_for,
    observe,
    service_cli,
)

from sodan_triage.handlers import TriageDeps, register_handlers
from sodan_triage.lexicon import load_lexicon
from sodan_triage.scoring import Scorer
from sodan_triage.settings import TriageSettings

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
TITLE = "sodan triage"
DESCRIPTION = "Scores the urgency of clients' text messages with a versioned Japanese lexicon."


def create_app(
    settings: TriageSettings, *, tracer_provider: TracerProvider | None = None
) -> FastStream:
    """The FastStream app; connects only when started."""
    return _compose(settings, tracer_provider)[0]


def _compose(
    settings: TriageSettings, tracer_provider: TracerProvider | None
) -> tuple[FastStream, NatsBroker]:
    broker = broker_for(settings, tracer_provider)
    deps = TriageDeps(scorer=Scorer(load_lexicon()))
    register_handlers(broker, deps, batch_size=settings.triage_batch_size)
    databases: list[Database] = []

    async def connect() -> None:
        db = Database.from_settings(settings)
        databases.append(db)
        deps.keyring = keyring_for(settings, db)
        deps.js = await connect_and_declare(broker)

    async def dispose() -> None:
        while databases:
            await databases.pop().dispose()

    return faststream_app(broker, on_startup=[connect], after_shutdown=[dispose]), broker


def asyncapi_document(settings: TriageSettings | None = None) -> str:
    # a fixed server address: the committed document must not depend on the environment
    settings = settings or TriageSettings(nats_url="nats://127.0.0.1:4222")
    _, broker = _compose(settings, None)
    return asyncapi_yaml(broker, title=TITLE, description=DESCRIPTION)


def cli(argv: Sequence[str] | None = None) -> int:
    def migrate() -> None:
        # triage has no tables of its own; it reads the shared keyring
        migrate_keyring(TriageSettings().database_url)

    async def run() -> None:
        settings = TriageSettings()
        app = create_app(settings, tracer_provider=observe(settings, settings.service_name))
        await app.run()

    return service_cli(
        prog="sodan-triage",
        description=DESCRIPTION,
        migrate=migrate,
        run=run,
        extra={"asyncapi": asyncapi_command(asyncapi_document, ASYNCAPI_PATH)},
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(cli())
