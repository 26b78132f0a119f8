"""Every drill: load, one fault, and the reckoning.

A drill returns a `Result`: the tally (see `traffic.Tally`) and the recovery
time, measured as how long after the fault ended a new message took to reach the
console (through LINE's redelivery if ingress was not answering yet).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import nats
from line_simulator.webhook import make_text_event, make_webhook_body, sign
from sodan_shared.nats import stream_config
from sodan_shared.settings import DEMO_CHANNEL_SECRET
from sodan_shared.subjects import DEADLETTER, LINE_IN, MESSAGE_RECEIVED

from drills.traffic import Tally, Traffic, percentile
from drills.world import World

SERVICES = ("ingress", "triage", "routing", "console", "reporting", "backup")


@dataclass(frozen=True)
class Scale:
    """How hard a drill pushes: the full drills and the reduced ones in `make test`."""

    users: int
    rate: float  # client messages per second
    seconds: float  # of load
    down_s: float  # how long a killed service or NATS stays down
    database_outage_s: float
    catch_up_s: float  # the longest a drill waits for the stack to catch up
    push_faults: int  # of each kind in the push drill
    env: tuple[tuple[str, str], ...] = ()  # service settings over the defaults


# 8 messages/s is what the whole stack sustains on the project's 2-core machine
# (docs/performance.md, sustained load): above it a backlog builds, and the recovery
# figure would time that backlog rather than the fault.
FULL = Scale(
    users=30,
    rate=8,
    seconds=45,
    down_s=5,
    database_outage_s=60,
    catch_up_s=300,
    push_faults=3,
)
# The test suite's: the same faults, a small load, and shorter retry pauses so a
# message that met a fault is retried within seconds rather than minutes.
REDUCED = Scale(
    users=4,
    rate=4,
    seconds=6,
    down_s=1,
    database_outage_s=5,
    catch_up_s=120,
    push_faults=1,
    env=(
        ("SODAN_PUSH_RETRY_DELAYS_S", "[0.5, 1, 2, 4, 8]"),
        ("SODAN_PUSH_ACK_WAIT_S", "20"),
        ("SODAN_REDELIVERY_DELAYS_S", "[0.2, 0.5, 1, 2]"),
    ),
)


@dataclass
class Result:
    drill: str
    tally: Tally
    recovery_s: float | None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "drill": self.drill,
            **dataclasses.asdict(self.tally),
            "recovery_s": self.recovery_s,
            "notes": self.notes,
        }


Fault = Callable[[World, Scale, Traffic, list[str]], Awaitable[None]]


async def _probe(world: World, traffic: Traffic, timeout: float) -> float | None:
    """Seconds until a message sent now is in the console; None if it never came.
    The probe's user is one of the drill's: the counsellors answer its case too."""
    start = time.monotonic()
    user = await world.sim.create_user()
    traffic.users.append(user.user_id)
    record = await world.sim.send_text(user.user_id, f"{traffic.tag}-probe")
    while time.monotonic() - start < timeout:
        rows = await world.query(
            "SELECT 1 FROM console.messages WHERE line_message_id = %s", record.message_id
        )
        if rows:
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    return None


async def run_drill(world: World, name: str, fault: Fault, scale: Scale) -> Result:
    """Load for `scale.seconds`; the fault a third of the way in; then reconcile."""
    tag = f"{name}-{uuid.uuid4().hex[:6]}"
    traffic = Traffic(world, tag)
    notes: list[str] = []
    await traffic.add_users(scale.users)
    writing = asyncio.create_task(traffic.write(rate=scale.rate, seconds=scale.seconds))
    stop_answering = asyncio.Event()
    answering = asyncio.create_task(traffic.answer(stop_answering, give_up_s=scale.catch_up_s))
    await asyncio.sleep(scale.seconds / 3)
    traffic.say("fault")
    await fault(world, scale, traffic, notes)
    traffic.say("fault over")
    recovery = await _probe(world, traffic, scale.catch_up_s)
    traffic.say(f"probe reached the console after {recovery} s")
    await writing
    await asyncio.sleep(3)  # counsellors answer a few rounds after the fault and the load
    stop_answering.set()
    await answering
    await traffic.settle()
    traffic.say("LINE has an answer for every message")
    tally, waited = await traffic.reconcile_when_complete(timeout=scale.catch_up_s)
    traffic.say(f"reconciled after {waited:.1f} s: {tally}")
    await asyncio.sleep(2)  # a duplicate arrives after the original: give it time
    tally = await traffic.reconcile()
    refused = [a.status for s in traffic.sent if s.record for a in s.record.attempts]
    unavailable = sum(1 for status in refused if status == 503)
    if unavailable:
        notes.append(f"ingress answered 503 {unavailable}×; LINE redelivered")
    await traffic.close_cases()
    return Result(name, tally, recovery, notes)


# ---- the faults ---------------------------------------------------------------


def kill(service: str) -> Fault:
    async def fault(world: World, scale: Scale, _: Traffic, notes: list[str]) -> None:
        world.stack.kill(service)  # SIGKILL: nothing flushed, nothing acked
        await asyncio.sleep(scale.down_s)
        world.stack.start(service)
        await asyncio.to_thread(world.stack.wait_ready, service)

    return fault


def restart_nats(*, kill: bool) -> Fault:
    async def fault(world: World, scale: Scale, _: Traffic, notes: list[str]) -> None:
        world.nats.stop(kill=kill)
        await asyncio.sleep(scale.down_s)
        world.nats.start()

    return fault


async def stop_database(world: World, scale: Scale, _: Traffic, notes: list[str]) -> None:
    await asyncio.to_thread(world.postgres.stop)
    await asyncio.sleep(scale.database_outage_s)
    await asyncio.to_thread(world.postgres.start)
    notes.append(f"PostgreSQL down {scale.database_outage_s:.0f} s")


async def _set_dedup_window(world: World, seconds: float) -> None:
    nc = await nats.connect(world.nats.url)
    try:
        config = dataclasses.replace(stream_config(LINE_IN), duplicate_window=seconds)
        await nc.jetstream().update_stream(config)
    finally:
        await nc.close()


async def redeliveries(world: World, scale: Scale, traffic: Traffic, notes: list[str]) -> None:
    """LINE sends events again: at once (inside JetStream's duplicate window), and
    hours late (past it: the consumers' own processed-event records must hold)."""
    await asyncio.sleep(scale.seconds / 3)
    done = [s for s in traffic.sent if s.acknowledged and s.record is not None]
    now_again = done[: len(done) // 2]
    for item in now_again:
        assert item.record is not None
        await world.sim.redeliver(item.record.webhook_event_id)
    await _set_dedup_window(world, 1.0)
    await asyncio.sleep(1.5)
    late = done[len(done) // 2 :]
    hours_ago = int((time.time() - 3 * 3600) * 1000)
    async with httpx.AsyncClient(timeout=10) as http:
        for item in late:
            assert item.record is not None
            event = make_text_event(
                text=item.text,
                user_id=item.user_id,
                message_id=item.record.message_id,
                webhook_event_id=item.record.webhook_event_id,
                timestamp=hours_ago,
                is_redelivery=True,
            )
            body = make_webhook_body("Udrill", [event])
            response = await http.post(
                _webhook_url(world),
                content=body,
                headers={"X-Line-Signature": sign(body, DEMO_CHANNEL_SECRET)},
            )
            response.raise_for_status()
    await _set_dedup_window(world, 120.0)
    notes.append(f"{len(now_again)} redelivered at once, {len(late)} hours late")


def _webhook_url(world: World) -> str:
    return f"{world.stack.url('ingress')}/line/webhook/demo"


_OVERSIZED = os.urandom(1024) * 1100  # over a megabyte: ingress refuses it unread


def _junk(n: int) -> tuple[bytes, dict[str, str]]:
    """Forged, malformed and oversized bodies in turn."""
    kind = n % 3
    if kind == 0:  # a valid body with a signature LINE did not make
        body = make_webhook_body("Udrill", [make_text_event(text="偽物")])
        return body, {"X-Line-Signature": sign(body, "not-the-channel-secret")}
    if kind == 1:  # signed, but not a webhook body
        body = b'{"destination": "Udrill", "events": [{"type": "message", "mess'
        return body, {"X-Line-Signature": sign(body, DEMO_CHANNEL_SECRET)}
    return _OVERSIZED, {"X-Line-Signature": "AAAA"}


async def junk_flood(world: World, scale: Scale, traffic: Traffic, notes: list[str]) -> None:
    """Junk at ten times the valid rate, for the rest of the load; the note compares
    valid messages' acknowledgement time before and during the flood."""
    before = traffic.latencies_ms()
    flood_from = len(traffic.sent)
    statuses: dict[int, int] = {}
    rate = scale.rate * 10
    seconds = scale.seconds * 2 / 3
    start = time.monotonic()
    # A bounded number in flight: httpx's pool slows down badly with thousands queued,
    # and then the generator, not ingress, would set the pace.
    in_flight = asyncio.Semaphore(64)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:

        async def one(n: int) -> None:
            body, headers = _junk(n)
            try:
                response = await http.post(_webhook_url(world), content=body, headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            except httpx.HTTPError:
                statuses[0] = statuses.get(0, 0) + 1

        async def paced(n: int) -> None:
            async with in_flight:
                await one(n)

        tasks = []
        for n in range(round(rate * seconds)):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(paced(n)))
        await asyncio.gather(*tasks)
    junk_rate = len(tasks) / (time.monotonic() - start)
    await traffic.settle()
    during = [
        s.record.attempts[0].latency_ms
        for s in traffic.sent[flood_from:]
        if s.acknowledged and s.record is not None and s.record.attempts
    ]
    answered = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
    notes.append(f"{sum(statuses.values())} junk bodies at {junk_rate:.0f}/s ({answered})")
    notes.append(
        "valid ack p50/p99 ms before "
        f"{percentile(before, 50):.0f}/{percentile(before, 99):.0f}, during "
        f"{percentile(during, 50):.0f}/{percentile(during, 99):.0f}"
    )


async def push_failures(world: World, scale: Scale, _: Traffic, notes: list[str]) -> None:
    """LINE refuses pushes (429, 500), answers too late, or takes one and loses
    its answer: ingress must retry with the same retry key, never twice."""
    n = scale.push_faults
    await world.sim.add_fault("push", status=429, count=n)
    await world.sim.add_fault("push", status=500, count=n)
    await world.sim.add_fault("push", delay_ms=15_000, count=n)
    await world.sim.add_fault("push", status=500, after_delivery=True, count=n)
    notes.append(f"push: 429×{n}, 500×{n}, 15 s late×{n}, delivered-then-500×{n}")
    await asyncio.sleep(scale.seconds / 3)


async def poison(world: World, scale: Scale, _: Traffic, notes: list[str]) -> None:
    """An event no consumer can read, published where client messages go: each
    consumer of it must keep it on DEADLETTER and go on with the rest."""
    subject = MESSAGE_RECEIVED.name
    nc = await nats.connect(world.nats.url)
    try:
        js = nc.jetstream()
        before = await _dead_letters(js, subject)
        body = json.dumps({"type": "line.message.received", "payload": "not an event"})
        await js.publish(subject, body.encode(), headers={"Nats-Msg-Id": uuid.uuid4().hex})
        deadline = time.monotonic() + scale.catch_up_s
        consumers = await _consumers_of(js, subject)
        while time.monotonic() < deadline:
            if await _dead_letters(js, subject) - before >= len(consumers):
                break
            await asyncio.sleep(0.2)
        kept = await _dead_letters(js, subject) - before
    finally:
        await nc.close()
    notes.append(f"poison dead-lettered by {kept} of {len(consumers)} consumers")
    if kept < len(consumers):
        raise AssertionError(f"only {kept} of {len(consumers)} consumers dead-lettered the poison")


async def _dead_letters(js: nats.js.JetStreamContext, subject: str) -> int:
    info = await js.stream_info(DEADLETTER.name, subjects_filter=f"deadletter.{subject}")
    return sum((info.state.subjects or {}).values())


async def _consumers_of(js: nats.js.JetStreamContext, subject: str) -> list[str]:
    """The consumers that read `subject` as an event: the backup archive keeps
    every message's raw bytes and never parses it, so it takes the poison too."""
    names = []
    for info in await js.consumers_info(LINE_IN.name):
        filters = [info.config.filter_subject, *(info.config.filter_subjects or [])]
        archive = info.name.startswith("backup-archive-")
        if not archive and any(f and nats_subject_matches(f, subject) for f in filters):
            names.append(info.name)
    return names


def nats_subject_matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, part in enumerate(p):
        if part == ">":
            return len(s) > i
        if i >= len(s) or (part != "*" and part != s[i]):
            return False
    return len(p) == len(s)


# The test suite's selection: one service of each kind (the webhook, a consumer,
# the console), both outages, and every fault that is not a crash.
IN_THE_TEST_SUITE = (
    "kill -9 ingress",
    "kill -9 routing",
    "kill -9 console",
    "nats-server kill -9",
    "PostgreSQL stopped",
    "duplicate and hours-late redeliveries",
    "junk webhooks at 10× the valid rate",
    "LINE push 429/500/timeouts",
    "poison event",
)


def catalogue() -> dict[str, Fault]:
    """Every drill by name, in the order `make drills` runs them."""
    drills: dict[str, Fault] = {f"kill -9 {s}": kill(s) for s in SERVICES}
    drills["nats-server restart"] = restart_nats(kill=False)
    drills["nats-server kill -9"] = restart_nats(kill=True)
    drills["PostgreSQL stopped"] = stop_database
    drills["duplicate and hours-late redeliveries"] = redeliveries
    drills["junk webhooks at 10× the valid rate"] = junk_flood
    drills["LINE push 429/500/timeouts"] = push_failures
    drills["poison event"] = poison
    return drills
