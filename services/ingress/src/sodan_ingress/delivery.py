"""Pure decisions about a push to LINE: what an answer means and when to retry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["sent", "retry", "failed"]

_MAX_ERROR_MESSAGE = 160


def verdict_for_status(status: int) -> Verdict:
    """200 sent; 409 means LINE already accepted this retry key, so also sent;
    429, 5xx and no answer (0) may succeed later; any other 4xx never will."""
    if 200 <= status < 300 or status == 409:
        return "sent"
    if status in (0, 429) or status >= 500:
        return "retry"
    return "failed"


@dataclass(frozen=True)
class Decision:
    status: Literal["sent", "failed"] | None  # None: nack and let JetStream redeliver
    retry_in_s: float | None = None


def decide(verdict: Verdict, *, attempt: int, delays_s: list[float]) -> Decision:
    """``attempt`` counts from 1; after ``len(delays_s) + 1`` attempts a retry becomes failed."""
    if verdict == "retry":
        if attempt <= len(delays_s):
            return Decision(status=None, retry_in_s=delays_s[attempt - 1])
        return Decision(status="failed")
    return Decision(status=verdict)


def error_text(status: int, body: bytes | str | None) -> str:
    """HTTP status plus LINE's own error message, nothing of ours (bodies, ids)."""
    message = ""
    if body:
        try:
            parsed = json.loads(body)
        except (ValueError, TypeError):
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            message = parsed["message"][:_MAX_ERROR_MESSAGE]
    return f"{status} {message}".strip() if status else f"no answer {message}".strip()


def reply_token_refused(status: int, body: bytes | str | None) -> bool:
    """LINE's 400 for a reply token that expired or was already used: the answer
    can still go out as a push."""
    return status == 400 and "invalid reply token" in error_text(status, body).lower()
