"""A report as CSV (UTF-8 with BOM, for Excel), XLSX and printable HTML (A4, SVG charts).

All three are built from the suppressed report, never from raw rows: a
download can't show more than the report does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from sodan_reporting.monthly import HEADLINES, Breakdown, Durations, Report

FIGURE_LABELS: dict[str, str] = {
    "cases": "相談件数",
    "cases_closed": "終了した相談",
    "clients_new": "新規相談者",
    "clients_returning": "継続相談者",
    "messages_in": "受信メッセージ",
    "media_refused": "受け取らなかった画像等",
    "messages_out": "送信メッセージ",
    "pushes_failed": "送信失敗",
    "urgent_messages": "緊急度の高いメッセージ",
    "urgent_cases": "緊急度の高い相談",
    "handled": "対応",
    "abandoned": "離脱",
    "refused": "受付不可",
    "open": "継続中",
}


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:g}分"


def _channel(report: Report) -> str:
    return report.channel or "全チャネル"


def rows(report: Report) -> Iterator[list[str]]:
    """The report as (section, item, value, …) rows: the CSV, and the XLSX's sheets."""
    yield ["区分", "項目", "値", "備考"]
    yield ["報告", "名称", report.title, ""]
    yield ["報告", "期間", f"{report.first_day}〜{report.last_day}", "日本時間"]
    yield ["報告", "チャネル", _channel(report), ""]
    yield [
        "報告",
        "秘匿基準",
        f"{report.threshold}未満の件数は「{report.threshold}未満」と表示",
        "",
    ]
    for key, value in report.figures.items():
        yield ["概要", FIGURE_LABELS.get(key, key), str(value), ""]
    for name, d in (
        ("待ち時間（割当まで）", report.waiting),
        ("初回返信まで", report.first_response),
    ):
        yield ["時間", f"{name} 中央値", _minutes(d.median_minutes), f"{d.cases}件で計測"]
        yield ["時間", f"{name} 90パーセンタイル", _minutes(d.p90_minutes), ""]
    for table in report.breakdowns:
        for cell in table.cells:
            yield [table.title, cell.label, cell.display, ""]
        yield [table.title, "合計", table.total_display, table.note]
    for c in report.comparisons:
        yield [
            "前月・前年同月比較",
            c.label,
            str(c.current),
            f"前月 {_opt(c.previous_month)} / 前年同月 {_opt(c.same_month_last_year)}",
        ]
    for m in report.months:
        for key, _label, _unit in HEADLINES:
            yield ["月別", f"{m.month} {FIGURE_LABELS[key]}", str(m.figures.get(key, 0)), ""]
    for s in report.staff:
        yield ["相談員別", s.label, str(s.cases_assigned), f"送信 {s.messages_sent}件"]
    yield ["所見", "分析", report.analysis, ""]


def _opt(value: int | None) -> str:
    return "—" if value is None else str(value)


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows(report))
    # BOM: Excel opens UTF-8 CSV as Shift_JIS without it
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: Report) -> bytes:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "概要"
    bold = Font(bold=True)
    head = PatternFill("solid", fgColor="DDE6F0")
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(["期間", f"{report.first_day}〜{report.last_day}（日本時間）"])
    summary.append(["チャネル", _channel(report)])
    summary.append(["秘匿基準", f"{report.threshold}未満の件数は「{report.threshold}未満」"])
    summary.append([])
    summary.append(["項目", "値"])
    for key, value in report.figures.items():
        summary.append([FIGURE_LABELS.get(key, key), value])
    summary.append([])
    for name, d in (
        ("待ち時間（割当まで）", report.waiting),
        ("初回返信まで", report.first_response),
    ):
        summary.append([f"{name} 中央値（分）", d.median_minutes])
        summary.append([f"{name} 90パーセンタイル（分）", d.p90_minutes])
    if report.comparisons:
        summary.append([])
        summary.append(["比較", "当月", "前月", "前年同月"])
        for c in report.comparisons:
            summary.append([c.label, c.current, c.previous_month, c.same_month_last_year])
    summary.append([])
    summary.append(["所見"])
    summary.append([report.analysis])
    summary.column_dimensions["A"].width = 34
    summary.column_dimensions["B"].width = 18

    tables = wb.create_sheet("内訳")
    for table in report.breakdowns:
        tables.append([table.title, "件数"])
        for header in tables[tables.max_row]:
            header.font, header.fill = bold, head
        for cell in table.cells:
            # a suppressed cell stays text (「3未満」); a shown one is a number Excel can sum
            tables.append([cell.label, cell.value if cell.value is not None else cell.display])
        tables.append(["合計", table.total if table.total is not None else table.total_display])
        if table.note:
            tables.append([table.note])
        tables.append([])
    tables.column_dimensions["A"].width = 30

    staff = wb.create_sheet("相談員別")
    staff.append(["相談員", "担当した相談", "送信メッセージ"])
    for s in report.staff:
        staff.append([s.label, s.cases_assigned, s.messages_sent])
    if report.months:
        months = wb.create_sheet("月別")
        months.append(["月", *(label for _, label, _ in HEADLINES)])
        for m in report.months:
            months.append([m.month, *(m.figures.get(k, 0) for k, _, _ in HEADLINES)])
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- HTML for print (and the PDF) ------------------------------------------------

