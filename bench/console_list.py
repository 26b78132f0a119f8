"""Console case list and chat benchmark: p50/p95 on 100k cases and ~1M messages.

Generates the data straight into a fresh database's console tables (the
projection's final state, not through NATS: this measures reading, not
projecting), then times, for several filter combinations:

- the list endpoint's database work: the exact SELECT ``GET /api/cases`` runs
  (:func:`sodan_console.db.queries.case_list_query`) plus its labels and channel
  names (:func:`sodan_console.api.case_list.annotate`);
- the whole endpoint in process (ASGI: session check, filters, query, JSON and
  the access-log entry every list read writes, committed), for two combinations,
  beside ``GET /api/me`` (the session check alone);
- the chat's query (:func:`sodan_console.db.queries.client_messages`).

Baselines measured in the same run on the same data: the bare indexed SELECT of
the list's order (``SELECT case_id … ORDER BY urgency_rank DESC, opened_at,
case_id LIMIT 51``: an index-only walk) and the bare messages SELECT of one client.
EXPLAIN prints which index each combination uses and whether PostgreSQL had to
sort (a Sort node means no index serves the order).

BENCH_CONSOLE_CASES sets the number of cases (default 100,000), with 10 messages
each; BENCH_CONSOLE_REPEAT the timed runs per figure (default 60).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sodan_console.api.case_list import annotate
from sodan_console.api.cases import _case_public
from sodan_console.api.deps import Staff
from sodan_console.case_filters import CaseListFilter
from sodan_console.cursor import CaseCursor
from sodan_console.db import queries
from sodan_console.main import create_app, migrate
from sodan_console.seed import DEMO_STAFF, seed_demo
from sodan_console.settings import ConsoleSettings
from sodan_shared.testing.infra import fresh_database, postgres_admin_url
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

MESSAGES_PER_CASE = 10
CLIENT_SHARE = 0.4  # clients per case: most clients come back once or more
PAGE = 50
STAFF = {s.login: s for s in DEMO_STAFF}
SV = Staff(STAFF["supervisor"].staff_id, "supervisor", "SV", "supervisor", "available", 3, b"")
C1 = Staff(STAFF["counsellor1"].staff_id, "counsellor1", "C1", "counsellor", "available", 3, b"")

# Server-side generation (generate_series): seconds, not minutes, for 1M rows.
# ~1.5% of cases open (queued / assigned / on hold), the rest closed; urgency
# 70/20/8/2 %; three channels 70/25/5 %; 12 counsellors; two years of dates.
GENERATE_CASES = """
INSERT INTO console.cases (case_id, client_id, client_no, channel, status, urgency,
    urgency_rank, assigned_to, opened_at, open_known, assigned_at, closed_at,
    last_message_at, topics)
SELECT md5('case' || i)::uuid,
       md5('client' || (i % :clients))::uuid,
       i % :clients,
       CASE WHEN r.c < 0.70 THEN 'bench-a' WHEN r.c < 0.95 THEN 'bench-b' ELSE 'bench-c' END,
       s.status,
       u.urgency,
       u.rank,
       CASE WHEN s.status = 'queued' OR r.a < 0.03 THEN NULL
            ELSE (CAST(:staff AS text[]))[1 + (i % 12)]::uuid END,
       o.opened_at,
       true,
       CASE WHEN s.status = 'queued' THEN NULL ELSE o.opened_at + interval '3 minutes' END,
       CASE WHEN s.status = 'closed' THEN o.opened_at + interval '70 minutes' END,
       o.opened_at + interval '60 minutes',
       '[]'::jsonb
FROM generate_series(1, :cases) AS i
CROSS JOIN LATERAL (SELECT random() AS c, random() AS u, random() AS a, i AS k) AS r
CROSS JOIN LATERAL (SELECT CASE WHEN i % 200 = 0 THEN 'queued' WHEN i % 200 = 1 THEN 'assigned'
                                WHEN i % 200 = 2 THEN 'on_hold' ELSE 'closed' END AS status) AS s
CROSS JOIN LATERAL (SELECT CASE WHEN r.u < 0.70 THEN 'normal' WHEN r.u < 0.90 THEN 'medium'
                                WHEN r.u < 0.98 THEN 'high' ELSE 'critical' END AS urgency,
                           CASE WHEN r.u < 0.70 THEN 0 WHEN r.u < 0.90 THEN 1
                                WHEN r.u < 0.98 THEN 2 ELSE 3 END AS rank) AS u
