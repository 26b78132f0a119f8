"""Case labels (ラベル): the desk's label set, kept by supervisors and admins, and
attaching or removing a label on a case by those who can act on it."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field, field_validator
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger

from sodan_console.api.cases import _visible_case
from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.api.schemas import CaseLabelPublic
from sodan_console.db import labels as db
from sodan_console.db.tables import LABEL_COLOURS
from sodan_console.policy import CaseFacts, can_label_case, can_manage_labels

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["labels"])

LabelColour = Literal["gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"]
assert get_args(LabelColour) == LABEL_COLOURS  # one palette: the table's CHECK and the API
LabelId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LABEL_NOT_FOUND = "ラベルが見つかりません"


class LabelIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    colour: LabelColour = "gray"
    retired: bool = False

    @field_validator("name")
    @classmethod
    def _tidy(cls, value: str) -> str:
        # NFKC: ｆｏｌｌｏｗ and follow, 要フォロー and 要ﾌｫﾛｰ are one label, not two
        tidy = " ".join(unicodedata.normalize("NFKC", value).split())
        if not tidy:
            raise ValueError("入力してください")
        return tidy


class LabelPublic(CaseLabelPublic):
    updated_at: datetime


def _public(row: object) -> LabelPublic:
    return LabelPublic.model_validate(row, from_attributes=True)


def _require_manager(staff: Staff) -> None:
    if not can_manage_labels(staff.viewer):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "ラベルの編集はスーパーバイザー・管理者のみできます"
        )


@router.get("/labels")
async def list_labels(_: CurrentStaff, state: StateDep) -> list[LabelPublic]:
    """Every label (retired ones too, flagged): the filter and old cases still show them."""
    async with state.db.sessions() as session:
        return [_public(r) for r in await db.all_labels(session)]


@router.post("/labels", status_code=status.HTTP_201_CREATED, dependencies=[Csrf])
async def create_label(body: LabelIn, staff: CurrentStaff, state: StateDep) -> LabelPublic:
    _require_manager(staff)
    try:
        async with transaction(state.db.sessions) as session:
            row = await db.create_label(
                session,
                name=body.name,
                colour=body.colour,
                by=staff.staff_id,
                at=datetime.now(UTC),
            )
    except db.DuplicateLabelError:
        raise HTTPException(status.HTTP_409_CONFLICT, "同じ名前のラベルがすでにあります") from None
    log.info("console.label_created", label_id=row.label_id, staff_id=str(staff.staff_id))
    return _public(row)


@router.put("/labels/{label_id}", dependencies=[Csrf])
async def update_label(
    label_id: LabelId, body: LabelIn, staff: CurrentStaff, state: StateDep
) -> LabelPublic:
    """Rename, recolour or retire (a retired label stays on its cases, but can no
    longer be attached); nothing is ever deleted."""
    _require_manager(staff)
    try:
        async with transaction(state.db.sessions) as session:
            row = await db.update_label(
                session,
                label_id=label_id,
                name=body.name,
                colour=body.colour,
                retired=body.retired,
                by=staff.staff_id,
                at=datetime.now(UTC),
            )
    except db.DuplicateLabelError:
        raise HTTPException(status.HTTP_409_CONFLICT, "同じ名前のラベルがすでにあります") from None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, LABEL_NOT_FOUND)
    log.info("console.label_updated", label_id=label_id, staff_id=str(staff.staff_id))
    return _public(row)


async def _labelable_case(state: StateDep, staff: Staff, case_id: UUID) -> None:
    row = await _visible_case(state, staff, case_id)
    if not can_label_case(staff.viewer, CaseFacts(row.status, row.assigned_to)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "ラベルを付けられるのは担当の相談員またはスーパーバイザーです",
        )


@router.put("/cases/{case_id}/labels/{label_id}", dependencies=[Csrf])
async def attach_label(
    case_id: UUID, label_id: LabelId, staff: CurrentStaff, state: StateDep
) -> list[CaseLabelPublic]:
    """Attach a label (again: no change); answers the case's labels now."""
    await _labelable_case(state, staff, case_id)
    async with transaction(state.db.sessions) as session:
        label = await db.label_by_id(session, label_id=label_id)
        if label is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, LABEL_NOT_FOUND)
        if label.retired:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "使用を終了したラベルは新しく付けられません"
            )
        await db.attach(
            session, case_id=case_id, label_id=label_id, by=staff.staff_id, at=datetime.now(UTC)
        )
        found = await db.labels_of_cases(session, case_ids=[case_id])
    log.info("console.case_labelled", case_id=str(case_id), label_id=label_id)
    return [CaseLabelPublic.model_validate(r, from_attributes=True) for r in found.get(case_id, [])]


@router.delete("/cases/{case_id}/labels/{label_id}", dependencies=[Csrf])
async def detach_label(
    case_id: UUID, label_id: LabelId, staff: CurrentStaff, state: StateDep
) -> list[CaseLabelPublic]:
    """Remove a label (not there: no change); answers the case's labels now."""
    await _labelable_case(state, staff, case_id)
    async with transaction(state.db.sessions) as session:
        if await db.label_by_id(session, label_id=label_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, LABEL_NOT_FOUND)
        await db.detach(session, case_id=case_id, label_id=label_id)
        found = await db.labels_of_cases(session, case_ids=[case_id])
    log.info("console.case_unlabelled", case_id=str(case_id), label_id=label_id)
    return [CaseLabelPublic.model_validate(r, from_attributes=True) for r in found.get(case_id, [])]
