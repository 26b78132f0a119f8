"""What a closed case records, as the desk reports it: the one list every service uses.

The closing form in the console offers these, routing refuses anything else
(a typo must not become a new row in the monthly report), and reporting prints
them in this order. Adding a label is fine; renaming one splits the report's
history, so a renamed label is added beside the old one instead.

The lists below are what a desk starts with; supervisors edit them in the
console (console.closing_categories.update.v1). Routing validates and keeps the
edited lists and announces them (audit.closing_categories.changed.v1); the
console offers what routing last announced.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# 対応結果 (outcome): exactly one per closed case.
OUTCOMES: tuple[str, ...] = (
    "傾聴・情報提供",
    "他機関紹介",
    "継続相談",
    "途中終了",
    "その他",
)

# 相談内容 (topic categories): any number per closed case.
TOPICS: tuple[str, ...] = (
    "性自認",
    "性的指向",
    "カミングアウト",
    "家族",
    "学校・職場",
    "恋愛・パートナー",
    "からだ・医療",
    "こころの不調",
    "いじめ・差別",
    "制度・手続き",
    "その他",
)

# The closing word a client used (終了) instead of a counsellor's form; reported as such.
CLIENT_ENDED = "client_ended"
CLIENT_ENDED_LABEL = "相談者が終了"

# The after-survey's one question has these quick-reply answers (label = text sent).
SURVEY_ANSWERS: tuple[str, ...] = ("役に立った", "少し役に立った", "役に立たなかった", "答えない")

# Limits of an edited list: the closing form must stay usable and a label must fit a report cell.
MAX_CATEGORIES = 30
MAX_LABEL = 30
MAX_TOPICS = MAX_CATEGORIES


@dataclass(frozen=True)
class ClosingCategories:
    """The outcomes and topics a desk closes cases with, in the order the form shows them."""

    outcomes: tuple[str, ...] = OUTCOMES
    topics: tuple[str, ...] = TOPICS


DEFAULT_CATEGORIES = ClosingCategories()


def closing_problem(
    outcome: str | None, topics: list[str], lists: ClosingCategories = DEFAULT_CATEGORIES
) -> str | None:
    """Why a counsellor's closing cannot be recorded (Japanese, for the counsellor), or None."""
    if outcome is None or outcome not in lists.outcomes:
        return f"対応結果を選んでください（{'／'.join(lists.outcomes)}）"
    unknown = [t for t in topics if t not in lists.topics]
    if unknown:
        return f"不明な相談内容です: {'、'.join(unknown)}"
    if len(set(topics)) != len(topics):
        return "相談内容が重複しています"
    return None


def _list_problem(name: str, labels: list[str]) -> str | None:
    if not labels:
        return f"{name}を1つ以上入れてください"
    if len(labels) > MAX_CATEGORIES:
        return f"{name}は{MAX_CATEGORIES}個までです（{len(labels)}個あります）"
    for label in labels:
        if label != label.strip() or not label:
            return f"{name}に空の項目か前後の空白があります"
        if len(label) > MAX_LABEL:
            return f"{name}「{label[:MAX_LABEL]}…」は{MAX_LABEL}文字までです"
        if any(unicodedata.category(ch)[0] == "C" for ch in label):
            return f"{name}「{label}」に使えない文字（改行・制御文字）があります"
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            return f"{name}「{label}」が重複しています"
        seen.add(label)
    return None


def categories_problem(outcomes: list[str], topics: list[str]) -> str | None:
    """Why an edited pair of lists cannot be used (Japanese, for the supervisor), or None."""
    return _list_problem("対応結果", outcomes) or _list_problem("相談内容", topics)
