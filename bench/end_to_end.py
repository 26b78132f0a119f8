"""End-to-end latency: from a LINE user's message to the console's realtime notification.

The whole stack runs as `make run` starts it (every service its own process, a
private nats-server, a fresh database, the demo seed). A supervisor's browser
session is logged in and listens on the console's live feed (``GET /api/stream``,
server-sent events), as the web console does. Signed webhooks, one text message
each, built by the LINE platform simulator's builders, are posted straight to
ingress, open loop, at each rate in BENCH_E2E_RATES (default 10 and 50 messages/s)
for BENCH_E2E_SECONDS (default 20), from many users who already have an open case
(each user first says hello; the bench waits for every consumer to catch up).

Every fifth message is urgent (「もう死にたい」, which triage scores 緊急), each from a
user whose case is not urgent yet. Measured per message:

- normal: sending the webhook → the live feed's ``message`` event about that client
  (sent once the console has stored the message: the chat refreshes);
- urgent: sending → the live feed's ``case`` event after which the case reads 緊急
  (routing raised the urgency, the console projected it), and → refetching the case
  (``GET /api/cases/{id}``) shows it 緊急 with ``urgent_alert``: what the browser's
  alert check reads before it raises the supervisor's banner.

The feed carries ids only, never text; the bench knows each user's client id from
the keyring (the same lookup ingress makes). Baselines in the same run: ingress's
own acknowledgement of the same webhooks, a NATS core publish → subscriber round
trip and a JetStream publish → push-consumer delivery, at the same rates.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any
from uuid import UUID

import httpx
import nats
from nats.js import JetStreamContext
from support.stack_load import (
    URGENT_TEXT,
    Figures,
    LiveFeed,
    Notice,
    Webhooks,
    bench_stack,
    client_ids,
    describe,
    first_notice_after,
    live_feed,
    machine,
    paced,
    table,
    user_id,
    wait_for_empty_backlog,
    write_results,
)

SECONDS = float(os.environ.get("BENCH_E2E_SECONDS", "20"))
RATES = tuple(int(r) for r in os.environ.get("BENCH_E2E_RATES", "10,50").split(","))
URGENT_EVERY = 5
NORMAL_USERS = int(os.environ.get("BENCH_E2E_USERS", "500"))
WARM_UP_RATE = 50


async def nats_baselines(nats_url: str, rate: int, count: int) -> list[Figures]:
    """Core publish → subscriber, and JetStream publish → push consumer, one process."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCHE2E", subjects=["bench.e2e"])
    core = Figures(f"**baseline**: NATS core publish → subscriber @ {rate}/s", tried=count)
    stream = Figures(f"**baseline**: JetStream publish → push consumer @ {rate}/s", tried=count)
    sent: dict[bytes, float] = {}

    async def on_core(msg: Any) -> None:
        core.seconds.append(time.perf_counter() - sent[msg.data])

    async def on_stream(msg: Any) -> None:
        stream.seconds.append(time.perf_counter() - sent[msg.data])

    core_sub = await nc.subscribe("bench.rtt", cb=on_core)
    stream_sub = await js.subscribe("bench.e2e", cb=on_stream, manual_ack=False)

    async def publish_core(n: int) -> None:
        key = f"c{rate}-{n}".encode()
        sent[key] = time.perf_counter()
        await nc.publish("bench.rtt", key)

    async def publish_stream(n: int) -> None:
        key = f"s{rate}-{n}".encode()
        sent[key] = time.perf_counter()
        await js.publish("bench.e2e", key)

    await paced(rate, count, publish_core)
    await paced(rate, count, publish_stream)
    await asyncio.sleep(1)
    await core_sub.unsubscribe()
    await stream_sub.unsubscribe()
    await js.delete_stream("BENCHE2E")
    await nc.drain()
    return [core, stream]


