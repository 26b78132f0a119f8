// Supervisors' screens and controls: the assignment mode in the top bar, the staff
// panel (presence, load, capacity), the automatic-text and calendar editors,
// reassign / take-over / pick-up in the chat head, and handback notices.
// Everything is rendered with textContent.

import { ApiError } from "./api.js";

const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// {status, data}; a 4xx/5xx throws ApiError with the server's Japanese detail.
export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-Requested-With"] = "sodan";
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (response.status === 401) window.dispatchEvent(new Event("sodan:unauthorized"));
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.detail) || "通信エラーが発生しました");
  }
  return { status: response.status, data };
}

export const isSupervisor = (me) => me && me.role === "supervisor";
const seesSupervision = (me) => me && ["supervisor", "admin"].includes(me.role);

export const PRESENCE = { available: "対応可", away: "離席", break: "休憩", offline: "オフライン" };
const ROLE = { counsellor: "相談員", supervisor: "SV", admin: "管理者" };
const MODE = { auto: "自動割当", manual: "手動ピックアップ" };
const WEEKDAYS = ["月", "火", "水", "木", "金", "土", "日"];

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

// --- the assignment mode (top bar) ------------------------------------------------

export class AssignmentMode {
  constructor({ onChanged }) {
    this.onChanged = onChanged;
    this.mode = "auto";
    this.me = null;
    $("assign-mode-select").addEventListener("change", (e) => this.set(e.target.value));
  }

  async refresh(me) {
    if (me) this.me = me;
    try {
      const { data } = await call("GET", "/api/assignment-mode");
      this.mode = data.mode;
      const label = $("assign-mode");
      label.hidden = isSupervisor(this.me); // supervisors see it in their switch
      label.className = `assign-mode ${data.mode}`;
      label.textContent = MODE[data.mode];
      label.title = data.changed_by_name
        ? `${data.changed_by_name} が ${when(data.changed_at)} に切り替え`
        : "割当方法";
      const select = $("assign-mode-select");
      select.value = data.mode;
      $("assign-mode-control").hidden = !isSupervisor(this.me);
    } catch {
      // the top bar simply keeps the last known mode
    }
    this.onChanged(this.mode);
  }

  async set(mode) {
    const select = $("assign-mode-select");
    const text =
      mode === "manual"
        ? "手動ピックアップにすると、受付待ちの相談は自動では割り当てられません。相談員が「対応する」で選びます。切り替えますか？"
        : "自動割当に戻すと、受付待ちの相談はすぐに空いている相談員へ割り当てられます。切り替えますか？";
    if (!confirm(text)) {
      select.value = this.mode;
      return;
    }
    try {
      await call("PUT", "/api/assignment-mode", { mode });
    } catch (e) {
      select.value = this.mode;
      alert(e.message);
      return;
    }
    await this.refresh();
  }
}

// --- handback notices (supervisors) ----------------------------------------------

const SEEN_KEY = "sodan.handbacks.seen";

export class HandbackAlerts {
  constructor() {
    this.me = null;
    this.timer = null;
    this.seen = new Set(JSON.parse(sessionStorage.getItem(SEEN_KEY) || "[]"));
    this.shown = [];
    $("handback-dismiss").addEventListener("click", () => this.dismiss());
  }

  start(me) {
    this.me = me;
    this.check();
  }

  reset() {
    this.me = null;
    $("handback-alert").hidden = true;
  }

  checkSoon() {
    if (!seesSupervision(this.me)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), 300);
  }

  async check() {
    if (!seesSupervision(this.me)) return;
    let items;
    try {
      items = (await call("GET", "/api/handbacks")).data;
    } catch {
      return;
    }
    const fresh = items.filter((h) => !this.seen.has(`${h.id}:${h.cases}`));
    if (!fresh.length) return;
    this.shown = fresh;
    const list = $("handback-list");
    list.replaceChildren(
      ...fresh.map((h) =>
        el(
          "li",
          {},
          `${h.counsellor_name} さんがオフラインになり、担当していた相談 ${h.cases} 件が受付待ちに戻りました（${when(h.at)}）`,
        ),
      ),
    );
    $("handback-alert").hidden = false;
  }

  dismiss() {
    for (const h of this.shown) this.seen.add(`${h.id}:${h.cases}`);
    sessionStorage.setItem(SEEN_KEY, JSON.stringify([...this.seen]));
    $("handback-alert").hidden = true;
  }
}

// --- overlay panels ------------------------------------------------------------