CROSS JOIN LATERAL (SELECT now() - (random() * interval '730 days')
                           - CASE WHEN s.status = 'closed' THEN interval '2 hours'
                                  ELSE interval '0' END AS opened_at) AS o
"""
GENERATE_MESSAGES = """
INSERT INTO console.messages (message_id, client_id, case_id, direction, kind, body, sent_at,
    delivery, staff_id)
SELECT md5('msg' || c.n || ':' || k)::uuid, c.client_id, c.case_id,
       CASE WHEN k % 2 = 0 THEN 'in' ELSE 'out' END, 'text',
       repeat('x', 120), c.opened_at + k * interval '6 minutes',
       CASE WHEN k % 2 = 1 THEN 'sent' END,
       CASE WHEN k % 2 = 1 THEN c.assigned_to END
FROM (SELECT row_number() OVER () AS n, case_id, client_id, opened_at, assigned_to
      FROM console.cases) AS c
CROSS JOIN generate_series(0, :per_case - 1) AS k
"""
GENERATE_LABELS = """
INSERT INTO console.labels (name, colour, created_at, updated_at)
SELECT name, colour, now(), now()
FROM (VALUES ('要フォロー', 'orange'), ('継続', 'blue'), ('SV確認', 'red'),
             ('情報提供', 'green'), ('関係機関', 'purple'), ('稀なラベル', 'gray'))
     AS v(name, colour);
INSERT INTO console.case_labels (case_id, label_id, added_at)
SELECT case_id, 1 + (abs(hashtext(case_id::text)) % 5), now()
FROM console.cases WHERE abs(hashtext(case_id::text || 'l')) % 10 = 0;
INSERT INTO console.case_labels (case_id, label_id, added_at)
SELECT case_id, 6, now() FROM console.cases WHERE status = 'closed'
ORDER BY urgency_rank, opened_at DESC LIMIT 5;
INSERT INTO console.channels (channel, display_name, updated_at)
VALUES ('bench-a', 'にじいろ相談', now()), ('bench-b', '若者向け窓口', now());
"""
STAFF_ROWS = """
INSERT INTO console.staff (staff_id, login, display_name, role, password_hash)
SELECT md5('staff' || i)::uuid, 'bench' || i, '相談員 ' || i, 'counsellor', 'x'
FROM generate_series(1, 10) AS i
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(make: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    """p50 and p95 in ms (after two untimed warm-up runs)."""
    for _ in range(2):
        await make()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        await make()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), percentile(runs, 0.95)


