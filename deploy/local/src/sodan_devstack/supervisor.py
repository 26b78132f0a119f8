"""A small process supervisor: children with prefixed, logged output, restarted with backoff."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sodan_devstack.pidfiles import PidRecord, write_record

COLOURS = ("36", "32", "33", "35", "34", "31", "96", "92", "93", "95")
RESET = "\x1b[0m"


@dataclass(frozen=True)
class RestartPolicy:
    quick_crash_seconds: float = 15.0
    max_quick_crashes: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0


@dataclass(frozen=True)
class AfterExit:
    quick_crashes: int
    delay: float | None  # None: give up


def after_exit(policy: RestartPolicy, *, quick_crashes: int, ran_seconds: float) -> AfterExit:
    """What to do when a child exits: restart after a delay that doubles with each quick
    crash in a row, or give up after `max_quick_crashes` of them. A child that ran for a
    while before dying starts the count again."""
    count = quick_crashes + 1 if ran_seconds < policy.quick_crash_seconds else 0
    if count >= policy.max_quick_crashes:
        return AfterExit(count, None)
    delay = min(policy.base_delay * 2 ** max(count - 1, 0), policy.max_delay)
    return AfterExit(count, delay)


class Console:
    """The supervisor's terminal: one line at a time, a coloured name in front."""

    def __init__(self, out: IO[str] | None = None, *, colour: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.colour = self.out.isatty() if colour is None else colour
        self.lock = threading.Lock()
        self.width = 10

    def line(self, name: str, text: str, colour: str = "1") -> None:
        label = name.ljust(self.width)
        prefix = f"\x1b[{colour}m{label}{RESET}" if self.colour else label
        self.raw(f"{prefix} | {text}\n")

    def say(self, text: str) -> None:
        self.line("sodan-dev", text, "1")

    def raw(self, text: str) -> None:
        # A terminal or `| tee` that went away (Ctrl-C kills the whole pipeline)
        # must not abort the shutdown that stops PostgreSQL and NATS.
        with self.lock:
            try:
                self.out.write(text)
                self.out.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass


def pump(stream: IO[bytes], name: str, colour: str, console: Console, log_path: Path) -> None:
    """Copy a child's output to its log file and, prefixed, to the terminal."""
    with log_path.open("ab") as log:
        for raw in iter(stream.readline, b""):
            log.write(raw)
            log.flush()
            console.line(name, raw.decode(errors="replace").rstrip("\r\n"), colour)


class Child:
    """One supervised process, in its own session so a terminal Ctrl-C reaches only us."""

    def __init__(
        self,
        *,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        pid_path: Path,
        colour: str,
        console: Console,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.pid_path = pid_path
        self.colour = colour
        self.console = console
        self.process: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        self.started_at = 0.0
        self.quick_crashes = 0
        self.restart_at: float | None = None
        self.gave_up = False

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own executables
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        assert self.process.stdout is not None
        self.reader = threading.Thread(
            target=pump,
            args=(self.process.stdout, self.name, self.colour, self.console, self.log_path),
            daemon=True,
        )
        self.reader.start()
        write_record(self.pid_path, PidRecord(self.name, self.process.pid, self.argv[0]))

    def exited(self) -> int | None:
        """The exit code if it has just exited (and is not being restarted yet), else None."""
        if self.process is None:
            return None
        code = self.process.poll()
        if code is None:
            return None
        if self.reader is not None:
            self.reader.join(timeout=2)
        self.process = None
        self.pid_path.unlink(missing_ok=True)
        return code

    @property
    def running(self) -> bool:
        return self.process is not None

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass


class Supervisor:
    def __init__(self, children: list[Child], policy: RestartPolicy, console: Console) -> None:
        self.children = children
        self.policy = policy
        self.console = console

    def start_all(self) -> None:
        for child in self.children:
            child.start()

    def tick(self, now: float | None = None) -> None:
        """Notice exits, schedule restarts, and carry out the ones that are due."""
        now = time.monotonic() if now is None else now
        for child in self.children:
            if child.gave_up:
                continue
            code = child.exited()
            if code is not None:
                ran = now - child.started_at
                decision = after_exit(
                    self.policy, quick_crashes=child.quick_crashes, ran_seconds=ran
                )
                child.quick_crashes = decision.quick_crashes
                if decision.delay is None:
                    child.gave_up = True
                    self.console.say(
                        f"{child.name} exited with code {code} after {ran:.1f}s; it crashed "
                        f"{decision.quick_crashes} times in a row within "
                        f"{self.policy.quick_crash_seconds:.0f}s of starting, so it is not "
                        f"restarted again — see {child.log_path}"
                    )
                    continue
                child.restart_at = now + decision.delay
                self.console.say(
                    f"{child.name} exited with code {code} after {ran:.1f}s; "
                    f"restarting in {decision.delay:.0f}s"
                )
            elif not child.running and child.restart_at is not None and now >= child.restart_at:
                self.console.say(f"restarting {child.name}")
                child.start()

    def stop_all(self, timeout: float) -> list[str]:
        """SIGTERM every child, wait up to `timeout` s, SIGKILL the rest. Returns the killed."""
        for child in self.children:
            child.restart_at = None
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            c.process is not None and c.process.poll() is None for c in self.children
        ):
            time.sleep(0.1)
        killed = []
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                killed.append(child.name)
                child.signal(signal.SIGKILL)
                child.process.wait()
            child.exited()
        return killed