BAR = "#3b6ea5"


def bar_chart(table: Breakdown, *, width: int = 200) -> str:
    """Horizontal bars; a suppressed cell has no bar, only its label (no length leaks it)."""
    row_h, label_w = 17, 78
    shown = [c.value for c in table.cells if c.value is not None]
    top = max(shown, default=0) or 1
    height = row_h * len(table.cells) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(table.title)}">'
    ]
    for i, c in enumerate(table.cells):
        y = i * row_h + 2
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 12}" text-anchor="end" font-size="10">'
            f"{escape(c.label)}</text>"
        )
        if c.value is not None:
            w = round((width - label_w - 24) * c.value / top)
            parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="12" fill="{BAR}"/>')
            parts.append(
                f'<text x="{label_w + w + 3}" y="{y + 12}" font-size="10">{c.value}</text>'
            )
        else:
            parts.append(
                f'<text x="{label_w + 3}" y="{y + 12}" font-size="10" fill="#666">'
                f"{escape(c.display)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(labels: Sequence[str], values: Sequence[int], *, width: int = 680) -> str:
    height, base, left = 130, 110, 24
    top = max(values, default=0) or 1
    step = (width - left) / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
        f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="#999"/>'
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = round(90 * v / top)
        x = left + i * step
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{base - h}" width="{step - 4:.1f}" height="{h}" fill="{BAR}"/>'
        )
        if v:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{base - h - 2}" font-size="9" '
                f'text-anchor="middle">{v}</text>'
            )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{base + 12}" font-size="9" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table_html(table: Breakdown) -> str:
    body = "".join(
        f"<tr><td>{escape(c.label)}</td><td class=n>{escape(c.display)}</td></tr>"
        for c in table.cells
    )
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f'<section class="bd"><h3>{escape(table.title)}</h3>'
        f'<div class="pair"><table>{body}<tr class="tot"><td>合計</td>'
        f'<td class="n">{escape(table.total_display)}</td></tr></table>'
        f"{bar_chart(table)}</div>{note}</section>"
    )


def _durations_html(name: str, d: Durations) -> str:
    return (
        f"<tr><td>{name}</td><td class=n>{_minutes(d.median_minutes)}</td>"
        f"<td class=n>{_minutes(d.p90_minutes)}</td><td class=n>{d.cases}</td></tr>"
    )


CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: 'IPAexGothic', 'IPAexゴシック', sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 4px; } h2 { font-size: 12pt; border-bottom: 2px solid #3b6ea5;
 margin: 14px 0 6px; } h3 { font-size: 10.5pt; margin: 6px 0 2px; }
