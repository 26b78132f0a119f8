"""Helpers the whole-stack benchmarks share (bench/end_to_end.py, bench/sustained.py,
bench/pipeline_rates.py): the stack, signed webhooks, the console's live feed as a
supervisor's browser receives it, JetStream backlog, and where results go.

Not a bench itself (``make bench`` runs only bench/*.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from line_simulator.webhook import make_text_event, make_webhook_body, sign
from nats.js import JetStreamContext
from sodan_devstack.stack import Stack, running_stack
from sodan_shared.crypto import Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.settings import DEMO_CHANNEL_SECRET

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "demo"  # the demo channel seed-demo creates; its webhook is /line/webhook/demo
URGENT_TEXT = "もう死にたい"  # triage scores it 緊急 (critical) on its own
SUPERVISOR = ("supervisor", "demo-pass-sv")  # no TOTP outside production (demo accounts)


def user_id(kind: str, n: int) -> str:
    """A LINE-shaped user id (U + 32 hex) per bench user, stable across runs."""
    return "U" + f"{kind}{n}".encode().hex().ljust(32, "0")[:32]


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average shows other work."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        memory_gb = int(first.split()[1]) / 1024 / 1024
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }


def describe(info: dict[str, Any]) -> str:
    return (
        f"{info['cpus']} CPUs ({info['cpu_model'] or 'unknown model'}), "
        f"{info['memory_gb']} GB, Python {info['python']}, "
        f"load average {info['load_average_1m_at_start']} at start"
    )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Figures:
    """Latencies of one row, in seconds, and how many of the tries produced one."""

    label: str
    tried: int = 0
    seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        ms = [s * 1000 for s in self.seconds]
        return {
            "label": self.label,
            "tried": self.tried,
            "measured": len(ms),
            "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p99_ms": round(percentile(ms, 0.99), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
        }


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as the Markdown table docs/performance.md carries."""

    def cell(value: Any) -> str:
        if value is None:
            return "–"
        return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"

    lines = ["| | tried | measured | p50 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['label']} | {cell(r['tried'])} | {cell(r['measured'])} | "
            f"{cell(r['p50_ms'])} | {cell(r['p99_ms'])} | {cell(r['max_ms'])} |"
        )
    return "\n".join(lines)


def write_results(name: str, data: dict[str, Any]) -> Path:
    """JSON for the record: BENCH_RESULTS_DIR (default .run/bench, not committed)."""
    folder = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / ".run" / "bench"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return path


@contextlib.contextmanager
def bench_stack() -> Iterator[Stack]:
    """Every service as its own process, as `make run` starts them, on a private
    nats-server and a fresh database; the demo staff and channel seeded."""
    from sodan_shared.testing.infra import fresh_database, postgres_admin_url

    for attempt in range(3):
        with contextlib.ExitStack() as resources:
            tmp = Path(resources.enter_context(tempfile.TemporaryDirectory()))
            admin = resources.enter_context(postgres_admin_url(tmp))
            db_url = resources.enter_context(fresh_database(admin))
            try:
                # the default log level, as `make run` has it (the stack knows triage
                # and routing are up by their "started" line, an info line)
                stack = resources.enter_context(running_stack(tmp / "stack", db_url))
            except RuntimeError as exc:
                # A free port picked for a service can be taken by another program
                # before the service binds it (a busy shared machine): start again.
                if "address already in use" not in str(exc) or attempt == 2:
                    raise
                print("  a service's port was taken meanwhile; starting the stack again")
                continue
            yield stack
            return


async def client_ids(stack: Stack, users: list[str]) -> dict[str, UUID]:
    """The pseudonymous client id ingress gave each LINE user (the live feed carries
    only ids): the keyring's own lookup, with the stack's master key."""
    engine = create_engine(stack.database_url)
    try:
        keyring = Keyring(session_factory(engine), MasterKeys(stack.env["SODAN_MASTER_KEYS"]))
        found = {}
        for user in users:
            identity = await keyring.ensure_client(channel=CHANNEL, line_user_id=user)
            found[user] = identity.client_id
        return found
    finally:
        await engine.dispose()


