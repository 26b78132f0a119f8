"""Three routing replicas on one database and one NATS: no double assignment,
no capacity exceeded, no case lost."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from uuid import uuid4

import pytest
from sodan_shared.events.routing import CaseAssigned, CaseClosed, CaseOpened
from sodan_shared.subjects import MESSAGE_RECEIVED
from sodan_shared.testing.factories import make_cipher, make_message_received

from .conftest import Rig, make_close, make_presence

CLIENTS = 500  # the figure: every one assigned once, none lost
COUNSELLORS = 8
CAPACITY = 4
WAVE = 50


async def _drained(rig: Rig, durable: str) -> None:
    async with asyncio.timeout(60):
        while True:
            info = await rig.js.consumer_info(MESSAGE_RECEIVED.stream.name, durable)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return
            await asyncio.sleep(0.05)


@pytest.mark.timeout(300)  # 500 cases: about a minute on a busy 2-core machine
async def test_three_replicas_assign_every_case_once_within_capacity(rig: Rig) -> None:
    counsellors = [uuid4() for _ in range(COUNSELLORS)]
    over_capacity: list[tuple[object, int]] = []
    stop = asyncio.Event()

    async def watch_capacity() -> None:
        while not stop.is_set():
            for row in await rig.rows(
                "SELECT assigned_to, count(*) AS n FROM routing.cases "
                "WHERE status = 'assigned' GROUP BY assigned_to"
            ):
                if row.n > CAPACITY:
                    over_capacity.append((row.assigned_to, row.n))
            await asyncio.sleep(0.05)

    async with AsyncExitStack() as stack:
        for _ in range(3):
            await stack.enter_async_context(rig.app())
        watcher = asyncio.create_task(watch_capacity())
        await rig.publish(*(make_presence(c, capacity=CAPACITY) for c in counsellors))
        closed: set[object] = set()
        # Clients arrive in waves while counsellors work: a desk never has all 500
        # waiting at once, and each waiting client is told its wait (work per queue size).
        for first in range(0, CLIENTS, WAVE):
            arrived = min(CLIENTS, first + WAVE)
            messages = []
            for n in range(first, arrived):
                cipher = make_cipher()
                messages.append(make_message_received(cipher=cipher, client_no=n + 1))
                if n % 3 == 0:  # some clients write twice: still one case each
                    messages.append(make_message_received(cipher=cipher, client_no=n + 1))
            await asyncio.gather(*(rig.publish(m) for m in messages))
            # Every message must be handled before cases close: a client's second
            # message landing after its case closed would rightly open a new case.
            await rig.cases.wait_for(
                lambda log, arrived=arrived: len(log.of(CaseOpened)) >= arrived, timeout=60
            )
            await _drained(rig, "routing-messages")

            # close what is assigned until every case of this wave was served
            while len(closed) < arrived:
                await rig.cases.wait_for(
                    lambda log, arrived=arrived: (
                        len(log.of(CaseAssigned))
                        >= min(arrived, len(closed) + COUNSELLORS * CAPACITY)
                    ),
                    timeout=30,
                )
                for event in rig.cases.of(CaseAssigned):
                    if event.payload.case_id not in closed:
                        closed.add(event.payload.case_id)
                        await rig.publish(
                            make_close(event.payload.case_id, event.payload.counsellor_id)
                        )
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == CLIENTS, timeout=60)
        stop.set()
        await watcher

    opened = rig.cases.of(CaseOpened)
    assigned = rig.cases.of(CaseAssigned)
    assert len(opened) == CLIENTS
    assert len({e.payload.client_id for e in opened}) == CLIENTS
    assert len(assigned) == CLIENTS, "every case assigned exactly once"
    assert {e.payload.case_id for e in assigned} == {e.payload.case_id for e in opened}
    assert {e.payload.counsellor_id for e in assigned} <= set(counsellors)
    assert over_capacity == []
    rows = await rig.rows("SELECT status, count(*) AS n FROM routing.cases GROUP BY status")
    assert [(r.status, r.n) for r in rows] == [("closed", CLIENTS)]