.meta { color: #333; margin-bottom: 6px; }
table { border-collapse: collapse; } td, th { border: 1px solid #bbb; padding: 1px 6px;
 white-space: nowrap; }
th { background: #dde6f0; } .n { text-align: right; } .tot td { font-weight: bold; }
.pair { display: flex; gap: 10px; align-items: flex-start; }
.bd { break-inside: avoid; } .grid { display: grid; grid-template-columns: 1fr 1fr;
 gap: 4px 16px; align-items: start; }
.note { font-size: 8pt; color: #444; margin: 2px 0; }
.analysis { white-space: pre-wrap; border: 1px solid #bbb; padding: 6px; }
svg text { font-family: 'IPAexGothic', sans-serif; }
"""


def to_html(report: Report) -> str:
    f = report.figures
    figures = "".join(
        f"<tr><td>{escape(FIGURE_LABELS.get(k, k))}</td><td class=n>{v}</td></tr>"
        for k, v in f.items()
    )
    comparison = ""
    if report.comparisons:
        comparison = (
            "<h2>前月・前年同月との比較</h2><table><tr><th>項目</th><th>当月</th>"
            "<th>前月</th><th>前年同月</th></tr>"
            + "".join(
                f"<tr><td>{escape(c.label)}</td><td class=n>{c.current}</td>"
                f"<td class=n>{_opt(c.previous_month)}</td>"
                f"<td class=n>{_opt(c.same_month_last_year)}</td></tr>"
                for c in report.comparisons
            )
            + "</table>"
        )
    months = ""
    if report.months:
        months = (
            "<h2>月別の推移（相談件数）</h2>"
            + column_chart(
                [m.month[2:] for m in report.months], [m.figures["cases"] for m in report.months]
            )
            + "<table><tr><th>月</th>"
            + "".join(f"<th>{escape(label)}</th>" for _, label, _ in HEADLINES)
            + "</tr>"
            + "".join(
                f"<tr><td>{m.month}</td>"
                + "".join(f"<td class=n>{m.figures.get(k, 0)}</td>" for k, _, _ in HEADLINES)
                + "</tr>"
                for m in report.months
            )
            + "</table>"
        )
    by_key = {t.key: t for t in report.breakdowns}
    hour = by_key["hour"]
    weekday = by_key["weekday"]
    attribute_tables = "".join(
        _table_html(t) for t in report.breakdowns if t.key not in ("hour", "weekday")
    )
    staff = "".join(
        f"<tr><td>{escape(s.label)}</td><td class=n>{s.cases_assigned}</td>"
        f"<td class=n>{s.messages_sent}</td></tr>"
        for s in report.staff
    )
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>{escape(report.title)}</title><style>{CSS}</style></head><body>
<h1>{escape(report.title)}</h1>
<div class="meta">期間: {report.first_day}〜{report.last_day}（日本時間）　チャネル: {escape(_channel(report))}
　秘匿基準: {report.threshold}件未満の欄は「{report.threshold}未満」と表示</div>
<h2>概要</h2><div class="grid"><table>{figures}</table>
<table><tr><th></th><th>中央値</th><th>90%</th><th>件数</th></tr>
{_durations_html("受付から担当割当まで", report.waiting)}
{_durations_html("受付から初回返信まで", report.first_response)}</table></div>
{comparison}{months}
<h2>曜日別・時間帯別（受付）</h2>
<div class="pair">{column_chart([c.label for c in weekday.cells], [c.value or 0 for c in weekday.cells], width=220)}
{column_chart([c.label.removesuffix("時") for c in hour.cells], [c.value or 0 for c in hour.cells], width=470)}</div>
<h2>内訳</h2><div class="grid">{attribute_tables}</div>
<h2>相談員別の対応状況</h2><p class="note">相談員は匿名（担当件数の多い順にA, B, …）で表示します。</p>
<table><tr><th>相談員</th><th>担当した相談</th><th>送信メッセージ</th></tr>{staff}</table>
<h2>所見</h2><div class="analysis">{escape(report.analysis)}</div>
</body></html>"""


async def render(report: Report, fmt: str, *, chromium_path: str) -> bytes:
    """The report in one of the download formats (json, csv, xlsx, pdf, html)."""
    if fmt == "json":
        return report.model_dump_json(by_alias=True, indent=2).encode()
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "html":
        return to_html(report).encode()
    if fmt == "pdf":
        from sodan_reporting.pdf import html_to_pdf

        return await html_to_pdf(to_html(report), chromium_path=chromium_path)
    raise ValueError(f"unknown format {fmt!r}")
