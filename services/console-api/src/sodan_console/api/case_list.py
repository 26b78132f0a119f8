"""The case list's filters as query parameters, and what the list adds to each row
(labels, the channel's display name)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import HTTPException, Query, status
from sodan_shared.events.triage import UrgencyLevel
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.api.schemas import CaseLabelPublic, CasePublic, CaseStatus
from sodan_console.case_filters import OPEN_STATUSES, CaseListFilter, FilterError, parse_assignee
from sodan_console.db import channels as channel_db
from sodan_console.db import labels as label_db

MAX_VALUES = 20
MAX_CHANNEL_CHARS = 64


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def _day(text: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _unprocessable(f"{what}: 日付は YYYY-MM-DD の形式で指定してください") from None


def _label_ids(values: Sequence[str]) -> tuple[int, ...]:
    ids = []
    for text in values:
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise _unprocessable("ラベル: ラベルIDは数字で指定してください")
        ids.append(int(text))
    return tuple(sorted(set(ids)))


def list_filter(
    status_: Annotated[list[CaseStatus] | None, Query(alias="status")] = None,
    urgency: Annotated[list[UrgencyLevel] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=40)] = None,
    channel: Annotated[list[str] | None, Query()] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: Annotated[str | None, Query(max_length=10)] = None,
    label: Annotated[list[str] | None, Query()] = None,
) -> CaseListFilter:
    """Query parameters to a filter; 422 with a Japanese reason for anything unusable.
    Repeating a parameter means any of its values; different parameters all apply."""
    for values in (status_, urgency, channel, label):
        if values is not None and len(values) > MAX_VALUES:
            raise _unprocessable(f"絞り込み: 同じ条件は{MAX_VALUES}個までです")
    channels = tuple(sorted({c for c in channel or [] if c}))
    if any(len(c) > MAX_CHANNEL_CHARS for c in channels):
        raise _unprocessable(f"チャネル: {MAX_CHANNEL_CHARS}文字以内で指定してください")
    try:
        return CaseListFilter(
            statuses=tuple(sorted(set(status_))) if status_ else OPEN_STATUSES,
            urgencies=tuple(sorted(set(urgency or []))),
            assignee=parse_assignee(assignee),
            channels=channels,
            opened_from=_day(from_, "受付日（開始）"),
            opened_to=_day(to, "受付日（終了）"),
            label_ids=_label_ids(label or []),
        )
    except FilterError as exc:
        raise _unprocessable(str(exc)) from None


async def check_labels_exist(session: AsyncSession, label_ids: Sequence[int]) -> None:
    """An unknown label is a mistake (a typo in a bookmarked URL, a stale screen):
    say so instead of showing an empty list that looks like 'no such cases'."""
    if not label_ids:
        return
    known = await label_db.known_label_ids(session, label_ids=label_ids)
    missing = sorted(set(label_ids) - known)
    if missing:
        raise _unprocessable(f"ラベル: 存在しないラベルです（ID {missing[0]}）")


async def annotate(session: AsyncSession, items: Sequence[CasePublic]) -> list[CasePublic]:
    """Each case with its labels and its channel's display name (two small queries
    for the whole page)."""
    names = await channel_db.display_names(session)
    found = await label_db.labels_of_cases(session, case_ids=[c.case_id for c in items])
    return [
        c.model_copy(
            update={
                "channel_name": names.get(c.channel),
                "labels": [
                    CaseLabelPublic(
                        label_id=r.label_id, name=r.name, colour=r.colour, retired=r.retired
                    )
                    for r in found.get(c.case_id, [])
                ],
            }
        )
        for c in items
    ]
