// The case list: most urgent first, then longest waiting (the API's order), under the
// filter bar (status, urgency, assignee, channel, opened between, label). The filters
// live in the page's URL (?status=…&label=…), so a reload or a bookmark keeps them.

import { api, ApiError } from "./api.js";
import { catalogue, labelChip } from "./case-labels.js";
import { channelNames } from "./channels.js";
import { intakeBadge } from "./intake.js";
import { ATTENTION, STATUS, URGENCY, clock, waitingTime } from "./labels.js";
import { call } from "./supervise.js";

const $ = (id) => document.getElementById(id);
const FILTERS = {
  open: ["queued", "assigned", "on_hold"],
  queued: ["queued"],
  assigned: ["assigned"],
  on_hold: ["on_hold"],
  closed: ["closed"],
  all: ["queued", "assigned", "on_hold", "closed"],
};
// filter name (URL and API) -> its control
const CONTROLS = {
  status: "status-filter",
  urgency: "urgency-filter",
  assignee: "assignee-filter",
  channel: "channel-filter",
  label: "label-filter",
  from: "from-filter",
  to: "to-filter",
};
const DEFAULTS = { status: "open", urgency: "", assignee: "", channel: "", label: "", from: "", to: "" };
const MAX_PAGE = 200;

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

export class CaseList {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.items = [];
    this.selected = null;
    this.cursor = null;
    this.extended = false; // 'さらに表示' was used: a refresh keeps that many rows
    this.timer = null;
    this.seq = 0;
    this.me = null;
    this.filters = this.fromUrl();
    this.apply();
    for (const id of Object.values(CONTROLS)) {
      $(id).addEventListener("change", () => this.filtersChanged());
    }
    $("clear-filters").addEventListener("click", () => {
      this.filters = { ...DEFAULTS };
      this.apply();
      this.filtersChanged();
    });
    $("more-cases").addEventListener("click", () => this.loadMore());
    window.addEventListener("sodan:labels", () => this.fillLabels());
    window.addEventListener("sodan:channels", () => this.fillChannels());
  }

  // After login: the options that depend on the desk (labels, channels, staff).
  async setup(me) {
    this.me = me;
    await Promise.all([catalogue.load(), channelNames.load(), this.fillAssignees()]);
  }

  fromUrl() {
    const query = new URLSearchParams(window.location.search);
    const filters = { ...DEFAULTS };
    for (const name of Object.keys(CONTROLS)) {
      const value = query.get(name);
      if (value) filters[name] = value;
    }
    if (!FILTERS[filters.status]) filters.status = DEFAULTS.status;
    return filters;
  }

  // this.filters -> the controls; a value with no option yet (labels load later, a
  // bookmarked label may have gone) gets one, so it is neither lost nor changed.
  apply() {
    for (const [name, id] of Object.entries(CONTROLS)) {
      const control = $(id);
      const value = this.filters[name];
      if (control.tagName === "SELECT" && value && ![...control.options].some((o) => o.value === value)) {
        control.append(option(value, value));
      }
      control.value = value;
    }
  }

  filtersChanged() {
    for (const [name, id] of Object.entries(CONTROLS)) this.filters[name] = $(id).value;
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(this.filters)) {
      if (value && value !== DEFAULTS[name]) query.set(name, value);
    }
    const search = query.toString();
    window.history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
    this.extended = false;
    this.refresh();
  }

  params() {
    const params = new URLSearchParams();
    for (const s of FILTERS[this.filters.status] || FILTERS.open) params.append("status", s);
    for (const name of ["urgency", "assignee", "channel", "label", "from", "to"]) {
      if (this.filters[name]) params.set(name, this.filters[name]);
    }
    return params;
  }

  fillSelect(id, first, entries) {
    const select = $(id);
    select.replaceChildren(option("", first), ...entries.map(([value, text]) => option(value, text)));
    this.apply();
  }

  fillLabels() {
    this.fillSelect(
      "label-filter",
      "ラベル：すべて",
      catalogue.labels.map((l) => [String(l.label_id), l.retired ? `${l.name}（使用終了）` : l.name]),
    );
  }

  fillChannels() {
    const list = channelNames.list;
    $("channel-filter").hidden = list.length === 0 && !this.filters.channel;
    this.fillSelect(
      "channel-filter",
      "チャネル：すべて",
      list.map((c) => [c.channel, c.display_name || c.channel]),
    );
    this.render();
  }

  async fillAssignees() {
    const entries = [["me", "自分"], ["unassigned", "未割当"]];
    if (this.me && ["supervisor", "admin"].includes(this.me.role)) {
      try {
        const { data } = await call("GET", "/api/staff");
        for (const s of data) entries.push([s.staff_id, s.display_name]);
      } catch {
        // the list still offers 自分 and 未割当
      }
    }
    this.fillSelect("assignee-filter", "担当：すべて", entries);
  }

  refreshSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 250);
  }

  showError(text) {
    $("case-error").textContent = text;
    $("case-error").hidden = !text;
  }

  async refresh() {
    const seq = ++this.seq;
    const params = this.params();
    if (this.extended) params.set("limit", String(Math.min(MAX_PAGE, Math.max(1, this.items.length))));
    try {
      const page = await api.caseList(params);
      if (seq !== this.seq) return; // the filters changed meanwhile
      this.items = page.items;
      this.cursor = page.next_cursor;
      this.showError("");
      this.render();
    } catch (error) {
      if (seq !== this.seq) return;
      if (error instanceof ApiError && error.status === 401) {
        window.dispatchEvent(new Event("sodan:unauthorized"));
      } else if (error instanceof ApiError && error.status < 500) {
        this.items = [];
        this.cursor = null;
        this.showError(error.message); // a filter the server refuses, in its words
        this.render();
      }
    }
  }

  async loadMore() {
    if (!this.cursor) return;
    const seq = this.seq;
    const params = this.params();
    params.set("cursor", this.cursor);
    try {
      const page = await api.caseList(params);
      if (seq !== this.seq) return;
      this.items = this.items.concat(page.items);
      this.cursor = page.next_cursor;
      this.extended = true;
      this.render();
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) this.refresh();
    }
  }

  select(caseId) {
    this.selected = caseId;
    this.render();
  }

  tick() {
    this.render();
  }

  render() {
    const list = $("case-list");
    list.replaceChildren(...this.items.map((c) => this.row(c)));
    $("case-empty").hidden = this.items.length > 0 || !$("case-error").hidden;
    $("more-cases").hidden = !this.cursor;
  }

  row(c) {
    const li = document.createElement("li");
    li.className = `case urgency-${c.urgency}` + (c.case_id === this.selected ? " selected" : "");
    li.tabIndex = 0;
    li.dataset.caseId = c.case_id;
    li.setAttribute("role", "button");

    const top = document.createElement("div");
    top.className = "case-top";
    const badge = document.createElement("span");
    badge.className = `badge ${c.urgency}`;
    badge.textContent = URGENCY[c.urgency] || c.urgency;
    const client = document.createElement("strong");
    client.className = "client";
    client.textContent = c.client_label;
    const status = document.createElement("span");
    status.className = `status ${c.status}`;
    status.textContent = STATUS[c.status] || c.status;
    top.append(badge, client, status);
    const inIntake = intakeBadge(c);
    if (inIntake) top.append(inIntake);
    if (c.unanswered) {
      const late = document.createElement("span");
      late.className = "badge unanswered";
      late.textContent = "未応答";
      late.title = "割り当て後、相談員からの返信がないまま時間が経っています";
      top.append(late);
    }
    if (c.attention && ATTENTION[c.attention]) {
      const attention = document.createElement("span");
      attention.className = `badge attention ${c.attention}`;
      attention.textContent = ATTENTION[c.attention][0];
      attention.title = ATTENTION[c.attention][1];
      top.append(attention);
    }
    if (c.close_request) {
      const pending = document.createElement("span");
      pending.className = "badge close-pending";
      pending.textContent = "終了確認待ち";
      pending.title = "相談員が緊急の相談の終了を依頼しています（スーパーバイザーの確認待ち）";
      top.append(pending);
    }
    if (c.emergency_mode) {
      const emergency = document.createElement("span");
      emergency.className = "badge emergency";
      emergency.textContent = "緊急対応";
      top.append(emergency);
    }

    const bottom = document.createElement("div");
    bottom.className = "case-bottom muted";
    const waited = document.createElement("span");
    waited.textContent =
      c.status === "closed" ? "終了済み" : `待ち ${waitingTime(c.opened_at)}`;
    const last = document.createElement("span");
    last.className = "case-last";
    last.textContent = c.last_message_at ? `最終 ${clock(c.last_message_at)}` : "";
    const who = document.createElement("span");
    who.textContent = c.assignee_name ? `担当: ${c.assignee_name}` : "担当: 未割当";
    bottom.append(waited, last, who);

    li.append(top, bottom);
    const showChannel = c.channel_name || channelNames.list.length > 1;
    if ((c.labels && c.labels.length) || showChannel) {
      const meta = document.createElement("div");
      meta.className = "case-meta";
      if (showChannel) {
        const channel = document.createElement("span");
        channel.className = "case-channel muted";
        channel.textContent = c.channel_name || channelNames.name(c.channel);
        meta.append(channel);
      }
      for (const label of c.labels || []) meta.append(labelChip(label));
      li.append(meta);
    }
    const choose = () => {
      this.select(c.case_id);
      this.onSelect(c);
    };
    li.addEventListener("click", choose);
    li.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        choose();
      }
    });
    return li;
  }
}
