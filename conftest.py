import asyncio
import asyncio.runners
import sys
from typing import Any

import pytest

pytest_plugins = ["sodan_shared.testing.fixtures"]

# Tests that run whole stacks (tests/drills, tests/e2e) share module- and
# package-scoped stacks: under `pytest -n N` (make test) they stay on one worker,
# one stack at a time, while the other workers take the rest file by file, so each
# file's module-scoped fixtures are set up once. They go first: theirs is the
# longest unit of work, and started last it would leave a worker idle.
WHOLE_STACK_DIRS = ("tests/drills/", "tests/e2e/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(WHOLE_STACK_DIRS))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    # xdist's own loadgroup cannot do this under pytest 9 (its group suffix on the
    # node id no longer takes), so the grouping is a scope of our own.
    from xdist.scheduler import LoadScopeScheduling

    class WholeStackTogetherElseByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "whole-stack" if path.startswith(WHOLE_STACK_DIRS) else path

    config.option.loadscopereorder = False  # keep the order above
    return WholeStackTogetherElseByFile(config, log)


def _cancel_all_tasks_bounded(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio.Runner.close waits without limit for every task left in the session's
    loop to finish cancelling; one that ignores cancellation hung the whole run at
    its very end (seen in CI, after every test had passed). Wait 10 s, then name the
    stragglers with their stacks so they can be fixed, and let the run end."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    _, pending = loop.run_until_complete(asyncio.wait(tasks, timeout=10))
    for task in pending:
        print(f"\n[session end] task ignored cancellation: {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)


def _install() -> None:
    runners: Any = asyncio.runners
    runners._cancel_all_tasks = _cancel_all_tasks_bounded


_install()
