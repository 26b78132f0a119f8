// Supervisors' and admins' 定型文 editor: add, edit, retire and restore the desk's
// reply templates, with each template's saved versions. Rendered with textContent.

import { call, el, Panel } from "./supervise.js";

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getMonth() + 1}/${d.getDate()} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

export class TemplateEditor extends Panel {
  constructor(root) {
    super(root, "定型文");
    this.dirty = false;
    this.showRetired = false;
  }

  async load() {
    const { data } = await call("GET", "/api/reply-templates?include_retired=true");
    this.data = data;
    this.dirty = false;
    const categories = [...new Set(data.items.map((t) => t.category))];
    const retiredToggle = el("input", { type: "checkbox", id: "templates-show-retired" });
    retiredToggle.checked = this.showRetired;
    retiredToggle.addEventListener("change", () => {
      this.showRetired = retiredToggle.checked;
      for (const card of this.root.querySelectorAll(".template-card.retired")) {
        card.hidden = !this.showRetired;
      }
    });
    this.newCard = this.card(null);
    this.newCard.hidden = true;
    this.root.replaceChildren(
      this.head(
        el("button", { class: "primary", id: "template-new", onclick: () => this.startNew() }, "＋ 新しい定型文"),
        el("label", { class: "check" }, retiredToggle, " 使わなくした定型文も表示"),
      ),
      el(
        "p",
        { class: "muted" },
        "相談員が返信欄の「定型文」ボタン（Ctrl+/）から入れる文面です。入れるだけで送信はされず、相談員が必要に応じて直してから送ります。" +
          "{ } の差し込みは、入れるときにその相談員の名前や受付時間に置き換わります。保存するたびに前の版は履歴に残ります。",
      ),
      el(
        "datalist",
        { id: "template-categories" },
        ...categories.map((c) => el("option", { value: c })),
      ),
      this.newCard,
      el("div", { id: "template-cards" }, ...data.items.map((t) => this.card(t))),
    );
  }

  startNew() {
    this.newCard.hidden = false;
    this.newCard.querySelector("input.title").focus();
  }

  card(t) {
    const isNew = t === null;
    const field = (label, input) => el("label", {}, label, input);
    const title = el("input", { class: "title", maxlength: "40", "aria-label": "題名" });
    const category = el("input", {
      class: "category",
      maxlength: "20",
      list: "template-categories",
      "aria-label": "分類",
    });
    const order = el("input", {
      class: "order",
      type: "number",
      min: "0",
      max: "9999",
      "aria-label": "並び順",
    });
    const body = el("textarea", { maxlength: "2000", "aria-label": "本文" });
    title.value = isNew ? "" : t.title;
    category.value = isNew ? "" : t.category;
    order.value = String(isNew ? 0 : t.sort_order);
    body.value = isNew ? "" : t.body;
    for (const input of [title, category, order, body]) {
      input.addEventListener("input", () => (this.dirty = true));
    }
    const chips = this.data.placeholders.map((p) =>
      el(
        "button",
        {
          type: "button",
          class: "chip",
          title: p.description,
          onclick: () => {
            const at = body.selectionStart ?? body.value.length;
            body.setRangeText(`{${p.name}}`, at, body.selectionEnd ?? at, "end");
            body.focus();
            this.dirty = true;
          },
        },
        `{${p.name}}`,
      ),
    );
    const result = el("p", { class: "muted", role: "status" });
    const state = { t };
    const retire = el("button", { class: "ghost", onclick: () => this.toggleRetired(state, node, retire, result) });
    const history = el("details", { class: "template-history" }, el("summary", {}, "履歴"));
    history.addEventListener("toggle", () => history.open && this.showHistory(state, history));
    const node = el(
      "section",
      {
        class: "lexicon-category template-card",
        "data-template-id": isNew ? "new" : t.template_id,
      },
      el("h3", {}, isNew ? "新しい定型文" : t.title),
      el(
        "div",
        { class: "template-fields" },
        field("題名", title),
        field("分類", category),
        field("並び順（小さいほど上）", order),
      ),
      el("div", { class: "chips" }, "差し込み: ", ...chips),
      body,
      el(
        "div",
        { class: "lexicon-save" },
        el(
          "button",
          { class: "primary", onclick: () => this.save(state, { title, category, order, body }, node, retire, result) },
          isNew ? "追加" : "保存",
        ),
        isNew
          ? el("button", { class: "ghost", onclick: () => this.cancelNew() }, "やめる")
          : retire,
        result,
      ),
      isNew ? null : history,
    );
    if (!isNew) this.showState(state.t, node, retire, result);
    return node;
  }

  showState(t, node, retire, result) {
    node.classList.toggle("retired", t.retired);
    node.hidden = t.retired && !this.showRetired;
    node.querySelector("h3").textContent = t.retired ? `${t.title}（使っていません）` : t.title;
    retire.textContent = t.retired ? "使うように戻す" : "使わなくする";
    result.className = "muted";
    result.textContent = `第${t.version}版 · ${t.updated_by_name || "初期設定"}${t.updated_at ? ` が ${when(t.updated_at)} に保存` : ""}`;
  }

  cancelNew() {
    this.newCard.replaceWith((this.newCard = this.card(null)));
    this.newCard.hidden = true;
  }

  async save(state, inputs, node, retire, result) {
    const draft = {
      title: inputs.title.value,
      category: inputs.category.value,
      body: inputs.body.value,
      sort_order: Number.isInteger(Number(inputs.order.value)) ? Number(inputs.order.value) : inputs.order.value,
    };
    result.className = "muted";
    result.textContent = "保存中…";
    try {
      if (state.t === null) {
        const { data } = await call("POST", "/api/reply-templates", draft);
        // the new one joins the list; the form is emptied for the next
        document.getElementById("template-cards").prepend(this.card(data));
        this.cancelNew();
      } else {
        const { data } = await call("PUT", `/api/reply-templates/${encodeURIComponent(state.t.template_id)}`, {
          ...draft,
          version: state.t.version,
        });
        state.t = data;
        this.showState(data, node, retire, result);
        result.className = "ok";
        result.textContent = `保存しました（第${data.version}版）`;
      }
      this.dirty = false;
    } catch (e) {
      // What was typed stays in the form.
      result.className = "error";
      result.setAttribute("role", "alert");
      result.textContent = e.message;
    }
  }

  async toggleRetired(state, node, retire, result) {
    const t = state.t;
    if (!t.retired && !confirm(`「${t.title}」を使わなくしますか？相談員の一覧に出なくなります（履歴は残り、あとで戻せます）。`)) {
      return;
    }
    try {
      const action = t.retired ? "restore" : "retire";
      const { data } = await call("POST", `/api/reply-templates/${encodeURIComponent(t.template_id)}/${action}`);
      state.t = data;
      this.showState(data, node, retire, result);
    } catch (e) {
      result.className = "error";
      result.textContent = e.message;
    }
  }

  async showHistory(state, details) {
    const list = el("ol", { reversed: true });
    details.replaceChildren(details.querySelector("summary"), list);
    try {
      const { data } = await call("GET", `/api/reply-templates/${encodeURIComponent(state.t.template_id)}/history`);
      list.replaceChildren(
        ...data.map((v) =>
          el(
            "li",
            {},
            el("strong", {}, `第${v.version}版`),
            ` ${when(v.saved_at)} ${v.saved_by_name || "初期設定"}${v.retired ? "（使わなくした）" : ""}: 「${v.title}」［${v.category}］\n${v.body}`,
          ),
        ),
      );
    } catch (e) {
      list.replaceChildren(el("li", { class: "error" }, e.message));
    }
  }
}
