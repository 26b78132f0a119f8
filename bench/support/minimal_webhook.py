"""The smallest possible LINE webhook, the baseline bench/webhook.py measures ingress against
(in a folder of its own: `make bench` runs every bench/*.py).

Verify the signature, publish the body to JetStream, wait for the ack, answer 200: what
any webhook that loses nothing must do. Run by the bench as its own uvicorn process,
like ingress, so the two are compared on equal terms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = os.environ["BENCH_CHANNEL_SECRET"].encode()
SUBJECT = "bench.webhook"
state: dict[str, object] = {}


async def webhook(request: Request) -> Response:
    body = await request.body()
    expected = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, request.headers.get("x-line-signature", "")):
        return Response(status_code=401)
    msg_id = hashlib.sha256(body).hexdigest()
    await state["js"].publish(SUBJECT, body, headers={"Nats-Msg-Id": msg_id})  # type: ignore[attr-defined]
    return Response(status_code=200)


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    nc = await nats.connect(os.environ["BENCH_NATS_URL"])
    js = nc.jetstream()
    await js.add_stream(name="BENCH", subjects=[SUBJECT])
    state["js"] = js
    yield
    await nc.drain()


app = Starlette(routes=[Route("/webhook", webhook, methods=["POST"])], lifespan=lifespan)
