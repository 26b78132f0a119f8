// The composer's 定型文 picker: a searchable list under the reply box.
// Ctrl+/ (or the 定型文 button) opens it, ↑↓ choose, Enter inserts the filled-in text
// at the caret (it never sends), Esc closes and puts the caret back where it was.
// Template texts are inserted with textContent / setRangeText only.

import { call, el } from "./supervise.js";

const $ = (id) => document.getElementById(id);

// Full-width letters and digits match their half-width forms, case does not matter.
const fold = (s) => s.normalize("NFKC").toLowerCase();

export function isPickerShortcut(e) {
  return (e.ctrlKey || e.metaKey) && !e.altKey && e.key === "/";
}

export class TemplatePicker {
  constructor({ textarea, onInserted }) {
    this.textarea = textarea;
    this.onInserted = onInserted;
    this.items = [];
    this.shown = [];
    this.active = 0;
    this.caret = null; // the textarea's selection when the picker opened
    this.root = $("template-picker");
    this.search = $("template-search");
    this.list = $("template-list");
    $("template-open").addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.search.addEventListener("input", () => {
      this.active = 0;
      this.render();
    });
    this.search.addEventListener("keydown", (e) => this.key(e));
    // Clicking an item must not take the focus first (the picker would close on blur).
    this.list.addEventListener("mousedown", (e) => e.preventDefault());
    this.root.addEventListener("focusout", (e) => {
      if (this.isOpen && !this.root.contains(e.relatedTarget) && e.relatedTarget !== $("template-open")) {
        this.close({ refocus: false });
      }
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  async open() {
    const t = this.textarea;
    this.caret = { start: t.selectionStart, end: t.selectionEnd };
    this.root.hidden = false;
    $("template-open").setAttribute("aria-expanded", "true");
    this.search.value = "";
    this.active = 0;
    this.search.focus();
    this.list.replaceChildren(el("li", { class: "muted template-empty" }, "読み込み中…"));
    try {
      // Fresh every time: edits by a supervisor and 受付時間 are current.
      const { data } = await call("GET", "/api/reply-templates");
      this.items = data.items;
    } catch (e) {
      this.items = [];
      this.list.replaceChildren(el("li", { class: "error template-empty", role: "alert" }, e.message));
      return;
    }
    if (this.isOpen) this.render();
  }

  close({ refocus = true } = {}) {
    if (!this.isOpen) return;
    this.root.hidden = true;
    $("template-open").setAttribute("aria-expanded", "false");
    this.search.removeAttribute("aria-activedescendant");
    if (refocus) {
      this.textarea.focus();
      if (this.caret) this.textarea.setSelectionRange(this.caret.start, this.caret.end);
    }
  }

  matching() {
    const terms = fold(this.search.value).split(/\s+/).filter(Boolean);
    return this.items.filter((t) => {
      const hay = fold(`${t.title} ${t.category} ${t.text}`);
      return terms.every((term) => hay.includes(term));
    });
  }

  render() {
    this.shown = this.matching();
    if (!this.shown.length) {
      this.list.replaceChildren(
        el("li", { class: "muted template-empty" }, this.items.length ? "一致する定型文はありません" : "定型文はまだありません"),
      );
      this.search.removeAttribute("aria-activedescendant");
      return;
    }
    this.active = Math.min(this.active, this.shown.length - 1);
    this.list.replaceChildren(
      ...this.shown.map((t, i) =>
        el(
          "li",
          {
            id: `template-option-${i}`,
            role: "option",
            class: i === this.active ? "template-option active" : "template-option",
            "aria-selected": i === this.active ? "true" : "false",
            "data-template-id": t.template_id,
            onclick: () => this.insert(t),
            onmousemove: () => this.setActive(i),
          },
          el(
            "div",
            { class: "template-option-head" },
            el("span", { class: "template-category" }, t.category),
            el("strong", {}, t.title),
          ),
          el("div", { class: "template-preview" }, t.text),
        ),
      ),
    );
    this.search.setAttribute("aria-activedescendant", `template-option-${this.active}`);
  }

  setActive(i) {
    if (i === this.active) return;
    this.active = i;
    for (const [n, node] of [...this.list.children].entries()) {
      node.classList.toggle("active", n === i);
      node.setAttribute("aria-selected", n === i ? "true" : "false");
    }
    this.search.setAttribute("aria-activedescendant", `template-option-${i}`);
    const node = this.list.children[i];
    if (node) node.scrollIntoView({ block: "nearest" });
  }

  key(e) {
    if (e.isComposing || e.keyCode === 229) return; // the IME owns these keys
    const n = this.shown.length;
    if (e.key === "ArrowDown" && n) {
      e.preventDefault();
      this.setActive((this.active + 1) % n);
    } else if (e.key === "ArrowUp" && n) {
      e.preventDefault();
      this.setActive((this.active - 1 + n) % n);
    } else if (e.key === "Enter") {
      e.preventDefault(); // never submits the reply form
      if (n) this.insert(this.shown[this.active]);
    } else if (e.key === "Escape" || isPickerShortcut(e)) {
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
  }

  insert(template) {
    const t = this.textarea;
    const { start, end } = this.caret || { start: t.value.length, end: t.value.length };
    this.close({ refocus: false });
    t.focus();
    t.setRangeText(template.text, start, end, "end");
    // The reply box's own listeners (counter, typing signal) see it like typing.
    t.dispatchEvent(new Event("input", { bubbles: true }));
    if (this.onInserted) this.onInserted(template);
  }
}
