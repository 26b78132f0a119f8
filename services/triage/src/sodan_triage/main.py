"""Composition root of the triage service and its CLI (``sodan-triage``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from faststream import FastStream
from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.crypto import migrate_keyring
from sodan_shared.db.migrations import upgrade
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import (
    Database,
    broker_for,
    connect_and_declare,
    faststream_app,
    keyring_for,
    observe,
    service_cli,
)

from sodan_triage.db.tables import SCHEMA, outbox
from sodan_triage.handlers import TriageDeps, register_handlers
from sodan_triage.lexicon import default_lexicon_text
from sodan_triage.live import LiveLexicon
from sodan_triage.settings import TriageSettings

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
MIGRATIONS = Path(__file__).resolve().parent / "db" / "migrations"
TITLE = "sodan triage"
DESCRIPTION = "Scores the urgency of clients' text messages with a versioned Japanese lexicon."


def migrate(database_url: str) -> None:
    """The keyring (shared, idempotent) and triage's own schema."""
    migrate_keyring(database_url)
    upgrade(database_url=database_url, script_location=MIGRATIONS, schema=SCHEMA)


def create_app(
    settings: TriageSettings, *, tracer_provider: TracerProvider | None = None
) -> FastStream:
    """The FastStream app; connects only when started (schema must be migrated)."""
    return compose(settings, tracer_provider)[0]


def compose(
    settings: TriageSettings, tracer_provider: TracerProvider | None = None
) -> tuple[FastStream, NatsBroker, TriageDeps]:
    broker = broker_for(settings, tracer_provider)
    deps = TriageDeps(
        lexicon=LiveLexicon(default_lexicon_text()),
        context_window=timedelta(minutes=settings.triage_context_minutes),
        context_messages=settings.triage_context_messages,
    )
    register_handlers(broker, deps, batch_size=settings.triage_batch_size)

    async def connect() -> None:
        deps.db = Database.from_settings(settings)
        deps.keyring = keyring_for(settings, deps.db)
        deps.js = await connect_and_declare(broker)
        deps.relay = OutboxRelay(deps.db.sessions, outbox, deps.js)
        deps.relay.start()
        # before the subscribers start: the first message is scored with the live version
        await deps.lexicon.start(deps.js)

    async def dispose() -> None:
        await deps.lexicon.stop()
        if deps.relay is not None:
            await deps.relay.stop()
            deps.relay = None
        if deps.db is not None:
            await deps.db.dispose()
            deps.db = None

    app = faststream_app(broker, on_startup=[connect], after_shutdown=[dispose])
    return app, broker, deps


def asyncapi_document(settings: TriageSettings | None = None) -> str:
    # a fixed server address: the committed document must not depend on the environment
    settings = settings or TriageSettings(nats_url="nats://127.0.0.1:4222")
    _, broker, _ = compose(settings, None)
    return asyncapi_yaml(broker, title=TITLE, description=DESCRIPTION)


def cli(argv: Sequence[str] | None = None) -> int:
    async def run() -> None:
        settings = TriageSettings()
        app = create_app(settings, tracer_provider=observe(settings, settings.service_name))
        await app.run()

    return service_cli(
        prog="sodan-triage",
        description=DESCRIPTION,
        migrate=lambda: migrate(TriageSettings().database_url),
        run=run,
        extra={"asyncapi": asyncapi_command(asyncapi_document, ASYNCAPI_PATH)},
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(cli())
