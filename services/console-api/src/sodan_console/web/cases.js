// The case list: most urgent first, then longest waiting (the API's order).

import { api, ApiError } from "./api.js";
import { intakeBadge } from "./intake.js";
import { ATTENTION, STATUS, URGENCY, waitingTime } from "./labels.js";

const $ = (id) => document.getElementById(id);
const FILTERS = {
  open: ["queued", "assigned", "on_hold"],
  queued: ["queued"],
  assigned: ["assigned"],
  on_hold: ["on_hold"],
  closed: ["closed"],
};

export class CaseList {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.items = [];
    this.selected = null;
    this.cursor = null;
    this.timer = null;
    $("status-filter").addEventListener("change", () => this.refresh());
    $("more-cases").addEventListener("click", () => this.loadMore());
  }

  statuses() {
    return FILTERS[$("status-filter").value] || FILTERS.open;
  }

  refreshSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 250);
  }

  async refresh() {
    try {
      const page = await api.cases(this.statuses());
      this.items = page.items;
      this.cursor = page.next_cursor;
      this.render();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        window.dispatchEvent(new Event("sodan:unauthorized"));
      }
    }
  }

  async loadMore() {
    if (!this.cursor) return;
    const page = await api.cases(this.statuses(), this.cursor);
    this.items = this.items.concat(page.items);
    this.cursor = page.next_cursor;
    this.render();
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
    $("case-empty").hidden = this.items.length > 0;
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
    const who = document.createElement("span");
    who.textContent = c.assignee_name ? `担当: ${c.assignee_name}` : "担当: 未割当";
    bottom.append(waited, who);

    li.append(top, bottom);
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
