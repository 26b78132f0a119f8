"""Keyset cursor for the case list (urgency rank desc, opened_at, case_id).

It also carries the fingerprint of the filters it was made under
(:meth:`sodan_console.case_filters.CaseListFilter.fingerprint`): the API refuses
it under any other filter set.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


class BadCursorError(ValueError):
    pass


@dataclass(frozen=True)
class CaseCursor:
    urgency_rank: int
    opened_at: datetime
    case_id: UUID
    filters: str = ""

    def encode(self) -> str:
        raw = json.dumps(
            [self.urgency_rank, self.opened_at.isoformat(), str(self.case_id), self.filters]
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> CaseCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            rank, opened, case_id, *rest = json.loads(raw)
            filters = str(rest[0]) if rest else ""
            cursor = cls(int(rank), datetime.fromisoformat(opened), UUID(case_id), filters)
        except (ValueError, TypeError) as exc:
            raise BadCursorError("malformed cursor") from exc
        if cursor.opened_at.tzinfo is None or len(rest) > 1:
            raise BadCursorError("malformed cursor")
        return cursor
