"""The monthly report and the final report (業務完了報告書): pure assembly over query results.

Everything here is a function of plain data (cases opened in the period,
daily counts, workload rows), so every figure is unit-tested without a
database. Labels are Japanese because the report is read and printed as is.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, Field
from sodan_shared.closing import CLIENT_ENDED, CLIENT_ENDED_LABEL, SURVEY_ANSWERS
from sodan_shared.events.triage import URGENCY_LABEL_JA

from sodan_reporting.days import TOKYO, percentile, start_of_day
from sodan_reporting.db.queries import CaseRow
from sodan_reporting.suppression import DEFAULT_THRESHOLD, suppress

UNANSWERED = "未回答"
OTHER = "その他"
AGE_GROUPS = ("10代以下", "20代", "30代", "40代", "50代", "60代以上", "不明")
REGIONS = ("北勢", "中勢", "南勢志摩", "伊賀", "東紀州", "県外", "不明")
URGENCY_ORDER = ("critical", "high", "medium", "normal")
WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")
HANDLING = ("対応", "離脱", "受付不可", "継続中")
HANDLING_NOTE = {
    "対応": "相談員が1通以上返信した相談",
    "離脱": "相談員の返信より前に終了した相談",
    "受付不可": "受付時間外・受付停止で受け付けられなかった相談",
    "継続中": "期間末で未返信かつ未終了の相談",
}
REFUSED_LABEL = {"out_of_hours": "受付時間外", "suspended": "受付停止"}

# The headline figures compared between months (key, label, unit).
HEADLINES: tuple[tuple[str, str, str], ...] = (
    ("cases", "相談件数", "件"),
    ("clients_new", "新規相談者", "人"),
    ("clients_returning", "継続相談者", "人"),
    ("messages_in", "受信メッセージ", "件"),
    ("messages_out", "送信メッセージ", "件"),
    ("urgent_cases", "緊急度の高い相談", "件"),
    ("handled", "対応", "件"),
    ("abandoned", "離脱", "件"),
    ("refused", "受付不可", "件"),
)


class TableCell(BaseModel):
    label: str
    value: int | None = Field(description="None when suppressed")
    display: str


class Breakdown(BaseModel):
    key: str
    title: str
    cells: list[TableCell]
    total: int | None
    total_display: str
    suppressed: bool = Field(description="Small-cell suppression applies to this table")
    note: str = ""


class Durations(BaseModel):
    cases: int = Field(description="Cases measured")
    median_minutes: float | None
    p90_minutes: float | None


class StaffLoad(BaseModel):
    label: str = Field(description="Anonymised: 相談員A, 相談員B, … (most cases first)")
    cases_assigned: int
    messages_sent: int


class Comparison(BaseModel):
    key: str
    label: str
    unit: str
    current: int
    previous_month: int | None
    same_month_last_year: int | None


class MonthRow(BaseModel):
    month: str
    figures: dict[str, int]


class Report(BaseModel):
    kind: str = Field(description="monthly or final")
    title: str
    period_label: str
    first_day: date = Field(serialization_alias="from")
    last_day: date = Field(serialization_alias="to")
    channel: str | None
    timezone: str = "Asia/Tokyo"
    threshold: int = Field(description="Cells below this count are shown as 「N未満」")
    figures: dict[str, int] = Field(description="Headline figures (totals, not suppressed)")
    breakdowns: list[Breakdown]
    waiting: Durations = Field(description="Opening to first assignment")
    first_response: Durations = Field(description="Opening to the counsellor's first message")
    staff: list[StaffLoad]
    comparisons: list[Comparison] = Field(default_factory=list)
    months: list[MonthRow] = Field(default_factory=list, description="Final report: per month")
    analysis: str = Field(default="", description="Text to send (staff's edit if any)")
    analysis_generated: str = ""
    analysis_edited: bool = False


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    channel: str | None


def _ordered(
    counter: Counter[str], order: Sequence[str], *, merge_below: int = 0
) -> list[tuple[str, int]]:
    """Known labels in their order (zeros too), others alphabetically, 未回答 last.

    Labels outside ``order`` are free text (an outcome, a topic a counsellor
    typed): one counted fewer than ``merge_below`` times is merged into
    「その他」, so its wording, which could name someone, never shows.
    """
    rows = [(label, counter.get(label, 0)) for label in order]
    extra = sorted(k for k in counter if k not in order and k not in (UNANSWERED, OTHER))
    merged = counter.get(OTHER, 0)
    for label in extra:
        if counter[label] < merge_below:
            merged += counter[label]
        else:
            rows.append((label, counter[label]))
    if merged or OTHER in order:
        rows.append((OTHER, merged))
    rows.append((UNANSWERED, counter.get(UNANSWERED, 0)))
    return rows


def _outcome_label(outcome: str | None) -> str | None:
    """The closing form's outcomes are Japanese labels already (sodan_shared.closing);
    the client's own end word is recorded as a code."""
    return CLIENT_ENDED_LABEL if outcome == CLIENT_ENDED else outcome


