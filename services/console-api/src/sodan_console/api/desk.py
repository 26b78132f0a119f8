"""``GET /api/desk``: the desk's congestion level and open state (通常 / 混雑 / 受付停止),
as routing last announced it, for every logged-in staff member."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sodan_console.api.deps import CurrentStaff, StateDep
from sodan_console.db import queries

router = APIRouter(prefix="/api", tags=["desk"])


class DeskStatusPublic(BaseModel):
    channel: str
    level: Literal["normal", "busy", "suspended"] = Field(description="通常 / 混雑 / 受付停止")
    desk_open: bool = Field(description="Within consultation hours")
    queue_length: int
    active_counsellors: int
    free_capacity: int
    next_wait_s: float | None = Field(description="Estimated wait for a client queued now")
    next_opening: datetime | None
    changed_at: datetime


@router.get("/desk")
async def desk(_: CurrentStaff, state: StateDep) -> list[DeskStatusPublic]:
    """Empty until routing has announced a level (it does at start and on every change)."""
    async with state.db.sessions() as session:
        rows = await queries.desk_statuses(session)
    return [DeskStatusPublic.model_validate(row, from_attributes=True) for row in rows]
