"""Webhook benchmark: how fast ingress acknowledges LINE, beside what the bare minimum costs.

LINE gives up on a webhook after 2 s. This plays signed LINE webhooks (one text
message each, as the LINE platform simulator builds them) against ingress running
as its own process, exactly as `make run` starts it, and prints each figure beside
baselines measured in the same run on the same machine:

- raw JetStream publish from Python with the project's nats-server: one at a time
  (await each ack) and pipelined (64 in flight);
- the smallest possible webhook (bench/support/minimal_webhook.py: verify the signature,
  publish, await the ack, answer), also its own uvicorn process;
- ingress itself: signature before parsing, validation, personal-data check,
  sealing, the outbox-free publish and its JetStream ack.

Beside latency, each webhook row shows the server process's CPU time per request (user +
system, from /proc): on a machine shared with other work, latency and rate swing with
the neighbours' load, while CPU per request stays comparable between runs.

Each webhook server is driven at 50 and 200 events/s (open loop: requests leave on
schedule whether or not earlier ones were answered) and then as fast as 32
concurrent senders can go. BENCH_WEBHOOK_SECONDS sets each paced run's length
(default 10). This is the first part of issue 8's `make bench`; the end-to-end,
sustained-load and fault-drill parts are not built yet.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import nats
from line_simulator.webhook import make_text_event, make_webhook_body, sign
from sodan_devstack.nats import NatsServer, free_port
from sodan_devstack.stack import Stack
from sodan_shared.settings import DEMO_CHANNEL_SECRET
from sodan_shared.testing.infra import fresh_database, postgres_admin_url
from support.stack_load import describe, machine, write_results

ROOT = Path(__file__).resolve().parent.parent

BIN = Path(sys.executable).parent
SECONDS = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "10"))
RATES = (50, 200)
CONCURRENCY = 32
USERS = [f"U{n:032x}" for n in range(200)]


def signed_body(n: int) -> bytes:
    event = make_text_event(text=f"ベンチマークのメッセージ {n}", user_id=USERS[n % len(USERS)])
    return make_webhook_body("Ubench", [event])


RECORDED: list[dict[str, object]] = []  # every row, for the JSON record


class Result:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.elapsed = 0.0
        self.cpu_s: float | None = None  # the server process's CPU time during the run

    def add(self, status: int, seconds: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(seconds)

    def row(self, label: str) -> str:
        lat = sorted(self.latencies)
        ok = sum(v for k, v in self.statuses.items() if 200 <= k < 300)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        rate = ok / self.elapsed if self.elapsed else 0.0
        others = {k: v for k, v in self.statuses.items() if not 200 <= k < 300}
        note = f"  other answers: {others}" if others else ""
        cpu = f"{self.cpu_s * 1000 / len(lat):>8.2f}" if self.cpu_s is not None else f"{'-':>8}"
        RECORDED.append(
            {
                "row": label,
                "sent": len(lat),
                "ok": ok,
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "max_ms": round(lat[-1] * 1000, 1),
                "ok_per_s": round(rate, 1),
                "cpu_ms_per_request": (
                    round(self.cpu_s * 1000 / len(lat), 2) if self.cpu_s is not None else None
                ),
                "other_answers": {str(k): v for k, v in others.items()},
            }
        )
        return (
            f"  {label:<46} {len(lat):>6} {ok:>6} {p50:>8.1f} {p99:>8.1f} "
            f"{lat[-1] * 1000:>8.1f} {rate:>9.0f} {cpu}{note}"
        )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def with_cpu(pid: int, run: Awaitable[Result]) -> Result:
    before = cpu_seconds(pid)
    result = await run
    after = cpu_seconds(pid)
    if before is not None and after is not None:
        result.cpu_s = after - before
    return result


async def paced(send: Callable[[int], Awaitable[int]], rate: float, seconds: float) -> Result:
    """Open loop: request n leaves at n/rate s, answered or not."""
    result = Result()
    total = int(rate * seconds)
    start = time.perf_counter()

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        began = time.perf_counter()
        status = await send(n)
        result.add(status, time.perf_counter() - began)

    await asyncio.gather(*(one(n) for n in range(total)))
    result.elapsed = time.perf_counter() - start
    return result


async def flat_out(send: Callable[[int], Awaitable[int]], seconds: float) -> Result:
    result = Result()
    start = time.perf_counter()
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() - start < seconds:
            n = next(counter)
            began = time.perf_counter()
            status = await send(n)
            result.add(status, time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    result.elapsed = time.perf_counter() - start
    return result


def webhook_sender(
    client: httpx.AsyncClient, url: str, offset: int
) -> Callable[[int], Awaitable[int]]:
    async def send(n: int) -> int:
        body = signed_body(offset + n)
        headers = {"x-line-signature": sign(body, DEMO_CHANNEL_SECRET)}
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            return 0
        return response.status_code

    return send


async def measure_webhook(label: str, url: str, offset: int, pid: int) -> list[str]:
    rows = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        send = webhook_sender(client, url, offset)
        await paced(send, 20, 1.0)  # warm up: connections, imports, first JetStream publish
        for rate in RATES:
            result = await with_cpu(pid, paced(send, rate, SECONDS))
            rows.append(result.row(f"{label} @ {rate}/s"))
        result = await with_cpu(pid, flat_out(send, SECONDS))
        rows.append(result.row(f"{label}, {CONCURRENCY} senders"))
    return rows


async def measure_publish(nats_url: str) -> list[str]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCHRAW", subjects=["bench.raw"])
    body = signed_body(0)
    rows = []
    one = Result()
    start = time.perf_counter()
    for n in range(2000):
        began = time.perf_counter()
        await js.publish("bench.raw", body, headers={"Nats-Msg-Id": f"one-{n}"})
        one.add(200, time.perf_counter() - began)
    one.elapsed = time.perf_counter() - start
    rows.append(one.row("baseline: JetStream publish, one at a time"))
    piped = Result()
    start = time.perf_counter()

    async def publish(n: int) -> int:
        began = time.perf_counter()
        await js.publish("bench.raw", body, headers={"Nats-Msg-Id": f"pipe-{n}"})
        piped.add(200, time.perf_counter() - began)
        return 200

    for batch in range(0, 10000, 64):
        await asyncio.gather(*(publish(n) for n in range(batch, batch + 64)))
    piped.elapsed = time.perf_counter() - start
    rows.append(piped.row("baseline: JetStream publish, 64 in flight"))
    await nc.drain()
    return rows


def start_minimal_webhook(port: int, nats_url: str) -> subprocess.Popen[bytes]:
    argv = [str(BIN / "uvicorn"), "minimal_webhook:app", "--port", str(port)]
    return subprocess.Popen(  # noqa: S603 - this venv's uvicorn, our own module
        [*argv, "--no-access-log", "--log-level", "warning"],
        cwd=ROOT / "bench" / "support",
        env={**os.environ, "BENCH_NATS_URL": nats_url, "BENCH_CHANNEL_SECRET": DEMO_CHANNEL_SECRET},
    )


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(url)


async def main() -> None:
    info = machine()
    print(f"machine: {describe(info)}")
    print(
        f"webhook bench: {SECONDS:.0f} s per paced run, {os.cpu_count()} CPUs; "
        "latency from sending the request to the answer"
    )
    header = (
        f"  {'':<46} {'sent':>6} {'2xx':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'2xx/s':>9}"
        f" {'CPU ms':>8}"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_admin_url(Path(tmp)) as admin,
        fresh_database(admin) as db_url,
    ):
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        minimal: subprocess.Popen[bytes] | None = None
        stack = Stack(workdir=Path(tmp) / "stack", nats_url=server.url, database_url=db_url)
        stack.env["SODAN_LOG_LEVEL"] = "warning"
        try:
            rows = await measure_publish(server.url)
            port = free_port()
            minimal = start_minimal_webhook(port, server.url)
            wait_http(f"http://127.0.0.1:{port}/")
            rows += await measure_webhook(
                "baseline: minimal webhook", f"http://127.0.0.1:{port}/webhook", 10**6, minimal.pid
            )
            minimal.terminate()
            stack.run_command("sodan-ingress", "migrate")
            stack.start("ingress")
            stack.wait_ready("ingress")
            url = f"{stack.url('ingress')}/line/webhook/demo"
            pid = stack.processes["ingress"].pid
            rows += await measure_webhook("ingress", url, 2 * 10**6, pid)
        finally:
            if minimal is not None and minimal.poll() is None:
                minimal.terminate()
            stack.stop_all()
            server.stop()
    print(header)
    print("\n".join(rows))
    print("  LINE gives up after 2,000 ms: p99 and max show how far below that each stays.")
    print("  CPU ms: the webhook server's CPU time per request sent (user + system).")
    path = write_results(
        "webhook", {"machine": info, "seconds_per_paced_run": SECONDS, "rows": RECORDED}
    )
    print(f"  results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
