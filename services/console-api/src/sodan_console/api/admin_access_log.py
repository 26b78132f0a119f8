"""Admins' view of the access log: a filtered page (keyset by id) and a CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sodan_shared.db import transaction
from sodan_shared.hours import JST

from sodan_console.access_log import ACTIONS
from sodan_console.api.deps import CurrentStaff, Staff, StateDep
from sodan_console.db import access_log as db
from sodan_console.state import ConsoleState

router = APIRouter(prefix="/api/admin", tags=["admin"])

MAX_PAGE = 500
CSV_CHUNK = 1000
CSV_COLUMNS = (
    "id",
    "at",
    "staff_id",
    "login",
    "staff_name",
    "action",
    "method",
    "path",
    "target_kind",
    "target_id",
    "status",
    "reason",
    "client_addr",
    "user_agent",
)


class AccessLogEntry(BaseModel):
    id: int
    at: datetime
    staff_id: UUID | None
    login: str | None
    staff_name: str | None
    action: str
    method: str | None
    path: str | None
    target_kind: str | None
    target_id: str | None
    status: int | None
    reason: str | None
    client_addr: str | None
    user_agent: str | None


class AccessLogPage(BaseModel):
    entries: list[AccessLogEntry]
    next_before_id: int | None
    actions: list[str]


def _require_admin(staff: Staff) -> None:
    if staff.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "アクセスログは管理者のみ見られます")


def _start_of(day: date | None) -> datetime | None:
    """Dates are the desk's (JST) calendar days."""
    return datetime.combine(day, time(), JST) if day is not None else None


class _Filters:
    def __init__(
        self,
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: Annotated[date | None, Query()] = None,
        staff_id: Annotated[UUID | None, Query()] = None,
        action: Annotated[str | None, Query(max_length=32)] = None,
    ) -> None:
        if from_ is not None and to is not None and to < from_:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "終了日は開始日以降にしてください"
            )
        if action is not None and action not in ACTIONS:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"不明な操作の種類です: {action}"
            )
        self.since = _start_of(from_)
        self.until = _start_of(to + timedelta(days=1) if to is not None else None)
        self.staff_id = staff_id
        self.action = action

    async def page(
        self, state: ConsoleState, *, before_id: int | None, limit: int
    ) -> Sequence[Any]:
        async with transaction(state.db.sessions) as session:
            return await db.page(
                session,
                since=self.since,
                until=self.until,
                staff_id=self.staff_id,
                action=self.action,
                before_id=before_id,
                limit=limit,
            )


def _entry(row: Any) -> AccessLogEntry:
    return AccessLogEntry(
        id=row.id,
        at=row.at,
        staff_id=row.staff_id,
        login=row.login if row.login is not None else row.staff_login,
        staff_name=row.staff_name,
        action=row.action,
        method=row.method,
        path=row.path,
        target_kind=row.target_kind,
        target_id=row.target_id,
        status=row.status,
        reason=row.reason,
        client_addr=row.client_addr,
        user_agent=row.user_agent,
    )


@router.get("/access-log")
async def access_log_page(
    staff: CurrentStaff,
    state: StateDep,
    filters: Annotated[_Filters, Depends()],
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AccessLogPage:
    _require_admin(staff)
    rows = await filters.page(state, before_id=before_id, limit=limit + 1)
    entries = [_entry(r) for r in rows[:limit]]
    more = len(rows) > limit
    return AccessLogPage(
        entries=entries,
        next_before_id=entries[-1].id if more and entries else None,
        actions=list(ACTIONS),
    )


@router.get("/access-log.csv")
async def access_log_csv(
    staff: CurrentStaff, state: StateDep, filters: Annotated[_Filters, Depends()]
) -> StreamingResponse:
    _require_admin(staff)

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        # the BOM makes Excel read the file as UTF-8
        buffer.write("\ufeff")
        writer.writerow(CSV_COLUMNS)
        before: int | None = None
        while True:
            rows = await filters.page(state, before_id=before, limit=CSV_CHUNK)
            for row in rows:
                entry = _entry(row).model_dump(mode="json")
                writer.writerow(["" if entry[c] is None else entry[c] for c in CSV_COLUMNS])
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < CSV_CHUNK:
                return
            before = rows[-1].id

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="access-log.csv"'},
    )
