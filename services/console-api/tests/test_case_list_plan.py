"""The case list's query is served by an index in its own order, for every kind of
filter: checked with EXPLAIN (which index, and no sort), never with a stopwatch.

Sequential scans, bitmap scans and sorts are made prohibitively expensive for the
planner (enable_* = off), so a plan without a Sort node proves that an index can
deliver the list's order under that filter; which index shows it is the intended
one. The timings on 100k cases are in docs/performance.md (bench/console_list.py).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from console_support import STAFF
from sodan_console.case_filters import CaseListFilter
from sodan_console.db import queries
from sodan_console.policy import Viewer
from sodan_console.state import ConsoleState
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

C1 = STAFF["counsellor1"].staff_id
SV = Viewer(STAFF["supervisor"].staff_id, "supervisor")
COUNSELLOR = Viewer(C1, "counsellor")
CLOSED = ("closed",)
EVERY = ("queued", "assigned", "on_hold", "closed")

# A modest desk (3,000 cases, 2% open), inserted in a transaction that is rolled back.
MODEST_DESK = """
INSERT INTO console.cases (case_id, client_id, channel, status, urgency, urgency_rank,
    assigned_to, opened_at)
SELECT md5('plan' || i)::uuid, md5('plan-client' || i)::uuid,
       CASE WHEN i % 4 = 0 THEN 'plan-b' ELSE 'plan-a' END,
       CASE WHEN i % 50 = 0 THEN 'queued' WHEN i % 50 = 1 THEN 'assigned' ELSE 'closed' END,
       'normal', i % 4,
       CASE WHEN i % 50 = 0 THEN NULL ELSE CAST(:c1 AS uuid) END,
       now() - i * interval '1 hour'
FROM generate_series(1, 3000) AS i
"""


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


async def _plan(session: AsyncSession, viewer: Viewer, flt: CaseListFilter) -> list[dict[str, Any]]:
    statement = queries.case_list_query(
        viewer=viewer,
        statuses=flt.statuses,
        urgencies=flt.urgencies,
        after=None,
        limit=51,
        assigned=flt.assignee_for(viewer.staff_id),
        channels=flt.channels,
        opened_since=flt.opened_since,
        opened_until=flt.opened_until,
        label_ids=flt.label_ids,
    )
    compiled = statement.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    result = await session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
    return _nodes(result.scalar_one()[0]["Plan"])


@pytest.mark.parametrize(
    ("viewer", "flt", "index"),
    [
        (SV, CaseListFilter(), "cases_open_order"),
        (COUNSELLOR, CaseListFilter(), "cases_open_order"),
        (SV, CaseListFilter(urgencies=("high", "critical")), "cases_open_order"),
        (SV, CaseListFilter(statuses=CLOSED), "cases_list_order"),
        # their own and once-assigned cases: the list's order, each probed in case_assignments
        (COUNSELLOR, CaseListFilter(statuses=CLOSED), "cases_list_order"),
        (SV, CaseListFilter(statuses=CLOSED, assignee="me"), "cases_by_assignee_order"),
        (SV, CaseListFilter(statuses=CLOSED, channels=("plan-b",)), "cases_by_channel_order"),
        (SV, CaseListFilter(statuses=CLOSED, label_ids=(1,)), "cases_list_order"),
        (SV, CaseListFilter(statuses=EVERY, opened_from=date(2026, 1, 1)), "cases_list_order"),
    ],
    ids=[
        "open",
        "open-counsellor",
        "open-urgency",
        "closed",
        "closed-counsellor",
        "closed-assignee",
        "closed-channel",
        "closed-label",
        "dates",
    ],
)
async def test_every_filter_is_served_in_the_lists_order_by_an_index(
    state: ConsoleState, viewer: Viewer, flt: CaseListFilter, index: str
) -> None:
    async with state.db.sessions() as session, session.begin():
        await session.execute(text(MODEST_DESK), {"c1": str(C1)})
        await session.execute(text("ANALYZE console.cases"))
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await session.execute(text(f"SET LOCAL {setting} = off"))
        nodes = await _plan(session, viewer, flt)
        await session.rollback()
    sorts = [n for n in nodes if "Sort" in n["Node Type"]]
    assert not sorts, json.dumps(sorts, ensure_ascii=False)
    case_scans = [n for n in nodes if n.get("Relation Name") == "cases"]
    assert [n.get("Index Name") for n in case_scans] == [index]
