// The reports page: the monthly report (figures, suppressed tables, SVG charts),
// staff's edit of the analysis text, and downloads. Supervisors and admins only:
// console-api checks the role; this page only says so.
// Values are inserted with textContent / SVG text nodes, never as HTML.

import { api, ApiError } from "./api.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const FIGURES = {
  cases: "相談件数", cases_closed: "終了した相談", clients_new: "新規相談者",
  clients_returning: "継続相談者", messages_in: "受信メッセージ", media_refused: "受け取らなかった画像等",
  messages_out: "送信メッセージ", pushes_failed: "送信失敗", urgent_messages: "緊急度の高いメッセージ",
  urgent_cases: "緊急度の高い相談", handled: "対応", abandoned: "離脱", refused: "受付不可", open: "継続中",
};
const state = { report: null };

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-Requested-With"] = "sodan";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, (data && data.detail) || "通信エラーが発生しました");
  return data;
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// Horizontal bars; a suppressed cell gets no bar (its length would give it away).
export function barChart(cells, width = 300) {
  const rowH = 18, labelW = 100;
  const top = Math.max(1, ...cells.map((c) => c.value ?? 0));
  const svg = svgEl("svg", { width, height: cells.length * rowH + 4, role: "img" });
  cells.forEach((c, i) => {
    const y = i * rowH + 2;
    svg.append(svgEl("text", { x: labelW - 4, y: y + 12, "text-anchor": "end", class: "chart-text" }, c.label));
    if (c.value === null) {
      svg.append(svgEl("text", { x: labelW + 3, y: y + 12, class: "chart-muted" }, c.display));
      return;
    }
    const w = Math.round(((width - labelW - 30) * c.value) / top);
    svg.append(svgEl("rect", { x: labelW, y: y + 2, width: w, height: 12, class: "chart-bar" }));
    svg.append(svgEl("text", { x: labelW + w + 3, y: y + 12, class: "chart-text" }, c.value));
  });
  return svg;
}

export function columnChart(labels, values, width) {
  const height = 130, base = 110, left = 6;
  const top = Math.max(1, ...values);
  const step = (width - left) / Math.max(1, values.length);
  const svg = svgEl("svg", { width, height, role: "img" });
  values.forEach((v, i) => {
    const h = Math.round((90 * v) / top), x = left + i * step;
    svg.append(svgEl("rect", { x: x + 2, y: base - h, width: step - 4, height: h, class: "chart-bar" }));
    if (v) svg.append(svgEl("text", { x: x + step / 2, y: base - h - 2, "text-anchor": "middle", class: "chart-text" }, v));
    svg.append(svgEl("text", { x: x + step / 2, y: base + 14, "text-anchor": "middle", class: "chart-text" }, labels[i]));
  });
  return svg;
}

function table(node, head, rows) {
  node.replaceChildren();
  const tr = el("tr");
  for (const h of head) tr.append(el("th", h));
  node.append(tr);
  for (const row of rows) {
    const r = el("tr");
    row.forEach((v, i) => r.append(el("td", v ?? "—", i ? "n" : "")));
    node.append(r);
  }
}

function params() {
  const p = new URLSearchParams({ month: $("report-month").value });
  const channel = $("report-channel").value.trim();
  if (channel) p.set("channel", channel);
  return p;
}

function setDownloads() {
  for (const fmt of ["pdf", "xlsx", "csv"]) {
    const p = params();
    p.set("format", fmt);
    $(`dl-${fmt}`).href = `/api/reports/monthly?${p}`;
  }
  const from = $("final-from").value, to = $("final-to").value;
  for (const fmt of ["pdf", "xlsx", "csv"]) {
    const p = new URLSearchParams({ from, to, format: fmt });
    const channel = $("report-channel").value.trim();
    if (channel) p.set("channel", channel);
    $(`final-${fmt}`).href = `/api/reports/final?${p}`;
  }
}

