import asyncio
import asyncio.runners
import sys
from typing import Any

pytest_plugins = ["sodan_shared.testing.fixtures"]


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
