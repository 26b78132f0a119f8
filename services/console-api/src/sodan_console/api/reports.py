"""Reports for supervisors and admins: a thin proxy to the reporting service's API.

Reporting listens on loopback and checks no one; this is where the role is
checked. Downloads pass through as reporting made them (already suppressed).
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field
from sodan_shared.logging import get_logger

from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.policy import sees_every_case

log = get_logger(__name__)
router = APIRouter(prefix="/api/reports", tags=["reports"])

FORWARDED_HEADERS = ("content-type", "content-disposition")
Channel = Annotated[str | None, Query(max_length=64)]
Format = Annotated[str, Query(pattern="^(json|csv|xlsx|pdf|html)$")]


def _require_supervisor(staff: Staff) -> None:
    if not sees_every_case(staff.viewer):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "報告はスーパーバイザーと管理者だけが見られます"
        )


async def _forward(
    state: StateDep, method: str, path: str, *, params: dict[str, str], json: object = None
) -> Response:
    url = state.settings.console_reporting_url.rstrip("/") + path
    try:
        async with httpx.AsyncClient(timeout=120.0) as client:
            upstream = await client.request(method, url, params=params, json=json)
    except httpx.HTTPError as exc:
        log.warning("console.reporting_unreachable", error=type(exc).__name__)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "集計サービスに接続できません"
        ) from None
    if upstream.status_code >= 400:
        try:
            detail = upstream.json().get("detail", upstream.text)
        except ValueError:
            detail = upstream.text
        # reporting answers in English; staff read Japanese, with the reason kept
        raise HTTPException(upstream.status_code, f"集計の指定が正しくありません（{detail}）")
    headers = {k: upstream.headers[k] for k in FORWARDED_HEADERS if k in upstream.headers}
    return Response(upstream.content, status_code=upstream.status_code, headers=headers)


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


@router.get("/monthly")
async def monthly(
    staff: CurrentStaff,
    state: StateDep,
    month: Annotated[str, Query(max_length=7)],
    channel: Channel = None,
    format: Format = "json",
) -> Response:
    _require_supervisor(staff)
    params = _params(month=month, channel=channel, format=format)
    return await _forward(state, "GET", "/api/reports/monthly", params=params)


@router.get("/final")
async def final(
    staff: CurrentStaff,
    state: StateDep,
    start: Annotated[str, Query(alias="from", max_length=10)],
    end: Annotated[str, Query(alias="to", max_length=10)],
    channel: Channel = None,
    format: Format = "json",
) -> Response:
    _require_supervisor(staff)
    params = _params(channel=channel, format=format) | {"from": start, "to": end}
    return await _forward(state, "GET", "/api/reports/final", params=params)


@router.get("/produced")
async def produced(staff: CurrentStaff, state: StateDep) -> Response:
    """Monthly reports the reporting job produced: the console tells supervisors and admins."""
    _require_supervisor(staff)
    return await _forward(state, "GET", "/api/reports/produced", params={})


class AnalysisIn(BaseModel):
    month: str = Field(max_length=7)
    channel: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=4000)


@router.put("/monthly/analysis", dependencies=[Csrf])
async def edit_analysis(body: AnalysisIn, staff: CurrentStaff, state: StateDep) -> Response:
    _require_supervisor(staff)
    payload = body.model_dump() | {"edited_by": str(staff.staff_id)}
    log.info("console.report_analysis_edited", month=body.month, staff_id=str(staff.staff_id))
    return await _forward(state, "PUT", "/api/reports/monthly/analysis", params={}, json=payload)
