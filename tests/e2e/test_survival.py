"""Crash safety: a service killed with SIGKILL loses no acknowledged message.

One stack serves every victim in turn (starting a whole stack is the slow part
of these tests); each victim's client writes messages of its own, so the case
is found by what it holds, never by its place in the list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack, running_stack
from sodan_shared.testing.infra import fresh_database

from tests.e2e.conftest import Console
from tests.e2e.test_thin_path import eventually, texts_of

VICTIMS = ["ingress", "triage", "routing", "console", "reporting", "backup"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str) -> Iterator[Stack]:
    """Shared by this module's tests: each one restarts what it killed."""
    workdir = Path(tmp_path_factory.mktemp("survival"))
    with fresh_database(pg_admin_url) as database_url, running_stack(workdir, database_url) as s:
        yield s


async def _case_holding(counsellor: Console, marker: str) -> dict[str, Any] | None:
    for case in await counsellor.cases():
        detail = await counsellor.case(str(case["case_id"]))
        if any(marker in text for text in texts_of(detail, "in")):
            return detail
    return None


@pytest.mark.parametrize("victim", VICTIMS)
async def test_killing_a_service_loses_no_acknowledged_message(
    stack: Stack, sim: SimulatorClient, counsellor: Console, victim: str
) -> None:
    await counsellor.set_presence("available")
    user = await sim.create_user()
    before = [f"{victim}:前のメッセージ{i}" for i in range(3)]
    for text in before:
        assert (await sim.send_text(user.user_id, text)).final_status == 200

    stack.kill(victim)  # SIGKILL: no chance to flush or ack anything
    during = [f"{victim}:停止中のメッセージ{i}" for i in range(3)]
    if victim == "ingress":
        # LINE cannot reach us; its redelivery must bring them in after restart.
        pending = [asyncio.create_task(sim.send_text(user.user_id, t)) for t in during]
        await asyncio.sleep(1.0)
        stack.start(victim)
        stack.wait_ready(victim)
        for task in pending:
            assert (await task).final_status == 200
    else:
        for text in during:
            assert (await sim.send_text(user.user_id, text)).final_status == 200
        stack.start(victim)
        stack.wait_ready(victim)
    after = [f"{victim}:再開後のメッセージ{i}" for i in range(2)]
    for text in after:
        assert (await sim.send_text(user.user_id, text)).final_status == 200

    expected = sorted(before + during + after)

    async def all_messages_in_console() -> list[str] | None:
        if victim == "console":
            counsellor.http.cookies.clear()
            await counsellor.login("counsellor1", "demo-pass-1")
        detail = await _case_holding(counsellor, f"{victim}:")
        if detail is None:
            return None
        got = sorted(texts_of(detail, "in"))
        return got if got == expected else None

    got = await eventually(
        all_messages_in_console, timeout=60, what="every message is in the console"
    )
    assert got == expected  # each exactly once
