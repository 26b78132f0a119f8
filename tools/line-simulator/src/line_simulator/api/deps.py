"""Dependencies and LINE-style errors shared by the routers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from line_simulator.simulator import Simulator

# LINE's wording for the failures our services are expected to handle.
_LINE_MESSAGES = {
    429: "Too Many Requests",
    500: "An error occurred in the server",
    503: "Service Unavailable",
}


class LineError(Exception):
    """An error answered the way the LINE platform words it."""

    def __init__(
        self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body or {"message": line_message(status)}
        self.headers = headers or {}


def line_message(status: int) -> str:
    try:
        default = HTTPStatus(status).phrase
    except ValueError:
        default = "Error"
    return _LINE_MESSAGES.get(status, default)


async def line_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LineError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


def get_simulator(request: Request) -> Simulator:
    sim: Simulator = request.app.state.simulator
    return sim


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