def plan_summary(plan: dict[str, Any]) -> str:
    """The indexes a plan reads and whether it sorts."""
    indexes: list[str] = []
    sorts = False

    def walk(node: dict[str, Any]) -> None:
        nonlocal sorts
        if "Index Name" in node and node["Index Name"] not in indexes:
            indexes.append(node["Index Name"])
        if node["Node Type"] in ("Sort", "Incremental Sort"):
            sorts = True
        if node["Node Type"] == "Seq Scan":
            indexes.append(f"seq scan {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return ", ".join(indexes) + (" + sort" if sorts else "")


async def explain(session: AsyncSession, statement: Any) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    found = (await session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}"))).scalar_one()
    return plan_summary(found[0])


async def generate(session: AsyncSession, n_cases: int) -> None:
    staff = [str(STAFF["counsellor1"].staff_id), str(STAFF["counsellor2"].staff_id)]
    await session.execute(text(STAFF_ROWS))
    rows = await session.execute(
        text("SELECT staff_id FROM console.staff WHERE login LIKE 'bench%'")
    )
    staff += [str(r.staff_id) for r in rows]
    await session.execute(text("SELECT setseed(0.42)"))
    await session.execute(
        text(GENERATE_CASES),
        {"cases": n_cases, "clients": max(1, int(n_cases * CLIENT_SHARE)), "staff": staff},
    )
    await session.execute(text(GENERATE_MESSAGES), {"per_case": MESSAGES_PER_CASE})
    for statement in GENERATE_LABELS.split(";"):
        if statement.strip():
            await session.execute(text(statement))
    await session.commit()


def combinations(month_from: date) -> list[tuple[str, Staff, CaseListFilter]]:
    closed = ("closed",)
    every = ("queued", "assigned", "on_hold", "closed")
    month_to = month_from + timedelta(days=30)
    return [
        ("open cases (the default view), supervisor", SV, CaseListFilter()),
        ("open cases, counsellor (queue + own)", C1, CaseListFilter()),
        ("open, urgency 緊急", SV, CaseListFilter(urgencies=("critical",))),
        ("open, unassigned", SV, CaseListFilter(assignee="unassigned")),
        ("closed, no other filter", SV, CaseListFilter(statuses=closed)),
        ("closed, counsellor (own only)", C1, CaseListFilter(statuses=closed)),
        (
            "closed, assignee = one counsellor",
            SV,
            CaseListFilter(statuses=closed, assignee=C1.staff_id),
        ),
        (
            "closed, channel (5% of cases)",
            SV,
            CaseListFilter(statuses=closed, channels=("bench-c",)),
        ),
        ("closed, urgency 高", SV, CaseListFilter(statuses=closed, urgencies=("high",))),
        (
            "all statuses, one month (JST dates)",
            SV,
            CaseListFilter(statuses=every, opened_from=month_from, opened_to=month_to),
        ),
        ("closed, label (2% of cases)", SV, CaseListFilter(statuses=closed, label_ids=(3,))),
        (
            "closed, rare label (5 cases, last in order)",
            SV,
            CaseListFilter(statuses=closed, label_ids=(6,)),
        ),
        (
            "closed, channel + urgency + month + label",
            SV,
            CaseListFilter(
                statuses=closed,
                channels=("bench-a",),
                urgencies=("normal", "medium"),
                opened_from=month_from - timedelta(days=150),
                opened_to=month_to,
                label_ids=(1,),
            ),
        ),
    ]


def list_statement(viewer: Staff, flt: CaseListFilter, after: CaseCursor | None = None) -> Any:
    return queries.case_list_query(
        viewer=viewer.viewer,
        statuses=flt.statuses,
        urgencies=flt.urgencies,
        after=after,
        limit=PAGE + 1,
        assigned=flt.assignee_for(viewer.staff_id),
        channels=flt.channels,
        opened_since=flt.opened_since,
        opened_until=flt.opened_until,
        label_ids=flt.label_ids,
    )


async def bench_lists(session: AsyncSession, repeat: int) -> None:
    bare = text(
        "SELECT case_id FROM console.cases ORDER BY urgency_rank DESC, opened_at, case_id LIMIT 51"
    )
    b50, b95 = await timed(lambda: session.execute(bare), repeat)
    blank = " " * 17
    print(f"\n  {'case list, 50 rows':<46} {'the SELECT':>17} {'+ labels, rows':>17}")
    print(f"  {'':<46} {'p50 ms':>8} {'p95 ms':>8} {'p50 ms':>8} {'p95 ms':>8}  index used")
    print(
        f"  {'baseline: bare indexed SELECT (ids only)':<46} {b50:8.2f} {b95:8.2f} {blank}  list order"
    )
    month_from = (datetime.now(UTC) - timedelta(days=200)).date()
    for label, viewer, flt in combinations(month_from):
        statement = list_statement(viewer, flt)

        async def select(statement: Any = statement) -> None:
            await queries.list_cases(session, statement)

        async def page(statement: Any = statement, viewer: Staff = viewer) -> None:
            rows = await queries.list_cases(session, statement)
            await annotate(session, [_case_public(r, viewer) for r in rows[:PAGE]])

        q50, q95 = await timed(select, repeat)
        p50, p95 = await timed(page, repeat)
        used = await explain(session, statement)
        print(f"  {label:<46} {q50:8.2f} {q95:8.2f} {p50:8.2f} {p95:8.2f}  {used}")
    # keyset: a deep page costs what the first one costs
    flt = CaseListFilter(statuses=("closed",))
    after = None
    pages = 1
    while pages <= 40:
        rows = await queries.list_cases(session, list_statement(SV, flt, after))
        if len(rows) <= PAGE:
            break
        last = rows[PAGE - 1]
        after = CaseCursor(last.urgency_rank, last.opened_at, last.case_id)
        pages += 1
    deep = list_statement(SV, flt, after)
    p50, p95 = await timed(lambda: queries.list_cases(session, deep), repeat)
    used = await explain(session, deep)
    label = f"closed, page {pages} by cursor (rows {(pages - 1) * PAGE + 1}-{pages * PAGE})"
    print(f"  {label:<46} {p50:8.2f} {p95:8.2f} {blank}  {used}")


async def bench_chat(session: AsyncSession, n_cases: int, repeat: int) -> None:
    rng = random.Random(7)
    picks = [
        (
            await session.execute(
                text("SELECT client_id FROM console.cases WHERE case_id = md5('case' || :i)::uuid"),
                {"i": rng.randrange(1, n_cases)},
            )
        ).scalar_one()
        for _ in range(20)
    ]
    bare = text(
        "SELECT message_id, body, sent_at FROM console.messages WHERE client_id = :c "
        "ORDER BY sent_at DESC LIMIT 500"
    )
    turn = iter(range(10**9))
    b50, b95 = await timed(
        lambda: session.execute(bare, {"c": picks[next(turn) % len(picks)]}), repeat
    )
    c50, c95 = await timed(
        lambda: queries.client_messages(
            session, client_id=picks[next(turn) % len(picks)], limit=500
        ),
        repeat,
    )
    per_client = (
        await session.execute(
            text(
                "SELECT avg(n) FROM (SELECT count(*) n FROM console.messages GROUP BY client_id) x"
            )
        )
    ).scalar_one()
    print(
        f"\n  {'chat (case detail), ~' + format(per_client, '.0f') + ' messages per client':<46} {'p50 ms':>8} {'p95 ms':>8}"
    )
    print(f"  {'baseline: bare SELECT of one client':<46} {b50:8.2f} {b95:8.2f}")
    print(f"  {'chat query (messages + unsent, last 500)':<46} {c50:8.2f} {c95:8.2f}")


async def bench_endpoint(settings: ConsoleSettings, repeat: int) -> None:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
            login = await client.post(
                "/api/login",
                json={"login": "supervisor", "password": STAFF["supervisor"].password},
                headers={"X-Requested-With": "sodan"},
            )
            login.raise_for_status()
            print(f"\n  {'GET /api/cases in process (ASGI)':<46} {'p50 ms':>8} {'p95 ms':>8}")

            async def me() -> None:
                (await client.get("/api/me")).raise_for_status()

            m50, m95 = await timed(me, repeat)
            print(
                f"  {'baseline: GET /api/me (the session check alone)':<46} {m50:8.2f} {m95:8.2f}"
            )
            for label, params in (
                ("open cases (default)", {}),
                (
                    "closed, channel + urgency + label",
                    {"status": "closed", "channel": "bench-a", "urgency": "normal", "label": "1"},
                ),
            ):

                async def get(params: dict[str, str] = params) -> None:
                    (await client.get("/api/cases", params=params)).raise_for_status()

                p50, p95 = await timed(get, repeat)
                print(f"  {label:<46} {p50:8.2f} {p95:8.2f}")
    finally:
        await app.state.console.db.dispose()


async def main() -> None:
    n_cases = int(os.environ.get("BENCH_CONSOLE_CASES", "100000"))
    repeat = int(os.environ.get("BENCH_CONSOLE_REPEAT", "60"))
    print(
        f"console list bench: {n_cases:,} cases, {n_cases * MESSAGES_PER_CASE:,} messages, "
        f"{os.cpu_count()} CPUs; {repeat} timed runs per figure"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_admin_url(Path(tmp)) as admin,
        fresh_database(admin) as db_url,
    ):
        settings = ConsoleSettings(
            nats_url="nats://127.0.0.1:1",
            database_url=db_url,
            environment="test",
            log_level="warning",
            _env_file=None,
        )
        await asyncio.to_thread(migrate, settings)
        await seed_demo(settings)
        app = create_app(settings)
        db = app.state.console.db
        try:
            started = time.perf_counter()
            async with db.sessions() as session:
                await generate(session, n_cases)
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE console.cases"))
                await conn.execute(text("VACUUM ANALYZE console.messages"))
                await conn.execute(text("VACUUM ANALYZE console.case_labels"))
            print(f"  generated and analysed in {time.perf_counter() - started:.1f} s")
            async with db.sessions() as session:
                await bench_lists(session, repeat)
                await bench_chat(session, n_cases, repeat)
        finally:
            await db.dispose()
        await bench_endpoint(settings, repeat)


if __name__ == "__main__":
    asyncio.run(main())
