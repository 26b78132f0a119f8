// Supervisors' urgency lexicon editor: terms by category, add/edit/remove, save with a comment.
// Everything is rendered with textContent; the lexicon is staff data, but treat it like any input.

import { ApiError } from "./api.js";
import { URGENCY } from "./labels.js";

const LEVELS = ["critical", "high", "medium", "normal"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function call(method, body, path = "/api/lexicon") {
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
  if (!response.ok) {
    const error = new ApiError(response.status, (data && data.detail) || "通信エラーが発生しました");
    error.errors = (data && data.errors) || [];
    throw error;
  }
  return data;
}

export class LexiconEditor {
  constructor(root) {
    this.root = root;
    this.lexicon = null;
    this.dirty = false;
  }

  async open() {
    this.root.hidden = false;
    await this.load();
  }

  close() {
    if (this.dirty && !confirm("保存していない変更があります。破棄しますか？")) return false;
    this.root.hidden = true;
    this.dirty = false;
    return true;
  }

  async load() {
    this.render([el("p", { class: "muted" }, "読み込み中…")]);
    try {
      this.lexicon = (await call("GET")).lexicon;
      this.dirty = false;
      this.renderAll();
    } catch (e) {
      this.render([el("p", { class: "error", role: "alert" }, e.message)]);
    }
  }

  render(nodes) {
    this.root.replaceChildren(...nodes);
  }

  renderAll(message = null, errors = []) {
    const lex = this.lexicon;
    const head = el(
      "div",
      { class: "lexicon-head" },
      el("h2", {}, "緊急度辞書"),
      el("span", { class: "muted", id: "lexicon-version" }, `版: ${lex.version}`),
      el("span", { class: "spacer" }),
      el("button", { class: "primary", onclick: () => this.editTerm(null) }, "語を追加"),
      el("button", { class: "ghost", onclick: () => this.showHistory() }, "変更履歴"),
      el("button", { class: "ghost", onclick: () => this.load() }, "再読み込み"),
    );
    const status = el("div", { class: "lexicon-status", role: "status" });
    if (message) status.append(el("p", { class: errors.length ? "error" : "ok" }, message));
    if (errors.length) {
      status.append(el("ul", { class: "error" }, ...errors.map((e) => el("li", {}, e))));
    }
    const sections = lex.categories.map((category) => {
      const terms = lex.terms.filter((t) => t.category === category);
      const rows = terms.map((term) =>
        el(
          "tr",
          { "data-term": term.id },
          el("td", {}, el("span", { class: `badge ${term.level}` }, URGENCY[term.level])),
          el("td", { class: "mono" }, term.id),
          el("td", { class: "num" }, String(term.weight)),
          el("td", { class: "patterns" }, term.patterns.join("、")),
          el(
            "td",
            { class: "actions" },
            el("button", { class: "ghost", onclick: () => this.editTerm(term) }, "編集"),
            el("button", { class: "danger", onclick: () => this.removeTerm(term) }, "削除"),
          ),
        ),
      );
      return el(
        "section",
        { class: "lexicon-category" },
        el("h3", {}, `${category}（${terms.length}語）`),
        terms.length
          ? el(
              "table",
              {},
              el(
                "thead",
                {},
                el(
                  "tr",
                  {},
                  ...["緊急度", "ID", "重み", "表現（ゆれ・隠語を含む）", ""].map((h) =>
                    el("th", {}, h),
                  ),
                ),
              ),
              el("tbody", {}, ...rows),
            )
          : el("p", { class: "muted" }, "語はありません"),
      );
    });
    const comment = el("input", {
      id: "lexicon-comment",
      maxlength: "500",
      placeholder: "変更の理由（監査記録に残ります）",
    });
    const save = el(
      "form",
      {
        class: "lexicon-save",
        onsubmit: (event) => {
          event.preventDefault();
          this.save(comment.value.trim());
        },
      },
      el("span", { class: "muted" }, this.dirty ? "未保存の変更があります" : "変更はありません"),
      comment,
      el("button", { type: "submit", class: "primary", id: "lexicon-save" }, "保存"),
      el("button", { type: "button", class: "ghost", onclick: () => this.close() }, "閉じる"),
    );
    this.render([head, status, save, ...sections]);
  }

  editTerm(term) {
    const lex = this.lexicon;
    const isNew = term === null;
    const current = term || {
      id: "",
      category: lex.categories[0],
      level: "high",
      weight: 0.7,
      patterns: [],
      note: "",
    };
    const id = el("input", { name: "id", required: "", maxlength: "80", pattern: "[a-z0-9][a-z0-9_.\\-]*" });
    id.value = current.id;
    const category = el("select", { name: "category" }, ...lex.categories.map((c) => el("option", { value: c }, c)));
    category.value = current.category;
    const level = el("select", { name: "level" }, ...LEVELS.map((l) => el("option", { value: l }, URGENCY[l])));
    level.value = current.level;
    const weight = el("input", { name: "weight", type: "number", min: "0", max: "1", step: "0.05", required: "" });
    weight.value = String(current.weight);
    level.addEventListener("change", () => {
      // the lowest weight of the chosen level, so the term stays inside its band
      const lowest = { ...lex.levels, normal: 0.2 };
      weight.value = String(lowest[level.value]);
    });
    const patterns = el("textarea", { name: "patterns", rows: "6", required: "" });
    patterns.value = current.patterns.join("\n");
    const note = el("input", { name: "note", maxlength: "300" });
    note.value = current.note || "";
    const error = el("p", { class: "error", role: "alert", hidden: "" });
    const form = el(
      "form",
      { class: "term-form" },
      el("h3", {}, isNew ? "語を追加" : `語を編集: ${current.id}`),
      el("label", {}, "ID（英小文字・数字・._-）", id),
      el("label", {}, "カテゴリ", category),
      el("label", {}, "緊急度", level),
      el(
        "label",
        {},
        `重み（0〜1。緊急 ${lex.levels.critical} 以上、高 ${lex.levels.high} 以上、中 ${lex.levels.medium} 以上）`,
        weight,
      ),
      el("label", {}, "表現（1行に1つ。かな・カナ・全角半角・伸ばし棒の違いは自動で同一視します）", patterns),
      el("label", {}, "メモ（なぜこの語を入れるか）", note),
      error,
      el(
        "div",
        { class: "term-actions" },
        el("button", { type: "submit", class: "primary" }, "この内容にする"),
        el("button", { type: "button", class: "ghost", onclick: () => this.renderAll() }, "キャンセル"),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const next = {
        id: id.value.trim(),
        category: category.value,
        level: level.value,
        weight: Number(weight.value),
        patterns: patterns.value.split("\n").map((p) => p.trim()).filter(Boolean),
      };
      if (note.value.trim()) next.note = note.value.trim();
      if (!next.patterns.length) {
        error.textContent = "表現を1つ以上入力してください";
        error.hidden = false;
        return;
      }
      if (lex.terms.some((t) => t.id === next.id && t !== term)) {
        error.textContent = "同じIDの語がすでにあります";
        error.hidden = false;
        return;
      }
      lex.terms = isNew ? [...lex.terms, next] : lex.terms.map((t) => (t === term ? next : t));
      this.dirty = true;
      this.renderAll("変更しました。保存するまで反映されません。");
    });
    this.render([form]);
    id.focus();
  }

  async showHistory() {
    let changes;
    try {
      changes = await call("GET", undefined, "/api/lexicon/history");
    } catch (e) {
      this.renderAll(e.message, [e.message]);
      return;
    }
    const count = (ids) => (ids.length ? ids.join("、") : "なし");
    const items = changes.map((c) =>
      el(
        "li",
        { class: "lexicon-change" },
        el("strong", {}, `${c.version}`),
        el("span", { class: "muted" }, ` ← ${c.previous_version}　${new Date(c.at).toLocaleString("ja-JP")}　${c.staff_name}`),
        el("div", {}, `理由: ${c.comment}`),
        el(
          "div",
          { class: "muted" },
          `追加: ${count(c.added)}　削除: ${count(c.removed)}　変更: ${count(c.changed)}` +
            (c.settings_changed ? "　（閾値・否定・慣用句などの設定も変更）" : ""),
        ),
      ),
    );
    this.render([
      el(
        "div",
        { class: "lexicon-head" },
        el("h2", {}, "辞書の変更履歴"),
        el("span", { class: "spacer" }),
        el("button", { class: "ghost", onclick: () => this.renderAll() }, "辞書に戻る"),
      ),
      items.length ? el("ol", { class: "lexicon-history" }, ...items) : el("p", { class: "muted" }, "まだ変更はありません"),
    ]);
  }

  removeTerm(term) {
    if (!confirm(`「${term.id}」を削除しますか？（保存するまで反映されません）`)) return;
    this.lexicon.terms = this.lexicon.terms.filter((t) => t !== term);
    this.dirty = true;
    this.renderAll("削除しました。保存するまで反映されません。");
  }

  async save(comment) {
    if (!comment) {
      this.renderAll("変更の理由を入力してください", ["変更の理由は監査記録に残ります"]);
      return;
    }
    const { version, ...rest } = this.lexicon;
    try {
      const saved = await call("PUT", { lexicon: rest, base_version: version, comment });
      if (saved.status === "applied") {
        await this.load();
        this.renderAll(`保存しました。新しい版: ${saved.version}（すべての triage に反映済み）`);
      } else {
        this.renderAll("送信しました。反映を確認中です。しばらくして再読み込みしてください。");
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        window.dispatchEvent(new Event("sodan:unauthorized"));
        return;
      }
      this.renderAll(e.message, e.errors && e.errors.length ? e.errors : [e.message]);
    }
  }
}