def _answer(value: str | None) -> str:
    return value.strip() if value and value.strip() else UNANSWERED


def handling_of(case: CaseRow) -> str:
    if case.refused is not None:
        return "受付不可"
    if case.counsellor_messages > 0:
        return "対応"
    if case.closed_at is not None:
        return "離脱"
    return "継続中"


def _table(
    key: str,
    title: str,
    rows: list[tuple[str, int]],
    *,
    total: int,
    threshold: int,
    protect: bool = True,
    note: str = "",
) -> Breakdown:
    if not protect:
        cells = [TableCell(label=label, value=v, display=str(v)) for label, v in rows]
        return Breakdown(
            key=key,
            title=title,
            cells=cells,
            total=total,
            total_display=str(total),
            suppressed=False,
            note=note,
        )
    table = suppress(rows, total=total, threshold=threshold)
    return Breakdown(
        key=key,
        title=title,
        cells=[
            TableCell(
                label=c.label, value=None if c.suppressed else c.value, display=c.display(threshold)
            )
            for c in table.cells
        ],
        total=None if table.total_suppressed else table.total,
        total_display=table.total_display(threshold),
        suppressed=True,
        note=note,
    )


def breakdowns(cases: Sequence[CaseRow], *, threshold: int) -> list[Breakdown]:
    n = len(cases)

    def one(key: str, title: str, values: Iterable[str | None], order: Sequence[str]) -> Breakdown:
        counter = Counter(_answer(v) for v in values)
        rows = _ordered(counter, order, merge_below=threshold)
        return _table(key, title, rows, total=n, threshold=threshold)

    topics: Counter[str] = Counter()
    for case in cases:
        topics.update(set(case.topics) or {UNANSWERED})
    urgency = Counter(URGENCY_LABEL_JA.get(c.max_urgency, c.max_urgency) for c in cases)
    handling = Counter(handling_of(c) for c in cases)
    refused = Counter(REFUSED_LABEL.get(c.refused, c.refused) for c in cases if c.refused)
    weekday = Counter(WEEKDAYS[c.opened_at.astimezone(TOKYO).weekday()] for c in cases)
    hour = Counter(f"{c.opened_at.astimezone(TOKYO).hour}時" for c in cases)
    surveyed = [c for c in cases if c.survey_sent]
    survey = Counter(_answer(c.survey_answer) for c in surveyed)
    urgency_rows = [
        (URGENCY_LABEL_JA[u], urgency.get(URGENCY_LABEL_JA[u], 0)) for u in URGENCY_ORDER
    ]
    return [
        one("age_group", "年齢別", (c.age_group for c in cases), AGE_GROUPS),
        one("region", "地区別", (c.region for c in cases), REGIONS),
        one("gender_identity", "性自認別", (c.gender_identity for c in cases), ()),
        _table(
            "topic",
            "相談内容別",
            _ordered(topics, (), merge_below=threshold),
            total=n,
            threshold=threshold,
            note="1件の相談が複数の内容に数えられることがあります",
        ),
        one("outcome", "対応結果別", (_outcome_label(c.outcome) for c in cases), ()),
        _table(
            "survey",
            "事後アンケート（相談は役に立ちましたか）",
            _ordered(survey, SURVEY_ANSWERS, merge_below=threshold),
            total=len(surveyed),
            threshold=threshold,
            note="アンケートを送った相談のみ。未回答は送ったが答えがなかったもの",
        ),
        # The desk's own work (urgency, handling) and time are not who a client
        # is: not suppressed, like the headline figures that repeat them.
        _table("urgency", "緊急度別", urgency_rows, total=n, threshold=threshold, protect=False),
        _table(
            "handling",
            "対応状況",
            [(label, handling.get(label, 0)) for label in HANDLING],
            total=n,
            threshold=threshold,
            protect=False,
            note="、".join(f"{k}: {v}" for k, v in HANDLING_NOTE.items()),
        ),
        _table(
            "refused",
            "受付不可の理由",
            [(label, refused.get(label, 0)) for label in REFUSED_LABEL.values()],
            total=sum(refused.values()),
            threshold=threshold,
            protect=False,
        ),
        _table(
            "weekday",
            "曜日別",
            [(d, weekday.get(d, 0)) for d in WEEKDAYS],
            total=n,
            threshold=threshold,
            protect=False,
        ),
        _table(
            "hour",
            "時間帯別（受付時刻）",
            [(f"{h}時", hour.get(f"{h}時", 0)) for h in range(24)],
            total=n,
            threshold=threshold,
            protect=False,
        ),
    ]


