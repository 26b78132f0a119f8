// 相談者カルテ (the client record) and ケースメモ (case notes) beside the chat.
// The record's 注意事項 also shows as a banner above the conversation, because a
// counsellor must see it before replying. A save names the version it started
// from; when someone else saved first the server refuses (409) and the typed text
// stays in the form beside the newer saved text. Everything shown is set with
// textContent (never as HTML).

import { ApiError } from "./api.js";
import { STATUS, URGENCY } from "./labels.js";
import { call, el } from "./supervise.js";

function stamp(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

const recordUrl = (clientId) => `/api/clients/${encodeURIComponent(clientId)}/record`;
const notesUrl = (caseId) => `/api/cases/${encodeURIComponent(caseId)}/notes`;

function paragraph(text, empty) {
  return text && text.trim()
    ? el("p", { class: "karte-text" }, text)
    : el("p", { class: "muted karte-text" }, empty);
}

export class Karte {
  constructor({ root, banner }) {
    this.root = root;
    this.banner = banner;
    // Unsaved edits survive switching to another chat and back (never lost by a click
    // in the case list): record drafts by client, note drafts by case.
    this.drafts = new Map();
    this.noteDrafts = new Map();
    this.reset();
  }

  // Logout or the case taken away: nothing typed stays in this browser.
  reset() {
    this.drafts.clear();
    this.noteDrafts.clear();
    this.key = null;
    this.clientId = null;
    this.caseId = null;
    this.record = null;
    this.recordError = "";
    this.notes = null;
    this.editing = false;
    this.draft = null;
    this.conflict = null;
    this.formError = "";
    this.noteDraft = "";
    this.correcting = null;
    this.noteError = "";
    this.root.hidden = true;
    this.banner.hidden = true;
  }

  // The next show() loads again (a case opened from the list: show the latest record).
  reload() {
    this.key = null;
  }

  // Called on every chat render: loads only when the case, its client or who holds
  // it changed (each load is a recorded read; the chat re-renders on every message).
  show(detail) {
    const c = detail.case;
    const key = [detail.client_id, c.case_id, c.status, c.assigned_to].join("|");
    this.root.hidden = false;
    if (key === this.key) return;
    if (detail.client_id !== this.clientId) {
      if (this.clientId && this.editing) {
        this.drafts.set(this.clientId, { draft: this.draft, conflict: this.conflict });
      }
      const kept = this.drafts.get(detail.client_id);
      this.drafts.delete(detail.client_id);
      this.editing = Boolean(kept);
      this.draft = kept ? kept.draft : null;
      this.conflict = kept ? kept.conflict : null;
      this.formError = "";
    }
    if (c.case_id !== this.caseId) {
      if (this.caseId && (this.noteDraft || this.correcting)) {
        this.noteDrafts.set(this.caseId, { text: this.noteDraft, correcting: this.correcting });
      }
      const kept = this.noteDrafts.get(c.case_id);
      this.noteDrafts.delete(c.case_id);
      this.noteDraft = kept ? kept.text : "";
      this.correcting = kept ? kept.correcting : null;
      this.noteError = "";
    }
    this.key = key;
    this.clientId = detail.client_id;
    this.caseId = c.case_id;
    this.load();
  }

  async load() {
    const { clientId, caseId } = this;
    if (!clientId) return;
    const [record, notes] = await Promise.allSettled([
      call("GET", recordUrl(clientId)),
      call("GET", notesUrl(caseId)),
    ]);
    if (clientId !== this.clientId || caseId !== this.caseId) return;
    this.record = record.status === "fulfilled" ? record.value.data : null;
    this.recordError = record.status === "rejected" ? this.explain(record.reason) : "";
    this.notes = notes.status === "fulfilled" ? notes.value.data : null;
    this.render();
  }

  explain(error) {
    // A queued case a counsellor has not handled yet: no record until it is theirs.
    if (error instanceof ApiError && error.status === 404) {
      return "この相談者のカルテは、担当になると表示されます";
    }
    return error.message || "カルテを読み込めませんでした";
  }

  // --- rendering ----------------------------------------------------------------

  render() {
    this.renderBanner();
    const parts = [this.head()];
    if (!this.record) {
      parts.push(el("p", { class: "muted" }, this.recordError || "読み込み中…"));
    } else if (this.record.unreadable) {
      parts.push(
        el("p", { class: "karte-erased" }, "この相談者のデータは消去されているため、カルテを表示できません"),
      );
    } else if (this.editing) {
      parts.push(this.form());
    } else {
      parts.push(...this.view());
    }
    parts.push(this.notesSection());
    if (this.record) parts.push(this.pastCases());
    this.root.replaceChildren(...parts);
  }

  renderBanner() {
    const cautions = this.record && !this.record.unreadable ? this.record.cautions.trim() : "";
    this.banner.hidden = !cautions;
    this.banner.replaceChildren(
      el("strong", {}, "⚠ 注意事項"),
      el("span", { class: "karte-banner-text" }, cautions),
    );
  }

  head() {
    const r = this.record;
    const title = el("h2", {}, "相談者カルテ");
    const label = el("span", { class: "karte-client" }, r ? r.client_label : "");
    const meta = el(
      "p",
      { class: "muted karte-meta" },
      !r
        ? ""
        : r.version === 0
          ? "まだ記入されていません"
          : `第${r.version}版・${stamp(r.updated_at)} ${r.updated_by_name || "スタッフ"} が更新`,
    );
    const actions = el("div", { class: "karte-actions" });
    if (r && r.can_edit && !this.editing) {
      actions.append(el("button", { type: "button", id: "karte-edit", onclick: () => this.edit() }, "編集"));
    }
    if (r && !r.can_edit && !r.unreadable) {
      actions.append(el("span", { class: "muted karte-readonly" }, "閲覧のみ"));
    }
    actions.append(
      el("button", { type: "button", class: "ghost", title: "最新の内容を読み込みます", onclick: () => this.load() }, "再読み込み"),
    );
    return el("header", { class: "karte-head" }, el("div", {}, title, label), meta, actions);
  }

  view() {
    const r = this.record;
    const flags = r.flags.length
      ? el("div", { class: "karte-flags" }, ...r.flags.map((f) => el("span", { class: "karte-flag on" }, f)))
      : el("p", { class: "muted karte-text" }, "なし");
    return [
      el("section", { class: "karte-field karte-cautions" }, el("h3", {}, "注意事項"), paragraph(r.cautions, "なし")),
      el("section", { class: "karte-field" }, el("h3", {}, "特徴"), paragraph(r.characteristics, "未記入")),
      el("section", { class: "karte-field" }, el("h3", {}, "フラグ"), flags),
    ];
  }

  edit() {
    const r = this.record;
    this.editing = true;
    this.draft = {
      version: r.version,
      cautions: r.cautions,
      characteristics: r.characteristics,
      flags: [...r.flags],
    };
    this.conflict = null;
    this.formError = "";
    this.render();
    const first = document.getElementById("karte-cautions-input");
    if (first) first.focus();
  }

  form() {
    const r = this.record;
    const d = this.draft;
    const area = (id, name, max, rows) => {
      const t = el("textarea", { id, rows: String(rows), maxlength: String(max) });
      t.value = d[name];
      t.addEventListener("input", () => {
        d[name] = t.value;
      });
      return t;
    };
    const chips = r.flag_options.map((flag) => {
      const on = d.flags.includes(flag);
      const b = el(
        "button",
        { type: "button", class: `karte-flag${on ? " on" : ""}`, "aria-pressed": on ? "true" : "false" },
        flag,
      );
      b.addEventListener("click", () => {
        d.flags = d.flags.includes(flag) ? d.flags.filter((f) => f !== flag) : [...d.flags, flag];
        const pressed = d.flags.includes(flag);
        b.classList.toggle("on", pressed);
        b.setAttribute("aria-pressed", pressed ? "true" : "false");
      });
      return b;
    });
    const form = el(
      "form",
      { class: "karte-form", id: "karte-form", "aria-label": "カルテの編集" },
      el("label", {}, `注意事項（${r.max_cautions}文字以内。会話の上に表示されます）`, area("karte-cautions-input", "cautions", r.max_cautions, 3)),
      el("label", {}, `特徴（${r.max_characteristics}文字以内）`, area("karte-characteristics-input", "characteristics", r.max_characteristics, 5)),
      el("fieldset", {}, el("legend", {}, "フラグ（押して切り替え）"), el("div", { class: "karte-flags" }, ...chips)),
    );
    if (this.conflict) {
      const c = this.conflict;
      form.append(
        el(
          "div",
          { class: "karte-conflict", role: "region", "aria-label": "他のスタッフが保存した内容" },
          el("strong", {}, `他のスタッフが保存した内容（第${c.version}版・${c.updated_by_name || "スタッフ"}）`),
          el("h4", {}, "注意事項"),
          paragraph(c.cautions, "なし"),
          el("h4", {}, "特徴"),
          paragraph(c.characteristics, "未記入"),
          el("h4", {}, "フラグ"),
          paragraph(c.flags.join("、"), "なし"),
        ),
      );
    }
    const error = el("p", { class: "error", id: "karte-error", role: "alert" }, this.formError);
    error.hidden = !this.formError;
    form.append(
      error,
      el(
        "div",
        { class: "form-actions" },
        el("button", { type: "button", class: "ghost", onclick: () => this.cancel() }, "やめる"),
        el("button", { type: "submit", class: "primary", id: "karte-save" }, "保存"),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    return form;
  }

  cancel() {
    this.editing = false;
    this.draft = null;
    this.conflict = null;
    this.formError = "";
    this.render();
  }

  async save() {
    const clientId = this.clientId;
    const d = this.draft;
    const button = document.getElementById("karte-save");
    if (button) button.disabled = true;
    try {
      const { data } = await call("PUT", recordUrl(clientId), {
        version: d.version,
        cautions: d.cautions,
        characteristics: d.characteristics,
        flags: d.flags,
      });
      if (clientId !== this.clientId) return;
      this.record = data;
      this.editing = false;
      this.draft = null;
      this.conflict = null;
      this.formError = "";
    } catch (error) {
      if (clientId !== this.clientId) return;
      this.formError = error.message;
      if (error instanceof ApiError && error.status === 409) {
        // Someone saved first: show what they saved beside the typed text (kept),
        // and let the next 保存 build on their version once merged by hand.
        try {
          const { data } = await call("GET", recordUrl(clientId));
          if (data.unreadable) {
            this.record = data;
            this.editing = false;
          } else {
            this.conflict = data;
            this.record = data;
            d.version = data.version;
            this.formError = `${error.message}（あなたの入力は残っています。下の保存済みの内容と見比べて直してから保存してください）`;
          }
        } catch (reload) {
          this.formError = `${error.message}（${reload.message}）`;
        }
      }
    }
    this.render();
  }

  // --- ケースメモ ------------------------------------------------------------------

  notesSection() {
    const section = el("section", { class: "karte-notes", "aria-label": "ケースメモ" }, el("h3", {}, "この相談のメモ（ケースメモ）"));
    if (!this.notes) {
      section.append(el("p", { class: "muted" }, "メモを読み込めませんでした"));
      return section;
    }
    const items = this.notes.items;
    section.append(
      items.length
        ? el("ol", { class: "karte-note-list", id: "karte-note-list" }, ...items.map((n) => this.note(n)))
        : el("p", { class: "muted" }, "メモはまだありません"),
    );
    if (this.notes.can_add) section.append(this.noteForm());
    return section;
  }

  note(n, { correctable = true } = {}) {
    const li = el("li", { class: "karte-note" });
    li.append(
      n.unreadable
        ? el("p", { class: "muted karte-text" }, "（消去されたため表示できません）")
        : el("p", { class: "karte-text" }, n.text),
    );
    const meta = [`${n.author_name || "スタッフ"}・${stamp(n.first_written_at)}`];
    if (n.version > 1) meta.push(`訂正 ${stamp(n.written_at)}（第${n.version}版）`);
    li.append(el("div", { class: "muted karte-note-meta" }, meta.join("　")));
    if (n.history.length) {
      const older = el("details", { class: "karte-history" }, el("summary", {}, `以前の版（${n.history.length}）`));
      for (const v of n.history) {
        older.append(el("p", { class: "karte-text muted" }, `第${v.version}版 ${stamp(v.written_at)}: ${v.text ?? "（表示できません）"}`));
      }
      li.append(older);
    }
    if (correctable && n.can_correct) {
      li.append(
        el(
          "button",
          {
            type: "button",
            class: "ghost karte-correct",
            onclick: () => {
              this.correcting = n.note_id;
              this.noteDraft = n.text;
              this.noteError = "";
              this.render();
              document.getElementById("karte-note-input").focus();
            },
          },
          "訂正",
        ),
      );
    }
    return li;
  }

  noteForm() {
    const input = el("textarea", {
      id: "karte-note-input",
      rows: "3",
      maxlength: String(this.notes.max_length),
      placeholder: "スタッフだけが見るメモ（相談者には送られません）",
      "aria-label": "ケースメモ",
    });
    input.value = this.noteDraft;
    input.addEventListener("input", () => {
      this.noteDraft = input.value;
    });
    const error = el("p", { class: "error", role: "alert" }, this.noteError);
    error.hidden = !this.noteError;
    const actions = el("div", { class: "form-actions" });
    if (this.correcting) {
      actions.append(
        el("button", { type: "button", class: "ghost", onclick: () => this.stopCorrecting() }, "訂正をやめる"),
      );
    }
    actions.append(
      el("button", { type: "submit", class: "primary", id: "karte-note-add" }, this.correcting ? "訂正を保存" : "メモを追加"),
    );
    const form = el(
      "form",
      { class: "karte-note-form" },
      this.correcting ? el("p", { class: "muted" }, "訂正は新しい版として保存され、元の文も残ります") : null,
      input,
      error,
      actions,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.addNote();
    });
    return form;
  }

  stopCorrecting() {
    this.correcting = null;
    this.noteDraft = "";
    this.noteError = "";
    this.render();
  }

  async addNote() {
    const caseId = this.caseId;
    const text = this.noteDraft;
    if (!text.trim()) {
      this.noteError = "メモを入力してください";
      return this.render();
    }
    const body = this.correcting ? { text, corrects: this.correcting } : { text };
    try {
      const { data } = await call("POST", notesUrl(caseId), body);
      if (caseId !== this.caseId) return;
      this.notes = data;
      this.noteDraft = "";
      this.correcting = null;
      this.noteError = "";
      // the record's past-case list shows this case's notes too
      const here = this.record && this.record.cases.find((c) => c.case_id === caseId);
      if (here) here.notes = data.items;
    } catch (error) {
      if (caseId !== this.caseId) return;
      this.noteError = error.message; // the typed text stays in the box
    }
    this.render();
  }

  // --- 過去の相談 ---------------------------------------------------------------------

  pastCases() {
    const cases = this.record.cases;
    const section = el("section", { class: "karte-past", "aria-label": "過去の相談" }, el("h3", {}, `過去の相談（${cases.length}件）`));
    section.append(el("ol", { class: "karte-case-list", id: "karte-case-list" }, ...cases.map((c) => this.pastCase(c))));
    return section;
  }

  pastCase(c) {
    const current = c.case_id === this.caseId;
    const li = el("li", { class: `karte-case${current ? " current" : ""}` });
    const period = c.closed_at ? `${stamp(c.opened_at)} 〜 ${stamp(c.closed_at)}` : `${stamp(c.opened_at)} 〜`;
    li.append(
      el(
        "div",
        { class: "karte-case-head" },
        el("span", {}, period),
        el("span", { class: `status ${c.status}` }, STATUS[c.status] || c.status),
        c.urgency !== "normal" ? el("span", { class: `badge ${c.urgency}` }, URGENCY[c.urgency] || c.urgency) : null,
        current ? el("span", { class: "muted" }, "（この相談）") : null,
      ),
    );
    const lines = [`担当: ${c.counsellors.length ? c.counsellors.join(" → ") : "未割当"}`];
    if (c.outcome) lines.push(`対応結果: ${c.outcome}`);
    if (c.topics.length) lines.push(`相談内容: ${c.topics.join("、")}`);
    if (c.survey_answer) lines.push(`終了後アンケート: ${c.survey_answer}`);
    for (const line of lines) li.append(el("div", { class: "karte-case-line" }, line));
    for (const h of c.handovers) {
      const to = h.other_staff_name ? `${h.other_staff_name} へ` : "受付待ちへ";
      li.append(
        el(
          "div",
          { class: "handover-note" },
          `引き継ぎ（${stamp(h.at)} ${h.staff_name || "スタッフ"} から${to}）${h.note ? `: ${h.note}` : ""}`,
        ),
      );
    }
    if (c.notes.length && !current) {
      li.append(el("ol", { class: "karte-note-list" }, ...c.notes.map((n) => this.note(n, { correctable: false }))));
    }
    return li;
  }
}