export class Panel {
  constructor(root, title) {
    this.root = root;
    this.title = title;
  }

  get isOpen() {
    return !this.root.hidden;
  }

  async open() {
    this.root.hidden = false;
    this.root.replaceChildren(el("p", { class: "muted" }, "読み込み中…"));
    try {
      await this.load();
    } catch (e) {
      this.root.replaceChildren(
        this.head(),
        el("p", { class: "error", role: "alert" }, e.message),
      );
    }
  }

  close() {
    if (this.dirty && !confirm("保存していない変更があります。破棄しますか？")) return false;
    this.dirty = false;
    this.root.hidden = true;
    return true;
  }

  head(...extra) {
    return el(
      "div",
      { class: "lexicon-head" },
      el("h2", {}, this.title),
      ...extra,
      el("span", { class: "spacer" }),
      el("button", { class: "ghost", onclick: () => this.close() }, "閉じる"),
    );
  }
}

// --- staff panel --------------------------------------------------------------------

export class StaffPanel extends Panel {
  constructor(root) {
    super(root, "スタッフ");
    this.me = null;
    this.timer = null;
  }

  refreshSoon() {
    if (!this.isOpen) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load().catch(() => {}), 300);
  }

  async load() {
    const { data } = await call("GET", "/api/staff");
    this.staff = data;
    const rows = data.map((s) => this.row(s));
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "状態と対応中の件数は自動で更新されます。同時対応数（上限）を変えると、すぐに割当に使われます（変更は記録されます）。",
      ),
      el(
        "table",
        { class: "staff-table" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", {}, "名前"),
            el("th", {}, "役割"),
            el("th", {}, "状態"),
            el("th", {}, "対応中"),
            el("th", {}, "同時対応数（上限）"),
          ),
        ),
        el("tbody", {}, ...rows),
      ),
      el("p", { id: "staff-message", role: "status", class: "muted" }),
    );
  }

  row(s) {
    const input = el("input", {
      type: "number",
      min: "0",
      max: "20",
      value: String(s.capacity),
      "aria-label": `${s.display_name} の同時対応数`,
      class: "capacity-input",
    });
    const canEdit = isSupervisor(this.me) && s.role !== "admin";
    const save = el(
      "button",
      { class: "ghost", onclick: () => this.saveCapacity(s, input) },
      "変更",
    );
    input.disabled = !canEdit;
    save.hidden = !canEdit;
    const over = s.load > s.capacity;
    return el(
      "tr",
      { "data-staff-id": s.staff_id },
      el("td", {}, s.display_name),
      el("td", {}, ROLE[s.role] || s.role),
      el("td", { class: `presence-${s.presence}` }, PRESENCE[s.presence] || s.presence),
      el("td", { class: over ? "num over" : "num" }, `${s.load} / ${s.capacity}`),
      el("td", {}, input, " ", save),
    );
  }

  async saveCapacity(s, input) {
    const message = $("staff-message");
    const value = Number(input.value);
    try {
      await call("PUT", `/api/staff/${encodeURIComponent(s.staff_id)}/capacity`, {
        capacity: Number.isInteger(value) ? value : input.value,
      });
      await this.load();
      $("staff-message").className = "ok";
      $("staff-message").textContent = `${s.display_name} さんの同時対応数を ${value} 件にしました`;
    } catch (e) {
      message.className = "error";
      message.textContent = e.message;
    }
  }
}

// --- automatic texts -----------------------------------------------------------------

export class AutoTextEditor extends Panel {
  constructor(root) {
    super(root, "自動応答文");
    this.dirty = false;
  }

