"""定型文 (reply templates): counsellors list them, filled in for themselves;
supervisors and admins create, edit, retire and restore them.

Every save makes a new version and keeps the old one (history); an edit names the
version it was made from, so two supervisors editing at once cannot silently undo
each other (409). Every change is in the access log (the middleware records
/api/ changes, the template's id as target).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sodan_shared import hours
from sodan_shared.db import transaction
from sodan_shared.events.console import HoursRuleV1
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console import reply_templates as rules
from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.api.desk_settings import SEEDED_RULES
from sodan_console.db import reply_templates as db
from sodan_console.db import supervision
from sodan_console.policy import can_edit_templates
from sodan_console.state import ConsoleState

log = get_logger(__name__)
router = APIRouter(prefix="/api/reply-templates", tags=["reply templates"])

NOT_FOUND = "定型文が見つかりません"


class TemplatePlaceholder(BaseModel):
    name: str
    description: str


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=rules.MAX_TITLE)
    category: str = Field(min_length=1, max_length=rules.MAX_CATEGORY)
    body: str = Field(min_length=1, max_length=rules.MAX_BODY)
    sort_order: int = Field(default=0, ge=0, le=rules.MAX_SORT_ORDER)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return rules.validate_line(value, what="題名")

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return rules.validate_line(value, what="分類")

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return rules.validate_body(value)


class TemplateEdit(TemplateIn):
    version: int = Field(ge=1, description="The version this edit was made from")


class TemplatePublic(BaseModel):
    template_id: UUID
    title: str
    category: str
    body: str = Field(description="As written, with its placeholders")
    text: str = Field(description="Filled in for the viewer now: what the picker inserts")
    sort_order: int
    version: int
    retired: bool
    updated_at: datetime
    updated_by_name: str | None


class TemplatesPublic(BaseModel):
    items: list[TemplatePublic]
    placeholders: list[TemplatePlaceholder]
    can_edit: bool


class TemplateVersionPublic(BaseModel):
    version: int
    title: str
    category: str
    body: str
    sort_order: int
    retired: bool
    saved_at: datetime
    saved_by_name: str | None


def _require_editor(staff: Staff) -> None:
    if not can_edit_templates(staff.viewer):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "定型文の編集はスーパーバイザーと管理者のみできます"
        )


async def _values(session: AsyncSession, staff: Staff) -> dict[str, str]:
    # The calendar as the console knows it (desk_settings.get_hours does the same).
    row = await supervision.calendar_row(session)
    stored = row.rules if row is not None and row.rules is not None else None
    calendar = hours.build_calendar(
        [HoursRuleV1.model_validate(r) for r in (stored or SEEDED_RULES)]
    )
    return rules.placeholder_values(
        staff_name=staff.display_name, now=datetime.now(UTC), calendar=calendar
    )


def _public(row: Any, values: dict[str, str]) -> TemplatePublic:
    r = row._mapping
    return TemplatePublic(
        template_id=r["template_id"],
        title=r["title"],
        category=r["category"],
        body=r["body"],
        text=rules.expand(r["body"], values),
        sort_order=r["sort_order"],
        version=r["version"],
        retired=r["retired_at"] is not None,
        updated_at=r["updated_at"],
        updated_by_name=r["updated_by_name"],
    )


async def _one(state: ConsoleState, staff: Staff, template_id: UUID) -> TemplatePublic:
    async with state.db.sessions() as session:
        row = await db.one(session, template_id=template_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        return _public(row, await _values(session, staff))


@router.get("")
async def list_templates(
    staff: CurrentStaff,
    state: StateDep,
    include_retired: Annotated[bool, Query(description="Editors only: retired ones too")] = False,
) -> TemplatesPublic:
    if include_retired:
        _require_editor(staff)
    async with state.db.sessions() as session:
        rows = await db.listing(session, include_retired=include_retired)
        values = await _values(session, staff)
    return TemplatesPublic(
        items=[_public(r, values) for r in rows],
        placeholders=[
            TemplatePlaceholder(name=n, description=d) for n, d in rules.PLACEHOLDERS.items()
        ],
        can_edit=can_edit_templates(staff.viewer),
    )


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Csrf])
async def create_template(body: TemplateIn, staff: CurrentStaff, state: StateDep) -> TemplatePublic:
    _require_editor(staff)
    template_id = uuid4()
    async with transaction(state.db.sessions) as session:
        await db.create(
            session,
            template_id=template_id,
            title=body.title,
            category=body.category,
            body=body.body,
            sort_order=body.sort_order,
            staff_id=staff.staff_id,
            at=datetime.now(UTC),
        )
    log.info("console.template_created", template_id=str(template_id), staff_id=str(staff.staff_id))
    return await _one(state, staff, template_id)


@router.put("/{template_id}", dependencies=[Csrf])
async def edit_template(
    template_id: UUID, body: TemplateEdit, staff: CurrentStaff, state: StateDep
) -> TemplatePublic:
    _require_editor(staff)
    async with transaction(state.db.sessions) as session:
        current = await db.lock(session, template_id=template_id)
        if current is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        if current.version != body.version:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "この定型文は他の人が先に更新しました。開き直して、最新の内容に編集し直してください",
            )
        await db.save(
            session,
            current=current,
            staff_id=staff.staff_id,
            at=datetime.now(UTC),
            title=body.title,
            category=body.category,
            body=body.body,
            sort_order=body.sort_order,
        )
    log.info("console.template_edited", template_id=str(template_id), staff_id=str(staff.staff_id))
    return await _one(state, staff, template_id)


async def _set_retired(
    state: ConsoleState, staff: Staff, template_id: UUID, *, retired: bool
) -> TemplatePublic:
    _require_editor(staff)
    now = datetime.now(UTC)
    async with transaction(state.db.sessions) as session:
        current = await db.lock(session, template_id=template_id)
        if current is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        if (current.retired_at is not None) != retired:
            await db.save(
                session,
                current=current,
                staff_id=staff.staff_id,
                at=now,
                retired_at=now if retired else None,
            )
    log.info(
        "console.template_retired" if retired else "console.template_restored",
        template_id=str(template_id),
        staff_id=str(staff.staff_id),
    )
    return await _one(state, staff, template_id)


@router.post("/{template_id}/retire", dependencies=[Csrf])
async def retire_template(
    template_id: UUID, staff: CurrentStaff, state: StateDep
) -> TemplatePublic:
    """Counsellors stop seeing it; it and its history stay."""
    return await _set_retired(state, staff, template_id, retired=True)


@router.post("/{template_id}/restore", dependencies=[Csrf])
async def restore_template(
    template_id: UUID, staff: CurrentStaff, state: StateDep
) -> TemplatePublic:
    return await _set_retired(state, staff, template_id, retired=False)


@router.get("/{template_id}/history")
async def template_history(
    template_id: UUID, staff: CurrentStaff, state: StateDep
) -> list[TemplateVersionPublic]:
    """Every saved version, newest first."""
    _require_editor(staff)
    async with state.db.sessions() as session:
        rows = await db.history(session, template_id=template_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return [TemplateVersionPublic.model_validate(dict(r._mapping)) for r in rows]
