// Case labels (ラベル): the desk's label set (one catalogue for the page), the chips on
// list rows, the add/remove control in the chat head, and the supervisors' editor.
// Label names are staff text: inserted with textContent only.

import { ApiError } from "./api.js";
import { call, el, Panel } from "./supervise.js";

const $ = (id) => document.getElementById(id);

// The fixed palette (the server refuses any other colour).
export const COLOURS = {
  gray: "グレー",
  red: "赤",
  orange: "橙",
  yellow: "黄",
  green: "緑",
  teal: "青緑",
  blue: "青",
  purple: "紫",
  pink: "桃",
};

// Every label (retired ones flagged); "sodan:labels" is dispatched when it changes.
export const catalogue = {
  labels: [],
  async load() {
    try {
      this.labels = (await call("GET", "/api/labels")).data;
    } catch {
      return this.labels;
    }
    window.dispatchEvent(new Event("sodan:labels"));
    return this.labels;
  },
  active() {
    return this.labels.filter((l) => !l.retired);
  },
};

export function labelChip(label, extra = null) {
  const chip = el(
    "span",
    {
      class: `label-chip colour-${COLOURS[label.colour] ? label.colour : "gray"}${label.retired ? " retired" : ""}`,
      "data-label-id": String(label.label_id),
      title: label.retired ? `${label.name}（使用終了）` : label.name,
    },
    label.name,
  );
  if (extra) chip.append(extra);
  return chip;
}

// --- the chat head: this case's labels, with add/remove for who may act on it --------

export class CaseLabels {
  constructor({ onChanged, onError }) {
    this.onChanged = onChanged;
    this.onError = onError;
    this.case = null;
    window.addEventListener("sodan:labels", () => this.case && this.render(this.case));
  }

  render(c) {
    this.case = c;
    const box = $("chat-labels");
    const chips = (c.labels || []).map((label) =>
      labelChip(
        label,
        c.can_label
          ? el(
              "button",
              {
                type: "button",
                class: "label-remove",
                "aria-label": `ラベル「${label.name}」を外す`,
                title: "外す",
                onclick: () => this.change("DELETE", label.label_id),
              },
              "×",
            )
          : null,
      ),
    );
    const attached = new Set((c.labels || []).map((l) => l.label_id));
    const addable = catalogue.active().filter((l) => !attached.has(l.label_id));
    let add = null;
    if (c.can_label && addable.length) {
      add = el(
        "select",
        {
          id: "chat-label-add",
          "aria-label": "ラベルを追加",
          onchange: (e) => e.target.value && this.change("PUT", Number(e.target.value)),
        },
        el("option", { value: "" }, "＋ラベル"),
        ...addable.map((l) => el("option", { value: String(l.label_id) }, l.name)),
      );
    }
    box.replaceChildren(...chips, ...(add ? [add] : []));
    box.hidden = chips.length === 0 && !add;
  }

  async change(method, labelId) {
    const caseId = this.case && this.case.case_id;
    if (!caseId) return;
    try {
      const path = `/api/cases/${encodeURIComponent(caseId)}/labels/${labelId}`;
      const { data } = await call(method, path);
      if (this.case && this.case.case_id === caseId) this.render({ ...this.case, labels: data });
      this.onChanged();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) this.onError(e.message);
    }
  }
}

// --- the supervisors' and admins' label editor ----------------------------------------

function colourSelect(value, label) {
  return el(
    "select",
    { "aria-label": label, class: "label-colour" },
    ...Object.entries(COLOURS).map(([key, name]) =>
      el("option", { value: key, selected: key === value }, name),
    ),
  );
}

export class LabelPanel extends Panel {
  constructor(root) {
    super(root, "ラベル");
  }

  async load() {
    const labels = await catalogue.load();
    const name = el("input", { id: "label-new-name", maxlength: "40", placeholder: "例：要フォロー", "aria-label": "新しいラベルの名前" });
    const colour = colourSelect("blue", "新しいラベルの色");
    colour.id = "label-new-colour";
    const form = el(
      "form",
      { class: "label-new", onsubmit: (e) => (e.preventDefault(), this.create(name, colour)) },
      name,
      colour,
      el("button", { type: "submit", class: "primary" }, "追加"),
    );
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "相談に付けるラベルです（一覧の絞り込みに使えます）。相談者個人を表す言葉（性別・病名など）ではなく、「要フォロー」「継続」などの作業上の区分にしてください。使わなくなったラベルは「使用終了」にします（付いている相談からは消えません）。",
      ),
      form,
      el(
        "table",
        { class: "staff-table labels-table" },
        el("thead", {}, el("tr", {}, el("th", {}, "ラベル"), el("th", {}, "名前"), el("th", {}, "色"), el("th", {}, "使用終了"), el("th", {}, ""))),
        el("tbody", {}, ...labels.map((l) => this.row(l))),
      ),
      el("p", { id: "label-message", role: "status", class: "muted" }),
    );
  }

  row(label) {
    const name = el("input", { value: label.name, maxlength: "40", "aria-label": `${label.name} の名前` });
    const colour = colourSelect(label.colour, `${label.name} の色`);
    const retired = el("input", { type: "checkbox", "aria-label": `${label.name} を使用終了にする` });
    retired.checked = label.retired;
    return el(
      "tr",
      { "data-label-id": String(label.label_id) },
      el("td", {}, labelChip(label)),
      el("td", {}, name),
      el("td", {}, colour),
      el("td", {}, retired),
      el("td", {}, el("button", { class: "ghost", onclick: () => this.save(label, name, colour, retired) }, "保存")),
    );
  }

  message(text, ok) {
    const p = $("label-message");
    p.className = ok ? "ok" : "error";
    p.textContent = text;
  }

  async create(name, colour) {
    try {
      const { data } = await call("POST", "/api/labels", { name: name.value, colour: colour.value });
      await this.load();
      this.message(`ラベル「${data.name}」を追加しました`, true);
    } catch (e) {
      this.message(e.message, false);
    }
  }

  async save(label, name, colour, retired) {
    try {
      const { data } = await call("PUT", `/api/labels/${label.label_id}`, {
        name: name.value,
        colour: colour.value,
        retired: retired.checked,
      });
      await this.load();
      this.message(`ラベル「${data.name}」を保存しました`, true);
    } catch (e) {
      this.message(e.message, false);
    }
  }
}
