"""Consultation hours and the queue message end to end: a simulated LINE user
writes outside hours and gets the next session; within hours, with nobody on
duty, they get the wait message. Every service runs as its own process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack, running_stack
from sodan_routing.hours import JST, Session, format_session
from sqlalchemy import create_engine, text


@pytest.fixture
def hours_stack(tmp_path: Path, fresh_database_url: str) -> Iterator[Stack]:
    """The stack with routing following its calendar (not always open)."""
    with running_stack(tmp_path, fresh_database_url, SODAN_ROUTING_ALWAYS_OPEN="false") as stack:
        yield stack


@pytest.fixture
async def hours_sim(hours_stack: Stack) -> AsyncIterator[SimulatorClient]:
    async with SimulatorClient(hours_stack.url("line-sim")) as client:
        yield client


def only_session(database_url: str, starts: datetime, ends: datetime) -> Session:
    s, e = (t.astimezone(JST).replace(microsecond=0) for t in (starts, ends))
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM routing.hours_rules"))
        conn.execute(
            text(
                "INSERT INTO routing.hours_rules (kind, day, starts, ends) "
                "VALUES ('dated', :d, :s, :e)"
            ),
            {"d": s.date(), "s": s.time(), "e": e.time()},
        )
    engine.dispose()
    return Session(starts=s, ends=e)


async def routed_messages(database_url: str, count: int, timeout: float = 30) -> None:
    engine = create_engine(database_url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with engine.connect() as conn:
                seen = conn.execute(text("SELECT count(*) FROM routing.case_messages")).scalar_one()
            if seen >= count:
                return
            assert asyncio.get_running_loop().time() < deadline, f"routing took {seen}/{count}"
            await asyncio.sleep(0.2)
    finally:
        engine.dispose()


async def test_out_of_hours_reply_then_the_wait_message_within_hours(
    hours_stack: Stack, hours_sim: SimulatorClient
) -> None:
    now = datetime.now(UTC)
    tomorrow = only_session(
        hours_stack.database_url, now + timedelta(days=1), now + timedelta(days=1, hours=3)
    )
    night_owl = await hours_sim.create_user("夜の利用者")
    await hours_sim.send_text(night_owl.user_id, "こんばんは")
    await hours_sim.send_text(night_owl.user_id, "だれかいますか")
    (notice,) = await hours_sim.wait_for_inbox(night_owl.user_id, 1, timeout=30)
    assert f"次の相談日は {format_session(tomorrow)} です。" in notice.message["text"]
    # routing must have taken both messages while closed before the hours change;
    # on a loaded machine the second can still be in flight when the first is answered
    await routed_messages(hours_stack.database_url, 2)

    # the desk opens; nobody is on duty yet
    only_session(hours_stack.database_url, now - timedelta(hours=1), now + timedelta(hours=2))
    daytime = await hours_sim.create_user("昼の利用者")
    await hours_sim.send_text(daytime.user_id, "相談したいです")
    (wait,) = await hours_sim.wait_for_inbox(daytime.user_id, 1, timeout=30)
    assert "しばらくお待ちいただく見込みです" in wait.message["text"]
    # the night owl heard nothing more for their second message
    await asyncio.sleep(2)
    assert len(await hours_sim.inbox(night_owl.user_id)) == 1
