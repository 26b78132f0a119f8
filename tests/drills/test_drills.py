"""The fault drills, reduced: most drills of `make drills` at a small load on one stack.

Each drill must end with every acknowledged LINE event stored exactly once and
every reply a counsellor sent received exactly once (see drills/catalogue.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drills.catalogue import IN_THE_TEST_SUITE, REDUCED, catalogue, run_drill
from drills.world import World, open_world

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with open_world(Path(tmp_path_factory.mktemp("drills")), REDUCED.env) as world:
        yield world


@pytest.mark.parametrize("name", IN_THE_TEST_SUITE)
async def test_drill_loses_nothing_and_duplicates_nothing(world: World, name: str) -> None:
    result = await run_drill(world, name, catalogue()[name], REDUCED)
    await world.sim.clear_faults()
    tally = result.tally
    assert tally.acknowledged > 0, result
    assert (tally.lost, tally.duplicates) == (0, 0), result
    assert (tally.replies_lost, tally.reply_duplicates) == (0, 0), result
    assert tally.replies_sent > 0, result
    assert result.recovery_s is not None, result
