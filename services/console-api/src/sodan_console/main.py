"""Composition root of console-api: the FastAPI app, its broker and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.crypto import migrate_keyring
from sodan_shared.db.migrations import upgrade
from sodan_shared.logging import get_logger
from sodan_shared.media_store import media_store
from sodan_shared.nats import ensure_streams
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import Database, broker_for, keyring_for, observe, service_cli
from sqlalchemy import text

from sodan_console.access_log import access_log_middleware
from sodan_console.api import (
    account,
    admin_access_log,
    cases,
    casework,
    channels,
    desk,
    desk_settings,
    karte,
    labels,
    lexicon,
    me,
    reply_templates,
    reports,
    staff_admin,
    stream,
    supervision,
    twofactor,
)
from sodan_console.api.errors import install_error_handlers
from sodan_console.db.tables import SCHEMA, outbox
from sodan_console.handlers import consumer_of_subject, register_handlers
from sodan_console.live import LiveFeed
from sodan_console.presence_sweep import PresenceSweep
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState

log = get_logger(__name__)

SHUTDOWN_STEP_TIMEOUT_S = 10.0
WEB_DIR = Path(__file__).parent / "web"
MIGRATIONS = Path(__file__).parent / "db" / "migrations"
ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
ASYNCAPI_TITLE = "sodan console-api"
ASYNCAPI_DESCRIPTION = (
    "Staff console: projects cases and messages for counsellors, emits their "
    "replies (line.out.push) and commands (console.*) through its outbox."
)

API_DESCRIPTION = (
    "The staff console's API: the browser console and the Python client "
    "(tools/console-client) use the same endpoints. Log in with POST /api/login; the "
    "session is the `sodan_session` cookie. Every request that changes something must "
    "carry the header `X-Requested-With: sodan` (CSRF defence). A refusal answers "
    '`{"detail": "<Japanese message>"}` with 401 (no session), 403 (not allowed) or '
    "404; bad input 422 with `errors`. Each staff member sees and changes only what "
    "their role and cases allow, and every read of a case is in the access log."
)

# The console runs on a locked-down office network: everything is served from here.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: ConsoleSettings, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """Build everything without connecting: connections open in the lifespan."""
    db = Database.from_settings(settings)
    broker = broker_for(settings, tracer_provider)
    state = ConsoleState(settings=settings, db=db, keyring=keyring_for(settings, db), broker=broker)
    register_handlers(broker, state)
    lexicon.declare_publisher(broker)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nc = await broker.connect()
        js = nc.jetstream()
        await ensure_streams(js)
        state.media = await media_store(js)
        await broker.start()
        state.relay = OutboxRelay(db.sessions, outbox, js)
        state.relay.start()
        state.feed = LiveFeed(nc, state.hub, db.sessions, consumer_of=consumer_of_subject())
        await state.feed.start()
        sweep = PresenceSweep(state)
        sweep.start()
        log.info("console.started", host=settings.console_host, port=settings.console_port)
        try:
            yield
        finally:
            # Bounded: a stuck step must not keep a stopping replica alive forever.
            steps = (
                ("presence_sweep", sweep.stop),
                ("live_feed", state.feed.stop),
                ("outbox_relay", state.relay.stop),
                ("broker", broker.stop),
                ("database", db.dispose),
            )
            for name, step in steps:
                try:
                    await asyncio.wait_for(step(), SHUTDOWN_STEP_TIMEOUT_S)
                except TimeoutError:
                    log.warning("console.shutdown_step_timed_out", step=name)

    app = FastAPI(
        title="sodan console-api",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/api/docs" if settings.environment != "production" else None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if settings.environment != "production" else None,
    )
    app.state.console = state
    app.state.broker = broker
    install_error_handlers(app)
    # innermost middleware: it sees the matched route and the endpoint's status
    app.middleware("http")(access_log_middleware)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> dict[str, str]:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "データベースに接続できません"
            ) from None
        try:
            connected = bool(broker.connection.is_connected)
        except Exception:
            connected = False
        if not connected:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "NATS に接続できません")
        return {"status": "ready"}

    app.include_router(me.router)
    app.include_router(cases.router)
    app.include_router(casework.router)
    app.include_router(casework.options_router)
    app.include_router(cases.stickers_router)
    app.include_router(stream.router)
    app.include_router(lexicon.router)
    app.include_router(desk.router)
    app.include_router(reports.router)
    app.include_router(desk_settings.router)
    app.include_router(supervision.router)
    app.include_router(admin_access_log.router)
    app.include_router(twofactor.router)
    app.include_router(reply_templates.router)
    app.include_router(staff_admin.router)
    app.include_router(account.router)
    app.include_router(karte.clients_router)
    app.include_router(karte.notes_router)
    app.include_router(labels.router)
    app.include_router(channels.router)

    # Not an endpoint (unknown /api paths answer JSON, not the web console): not in the schema.
    @app.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
        include_in_schema=False,
    )
    async def api_not_found(rest: str) -> None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "見つかりません")

    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def migrate(settings: ConsoleSettings) -> None:
    migrate_keyring(settings.database_url)
    upgrade(database_url=settings.database_url, script_location=MIGRATIONS, schema=SCHEMA)


async def serve(settings: ConsoleSettings) -> None:
    tracer_provider = observe(settings, settings.service_name)
    app = create_app(settings, tracer_provider=tracer_provider)
    config = uvicorn.Config(
        app,
        host=settings.console_host,
        port=settings.console_port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        # open live streams (SSE) must not hold a stop or restart up forever
        timeout_graceful_shutdown=5,
    )
    await uvicorn.Server(config).serve()


def generated_asyncapi() -> str:
    # Fixed settings: the document must not depend on the machine's environment.
    app = create_app(ConsoleSettings(nats_url="nats://127.0.0.1:4222", _env_file=None))
    broker = app.state.broker
    return asyncapi_yaml(broker, title=ASYNCAPI_TITLE, description=ASYNCAPI_DESCRIPTION)


def _seed_demo_command(args: Sequence[str]) -> int:
    import asyncio

    from sodan_console.seed import seed_demo

    settings = ConsoleSettings()
    del args
    if settings.environment == "production":
        print("seed-demo は本番環境 (SODAN_ENVIRONMENT=production) では実行できません")
        return 2
    migrate(settings)
    asyncio.run(seed_demo(settings))
    return 0


def _create_admin_command(args: Sequence[str]) -> int:
    from sodan_console.accounts_cli import create_admin_command

    settings = ConsoleSettings()
    migrate(settings)
    return create_admin_command(args, settings)


# The scripting commands of the API client (sodan-console-client), also reachable as
# `sodan-console cases list`, `sodan-console access-log export …`, `sodan-console whoami`.
CLIENT_COMMANDS = ("cases", "access-log", "whoami")


def _client_command(name: str) -> Callable[[Sequence[str]], int]:
    def command(args: Sequence[str]) -> int:
        from sodan_console_client.cli import main as client_main

        return client_main([name, *args])

    return command


def cli(argv: Sequence[str] | None = None) -> int:
    settings = ConsoleSettings()
    extra: dict[str, Callable[[Sequence[str]], int]] = {
        "asyncapi": asyncapi_command(generated_asyncapi, ASYNCAPI_PATH),
        "seed-demo": _seed_demo_command,
        "create-admin": _create_admin_command,
        **{name: _client_command(name) for name in CLIENT_COMMANDS},
    }
    run: Callable[[], Any] = lambda: serve(settings)  # noqa: E731
    return service_cli(
        prog="sodan-console",
        description="sodan staff console (API, live updates and web UI)",
        migrate=lambda: migrate(settings),
        run=run,
        extra=extra,
        argv=argv,
    )
