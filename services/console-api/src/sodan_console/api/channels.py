"""The desk's LINE official accounts (チャネル): display names for staff.

Only names and a note live here. Each account's credentials (channel secret and
access token) stay in ingress' environment, as secrets, and never reach the console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field, field_validator
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger

from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.db import channels as db
from sodan_console.policy import can_name_channels

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["channels"])

ChannelId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ChannelName(BaseModel):
    channel: str
    display_name: str | None


class ChannelPublic(ChannelName):
    note: str | None
    updated_at: datetime | None
    total: int = Field(description="Cases of this channel the console holds")
    open: int = Field(description="…of which not closed")
    closed: int


class ChannelIn(BaseModel):
    display_name: str | None = Field(default=None, max_length=60)
    note: str | None = Field(default=None, max_length=400)

    @field_validator("display_name", "note")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


def _require_admin(staff: Staff) -> None:
    if not can_name_channels(staff.viewer):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "チャネルの設定は管理者のみできます")


@router.get("/channels")
async def channel_names(_: CurrentStaff, state: StateDep) -> list[ChannelName]:
    """Every channel seen, with its display name: the case list's filter."""
    async with state.db.sessions() as session:
        found = await db.names(session)
    return [ChannelName(channel=c, display_name=name) for c, name in found]


@router.get("/admin/channels")
async def channel_overview(staff: CurrentStaff, state: StateDep) -> list[ChannelPublic]:
    _require_admin(staff)
    async with state.db.sessions() as session:
        rows = await db.overview(session)
    return [ChannelPublic.model_validate(r, from_attributes=True) for r in rows]


@router.put("/admin/channels/{channel}", dependencies=[Csrf])
async def save_channel(
    channel: ChannelId, body: ChannelIn, staff: CurrentStaff, state: StateDep
) -> ChannelPublic:
    """Name a channel (one not seen yet too: an account about to open)."""
    _require_admin(staff)
    async with transaction(state.db.sessions) as session:
        await db.save(
            session,
            channel=channel,
            display_name=body.display_name,
            note=body.note,
            by=staff.staff_id,
            at=datetime.now(UTC),
        )
        rows = await db.overview(session)
    log.info("console.channel_named", channel=channel, staff_id=str(staff.staff_id))
    return next(
        ChannelPublic.model_validate(r, from_attributes=True) for r in rows if r.channel == channel
    )
