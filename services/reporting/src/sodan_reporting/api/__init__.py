"""The report API (JSON). Staff authentication is console-api's, later; loopback until then."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_reporting.days import BadPeriodError
from sodan_reporting.reports import DailyReport, MonthlySummary, daily_report, monthly_summary


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_session)]
ChannelQuery = Annotated[str | None, Query(max_length=64, description="LINE channel id")]

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/reports/daily", response_model_by_alias=True)
async def get_daily(
    session: SessionDep,
    start: Annotated[str, Query(alias="from", description="First day, YYYY-MM-DD (Japan time)")],
    end: Annotated[str, Query(alias="to", description="Last day, YYYY-MM-DD (inclusive)")],
    channel: ChannelQuery = None,
) -> DailyReport:
    try:
        return await daily_report(session, start=start, end=end, channel=channel)
    except BadPeriodError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None


@router.get("/api/reports/summary")
async def get_summary(
    session: SessionDep,
    month: Annotated[str, Query(description="YYYY-MM (Japan time)")],
    channel: ChannelQuery = None,
) -> MonthlySummary:
    try:
        return await monthly_summary(session, month=month, channel=channel)
    except BadPeriodError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None


def include_routes(app: FastAPI) -> None:
    app.include_router(router)