class Desk:
    """The stack under load, a supervisor's live feed, and the alert check the
    browser makes on each ``case`` event."""

    def __init__(self, hooks: Webhooks, js: JetStreamContext, clients: dict[str, UUID]) -> None:
        self.hooks = hooks
        self.js = js
        self.clients = clients
        self.feed: LiveFeed | None = None
        self.awaiting: dict[UUID, float] = {}  # urgent client → when its message left
        self.alerts: dict[UUID, tuple[float, float]] = {}  # client → (feed event, refetch)
        self._checks: set[asyncio.Task[None]] = set()
        # a browser makes one check at a time (debounced); a few stand for several screens
        self._checking = asyncio.Semaphore(4)

    def on_notice(self, notice: Notice) -> None:
        # The browser refetches on a `case` event and raises the banner if 緊急.
        sent_at = self.awaiting.get(notice.client_id) if notice.client_id else None
        if notice.kind == "case" and sent_at is not None and notice.at > sent_at:
            task = asyncio.create_task(self._alert_check(notice))
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)

    async def _alert_check(self, notice: Notice) -> None:
        assert self.feed is not None and notice.client_id is not None
        try:
            async with self._checking:
                r = await self.feed.http.get(f"/api/cases/{notice.case_id}?mark_read=false")
        except httpx.HTTPError:
            return  # an overloaded console: the case's next event checks again
        case = r.json()["case"] if r.status_code == 200 else {}
        shown = case.get("urgency") == "critical" and case.get("urgent_alert")
        if shown and self.awaiting.pop(notice.client_id, None) is not None:
            self.alerts[notice.client_id] = (notice.at, time.perf_counter())

    async def run(
        self, rate: int, normal_users: list[str], urgent_users: list[str]
    ) -> tuple[list[Figures], dict[str, Any]]:
        assert self.feed is not None
        feed = self.feed
        ack = Figures(f"**baseline**: ingress acknowledges the webhook @ {rate}/s")
        normal = Figures(f"normal message → feed `message` event @ {rate}/s")
        urgent = Figures(f"urgent message → feed `case` event (緊急) @ {rate}/s")
        banner = Figures(f"urgent message → refetch shows the 緊急 alert @ {rate}/s")
        sent: list[tuple[str, bool, float]] = []

        async def send(n: int) -> None:
            is_urgent = n % URGENT_EVERY == URGENT_EVERY - 1
            if is_urgent:
                user = urgent_users[n // URGENT_EVERY]
            else:
                user = normal_users[(n - n // URGENT_EVERY) % len(normal_users)]
            began = time.perf_counter()
            if is_urgent:
                self.awaiting[self.clients[user]] = began
            sent.append((user, is_urgent, began))
            status, seconds = await self.hooks.send(user, URGENT_TEXT if is_urgent else "ベンチ")
            if status == 200:
                ack.seconds.append(seconds)

        resyncs = feed.count("resync")
        elapsed = await paced(rate, int(rate * SECONDS), send)
        drained = await wait_for_empty_backlog(self.js)
        await asyncio.sleep(1)  # the last projections' feed events (they follow the ack)
        for user, is_urgent, began in sent:
            client = self.clients[user]
            if is_urgent:
                urgent.tried += 1
                banner.tried += 1
                if client in self.alerts:
                    event_at, shown_at = self.alerts[client]
                    urgent.seconds.append(event_at - began)
                    banner.seconds.append(shown_at - began)
            else:
                normal.tried += 1
                notice = first_notice_after(
                    feed.notices, client_id=client, kind="message", after=began
                )
                if notice is not None:
                    normal.seconds.append(notice.at - began)
        ack.tried = len(sent)
        run = {
            "rate": rate,
            "messages": len(sent),
            "not_acknowledged": len(sent) - len(ack.seconds),
            "send_seconds": round(elapsed, 1),
            "backlog_drained_after_s": round(drained, 1),
            "feed_resyncs": feed.count("resync") - resyncs,
        }
        return [ack, normal, urgent, banner], run


async def main() -> None:
    info = machine()
    print(
        f"end-to-end bench: {SECONDS:.0f} s at each of {RATES} messages/s, every "
        f"{URGENT_EVERY}th urgent; {describe(info)}"
    )
    normal_users = [user_id("normal", n) for n in range(NORMAL_USERS)]
    urgent_users = {
        rate: [user_id(f"urgent{rate}-", n) for n in range(int(rate * SECONDS) // URGENT_EVERY)]
        for rate in RATES
    }
    everyone = normal_users + [u for users in urgent_users.values() for u in users]
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    with bench_stack() as stack:
        nc = await nats.connect(stack.nats_url)
        js = nc.jetstream()
        hooks = Webhooks(stack)
        # Each user says hello first: the measured messages join an open case.
        print(f"  warm-up: {len(everyone)} users say hello at {WARM_UP_RATE}/s")

        async def hello(n: int) -> None:
            await hooks.send(everyone[n], "こんにちは")

        await paced(WARM_UP_RATE, len(everyone), hello)
        await wait_for_empty_backlog(js)
        desk = Desk(hooks, js, await client_ids(stack, everyone))
        async with live_feed(stack, desk.on_notice) as feed:
            desk.feed = feed
            for rate in RATES:
                for figures in await nats_baselines(stack.nats_url, rate, int(rate * SECONDS)):
                    rows.append(figures.as_dict())
                measured, run = await desk.run(rate, normal_users, urgent_users[rate])
                rows += [figures.as_dict() for figures in measured]
                runs.append(run)
                print(f"  {rate}/s done: {run}")
        await hooks.aclose()
        await nc.drain()
    info["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(table(rows))
    print(
        "  'measured' < 'tried' means no matching feed event arrived (see feed_resyncs: "
        "a burst makes the console send one 'resync' instead of many events)."
    )
    path = write_results(
        "end_to_end",
        {"machine": info, "seconds_per_rate": SECONDS, "runs": runs, "rows": rows},
    )
    print(f"  results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
