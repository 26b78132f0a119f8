"""Supervisors' editors for what routing applies: the automatic texts (自動応答文),
the consultation calendar (相談時間) and the closing form's lists (対応結果・相談内容).

Where the current values come from: routing answers every edit with an audit
event carrying the text or calendar now in use (audit.auto_text.changed,
audit.hours.changed); the console projects those (``auto_texts``,
``hours_calendar``). Until the first edit nothing has been announced, and the
console shows what routing was seeded with: the shared defaults
(:data:`sodan_shared.auto_texts.DEFAULT_TEXTS`) and routing's seeded calendar
(:data:`SEEDED_RULES`, copied from routing's migration 0002). An edit made in
routing's tables by hand, outside the console, is not seen here.

A save is checked here with the same rules routing applies (422 with the reason,
nothing sent), then sent as a command; the answer is awaited briefly: applied,
refused (422 with routing's reason), or pending (202; the editor shows the
outcome when it is projected).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sodan_shared import auto_texts, hours
from sodan_shared.closing import categories_problem
from sodan_shared.events.console import (
    HoursRuleV1,
    ReplaceHours,
    ReplaceHoursV1,
    UpdateAutoText,
    UpdateAutoTextV1,
    UpdateClosingCategories,
    UpdateClosingCategoriesV1,
)
from sodan_shared.logging import get_logger
from sodan_shared.subjects import AUTO_TEXT_CHANGED, CLOSING_CATEGORIES_CHANGED, HOURS_CHANGED

from sodan_console.api.answers import send_and_wait
from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.db import queries, supervision

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["desk settings"])

# What routing's migration 0002 seeds: every evening 17:00-22:00.
SEEDED_RULES: list[dict[str, Any]] = [
    {"kind": "weekly", "weekday": d, "starts": "17:00:00", "ends": "22:00:00", "holidays": "any"}
    for d in range(7)
]
PREVIEW_COUNT = 8


def require_supervisor(staff: Staff, what: str) -> None:
    if staff.role not in ("supervisor", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{what}はスーパーバイザーのみできます")


def _invalid(detail: str) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": detail})


class Placeholder(BaseModel):
    name: str
    description: str


class AutoTextPublic(BaseModel):
    key: str
    label: str
    when: str = Field(description="When routing sends it")
    body: str
    default_body: str
    is_default: bool
    placeholders: list[Placeholder]
    updated_at: datetime | None
    updated_by_name: str | None
    last_outcome: Literal["applied", "refused"] | None
    last_error: str | None
    last_at: datetime | None


class AutoTextIn(BaseModel):
    body: str = Field(min_length=1, max_length=2000)


class Saved(BaseModel):
    status: Literal["applied", "pending"]
    command_id: str


async def _names(session: Any, ids: set[Any]) -> dict[Any, str]:
    names = {}
    for staff_id in ids:
        row = await queries.staff_by_id(session, staff_id=staff_id)
        names[staff_id] = row.display_name if row is not None else "（不明な職員）"
    return names


@router.get("/auto-texts")
async def list_auto_texts(staff: CurrentStaff, state: StateDep) -> list[AutoTextPublic]:
    require_supervisor(staff, "自動応答文の閲覧・編集")
    async with state.db.sessions() as session:
        rows = await supervision.auto_texts_by_key(session)
        names = await _names(session, {r.updated_by for r in rows.values() if r.updated_by})
    out = []
    for key in auto_texts.AUTO_TEXT_KEYS:
        row = rows.get(key)
        label, when = auto_texts.DESCRIPTIONS[key]
        default = auto_texts.DEFAULT_TEXTS[key]
        body = row.body if row is not None and row.body is not None else default
        out.append(
            AutoTextPublic(
                key=key,
                label=label,
                when=when,
                body=body,
                default_body=default,
                is_default=body == default,
                placeholders=[
                    Placeholder(name=n, description=auto_texts.PLACEHOLDERS[n])
                    for n in sorted(auto_texts.ALLOWED[key])
                ],
                updated_at=row.updated_at if row else None,
                updated_by_name=names.get(row.updated_by) if row and row.updated_by else None,
                last_outcome=row.last_outcome if row else None,
                last_error=row.last_error if row else None,
                last_at=row.last_at if row else None,
            )
        )
    return out


@router.put("/auto-texts/{key}", dependencies=[Csrf], response_model=Saved)
async def save_auto_text(
    key: str, edit: AutoTextIn, staff: CurrentStaff, state: StateDep
) -> Saved | JSONResponse:
    require_supervisor(staff, "自動応答文の編集")
    if key not in auto_texts.ALLOWED:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "この自動応答文はありません")
    try:
        body = auto_texts.validate(key, edit.body)  # forbidden words: routing's setting
    except auto_texts.AutoTextError as exc:
        return _invalid(f"保存できません: {exc}")
    command = UpdateAutoText.new(
        channel=state.settings.line_channel_id,
        payload=UpdateAutoTextV1(key=key, body=body, staff_id=staff.staff_id),
    )
    answer = await send_and_wait(state, command, [AUTO_TEXT_CHANGED])
    log.info("console.auto_text_update_sent", key=key, staff_id=str(staff.staff_id))
    if answer is None:
        return Saved(status="pending", command_id=str(command.id))
    payload = answer[1]["payload"]
    if payload["outcome"] != "applied":
        return _invalid(f"routing が保存を断りました: {payload.get('error')}")
    return Saved(status="applied", command_id=str(command.id))


# --- the consultation calendar ---------------------------------------------------------


class SessionPublic(BaseModel):
    starts: datetime
    ends: datetime
    label: str = Field(description="e.g. 12月2日（火）18:00〜21:00")


class CalendarPublic(BaseModel):
    rules: list[HoursRuleV1]
    is_seeded: bool = Field(description="Never edited: routing's starting calendar")
    updated_at: datetime | None
    updated_by_name: str | None
    last_outcome: Literal["applied", "refused"] | None
    last_error: str | None
    last_at: datetime | None
    upcoming: list[SessionPublic]


class CalendarIn(BaseModel):
    rules: list[HoursRuleV1] = Field(max_length=200)


def _upcoming(calendar: hours.Calendar) -> list[SessionPublic]:
    return [
        SessionPublic(starts=s.starts, ends=s.ends, label=hours.format_session(s))
        for s in hours.upcoming(datetime.now(UTC), calendar, PREVIEW_COUNT)
    ]


def _calendar_or_error(rules: list[HoursRuleV1]) -> hours.Calendar | JSONResponse:
    try:
        return hours.build_calendar(rules)
    except ValueError as exc:
        return _invalid(f"相談時間の設定に誤りがあります: {exc}")


@router.get("/hours")
async def get_hours(staff: CurrentStaff, state: StateDep) -> CalendarPublic:
    require_supervisor(staff, "相談時間の閲覧・編集")
    async with state.db.sessions() as session:
        row = await supervision.calendar_row(session)
        names = await _names(session, {row.updated_by} if row and row.updated_by else set())
    stored = row.rules if row is not None and row.rules is not None else None
    rules = [HoursRuleV1.model_validate(r) for r in (stored or SEEDED_RULES)]
    return CalendarPublic(
        rules=rules,
        is_seeded=stored is None,
        updated_at=row.updated_at if row else None,
        updated_by_name=names.get(row.updated_by) if row and row.updated_by else None,
        last_outcome=row.last_outcome if row else None,
        last_error=row.last_error if row else None,
        last_at=row.last_at if row else None,
        upcoming=_upcoming(hours.build_calendar(rules)),
    )


@router.post("/hours/preview", response_model=list[SessionPublic])
async def preview_hours(
    draft: CalendarIn, staff: CurrentStaff
) -> list[SessionPublic] | JSONResponse:
    """The next openings a draft calendar would give (nothing is saved)."""
    require_supervisor(staff, "相談時間の編集")
    calendar = _calendar_or_error(draft.rules)
    if isinstance(calendar, JSONResponse):
        return calendar
    return _upcoming(calendar)


@router.put("/hours", dependencies=[Csrf], response_model=Saved)
async def save_hours(
    draft: CalendarIn, staff: CurrentStaff, state: StateDep
) -> Saved | JSONResponse:
    require_supervisor(staff, "相談時間の編集")
    calendar = _calendar_or_error(draft.rules)
    if isinstance(calendar, JSONResponse):
        return calendar
    if not draft.rules:
        return _invalid("相談時間が1つもありません。少なくとも1つの受付日を入れてください")
    command = ReplaceHours.new(
        channel=state.settings.line_channel_id,
        payload=ReplaceHoursV1(rules=draft.rules, staff_id=staff.staff_id),
    )
    answer = await send_and_wait(state, command, [HOURS_CHANGED])
    log.info("console.hours_replace_sent", rules=len(draft.rules), staff_id=str(staff.staff_id))
    if answer is None:
        return Saved(status="pending", command_id=str(command.id))
    payload = answer[1]["payload"]
    if payload["outcome"] != "applied":
        return _invalid(f"routing が保存を断りました: {payload.get('error')}")
    return Saved(status="applied", command_id=str(command.id))


# --- the closing form's lists ------------------------------------------------------------


class ClosingCategoriesPublic(BaseModel):
    outcomes: list[str]
    topics: list[str]
    is_default: bool = Field(description="Never edited: the lists the desk started with")
    updated_at: datetime | None
    updated_by_name: str | None
    last_outcome: Literal["applied", "refused"] | None
    last_error: str | None
    last_at: datetime | None


class ClosingCategoriesIn(BaseModel):
    outcomes: list[str] = Field(max_length=60)
    topics: list[str] = Field(max_length=60)


@router.get("/closing-categories")
async def get_closing_categories(staff: CurrentStaff, state: StateDep) -> ClosingCategoriesPublic:
    require_supervisor(staff, "対応結果・相談内容の閲覧・編集")
    async with state.db.sessions() as session:
        row = await supervision.closing_categories_row(session)
        lists = await supervision.current_closing_categories(session)
        names = await _names(session, {row.updated_by} if row and row.updated_by else set())
    return ClosingCategoriesPublic(
        outcomes=list(lists.outcomes),
        topics=list(lists.topics),
        is_default=row is None or row.outcomes is None,
        updated_at=row.updated_at if row else None,
        updated_by_name=names.get(row.updated_by) if row and row.updated_by else None,
        last_outcome=row.last_outcome if row else None,
        last_error=row.last_error if row else None,
        last_at=row.last_at if row else None,
    )


@router.put("/closing-categories", dependencies=[Csrf], response_model=Saved)
async def save_closing_categories(
    edit: ClosingCategoriesIn, staff: CurrentStaff, state: StateDep
) -> Saved | JSONResponse:
    require_supervisor(staff, "対応結果・相談内容の編集")
    problem = categories_problem(edit.outcomes, edit.topics)
    if problem is not None:
        return _invalid(f"保存できません: {problem}")
    command = UpdateClosingCategories.new(
        channel=state.settings.line_channel_id,
        payload=UpdateClosingCategoriesV1(
            outcomes=edit.outcomes, topics=edit.topics, staff_id=staff.staff_id
        ),
    )
    answer = await send_and_wait(state, command, [CLOSING_CATEGORIES_CHANGED])
    log.info("console.closing_categories_update_sent", staff_id=str(staff.staff_id))
    if answer is None:
        return Saved(status="pending", command_id=str(command.id))
    payload = answer[1]["payload"]
    if payload["outcome"] != "applied":
        return _invalid(f"routing が保存を断りました: {payload.get('error')}")
    return Saved(status="applied", command_id=str(command.id))
