"""The case list's filters: plain values, their checks and their fingerprint.

Pure (no I/O): the API parses query parameters into a :class:`CaseListFilter`,
the query turns it into SQL, and the keyset cursor carries its fingerprint so a
cursor from one filter set is refused under another (the next page of a
different list would silently skip or repeat cases).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from uuid import UUID

from sodan_shared.events.triage import URGENCY_RANK
from sodan_shared.hours import JST

OPEN_STATUSES = ("queued", "assigned", "on_hold")
FINGERPRINT_CHARS = 16

Assignee = UUID | Literal["me", "unassigned"]


class FilterError(ValueError):
    """A filter value the list cannot use; the message is for the counsellor (Japanese)."""


def parse_assignee(text: str | None) -> Assignee | None:
    """'me', 'unassigned' or a staff id; empty means any assignee."""
    if text is None or text == "":
        return None
    if text in ("me", "unassigned"):
        return text  # type: ignore[return-value]
    try:
        return UUID(text)
    except ValueError:
        raise FilterError("担当者: 'me'・'unassigned' または職員IDを指定してください") from None


def start_of_day(day: date) -> datetime:
    """Dates are the desk's (JST) calendar days."""
    return datetime.combine(day, time(), JST)


@dataclass(frozen=True)
class CaseListFilter:
    statuses: tuple[str, ...] = OPEN_STATUSES
    urgencies: tuple[str, ...] = ()
    assignee: Assignee | None = None
    channels: tuple[str, ...] = ()
    opened_from: date | None = None
    opened_to: date | None = None
    label_ids: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if (
            self.opened_from is not None
            and self.opened_to is not None
            and self.opened_to < self.opened_from
        ):
            raise FilterError("受付日: 終了日は開始日以降にしてください")

    @property
    def opened_since(self) -> datetime | None:
        return start_of_day(self.opened_from) if self.opened_from is not None else None

    @property
    def opened_until(self) -> datetime | None:
        """Exclusive: the start of the day after ``opened_to``."""
        if self.opened_to is None:
            return None
        return start_of_day(self.opened_to + timedelta(days=1))

    @property
    def urgency_ranks(self) -> tuple[int, ...]:
        # The rank, not the word: it is the first column of the list's indexes.
        return tuple(sorted({URGENCY_RANK[u] for u in self.urgencies}))

    def assignee_for(self, viewer_id: UUID) -> UUID | Literal["unassigned"] | None:
        return viewer_id if self.assignee == "me" else self.assignee

    def fingerprint(self) -> str:
        """Stable for the same filter set, whatever order the values came in."""
        canonical = json.dumps(
            [
                sorted(set(self.statuses)),
                sorted(set(self.urgencies)),
                str(self.assignee) if self.assignee is not None else None,
                sorted(set(self.channels)),
                self.opened_from.isoformat() if self.opened_from else None,
                self.opened_to.isoformat() if self.opened_to else None,
                sorted(set(self.label_ids)),
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:FINGERPRINT_CHARS]
