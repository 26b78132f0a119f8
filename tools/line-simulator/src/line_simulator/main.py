"""Composition root and command line: ``sodan-line-sim serve | chat``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from line_simulator.api import control, messaging
from line_simulator.api.deps import LineError, line_error_handler
from line_simulator.settings import SimulatorSettings
from line_simulator.simulator import Simulator


class LineRequestIdMiddleware:
    """Gives every Messaging API answer an ``x-line-request-id``, as LINE does.

    Plain ASGI rather than ``BaseHTTPMiddleware``: benchmarks push thousands of
    requests through here and the extra task per request shows.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["line_request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-line-request-id", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


def chat_page() -> str:
    return resources.files("line_simulator").joinpath("static/index.html").read_text("utf-8")


def create_app(settings: SimulatorSettings) -> FastAPI:
    simulator = Simulator(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await simulator.start()
        try:
            yield
        finally:
            await simulator.close()

    app = FastAPI(title="sodan LINE simulator", lifespan=lifespan)
    app.state.simulator = simulator
    app.add_exception_handler(LineError, line_error_handler)
    app.add_middleware(LineRequestIdMiddleware)
    app.include_router(messaging.router)
    app.include_router(control.router)
    page = chat_page()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sodan-line-sim", description="LINE platform simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulator HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--webhook-url", help="where simulated users' webhooks go")
    chat = commands.add_parser("chat", help="chat as a LINE user in this terminal")
    chat.add_argument("--user", required=True, help="display name; reused if it exists")
    chat.add_argument("--url", help="simulator base URL (default from settings)")
    return parser


def cli(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("host", getattr(args, "host", None)),
            ("port", getattr(args, "port", None)),
            ("webhook_url", getattr(args, "webhook_url", None)),
        )
        if value is not None
    }
    settings = SimulatorSettings(**overrides)
    # The chat is an interactive terminal: only problems belong on it.
    level = settings.log_level if args.command == "serve" else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per webhook attempt is noise
    if args.command == "serve":
        # The chat page polls every second: an access line per poll would bury
        # everything else in `make run`'s terminal (DEBUG brings it back).
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            access_log=settings.log_level.upper() == "DEBUG",
        )
        return
    from line_simulator.chat import run_chat  # the server never needs the terminal client

    url = args.url or f"http://{settings.host}:{settings.port}"
    asyncio.run(run_chat(url, args.user))
