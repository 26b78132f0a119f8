"""Reporting benchmark: rebuild speed (events/s) and the monthly report's time on a year of data.

Runs on a private nats-server and a fresh database (as the tests do). Every
figure is printed beside an in-run baseline measured on the same machine in
the same run, so numbers from different machines can be compared by ratio:

- rebuild and the analyst's replay: events/s read from NATS, folded in memory
  and written in bulk to PostgreSQL, vs the pure projection functions alone
  (the ceiling without I/O);
- report: the monthly report (and the final report over the year) vs the old
  monthly summary query (daily counts + one case scan).

BENCH_REPORTING_EVENTS sets the number of events (default 6,000; the issue's
1,000,000 takes roughly that many / (events/s printed) seconds).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from sodan_devstack.nats import NatsServer
from sodan_reporting import projection
from sodan_reporting.main import create_app, migrate, rebuild
from sodan_reporting.replay import replay_period
from sodan_reporting.reports import final_report, monthly_report, monthly_summary
from sodan_reporting.settings import ReportingSettings
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import PushRequested, PushRequestedV1
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseAssignedV1,
    CaseClosed,
    CaseClosedV1,
    CaseOpened,
    CaseOpenedV1,
)
from sodan_shared.nats import ensure_streams
from sodan_shared.subjects import subject_for
from sodan_shared.testing.factories import make_cipher, make_message_received
from sodan_shared.testing.infra import fresh_database, postgres_admin_url

EVENTS_PER_CASE = 6
YEAR_START = datetime(2025, 4, 1, tzinfo=UTC)


def generate(n_events: int) -> list[Envelope[Any]]:
    """Cases spread over a year: message, opened, assigned, 2 replies, closed."""
    rng = random.Random(7)
    staff = [uuid4() for _ in range(8)]
    clients = [make_cipher() for _ in range(max(1, n_events // 30))]
    events: list[Envelope[Any]] = []
    for _ in range(n_events // EVENTS_PER_CASE):
        client = rng.choice(clients)
        opened = YEAR_START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        counsellor = rng.choice(staff)
        case_id = uuid4()
        first = make_message_received(cipher=client, channel="bench", sent_at=opened)
        events.append(first)

        def add(cls: Any, payload: Any, at: datetime) -> None:
            events.append(cls.new(channel="bench", payload=payload, occurred_at=at))

        add(
            CaseOpened,
            CaseOpenedV1(
                case_id=case_id,
                client_id=client.client_id,
                client_no=1,
                first_message_event_id=first.id,
                queued_at=opened,
            ),
            opened,
        )
        add(
            CaseAssigned,
            CaseAssignedV1(case_id=case_id, client_id=client.client_id, counsellor_id=counsellor),
            opened + timedelta(minutes=rng.randrange(1, 30)),
        )
        for minutes in (rng.randrange(2, 40), rng.randrange(40, 90)):
            add(
                PushRequested,
                PushRequestedV1(
                    push_id=uuid4(),
                    client_id=client.client_id,
                    case_id=case_id,
                    texts=[client.seal("message.text", "bench")],
                    origin="counsellor",
                    staff_id=counsellor,
                ),
                opened + timedelta(minutes=minutes),
            )
        add(
            CaseClosed,
            CaseClosedV1(
                case_id=case_id,
                client_id=client.client_id,
                age_group=rng.choice(["10代以下", "20代", "30代", None]),
                region=rng.choice(["北勢", "中勢", "南勢志摩", "伊賀", "東紀州", None]),
                topics=rng.sample(["家族", "学校", "職場", "恋愛", "カミングアウト"], k=2),
            ),
            opened + timedelta(minutes=120),
        )
    return events


def baseline_projection(events: list[Envelope[Any]]) -> float:
    """events/s of the pure projection functions, no I/O."""
    facts: dict[Any, projection.CaseFact] = {}
    started = time.perf_counter()
    for event in events:
        p: Any = event.payload
        case_id = getattr(p, "case_id", None)
        if case_id is None:
            projection.message_received_counts(event)  # type: ignore[arg-type]
            continue
        seen = projection.CaseObservation(
            opened_at=getattr(p, "queued_at", None), closed_at=None, counsellor_id=None
        )
        fact = facts.get(case_id) or projection.CaseFact(case_id=case_id, channel="bench")
        facts[case_id], _, _ = projection.merge_case(fact, seen, at=event.occurred_at)
    return len(events) / (time.perf_counter() - started)


async def publish(js: Any, events: list[Envelope[Any]]) -> None:
    # A generous timeout: at a million events on a busy 2-core machine, an ack can
    # take longer than nats-py's 2 s default (the ids make a retry harmless anyway).
    for i in range(0, len(events), 500):
        batch = events[i : i + 500]
        await asyncio.gather(
            *(
                js.publish(
                    subject_for(e).name,
                    e.to_bytes(),
                    headers={"Nats-Msg-Id": str(e.id)},
                    timeout=60,
                )
                for e in batch
            )
        )


async def timed(label: str, make: Any, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        await make()
        best = min(best, time.perf_counter() - started)
    print(f"  {label:<44} {best * 1000:9.1f} ms (best of {repeat})")
    return best


async def main() -> None:
    n = int(os.environ.get("BENCH_REPORTING_EVENTS", "6000"))
    events = generate(n)
    print(f"reporting bench: {len(events)} generated events over a year (one channel)")
    base = baseline_projection(events)
    print(f"  baseline: pure projection functions       {base:12,.0f} events/s")
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_admin_url(Path(tmp)) as admin,
        fresh_database(admin) as db_url,
    ):
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        try:
            settings = ReportingSettings(
                nats_url=server.url,
                database_url=db_url,
                reporting_monthly_job=False,
                log_level="warning",
            )
            await asyncio.to_thread(migrate, settings)
            app = create_app(settings)
            jetstream = (await app.broker.connect()).jetstream()
            await ensure_streams(jetstream)
            await publish(jetstream, events)
            await app.broker.stop()
            started = time.perf_counter()
            await rebuild(settings)
            took = time.perf_counter() - started
            rate = len(events) / took
            print(
                f"  rebuild through NATS + PostgreSQL          {rate:12,.0f} events/s "
                f"({took:.1f} s; {rate / base:.1%} of the baseline)"
            )
            reader = create_app(settings)
            started = time.perf_counter()
            await replay_period(
                nats_url=settings.nats_url,
                engine=reader.db.engine,
                since=YEAR_START - timedelta(days=1),
                until=datetime.now(UTC) + timedelta(days=1),
                into="bench_copy",
            )
            took = time.perf_counter() - started
            rate = len(events) / took
            print(
                f"  replay (fold in memory, bulk write)        {rate:12,.0f} events/s "
                f"({took:.1f} s; {rate / base:.1%} of the baseline)"
            )
            try:
                async with reader.db.sessions() as session:
                    summary = await timed(
                        "baseline: monthly summary (2025-10)",
                        lambda: monthly_summary(session, month="2025-10", channel=None),
                    )
                    monthly = await timed(
                        "monthly report (2025-10, with comparisons)",
                        lambda: monthly_report(session, month="2025-10", channel=None, threshold=3),
                    )
                    final = await timed(
                        "final report (2025-04-01..2026-03-31)",
                        lambda: final_report(
                            session,
                            start="2025-04-01",
                            end="2026-03-31",
                            channel=None,
                            threshold=3,
                        ),
                        repeat=3,
                    )
                print(
                    f"  monthly report = {monthly / summary:.1f}x the summary; "
                    f"final report = {final / summary:.1f}x"
                )
            finally:
                await reader.db.dispose()
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
