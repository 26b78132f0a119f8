"""Send a command to another service and wait briefly for its answer.

Subscribe (core NATS) to the subjects the answer may come on before publishing,
then keep the first event caused by the command that `accept` takes. No answer
in time is not an error: the command is on the stream and will be applied; the
caller says "pending" and the screen shows the outcome when it is projected.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from nats.aio.msg import Msg
from sodan_shared.events.envelope import Envelope
from sodan_shared.nats import publish_event
from sodan_shared.subjects import Subject

from sodan_console.state import ConsoleState

ANSWER_WAIT_S = 5.0


async def send_and_wait(
    state: ConsoleState,
    command: Envelope[Any],
    answers_on: Iterable[Subject],
    *,
    accept: Callable[[str, dict[str, Any]], bool] = lambda _s, _a: True,
    timeout: float = ANSWER_WAIT_S,
) -> tuple[str, dict[str, Any]] | None:
    """(subject, answer as JSON) of the first answer caused by `command`, or None."""
    nc = state.broker.connection
    inbox: asyncio.Queue[Msg] = asyncio.Queue()

    async def collect(msg: Msg) -> None:
        await inbox.put(msg)

    subs = [await nc.subscribe(s.name, cb=collect) for s in answers_on]
    try:
        await publish_event(nc.jetstream(), command)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    msg = await inbox.get()
                    answer = json.loads(msg.data)
                    if answer.get("causation_id") != str(command.id):
                        continue
                    if accept(msg.subject, answer):
                        return msg.subject, answer
        except TimeoutError:
            return None
    finally:
        for sub in subs:
            await sub.unsubscribe()
