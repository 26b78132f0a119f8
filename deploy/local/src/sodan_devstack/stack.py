"""The whole stack as separate OS processes, for end-to-end tests, benchmarks and drills.

Each service runs from its installed entry point exactly as `make run` starts
it, against a nats-server and a database of the test's own. Tests can kill a
service with SIGKILL and start it again.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sodan_devstack.nats import NatsServer, free_port

BIN = Path(sys.executable).parent


@dataclass
class ServiceSpec:
    name: str
    argv: list[str]
    health_path: str | None = None  # HTTP path that answers once it is up
    port_env: str | None = None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("line-sim", ["sodan-line-sim", "serve"], "/sim/users", "SODAN_SIM_PORT"),
    ServiceSpec("ingress", ["sodan-ingress", "run"], "/healthz", "SODAN_INGRESS_PORT"),
    ServiceSpec("triage", ["sodan-triage", "run"]),
    ServiceSpec("routing", ["sodan-routing", "run"]),
    ServiceSpec("console", ["sodan-console", "run"], "/healthz", "SODAN_CONSOLE_PORT"),
    ServiceSpec("reporting", ["sodan-reporting", "run"], "/healthz", "SODAN_REPORTING_PORT"),
    ServiceSpec("backup", ["sodan-backup", "run"]),
)


@dataclass
class Stack:
    workdir: Path
    nats_url: str
    database_url: str
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # settings of one test's own, over the defaults below
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for spec in SERVICES:
            if spec.port_env:
                self.ports[spec.name] = free_port()
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.env = self._env()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SODAN_")}
        master = base64.b64encode(os.urandom(32)).decode()
        env.update(
            {
                "SODAN_ENVIRONMENT": "test",
                # end-to-end tests run at any hour: the calendar has its own tests
                "SODAN_ROUTING_ALWAYS_OPEN": "true",
                # a first message queues the case directly; the intake questionnaire
                # has its own test (test_intake.py), which switches it on
                "SODAN_ROUTING_INTAKE_ENABLED": "false",
                "SODAN_NATS_URL": self.nats_url,
                "SODAN_DATABASE_URL": self.database_url,
                "SODAN_MASTER_KEYS": f"e2e:{master}",
                "SODAN_LOG_FORMAT": "json",
                "SODAN_LINE_API_BASE": self.url("line-sim"),
                "SODAN_LINE_DATA_API_BASE": self.url("line-sim"),
                "SODAN_SIM_WEBHOOK_URL": f"{self.url('ingress')}/line/webhook/demo",
                # LINE keeps redelivering for a long time; the simulator does too,
                # so a webhook sent while ingress is down arrives once it is back.
                "SODAN_SIM_REDELIVERY_ATTEMPTS": "60",
                "SODAN_SIM_REDELIVERY_BACKOFF_S": "[0.2, 0.5, 1.0]",
                "SODAN_SIM_WEBHOOK_TIMEOUT_S": "5",
                "SODAN_BACKUP_DIR": str(self.workdir / "backup"),
            }
        )
        for spec in SERVICES:
            if spec.port_env:
                env[spec.port_env] = str(self.ports[spec.name])
        env.update(self.overrides)
        return env

    def start(self, name: str) -> None:
        spec = next(s for s in SERVICES if s.name == name)
        log = open(self.workdir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - child owns it
        argv = [str(BIN / spec.argv[0]), *spec.argv[1:]]
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own entry points
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        spec = next(s for s in SERVICES if s.name == name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            if spec.health_path is None:
                if self._consumer_log_seen(name):
                    return
            else:
                try:
                    if httpx.get(self.url(name) + spec.health_path, timeout=1).status_code < 500:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} not ready within {timeout}s:\n{self.log(name)}")

    def _consumer_log_seen(self, name: str) -> bool:
        # Services without HTTP are ready once they say their consumers started.
        log = self.log(name)
        return any(mark in log for mark in ("app started successfully", "backup.running"))

    def log(self, name: str) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start_all(self) -> None:
        for spec in SERVICES:
            self.start(spec.name)
        for spec in SERVICES:
            self.wait_ready(spec.name)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def run_command(self, *argv: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own entry points
            [str(BIN / argv[0]), *argv[1:]],
            env=self.env,
            capture_output=True,
            text=True,
            cwd=self.workdir,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


@contextmanager
def running_stack(workdir: Path, database_url: str, **env: str) -> Iterator[Stack]:
    """Every service as its own process, on a NATS server of its own; ``env``
    overrides the services' settings (e.g. ``SODAN_ROUTING_ALWAYS_OPEN="false"``)."""
    nats = NatsServer(store_dir=workdir / "nats").start()
    stack = Stack(workdir=workdir, nats_url=nats.url, database_url=database_url, overrides=env)
    try:
        stack.run_command("sodan-console", "seed-demo")  # migrates first
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()
        nats.stop()