class Webhooks:
    """Signed LINE webhooks posted straight to ingress, one text message each, built
    with the LINE platform simulator's builders (as LINE would send them)."""

    def __init__(self, stack: Stack) -> None:
        self.url = f"{stack.url('ingress')}/line/webhook/{CHANNEL}"
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        self.http = httpx.AsyncClient(timeout=10, limits=limits)

    async def send(self, user: str, text: str) -> tuple[int, float]:
        """(HTTP status or 0 for no answer, seconds until the answer)."""
        body = make_webhook_body("Ubench", [make_text_event(text=text, user_id=user)])
        headers = {"x-line-signature": sign(body, DEMO_CHANNEL_SECRET)}
        began = time.perf_counter()
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError:
            return 0, time.perf_counter() - began
        return response.status_code, time.perf_counter() - began

    async def aclose(self) -> None:
        await self.http.aclose()


@dataclass(frozen=True)
class Notice:
    """One server-sent event as the browser receives it, with its arrival time."""

    at: float  # time.perf_counter()
    kind: str
    case_id: UUID | None
    client_id: UUID | None


class LiveFeed:
    """A supervisor's browser session: logged in, listening on /api/stream.

    ``on_notice`` is called for each event as it arrives (e.g. to refetch, as the
    browser's urgent-alert check does)."""

    def __init__(self, stack: Stack, on_notice: Callable[[Notice], None] | None = None) -> None:
        self.http = httpx.AsyncClient(
            base_url=stack.url("console"),
            headers={"X-Requested-With": "sodan"},
            timeout=httpx.Timeout(10, read=None),
        )
        self.notices: list[Notice] = []
        self.ready = asyncio.Event()
        self._on_notice = on_notice
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        login, password = SUPERVISOR
        r = await self.http.post("/api/login", json={"login": login, "password": password})
        r.raise_for_status()
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self.ready.wait(), timeout=30)

    async def _listen(self) -> None:
        async with self.http.stream("GET", "/api/stream") as response:
            response.raise_for_status()
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind:
                    at = time.perf_counter()
                    if kind == "ready":
                        self.ready.set()
                        continue
                    data = json.loads(line.split(":", 1)[1])
                    notice = Notice(
                        at=at,
                        kind=kind,
                        case_id=UUID(data["case_id"]) if data.get("case_id") else None,
                        client_id=UUID(data["client_id"]) if data.get("client_id") else None,
                    )
                    self.notices.append(notice)
                    if self._on_notice is not None:
                        self._on_notice(notice)

    def count(self, kind: str) -> int:
        return sum(1 for n in self.notices if n.kind == kind)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._task
        await self.http.aclose()


def first_notice_after(
    notices: list[Notice],
    *,
    client_id: UUID,
    kind: str,
    after: float,
    before: float = float("inf"),
) -> Notice | None:
    """The first event of ``kind`` about the client that arrived after ``after``, if
    it came before ``before`` (when the client's next message was sent). The benches
    space one user's messages far wider than the latency they measure, so that event
    is this message's; one arriving later may be the next message's (this one was
    announced by a resync, which names no client), so it is not counted."""
    for notice in notices:
        if notice.at > after and notice.kind == kind and notice.client_id == client_id:
            return notice if notice.at <= before else None
    return None


async def backlog(js: JetStreamContext) -> dict[str, int]:
    """Messages each durable consumer of every stream still has to process:
    num_pending (not yet delivered) + num_ack_pending (delivered, not yet acked)."""
    pending: dict[str, int] = {}
    for stream in await js.streams_info():
        name = stream.config.name or ""
        for consumer in await js.consumers_info(name):
            if consumer.config.durable_name:
                key = f"{name}/{consumer.config.durable_name}"
                pending[key] = (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
    return pending


async def wait_for_empty_backlog(js: JetStreamContext, *, timeout: float = 300.0) -> float:
    """Seconds until every durable consumer has caught up (TimeoutError if never)."""
    started = time.perf_counter()
    while sum((await backlog(js)).values()) > 0:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"backlog still {await backlog(js)} after {timeout} s")
        await asyncio.sleep(0.25)
    return time.perf_counter() - started


async def paced(rate: float, count: int, send: Callable[[int], Awaitable[None]]) -> float:
    """Open loop: call n leaves at n/rate s whether or not earlier ones finished.
    Returns the elapsed seconds until the last one finished."""
    start = time.perf_counter()

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        await send(n)

    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - start


@contextlib.asynccontextmanager
async def live_feed(
    stack: Stack, on_notice: Callable[[Notice], None] | None = None
) -> AsyncIterator[LiveFeed]:
    feed = LiveFeed(stack, on_notice)
    await feed.start()
    try:
        yield feed
    finally:
        await feed.aclose()
