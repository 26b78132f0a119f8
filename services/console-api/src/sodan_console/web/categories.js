// The closing form's lists (対応結果・相談内容) for supervisors and admins: one label
// per line, in the order the form shows them. Routing checks and applies them;
// the monthly report counts cases by these labels.

import { Panel, call, el } from "./supervise.js";

const lines = (text) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

function when(iso) {
  const d = new Date(iso);
  return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export class ClosingCategoriesEditor extends Panel {
  constructor(root) {
    super(root, "対応結果・相談内容");
    this.dirty = false;
  }

  async load() {
    const { data } = await call("GET", "/api/closing-categories");
    this.dirty = false;
    const outcomes = this.area("categories-outcomes", "対応結果（1行に1つ）", data.outcomes);
    const topics = this.area("categories-topics", "相談内容（1行に1つ）", data.topics);
    const result = el("p", { class: "muted", role: "status", id: "categories-result" });
    if (data.last_outcome === "refused") {
      result.className = "error";
      result.textContent = `前回の保存は反映されませんでした（${when(data.last_at)}）: ${data.last_error}`;
    } else if (data.updated_at) {
      result.textContent = `${data.updated_by_name || ""} が ${when(data.updated_at)} に更新`;
    }
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "相談を終了するときの選択肢です。月次報告はこの言葉で件数を数えます。言い換えると報告の行が分かれるため、" +
          "名前を変えるより新しい項目を足し、使わなくなった項目は消してください（過去の件数は報告に残ります）。" +
          "各 30 文字まで、30 項目までです。",
      ),
      el("div", { class: "categories" }, outcomes.label, topics.label),
      el(
        "div",
        { class: "lexicon-save" },
        el(
          "button",
          { class: "primary", onclick: () => this.save(outcomes.area, topics.area, result) },
          "保存",
        ),
        result,
      ),
    );
  }

  area(id, title, values) {
    const area = el("textarea", { id, rows: "12", "aria-label": title });
    area.value = values.join("\n");
    area.addEventListener("input", () => (this.dirty = true));
    return { area, label: el("label", { class: "category-list" }, title, area) };
  }

  async save(outcomes, topics, result) {
    result.className = "muted";
    result.textContent = "保存中…";
    try {
      const { data } = await call("PUT", "/api/closing-categories", {
        outcomes: lines(outcomes.value),
        topics: lines(topics.value),
      });
      this.dirty = false;
      result.className = "ok";
      result.textContent =
        data.status === "applied"
          ? "保存しました（次に開く終了フォームから使われます）"
          : "送信しました。反映を待っています（少ししてから開き直すと結果が分かります）";
    } catch (e) {
      result.className = "error";
      result.setAttribute("role", "alert");
      result.textContent = e.message; // what was typed stays in the boxes
    }
  }
}