function render(report) {
  state.report = report;
  $("report").hidden = false;
  $("report-title").textContent = report.title;
  $("report-meta").textContent =
    `期間 ${report.from}〜${report.to}（日本時間）／チャネル ${report.channel || "全チャネル"}／` +
    `${report.threshold}件未満の欄は「${report.threshold}未満」と表示`;
  const figures = $("figures");
  figures.replaceChildren();
  for (const [key, value] of Object.entries(report.figures)) {
    const box = el("div", undefined, "figure");
    box.append(el("div", FIGURES[key] || key, "label"), el("div", value, "value"));
    figures.append(box);
  }
  table($("comparisons"), ["項目", "当月", "前月", "前年同月"],
    report.comparisons.map((c) => [c.label, c.current, c.previous_month, c.same_month_last_year]));
  const byKey = Object.fromEntries(report.breakdowns.map((t) => [t.key, t]));
  const times = $("time-charts");
  times.replaceChildren(
    columnChart(byKey.weekday.cells.map((c) => c.label), byKey.weekday.cells.map((c) => c.value ?? 0), 240),
    columnChart(byKey.hour.cells.map((c) => c.label.replace("時", "")), byKey.hour.cells.map((c) => c.value ?? 0), 620),
  );
  const tables = $("breakdowns");
  tables.replaceChildren();
  for (const t of report.breakdowns) {
    if (t.key === "weekday" || t.key === "hour") continue;
    const box = el("div");
    box.append(el("h4", `${t.title}（合計 ${t.total_display}）`), barChart(t.cells));
    if (t.note) box.append(el("p", t.note, "muted"));
    tables.append(box);
  }
  const minutes = (v) => (v === null ? "—" : `${v}分`);
  table($("durations"), ["", "中央値", "90パーセンタイル", "計測件数"], [
    ["受付から担当割当まで", minutes(report.waiting.median_minutes), minutes(report.waiting.p90_minutes), report.waiting.cases],
    ["受付から初回返信まで", minutes(report.first_response.median_minutes), minutes(report.first_response.p90_minutes), report.first_response.cases],
  ]);
  table($("staff"), ["相談員", "担当した相談", "送信メッセージ"],
    report.staff.map((s) => [s.label, s.cases_assigned, s.messages_sent]));
  $("analysis").value = report.analysis;
  $("analysis-state").textContent = report.analysis_edited ? "編集済みの所見です" : "自動生成の所見です";
}

async function load() {
  $("report-error").hidden = true;
  setDownloads();
  try {
    render(await request("GET", `/api/reports/monthly?${params()}`));
  } catch (error) {
    $("report").hidden = true;
    $("report-error").textContent = error.message;
    $("report-error").hidden = false;
  }
}

async function saveAnalysis(text) {
  const channel = $("report-channel").value.trim() || null;
  try {
    await request("PUT", "/api/reports/monthly/analysis", { month: $("report-month").value, channel, text });
    await load();
    $("analysis-state").textContent = text.trim() ? "所見を保存しました" : "自動生成の文に戻しました";
  } catch (error) {
    $("analysis-state").textContent = error.message;
  }
}

function lastMonth() {
  const now = new Date();
  const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

async function start() {
  let me;
  try {
    me = await api.me();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) location.href = "/";
    throw error;
  }
  if (me.role !== "supervisor" && me.role !== "admin") {
    $("report-denied").textContent = "報告はスーパーバイザーと管理者だけが見られます";
    $("report-denied").hidden = false;
    return;
  }
  $("report-main").hidden = false;
  // the console's notice links here with ?month=YYYY-MM
  const asked = new URLSearchParams(location.search).get("month");
  $("report-month").value = /^\d{4}-\d{2}$/.test(asked || "") ? asked : lastMonth();
  // the fiscal year (April to March) the last month belongs to
  const [y, m] = lastMonth().split("-").map(Number);
  const fy = m >= 4 ? y : y - 1;
  $("final-from").value = `${fy}-04-01`;
  $("final-to").value = `${fy + 1}-03-31`;
  $("report-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("final-form").addEventListener("input", setDownloads);
  $("report-channel").addEventListener("input", setDownloads);
  $("analysis-save").addEventListener("click", () => saveAnalysis($("analysis").value));
  $("analysis-reset").addEventListener("click", () => saveAnalysis(""));
  await load();
}

start();
