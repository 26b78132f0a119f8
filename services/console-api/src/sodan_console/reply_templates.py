"""定型文 (reply templates): what a template may contain and how its placeholders
are filled for the counsellor who inserts it. Pure functions.

A placeholder is a Japanese name in braces, e.g. ``{相談員名}``. Only the names in
:data:`PLACEHOLDERS` exist; a template naming another one, or holding a brace
that is not part of a placeholder, is refused when it is saved, so a typo can never
reach a client as ``{相談員命}``. Filling happens when the counsellor opens the
picker: what is inserted into the reply box is exactly what will be sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sodan_shared import hours

MAX_TITLE = 40
MAX_CATEGORY = 20
MAX_BODY = 2000
MAX_SORT_ORDER = 9999

PLACEHOLDERS: dict[str, str] = {
    "相談員名": "あなたの表示名（例: 相談員 一郎）",
    "受付時間": "いま受付中ならその時間帯、時間外なら次の受付（例: 12月2日（火）18:00〜21:00）",
    "次回の相談日": "次に受付が始まる日時（例: 12月9日（火）18:00〜21:00）",
}

_TOKEN = re.compile(r"\{([^{}]*)\}")


class TemplateError(ValueError):
    """A template that cannot be saved; the message is for the supervisor, in Japanese."""


def placeholders_in(body: str) -> list[str]:
    """The placeholder names ``body`` uses, each once, in order of appearance."""
    return list(dict.fromkeys(m.group(1) for m in _TOKEN.finditer(body)))


def _allowed() -> str:
    return "、".join(f"{{{name}}}" for name in PLACEHOLDERS)


def validate_body(body: str) -> str:
    """``body`` unchanged, or :class:`TemplateError` saying what is wrong."""
    if not body.strip():
        raise TemplateError("入力してください")
    unknown = [name for name in placeholders_in(body) if name not in PLACEHOLDERS]
    if unknown:
        names = "、".join(f"{{{name}}}" for name in unknown)
        raise TemplateError(f"使えない差し込み {names} があります。使えるのは {_allowed()} です")
    rest = _TOKEN.sub("", body)
    if "{" in rest or "}" in rest:
        raise TemplateError(
            f"「{{」「}}」は差し込み（{_allowed()}）にだけ使えます。対になっているか確認してください"
        )
    return body


def validate_line(value: str, *, what: str) -> str:
    """A title or category: one line, not blank (kept as typed, trimmed)."""
    value = value.strip()
    if not value:
        raise TemplateError("入力してください")
    if "\n" in value or "\r" in value:
        raise TemplateError(f"{what}は1行で入力してください")
    return value


def expand(body: str, values: Mapping[str, str]) -> str:
    """``body`` with every placeholder replaced; a validated body has no other braces."""
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def placeholder_values(
    *, staff_name: str, now: datetime, calendar: hours.Calendar
) -> dict[str, str]:
    """The values for one counsellor at one moment."""
    current = hours.current_session(now, calendar)
    upcoming = hours.next_opening(now, calendar)
    return {
        "相談員名": staff_name,
        "受付時間": hours.format_session(current or upcoming),
        "次回の相談日": hours.format_session(upcoming),
    }
