"""Real servers on free ports: the simulator and a webhook receiver of our own.

The receiver checks every signature with line-bot-sdk's parser, so a test that
gets a delivered webhook has also proven the body is what the SDK accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from line_simulator.client import SimulatorClient
from line_simulator.settings import SimulatorSettings
from line_simulator.testing import ServerThread, running_simulator
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError

SECRET = "test-channel-secret"


@dataclass
class Receiver:
    """Our stand-in for ingress: verifies, records, and fails on request."""

    parser: WebhookParser = field(default_factory=lambda: WebhookParser(SECRET))
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list)

    def clear(self) -> None:
        self.bodies.clear()
        self.headers.clear()
        self.events.clear()
        self.fail_with.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/line/webhook")
        async def webhook(request: Request) -> Response:
            raw = await request.body()
            try:
                events = self.parser.parse(raw.decode(), request.headers["x-line-signature"])
            except InvalidSignatureError:
                return Response(status_code=400)
            self.bodies.append(raw)
            self.headers.append(dict(request.headers))
            self.events.extend(events)
            return Response(status_code=self.fail_with.pop(0) if self.fail_with else 200)

        return app


@pytest.fixture(scope="session")
def receiver() -> Iterator[tuple[Receiver, str]]:
    recv = Receiver()
    with ServerThread(recv.app()) as server:
        yield recv, f"{server.url}/line/webhook"


@pytest.fixture(scope="session")
def sim_settings(receiver: tuple[Receiver, str]) -> SimulatorSettings:
    return SimulatorSettings(
        webhook_url=receiver[1],
        channel_secret=SECRET,
        channel_access_token="test-channel-access-token",
        redelivery_attempts=3,
        redelivery_backoff_s=[0.01, 0.02],
    )


@pytest.fixture(scope="session")
def simulator_url(sim_settings: SimulatorSettings) -> Iterator[str]:
    with running_simulator(sim_settings) as server:
        yield server.url


@pytest.fixture
def recv(receiver: tuple[Receiver, str]) -> Receiver:
    receiver[0].clear()
    return receiver[0]


@pytest.fixture
async def sim(simulator_url: str, recv: Receiver) -> AsyncIterator[SimulatorClient]:
    async with SimulatorClient(simulator_url) as client:
        await client.reset()
        yield client
