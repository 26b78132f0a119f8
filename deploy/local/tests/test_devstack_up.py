"""End to end: `sodan-dev up` with stand-in services, then `status`, `env` and `stop`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sodan_devstack.nats import free_port
from sodan_devstack.postgres import PrivatePostgres, port_in_use, to_libpq_url, with_database

FAKE_SERVICE = """\
import http.server, os, sys, time
name, command = os.path.basename(sys.argv[0]), sys.argv[1]
print(name, command, os.environ["SODAN_DATABASE_URL"], flush=True)
if command in ("migrate", "seed-demo"):
    raise SystemExit(0)
port_key = {"sodan-console": "SODAN_CONSOLE_PORT", "sodan-ingress": "SODAN_INGRESS_PORT",
            "sodan-reporting": "SODAN_REPORTING_PORT", "sodan-line-sim": "SODAN_SIM_PORT"}.get(name)
if port_key is None:
    while True:
        time.sleep(1)
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ[port_key])), Ok).serve_forever()
"""

EXECUTABLES = [
    "sodan-ingress", "sodan-triage", "sodan-routing", "sodan-console",
    "sodan-reporting", "sodan-backup", "sodan-line-sim",
]  # fmt: skip


def _fake_bin(directory: Path) -> Path:
    directory.mkdir()
    for name in EXECUTABLES:
        path = directory / name
        path.write_text(f"#!{sys.executable}\n{FAKE_SERVICE}")
        path.chmod(0o755)
    return directory


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = path.read_text(errors="replace")
        if text in output:
            return output
        if process.poll() is not None:
            raise AssertionError(f"sodan-dev exited early ({process.returncode}):\n{output}")
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not seen within {timeout}s:\n{path.read_text()}")


def test_up_runs_everything_and_stop_ends_it_cleanly(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    (tmp_path / "uv.lock").write_text("")
    (tmp_path / ".env").write_text("SODAN_LINE_API_BASE=http://from-dotenv\n")
    ports = {key: str(free_port()) for key in (
        "SODAN_DEV_NATS_PORT", "SODAN_CONSOLE_PORT", "SODAN_INGRESS_PORT",
        "SODAN_REPORTING_PORT", "SODAN_SIM_PORT",
    )}  # fmt: skip
    # The operator's server answers but lacks the database: the stack creates it.
    database_url = with_database(to_libpq_url(private_postgres.url), "sodan_e2e")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SODAN_", "DATABASE_URL"))
    }
    env |= ports | {
        "SODAN_DEV_STATE_DIR": str(tmp_path / ".run"),
        "SODAN_DEV_BIN_DIR": str(_fake_bin(tmp_path / "bin")),
        "DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "sodan_devstack.main"]
    out = tmp_path / "up.out"
    with out.open("wb") as sink:
        up = subprocess.Popen([*command, "up"], cwd=tmp_path, env=env, stdout=sink, stderr=sink)
    try:
        output = _wait_for(out, "Ctrl-C to stop", up, timeout=30)
        assert "sodan-console seed-demo" in output
        assert f"http://127.0.0.1:{ports['SODAN_CONSOLE_PORT']}/" in output
        assert "not answering yet" not in output

        with psycopg.connect(database_url, connect_timeout=5):
            pass  # created by sodan-dev

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*command, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                timeout=60, check=False,
            )  # fmt: skip

        status = run("status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "running" in status.stdout and "(answers)" in status.stdout

        exports = run("env").stdout
        assert f"export SODAN_NATS_URL=nats://127.0.0.1:{ports['SODAN_DEV_NATS_PORT']}" in exports
        assert "export SODAN_LINE_API_BASE=http://from-dotenv" in exports
        assert "export SODAN_ENVIRONMENT=development" in exports
        assert "SODAN_MASTER_KEYS=k1:" in exports

        stopped = run("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    for key, port in ports.items():
        assert not port_in_use(int(port)), f"{key}={port} still in use"
    assert not list((tmp_path / ".run" / "pids").glob("*.json"))
    assert (tmp_path / ".run" / "logs" / "console.log").read_text().startswith("sodan-console")