  async load() {
    const { data } = await call("GET", "/api/auto-texts");
    this.dirty = false;
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "相談者に自動で送られる文面です。ロック画面で他の人に読まれることがあるため、窓口名や相談の内容が分かる言葉は使えません。{ } の差し込みは送信時に置き換わります。",
      ),
      ...data.map((t) => this.card(t)),
    );
  }

  card(t) {
    const area = el("textarea", {
      rows: "6",
      maxlength: "1000",
      "aria-label": `${t.label} の本文`,
      "data-key": t.key,
    });
    area.value = t.body;
    area.addEventListener("input", () => (this.dirty = true));
    const result = el("p", { class: "muted", role: "status", "data-result": t.key });
    this.showLast(result, t);
    const chips = t.placeholders.map((p) =>
      el(
        "button",
        {
          type: "button",
          class: "chip",
          title: p.description,
          onclick: () => {
            const at = area.selectionStart ?? area.value.length;
            area.setRangeText(`{${p.name}}`, at, area.selectionEnd ?? at, "end");
            area.focus();
            this.dirty = true;
          },
        },
        `{${p.name}}`,
      ),
    );
    return el(
      "section",
      { class: "lexicon-category auto-text", "data-key": t.key },
      el("h3", {}, t.label, t.is_default ? el("span", { class: "muted" }, "（既定の文面）") : null),
      el("p", { class: "muted" }, `送られるとき: ${t.when}`),
      el(
        "details",
        {},
        el("summary", {}, "使える差し込み"),
        el(
          "ul",
          {},
          ...t.placeholders.map((p) => el("li", {}, el("code", {}, `{${p.name}}`), ` … ${p.description}`)),
        ),
      ),
      el("div", { class: "chips" }, ...chips),
      area,
      el(
        "div",
        { class: "lexicon-save" },
        el("button", { class: "primary", onclick: () => this.save(t, area, result) }, "保存"),
        el(
          "button",
          {
            class: "ghost",
            onclick: () => {
              area.value = t.default_body;
              this.dirty = true;
            },
          },
          "既定の文面を入れる",
        ),
        result,
      ),
    );
  }

  showLast(node, t) {
    if (t.last_outcome === "refused") {
      node.className = "error";
      node.textContent = `前回の保存は反映されませんでした（${when(t.last_at)}）: ${t.last_error}`;
    } else if (t.updated_at) {
      node.className = "muted";
      node.textContent = `${t.updated_by_name || ""} が ${when(t.updated_at)} に更新`;
    }
  }

  async save(t, area, result) {
    result.className = "muted";
    result.textContent = "保存中…";
    try {
      const { data } = await call("PUT", `/api/auto-texts/${encodeURIComponent(t.key)}`, {
        body: area.value,
      });
      this.dirty = false;
      result.className = "ok";
      result.textContent =
        data.status === "applied"
          ? "保存しました（routing に反映済み）"
          : "送信しました。反映を待っています（少ししてから開き直すと結果が分かります）";
    } catch (e) {
      result.className = "error";
      result.setAttribute("role", "alert");
      result.textContent = e.message;
    }
  }
}

// --- the consultation calendar ----------------------------------------------------------

const KINDS = [
  ["weekly", "毎週"],
  ["monthly", "毎月（第n）"],
  ["dated", "特別に開く日"],
  ["closed", "休業日"],
];
const NTH = [
  ["1", "第1"],
  ["2", "第2"],
  ["3", "第3"],
  ["4", "第4"],
  ["5", "第5"],
  ["-1", "最終"],
];
const HOLIDAYS = [
  ["any", "祝日も開く"],
  ["skip", "祝日は休み"],
  ["only", "祝日だけ開く"],
];

function select(options, value, label) {
  const node = el("select", { "aria-label": label });
  for (const [v, text] of options) node.append(el("option", { value: v }, text));
  node.value = value;
  return node;
}

const hhmm = (t) => (t ? t.slice(0, 5) : "");

export class HoursEditor extends Panel {
  constructor(root) {
    super(root, "相談時間");
    this.rules = [];
    this.dirty = false;
    this.timer = null;
  }

  async load() {
    const { data } = await call("GET", "/api/hours");
    this.data = data;
    this.rules = data.rules.map((r) => ({
      ...r,
      ui: r.kind === "weekly" && r.nth != null ? "monthly" : r.kind,
    }));
    this.dirty = false;
    this.render();
    this.showPreview(data.upcoming);
  }