def durations(cases: Sequence[CaseRow], *, response: bool) -> Durations:
    minutes = []
    for c in cases:
        end = c.first_response_at if response else c.first_assigned_at
        if end is not None:
            minutes.append(max(0.0, (end - c.opened_at).total_seconds() / 60))
    median, p90 = percentile(minutes, 50), percentile(minutes, 90)
    return Durations(
        cases=len(minutes),
        median_minutes=None if median is None else round(median, 1),
        p90_minutes=None if p90 is None else round(p90, 1),
    )


def staff_label(index: int) -> str:
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = letters[rest] + name
    return f"相談員{name}"


def staff_loads(rows: Iterable[tuple[UUID, str, int]]) -> list[StaffLoad]:
    """Anonymised workload, most cases first (ties: most messages, then a stable id order)."""
    per: dict[UUID, dict[str, int]] = {}
    for staff_id, metric, value in rows:
        per.setdefault(staff_id, {})[metric] = value
    ordered = sorted(
        per.items(),
        key=lambda kv: (-kv[1].get("cases_assigned", 0), -kv[1].get("messages_sent", 0), kv[0]),
    )
    return [
        StaffLoad(
            label=staff_label(i),
            cases_assigned=m.get("cases_assigned", 0),
            messages_sent=m.get("messages_sent", 0),
        )
        for i, (_, m) in enumerate(ordered)
    ]


def headline(
    cases: Sequence[CaseRow], counts: dict[str, int], clients: tuple[int, int]
) -> dict[str, int]:
    handling = Counter(handling_of(c) for c in cases)
    return {
        "cases": len(cases),
        "cases_closed": counts.get("cases_closed", 0),
        "clients_new": clients[0],
        "clients_returning": clients[1],
        "messages_in": counts.get("messages_in", 0),
        "media_refused": counts.get("media_refused", 0),
        "messages_out": counts.get("messages_out", 0),
        "pushes_failed": counts.get("pushes_failed", 0),
        "urgent_messages": counts.get("urgent_messages", 0),
        "urgent_cases": sum(1 for c in cases if c.max_urgency in ("high", "critical")),
        "handled": handling.get("対応", 0),
        "abandoned": handling.get("離脱", 0),
        "refused": handling.get("受付不可", 0),
        "open": handling.get("継続中", 0),
    }


def comparisons(
    current: dict[str, int], previous: dict[str, int] | None, last_year: dict[str, int] | None
) -> list[Comparison]:
    return [
        Comparison(
            key=key,
            label=label,
            unit=unit,
            current=current.get(key, 0),
            previous_month=None if previous is None else previous.get(key, 0),
            same_month_last_year=None if last_year is None else last_year.get(key, 0),
        )
        for key, label, unit in HEADLINES
    ]


