from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from sodan_devstack.supervisor import (
    AfterExit,
    Child,
    Console,
    RestartPolicy,
    Supervisor,
    after_exit,
)

POLICY = RestartPolicy(quick_crash_seconds=10, max_quick_crashes=3, base_delay=1, max_delay=30)


def test_a_quick_crash_is_restarted_with_a_growing_delay() -> None:
    assert after_exit(POLICY, quick_crashes=0, ran_seconds=1) == AfterExit(1, 1)
    assert after_exit(POLICY, quick_crashes=1, ran_seconds=1) == AfterExit(2, 2)


def test_repeated_quick_crashes_are_given_up() -> None:
    assert after_exit(POLICY, quick_crashes=2, ran_seconds=1) == AfterExit(3, None)


def test_a_crash_after_a_long_run_starts_the_count_again() -> None:
    assert after_exit(POLICY, quick_crashes=2, ran_seconds=600) == AfterExit(0, 1)


def test_the_delay_is_capped() -> None:
    policy = RestartPolicy(quick_crash_seconds=10, max_quick_crashes=99, max_delay=30)
    assert after_exit(policy, quick_crashes=20, ran_seconds=0).delay == 30


def _child(tmp_path: Path, code: str, console: Console) -> Child:
    return Child(
        name="crashy",
        argv=[sys.executable, "-c", code],
        env={},
        cwd=tmp_path,
        log_path=tmp_path / "crashy.log",
        pid_path=tmp_path / "crashy.json",
        colour="31",
        console=console,
    )


def test_a_crashing_child_is_restarted_then_given_up(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(out, colour=False)
    child = _child(tmp_path, "print('boom'); raise SystemExit(3)", console)
    policy = RestartPolicy(quick_crash_seconds=10, max_quick_crashes=3, base_delay=0.05)
    supervisor = Supervisor([child], policy, console)
    supervisor.start_all()
    deadline = time.monotonic() + 10
    while not child.gave_up and time.monotonic() < deadline:
        supervisor.tick()
        time.sleep(0.02)

    text = out.getvalue()
    assert child.gave_up
    assert text.count("crashy     | boom") == 3
    assert "restarting in" in text and "not restarted again" in text
    assert (tmp_path / "crashy.log").read_text().count("boom") == 3
    assert not (tmp_path / "crashy.json").exists()


def test_stopping_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    console = Console(io.StringIO(), colour=False)
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    child = _child(tmp_path, code, console)
    supervisor = Supervisor([child], POLICY, console)
    supervisor.start_all()
    deadline = time.monotonic() + 10
    log = tmp_path / "crashy.log"  # created by the pump thread, maybe not yet
    while not (log.exists() and "ready" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert supervisor.stop_all(timeout=0.5) == ["crashy"]
    assert not child.running