  render() {
    const d = this.data;
    const status = el("p", { id: "hours-status", role: "status", class: "muted" });
    if (d.last_outcome === "refused") {
      status.className = "error";
      status.textContent = `前回の保存は反映されませんでした（${when(d.last_at)}）: ${d.last_error}`;
    } else if (d.updated_at) {
      status.textContent = `${d.updated_by_name || ""} が ${when(d.updated_at)} に更新`;
    } else if (d.is_seeded) {
      status.textContent = "まだ一度も編集されていません（初期値: 毎日 17:00〜22:00）";
    }
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "受付する日時の決まりです（日本時間）。休業日はその日に始まる受付をすべて取り消します。終了が開始より前なら日付をまたぎます。",
      ),
      el(
        "table",
        { class: "hours-table" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["種類", "曜日・日付", "開始", "終了", "祝日", "メモ", ""].map((h) => el("th", {}, h)),
          ),
        ),
        el("tbody", { id: "hours-rules" }, ...this.rules.map((r, i) => this.row(r, i))),
      ),
      el(
        "div",
        { class: "lexicon-save" },
        el("button", { class: "ghost", onclick: () => this.add("weekly") }, "＋ 毎週の受付"),
        el("button", { class: "ghost", onclick: () => this.add("monthly") }, "＋ 毎月の受付"),
        el("button", { class: "ghost", onclick: () => this.add("dated") }, "＋ 特別に開く日"),
        el("button", { class: "ghost", onclick: () => this.add("closed") }, "＋ 休業日"),
      ),
      el(
        "div",
        { class: "lexicon-save" },
        el("button", { class: "primary", id: "hours-save", onclick: () => this.save() }, "保存"),
        status,
      ),
      el("h3", {}, "この設定での次の受付"),
      el("p", { id: "hours-error", class: "error", role: "alert", hidden: true }),
      el("ol", { id: "hours-preview", class: "hours-preview" }),
    );
  }

  row(r, i) {
    const changed = () => {
      this.dirty = true;
      this.previewSoon();
    };
    const kind = select(KINDS, r.ui, "種類");
    kind.addEventListener("change", () => {
      r.ui = kind.value;
      r.kind = kind.value === "monthly" ? "weekly" : kind.value;
      if (r.ui === "monthly" && r.nth == null) r.nth = 1;
      if (r.ui !== "monthly") r.nth = null;
      if (r.kind === "weekly" && r.weekday == null) r.weekday = 0;
      if (r.kind !== "closed" && !r.starts) Object.assign(r, { starts: "18:00", ends: "21:00" });
      $("hours-rules").replaceChild(this.row(r, i), $("hours-rules").children[i]);
      changed();
    });
    const day = el("span", { class: "rule-day" });
    if (r.kind === "weekly") {
      if (r.ui === "monthly") {
        const nth = select(NTH, String(r.nth ?? 1), "第何");
        nth.addEventListener("change", () => {
          r.nth = Number(nth.value);
          changed();
        });
        day.append(nth);
      }
      const wd = select(
        WEEKDAYS.map((w, n) => [String(n), `${w}曜日`]),
        String(r.weekday ?? 0),
        "曜日",
      );
      wd.addEventListener("change", () => {
        r.weekday = Number(wd.value);
        changed();
      });
      day.append(wd);
    } else {
      const date = el("input", { type: "date", value: r.day || "", "aria-label": "日付" });
      date.addEventListener("change", () => {
        r.day = date.value || null;
        changed();
      });
      day.append(date);
    }
    const timeInput = (field, label) => {
      const input = el("input", { type: "time", value: hhmm(r[field]), "aria-label": label });
      input.addEventListener("change", () => {
        r[field] = input.value || null;
        changed();
      });
      input.hidden = r.kind === "closed";
      return input;
    };
    const hol = select(HOLIDAYS, r.holidays || "any", "祝日");
    hol.hidden = r.kind !== "weekly";
    hol.addEventListener("change", () => {
      r.holidays = hol.value;
      changed();
    });
    const note = el("input", { value: r.note || "", maxlength: "200", "aria-label": "メモ" });
    note.addEventListener("change", () => {
      r.note = note.value || null;
      this.dirty = true;
    });
    const remove = el(
      "button",
      {
        class: "ghost",
        onclick: () => {
          this.rules.splice(i, 1);
          this.dirty = true;
          this.rerender();
        },
      },
      "削除",
    );
    return el(
      "tr",
      { class: `rule ${r.ui}` },
      el("td", {}, kind),
      el("td", {}, day),
      el("td", {}, timeInput("starts", "開始")),
      el("td", {}, timeInput("ends", "終了")),
      el("td", {}, hol),
      el("td", {}, note),
      el("td", {}, remove),
    );
  }

  rerender() {
    $("hours-rules").replaceChildren(...this.rules.map((r, i) => this.row(r, i)));
    this.previewSoon();
  }

  add(ui) {
    const r = { ui, kind: ui === "monthly" ? "weekly" : ui, holidays: "any", nth: null };
    if (r.kind === "weekly") r.weekday = 1;
    if (ui === "monthly") r.nth = 2;
    if (r.kind !== "weekly") r.day = null;
    if (r.kind !== "closed") Object.assign(r, { starts: "18:00", ends: "21:00" });
    this.rules.push(r);
    this.dirty = true;
    this.rerender();
  }

  payload() {
    return this.rules.map((r) => {
      const out = { kind: r.kind, holidays: r.kind === "weekly" ? r.holidays || "any" : "any" };
      if (r.kind === "weekly") {
        out.weekday = r.weekday;
        if (r.ui === "monthly") out.nth = r.nth;
      } else {
        out.day = r.day;
      }
      if (r.kind !== "closed") {
        out.starts = r.starts;
        out.ends = r.ends;
      }
      if (r.note) out.note = r.note;
      return out;
    });
  }

  previewSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.preview(), 250);
  }

  async preview() {
    try {
      const { data } = await call("POST", "/api/hours/preview", { rules: this.payload() });
      this.showPreview(data);
      $("hours-error").hidden = true;
    } catch (e) {
      $("hours-error").textContent = e.message;
      $("hours-error").hidden = false;
      $("hours-preview").replaceChildren();
    }
  }

  showPreview(sessions) {
    const list = $("hours-preview");
    if (!list) return;
    list.replaceChildren(
      ...(sessions.length
        ? sessions.map((s) => el("li", {}, s.label))
        : [el("li", { class: "muted" }, "1年以内に受付はありません")]),
    );
  }

  async save() {
    const status = $("hours-status");
    status.className = "muted";
    status.textContent = "保存中…";
    try {
      const { data } = await call("PUT", "/api/hours", { rules: this.payload() });
      this.dirty = false;
      status.className = "ok";
      status.textContent =
        data.status === "applied"
          ? "保存しました（routing に反映済み）"
          : "送信しました。反映を待っています（少ししてから開き直すと結果が分かります）";
    } catch (e) {
      status.className = "error";
      status.setAttribute("role", "alert");
      status.textContent = e.message;
    }
  }
}

