"""The report API. Loopback only: staff reach it through console-api, which checks the role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sodan_shared.db import transaction
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_reporting.days import BadPeriodError, parse_month
from sodan_reporting.db import queries
from sodan_reporting.monthly import Report
from sodan_reporting.pdf import PdfUnavailableError
from sodan_reporting.render import render
from sodan_reporting.reports import (
    DailyReport,
    MonthlySummary,
    daily_report,
    final_report,
    monthly_report,
    monthly_summary,
)


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_session)]
ChannelQuery = Annotated[str | None, Query(max_length=64, description="LINE channel id")]
Format = Literal["json", "csv", "xlsx", "pdf", "html"]
FormatQuery = Annotated[Format, Query(description="json (default), csv, xlsx, pdf or html")]

router = APIRouter()

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}


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


async def _respond(request: Request, report: Report, fmt: Format, filename: str) -> Response:
    if fmt == "json":
        return Response(report.model_dump_json(by_alias=True), media_type="application/json")
    try:
        body = await render(
            report, fmt, chromium_path=request.app.state.settings.reporting_chromium_path
        )
    except PdfUnavailableError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    disposition = "inline" if fmt == "html" else f'attachment; filename="{filename}.{fmt}"'
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})


def _threshold(request: Request) -> int:
    return int(request.app.state.settings.reporting_suppress_below)


class ProducedReport(BaseModel):
    month: str = Field(description="YYYY-MM (Japan time)")
    generated_at: datetime
    cases: int = Field(description="Cases opened in the month, all channels")


@router.get("/api/reports/produced")
async def get_produced(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=60)] = 12
) -> list[ProducedReport]:
    """The monthly reports the job produced on the 1st, newest first (admins are told of them)."""
    return [
        ProducedReport(month=p.month, generated_at=p.generated_at, cases=p.cases)
        for p in await queries.latest_produced(session, limit=limit)
    ]


@router.get("/api/reports/monthly", response_model=Report, response_model_by_alias=True)
async def get_monthly(
    request: Request,
    session: SessionDep,
    month: Annotated[str, Query(description="YYYY-MM (Japan time)")],
    channel: ChannelQuery = None,
    format: FormatQuery = "json",
) -> Response:
    """The monthly report: figures, suppressed breakdowns, comparisons and the analysis text."""
    try:
        report = await monthly_report(
            session, month=month, channel=channel, threshold=_threshold(request)
        )
    except BadPeriodError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return await _respond(request, report, format, f"monthly-report-{month}")


@router.get("/api/reports/final", response_model=Report, response_model_by_alias=True)
async def get_final(
    request: Request,
    session: SessionDep,
    start: Annotated[str, Query(alias="from", description="First day, YYYY-MM-DD (Japan time)")],
    end: Annotated[str, Query(alias="to", description="Last day, YYYY-MM-DD (inclusive)")],
    channel: ChannelQuery = None,
    format: FormatQuery = "json",
) -> Response:
    """The final report (業務完了報告書 figures) over any range of days."""
    try:
        report = await final_report(
            session, start=start, end=end, channel=channel, threshold=_threshold(request)
        )
    except BadPeriodError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return await _respond(request, report, format, f"final-report-{start}-{end}")


class AnalysisEdit(BaseModel):
    month: str = Field(description="YYYY-MM")
    channel: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=4000, description="The analysis as staff will send it")
    edited_by: UUID | None = None


class AnalysisSaved(BaseModel):
    month: str
    channel: str | None
    text: str


@router.put("/api/reports/monthly/analysis")
async def put_analysis(request: Request, edit: AnalysisEdit) -> AnalysisSaved:
    """Stores staff's edit of a month's analysis; an empty text goes back to the generated one."""
    try:
        parse_month(edit.month)
    except BadPeriodError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with transaction(sessions) as session:
        if edit.text.strip():
            await queries.put_note(
                session,
                month=edit.month,
                channel=edit.channel or "",
                text_=edit.text,
                edited_by=edit.edited_by,
            )
        else:
            await queries.delete_note(session, month=edit.month, channel=edit.channel or "")
    return AnalysisSaved(month=edit.month, channel=edit.channel, text=edit.text)


def include_routes(app: FastAPI) -> None:
    app.include_router(router)
