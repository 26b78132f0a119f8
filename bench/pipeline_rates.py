"""Pipeline rates: how fast triage, routing, the console and reporting consume a backlog.

BENCH_PIPELINE_EVENTS (default 2,000) client messages (``MessageReceived``, the
shared schema, sealed with each client's key from the keyring exactly as ingress
seals them; four messages per client, one in ten urgent) are published straight to
the LINE_IN stream while no service runs. Then each service is started on its own,
as `make run` starts it (its own OS process), one after the other: triage (scores
every message), routing (reads the messages and the scores, opens the cases), the
console (projects messages, scores and cases for the browsers) and reporting's live
projections. For each, the rate is the backlog its durable consumers found (all of
them, on every stream) divided by the time until they had none left
(num_pending + num_ack_pending = 0), sampled every 0.1 s from the moment the
service starts.

Baselines in the same run: publishing the same events to JetStream (64 in flight),
and a bare pull consumer fetching them back, parsing each envelope and acking it,
the ceiling for any consumer written in Python against this nats-server. The
reporting rebuild (replaying the whole stream) is bench/reporting.py; triage's
scoring without its process around it is services/triage/bench/bench.py.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from sodan_devstack.nats import NatsServer
from sodan_devstack.stack import Stack
from sodan_shared.crypto import Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.events.line import MessageReceived
from sodan_shared.nats import ensure_streams
from sodan_shared.subjects import MESSAGE_RECEIVED
from sodan_shared.testing.factories import make_message_received
from sodan_shared.testing.infra import fresh_database, postgres_admin_url
from support.stack_load import CHANNEL, URGENT_TEXT, describe, machine, write_results

EVENTS = int(os.environ.get("BENCH_PIPELINE_EVENTS", "2000"))
PER_CLIENT = 4
SERVICES = ("triage", "routing", "console", "reporting")
TEXTS = (
    "こんにちは、相談したいことがあります",
    "学校でカミングアウトするか迷っています",
    "家族にどう話せばいいかわかりません",
    "今日は少し落ち着きました",
    "友達との関係がしんどい",
    "職場で困っていることがあります",
    "話を聞いてもらえますか",
    "最近よく眠れません",
    "ありがとうございます",
)


async def make_events(stack: Stack) -> list[MessageReceived]:
    engine = create_engine(stack.database_url)
    try:
        keyring = Keyring(session_factory(engine), MasterKeys(stack.env["SODAN_MASTER_KEYS"]))
        events = []
        for c in range(EVENTS // PER_CLIENT):
            identity = await keyring.ensure_client(channel=CHANNEL, line_user_id=f"Upipe{c:06d}")
            cipher = await keyring.cipher(identity.client_id)
            for m in range(PER_CLIENT):
                n = c * PER_CLIENT + m
                text = URGENT_TEXT if n % 10 == 9 else TEXTS[n % len(TEXTS)]
                events.append(
                    make_message_received(
                        cipher=cipher, client_no=identity.client_no, text=text, channel=CHANNEL
                    )
                )
        return events
    finally:
        await engine.dispose()


async def publish(js: JetStreamContext, events: list[MessageReceived]) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), 64):
        await asyncio.gather(
            *(
                js.publish(
                    MESSAGE_RECEIVED.name,
                    e.to_bytes(),
                    headers={"Nats-Msg-Id": str(e.id)},
                    timeout=30,
                )
                for e in events[i : i + 64]
            )
        )
    return len(events) / (time.perf_counter() - started)


async def raw_consume(js: JetStreamContext, count: int) -> float:
    """A bare pull consumer: fetch 100 at a time, parse the envelope, ack each."""
    config = ConsumerConfig(
        durable_name="bench-raw",
        ack_policy=AckPolicy.EXPLICIT,
        filter_subject=MESSAGE_RECEIVED.name,
    )
    sub = await js.pull_subscribe(MESSAGE_RECEIVED.name, durable="bench-raw", config=config)
    started = time.perf_counter()
    done = 0
    while done < count:
        for msg in await sub.fetch(100, timeout=5):
            MessageReceived.model_validate_json(msg.data)
            await msg.ack()
            done += 1
    rate = count / (time.perf_counter() - started)
    await sub.unsubscribe()
    await js.delete_consumer(MESSAGE_RECEIVED.stream.name, "bench-raw")
    return rate


async def durables(js: JetStreamContext) -> dict[str, int]:
    remaining = {}
    for stream in await js.streams_info():
        name = stream.config.name or ""
        for c in await js.consumers_info(name):
            if c.config.durable_name:
                remaining[f"{name}/{c.config.durable_name}"] = (c.num_pending or 0) + (
                    c.num_ack_pending or 0
                )
    return remaining


async def consume_rate(stack: Stack, js: JetStreamContext, name: str) -> dict[str, Any]:
    """Start one service; its backlog (the durables it creates) over the time to zero."""
    before = set(await durables(js))
    stack.start(name)
    ready = asyncio.create_task(asyncio.to_thread(stack.wait_ready, name, 180.0))
    first_seen: dict[str, tuple[float, int]] = {}  # durable → (when, backlog then)
    started = time.perf_counter()
    while True:
        now = time.perf_counter()
        mine = {k: v for k, v in (await durables(js)).items() if k not in before}
        for key, left in mine.items():
            first_seen.setdefault(key, (now, left))
        if ready.done() and mine and sum(mine.values()) == 0:
            break
        if now - started > 900:
            raise TimeoutError(f"{name} still has {mine}")
        await asyncio.sleep(0.1)
    await ready
    work = sum(left for _, left in first_seen.values())
    since = min(at for at, _ in first_seen.values())
    took = now - since
    return {
        "service": name,
        "events": work,
        "seconds": round(took, 2),
        "events_per_s": round(work / took, 1) if took > 0 else None,
        "durables": sorted(k for k, (_, left) in first_seen.items() if left),
    }


async def main() -> None:
    info = machine()
    print(f"pipeline bench: {EVENTS:,} client messages published first; {describe(info)}")
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_admin_url(Path(tmp)) as admin,
        fresh_database(admin) as db_url,
    ):
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        stack = Stack(workdir=Path(tmp) / "stack", nats_url=server.url, database_url=db_url)
        try:
            stack.run_command("sodan-console", "seed-demo")  # migrates first; the demo channel
            for service in ("triage", "routing", "reporting"):
                stack.run_command(f"sodan-{service}", "migrate")
            events = await make_events(stack)
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await ensure_streams(js)
            published = await publish(js, events)
            raw = await raw_consume(js, len(events))
            rows.append(
                {
                    "label": "**baseline**: JetStream publish, 64 in flight",
                    "events": len(events),
                    "events_per_s": round(published, 1),
                }
            )
            rows.append(
                {
                    "label": "**baseline**: bare pull consumer (fetch 100, parse, ack)",
                    "events": len(events),
                    "events_per_s": round(raw, 1),
                }
            )
            for service in SERVICES:
                result = await consume_rate(stack, js, service)
                print(f"  {service}: {result}")
                rows.append({"label": f"{service} ({', '.join(result['durables'])})", **result})
            await nc.drain()
        finally:
            stack.stop_all()
            server.stop()
    info["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print("| | events | seconds | events/s | of the bare consumer |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        share = r["events_per_s"] / raw if r["events_per_s"] else 0
        seconds = f"{r['seconds']:.1f}" if "seconds" in r else ""
        print(
            f"| {r['label']} | {r['events']:,} | {seconds} | {r['events_per_s']:,.0f} | "
            f"{share:.1%} |"
        )
    path = write_results("pipeline_rates", {"machine": info, "events": EVENTS, "rows": rows})
    print(f"  results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
