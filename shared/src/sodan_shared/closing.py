"""What a closed case records, as the desk reports it: the one list every service uses.

The closing form in the console offers these, routing refuses anything else
(a typo must not become a new row in the monthly report), and reporting prints
them in this order. Adding a label is fine; renaming one splits the report's
history, so a renamed label is added beside the old one instead.
"""

from __future__ import annotations

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

MAX_TOPICS = len(TOPICS)


def closing_problem(outcome: str | None, topics: list[str]) -> str | None:
    """Why a counsellor's closing cannot be recorded (Japanese, for the counsellor), or None."""
    if outcome is None or outcome not in OUTCOMES:
        return f"対応結果を選んでください（{'／'.join(OUTCOMES)}）"
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        return f"不明な相談内容です: {'、'.join(unknown)}"
    if len(set(topics)) != len(topics):
        return "相談内容が重複しています"
    return None