def _change(now: int, before: int, unit: str) -> str:
    if now == before:
        return "同数"
    diff = now - before
    rate = f"、{abs(diff) / before:.0%}" if before else ""
    return f"{abs(diff)}{unit}{'増' if diff > 0 else '減'}{rate}"


def month_label(first: date) -> str:
    return f"{first.year}年{first.month}月"


def analysis_ja(
    *,
    period_label: str,
    figures: dict[str, int],
    previous: dict[str, int] | None,
    last_year: dict[str, int] | None,
    tables: Sequence[Breakdown],
    first_response: Durations,
    threshold: int,
) -> str:
    """A short draft in Japanese from the figures; staff edit it before sending."""
    lines: list[str] = []
    cases = figures["cases"]
    sentence = f"{period_label}の相談件数は{cases}件でした"
    if previous is not None:
        sentence += f"（前月{previous['cases']}件から{_change(cases, previous['cases'], '件')}）"
    lines.append(sentence + "。")
    if last_year is not None:
        lines.append(
            f"前年同月は{last_year['cases']}件で、"
            f"{_change(cases, last_year['cases'], '件')}でした。"
        )
    lines.append(
        f"新規の相談者は{figures['clients_new']}人、継続の相談者は{figures['clients_returning']}人、"
        f"受信メッセージは{figures['messages_in']}件、相談員からの送信は{figures['messages_out']}件でした。"
    )
    if previous is not None:
        rose: list[str] = []
        fell: list[str] = []
        for key, label, _unit in HEADLINES[1:]:
            now, before = figures.get(key, 0), previous.get(key, 0)
            (rose if now > before else fell if now < before else []).append(label)
        if rose:
            lines.append(f"前月より増えたもの: {'、'.join(rose)}。")
        if fell:
            lines.append(f"前月より減ったもの: {'、'.join(fell)}。")
    lines.append(f"緊急度の高い相談（緊急・高）は{figures['urgent_cases']}件でした。")
    lines.append(
        f"対応{figures['handled']}件、離脱{figures['abandoned']}件、受付不可{figures['refused']}件でした。"
    )
    if first_response.median_minutes is not None:
        lines.append(
            f"相談員の最初の返信までの時間は中央値{first_response.median_minutes:g}分"
            f"（90パーセンタイル{first_response.p90_minutes:g}分）でした。"
        )
    topics = next((t for t in tables if t.key == "topic"), None)
    if topics is not None:
        shown = [c for c in topics.cells if c.label != UNANSWERED and (c.value or 0) >= threshold]
        if shown:
            top = max(shown, key=lambda c: c.value or 0)
            lines.append(f"相談内容で最も多かったのは「{top.label}」（{top.value}件）でした。")
    return "\n".join(lines)


def build_report(
    *,
    kind: str,
    title: str,
    period: Period,
    period_label: str,
    cases: Sequence[CaseRow],
    counts: dict[str, int],
    clients: tuple[int, int],
    staff_rows: Iterable[tuple[UUID, str, int]],
    previous: dict[str, int] | None = None,
    last_year: dict[str, int] | None = None,
    months: Sequence[MonthRow] = (),
    note: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> Report:
    figures = headline(cases, counts, clients)
    tables = breakdowns(cases, threshold=threshold)
    first_response = durations(cases, response=True)
    generated = analysis_ja(
        period_label=period_label,
        figures=figures,
        previous=previous,
        last_year=last_year,
        tables=tables,
        first_response=first_response,
        threshold=threshold,
    )
    return Report(
        kind=kind,
        title=title,
        period_label=period_label,
        first_day=period.first,
        last_day=period.last,
        channel=period.channel,
        threshold=threshold,
        figures=figures,
        breakdowns=tables,
        waiting=durations(cases, response=False),
        first_response=first_response,
        staff=staff_loads(staff_rows),
        comparisons=comparisons(figures, previous, last_year) if kind == "monthly" else [],
        months=list(months),
        analysis=note if note is not None else generated,
        analysis_generated=generated,
        analysis_edited=note is not None,
    )


def opened_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants a period of Japan-time days spans, [start, end)."""
    return start_of_day(first), start_of_day(last + timedelta(days=1))
