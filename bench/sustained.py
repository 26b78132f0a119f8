"""Sustained load: the whole stack at a steady rate, and the backlog going back to zero.

The whole stack runs as `make run` starts it (every service its own process, a
private nats-server, a fresh database, the demo seed); a supervisor's browser
session listens on the console's live feed. Signed webhooks (one text message each,
built by the LINE platform simulator's builders) are posted straight to ingress,
open loop, at BENCH_SUSTAINED_RATE messages/s (default 10) for
BENCH_SUSTAINED_SECONDS (default 60; the issue's run is 600) from
BENCH_SUSTAINED_USERS users (default 2,000: the first message of each opens a case,
later ones join it); one message in 20 is urgent (「もう死にたい」, 緊急).

Every BENCH_SUSTAINED_SAMPLE_SECONDS (default 5) it samples the backlog of every
durable consumer on every stream (num_pending + num_ack_pending, what an operator
scales on), and after the load stops, every second until the backlog is zero.
Printed: the time series (accepted webhooks/s, end-to-end completions/s, backlog,
the consumer furthest behind, end-to-end latency of the messages sent in that
window), the overall accepted events/s and completions, and how long the backlog
took to drain. A completion is the console's live-feed ``message`` event about the
message's client (the chat refreshes), as bench/end_to_end.py measures it.

Baseline in the same run: the offered rate itself (accepted/s equals it when
ingress keeps up) and the backlog before the load (zero).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import nats
from support.stack_load import (
    URGENT_TEXT,
    Webhooks,
    backlog,
    bench_stack,
    client_ids,
    describe,
    first_notice_after,
    live_feed,
    machine,
    paced,
    percentile,
    user_id,
    write_results,
)

# The ten minutes, at what the whole stack sustains on the project's 2-core
# machine (docs/performance.md); BENCH_SUSTAINED_SECONDS=60 for a quick look.
RATE = float(os.environ.get("BENCH_SUSTAINED_RATE", "8"))
SECONDS = float(os.environ.get("BENCH_SUSTAINED_SECONDS", "600"))
SAMPLE = float(os.environ.get("BENCH_SUSTAINED_SAMPLE_SECONDS", "30"))
USERS = int(os.environ.get("BENCH_SUSTAINED_USERS", "2000"))
DRAIN_TIMEOUT = float(os.environ.get("BENCH_SUSTAINED_DRAIN_TIMEOUT", "900"))
URGENT_EVERY = 20


def series_table(samples: list[dict[str, Any]]) -> str:
    lines = [
        "| t s | phase | accepted/s | completed/s | backlog | furthest behind | p50 ms | p99 ms |",
        "|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for s in samples:
        worst = f"{s['worst_consumer']} ({s['worst_backlog']:,})" if s["worst_backlog"] else "–"
        p50 = f"{s['p50_ms']:,.0f}" if s["p50_ms"] is not None else "–"
        p99 = f"{s['p99_ms']:,.0f}" if s["p99_ms"] is not None else "–"
        lines.append(
            f"| {s['t']:.0f} | {s['phase']} | {s['accepted_per_s']:.1f} | "
            f"{s['completed_per_s']:.1f} | {s['backlog']:,} | {worst} | {p50} | {p99} |"
        )
    return "\n".join(lines)


async def main() -> None:
    info = machine()
    count = int(RATE * SECONDS)
    print(
        f"sustained bench: {RATE:g} messages/s for {SECONDS:.0f} s ({count:,} messages) "
        f"from {USERS:,} users, one in {URGENT_EVERY} urgent; {describe(info)}"
    )
    users = [user_id("steady", n) for n in range(USERS)]
    with bench_stack() as stack:
        nc = await nats.connect(stack.nats_url)
        js = nc.jetstream()
        hooks = Webhooks(stack)
        async with live_feed(stack) as feed:
            before = sum((await backlog(js)).values())
            sent: list[tuple[str, float]] = []  # (user, when sent), in order
            accepted: list[float] = []  # when each 2xx answer came back
            statuses: dict[int, int] = {}
            # (seconds since start, phase, total backlog, furthest consumer, its backlog)
            raw: list[tuple[float, str, int, str, int]] = []
            start = time.perf_counter()
            load_over = asyncio.Event()

            async def send(n: int) -> None:
                user = users[n % USERS]
                sent.append((user, time.perf_counter()))
                text = URGENT_TEXT if n % URGENT_EVERY == URGENT_EVERY - 1 else "ベンチ"
                status, _ = await hooks.send(user, text)
                statuses[status] = statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    accepted.append(time.perf_counter())

            async def sample(phase: str) -> int:
                pending = await backlog(js)
                worst = max(pending, key=lambda k: pending[k]) if pending else ""
                total = sum(pending.values())
                raw.append(
                    (time.perf_counter() - start, phase, total, worst, pending.get(worst, 0))
                )
                return total

            async def sampler() -> None:
                while not load_over.is_set():
                    await sample("load")
                    try:
                        await asyncio.wait_for(load_over.wait(), timeout=SAMPLE)
                    except TimeoutError:
                        pass

            sampling = asyncio.create_task(sampler())
            await paced(RATE, count, send)
            load_over.set()
            await sampling
            ended = time.perf_counter()
            # Drain: every second until nothing is left, then the last feed events.
            while await sample("drain") > 0:
                if time.perf_counter() - ended > DRAIN_TIMEOUT:
                    break
                await asyncio.sleep(1)
            drained_after = time.perf_counter() - ended if raw[-1][2] == 0 else None
            await asyncio.sleep(2)
            clients = await client_ids(stack, sorted({u for u, _ in sent}))
            completed: list[tuple[float, float]] = []  # (sent at, feed event at)
            next_sent: dict[tuple[str, float], float] = {}
            last: dict[str, float] = {}
            for user, began in reversed(sent):
                next_sent[(user, began)] = last.get(user, float("inf"))
                last[user] = began
            for user, began in sent:
                notice = first_notice_after(
                    feed.notices,
                    client_id=clients[user],
                    kind="message",
                    after=began,
                    before=next_sent[(user, began)],
                )
                if notice is not None:
                    completed.append((began, notice.at))
            resyncs = feed.count("resync")
        await hooks.aclose()
        await nc.drain()
    info["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)

    samples: list[dict[str, Any]] = []
    previous = 0.0
    for at, phase, total, worst, worst_backlog in raw:
        window = (start + previous, start + at)
        width = max(at - previous, 1e-9)
        latencies = [
            (done - began) * 1000 for began, done in completed if window[0] < began <= window[1]
        ]
        samples.append(
            {
                "t": round(at, 1),
                "phase": phase,
                "accepted_per_s": sum(1 for a in accepted if window[0] < a <= window[1]) / width,
                "completed_per_s": sum(1 for _, d in completed if window[0] < d <= window[1])
                / width,
                "backlog": total,
                "worst_consumer": worst,
                "worst_backlog": worst_backlog,
                "p50_ms": percentile(latencies, 0.5) if latencies else None,
                "p99_ms": percentile(latencies, 0.99) if latencies else None,
            }
        )
        previous = at
    # the drain is sampled every second: keep the table short, but keep its end
    shown = [s for s in samples if s["phase"] == "load"]
    drain = [s for s in samples if s["phase"] == "drain"]
    shown += drain[:: max(1, int(SAMPLE))] + ([drain[-1]] if drain else [])
    shown = list({id(s): s for s in shown}.values())
    load_seconds = (ended - start) or 1.0
    all_latencies = [(d - b) * 1000 for b, d in completed]
    summary = {
        "offered_per_s": RATE,
        "seconds": SECONDS,
        "sent": len(sent),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "accepted_per_s": round(len(accepted) / load_seconds, 1),
        "completed": len(completed),
        "completed_share": round(len(completed) / max(1, len(sent)), 4),
        "e2e_p50_ms": round(percentile(all_latencies, 0.5), 1) if all_latencies else None,
        "e2e_p99_ms": round(percentile(all_latencies, 0.99), 1) if all_latencies else None,
        "backlog_before": before,
        "max_backlog": max(r[2] for r in raw),
        "drained_after_s": round(drained_after, 1) if drained_after is not None else None,
        "feed_resyncs": resyncs,
    }
    print(series_table(shown))
    print(
        f"  offered {RATE:g}/s; accepted {summary['accepted_per_s']}/s "
        f"(answers {summary['answers']}); completed end to end {len(completed):,} of "
        f"{len(sent):,}, p50 {summary['e2e_p50_ms']} ms, p99 {summary['e2e_p99_ms']} ms"
    )
    print(
        f"  backlog before the load {before}, at most {summary['max_backlog']:,}; "
        + (
            f"back to zero {drained_after:.1f} s after the load stopped"
            if drained_after is not None
            else f"NOT back to zero {DRAIN_TIMEOUT:.0f} s after the load stopped"
        )
        + f"; live-feed resyncs {resyncs}"
    )
    path = write_results("sustained", {"machine": info, "summary": summary, "samples": samples})
    print(f"  results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