// --- the chat head: pick up, reassign, take over --------------------------------------------

export class CaseControls {
  constructor({ onChanged }) {
    this.onChanged = onChanged;
    this.me = null;
    this.mode = "auto";
    this.caseId = null;
    $("pick-case").addEventListener("click", () => this.run("pick"));
    $("take-over").addEventListener("click", () => this.run("take-over"));
    $("reassign").addEventListener("click", () => this.run("reassign"));
  }

  setMe(me) {
    this.me = me;
  }

  setMode(mode) {
    this.mode = mode;
    if (this.case) this.render(this.case);
  }

  async render(c) {
    this.case = c;
    if (c.case_id !== this.caseId) this.message("");
    this.caseId = c.case_id;
    const me = this.me;
    const open = c.status !== "closed";
    const takesCases = me && ["counsellor", "supervisor"].includes(me.role);
    $("pick-case").hidden = !(open && takesCases && this.mode === "manual" && c.status === "queued");
    const sv = isSupervisor(me);
    $("take-over").hidden = !(sv && open && c.assigned_to !== me.staff_id);
    $("reassign-box").hidden = !(sv && open);
    if (sv && open) await this.fillTargets(c);
  }

  async fillTargets(c) {
    let staff = [];
    try {
      staff = (await call("GET", "/api/staff")).data;
    } catch {
      return;
    }
    const target = $("reassign-target");
    const keep = target.value;
    target.replaceChildren(
      el("option", { value: "" }, "担当を変える相手…"),
      ...staff
        .filter((s) => s.role !== "admin" && s.staff_id !== c.assigned_to)
        .map((s) =>
          el(
            "option",
            { value: s.staff_id, disabled: s.presence === "offline" },
            `${s.display_name}（${PRESENCE[s.presence]}・${s.load}/${s.capacity}）`,
          ),
        ),
    );
    target.value = keep;
  }

  message(text, ok = false) {
    const node = $("case-controls-msg");
    node.textContent = text;
    node.className = ok ? "ok" : "error";
    node.hidden = !text;
  }

  async run(action) {
    const c = this.case;
    if (!c) return;
    const path = `/api/cases/${encodeURIComponent(c.case_id)}/${action}`;
    let body;
    if (action === "reassign") {
      const to = $("reassign-target").value;
      if (!to) return this.message("担当を変える相手を選んでください");
      body = { to_staff_id: to };
    }
    if (action === "take-over" && c.assigned_to && !confirm("この相談を引き継ぎ、あなたの担当にしますか？")) {
      return;
    }
    try {
      const { data } = await call("POST", path, body);
      const done = {
        pick: "この相談の担当になりました",
        "take-over": "この相談を引き継ぎました",
        reassign: "担当を変更しました",
      }[action];
      this.message(data.status === "assigned" ? done : "送信しました。反映を待っています", true);
    } catch (e) {
      this.message(e.message);
    }
    this.onChanged();
  }
}
