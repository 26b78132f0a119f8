// The chat pane: the client's conversation, the reply box and the close button.

import { api, ApiError } from "./api.js";
import { Casework } from "./casework.js";
import { Emergency } from "./emergency.js";
import { markedText } from "./highlight.js";
import { renderIntake } from "./intake.js";
import { PersonalDataConfirm } from "./personal_data.js";
import { TemplatePicker, isPickerShortcut } from "./templates.js";
import { Karte } from "./karte.js";
import {
  DELIVERY,
  KIND,
  PERSONAL_DATA,
  STATUS,
  URGENCY,
  clock,
  failureReason,
  waitingTime,
} from "./labels.js";

const $ = (id) => document.getElementById(id);
const MAX = 5000;
const FOLLOW_LINES = ["followed", "blocked", "unblocked"];
const MAX_QUICK_REPLIES = 12; // LINE's 13, less the client's end button
const TYPING_EVERY_MS = 20000; // the server throttles too

export class Chat {
  constructor({ onChanged, onOpenCase, controls = null }) {
    this.onChanged = onChanged;
    this.controls = controls; // supervise.js: pick up, reassign, take over
    this.caseId = null;
    this.detail = null;
    this.timer = null;
    this.sending = false;
    $("reply-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    // Typing-safe: Enter is a new line (and confirms the IME); only Ctrl+Enter sends.
    $("reply-text").addEventListener("keydown", (e) => {
      if (e.isComposing || e.keyCode === 229) return;
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.send();
      } else if (isPickerShortcut(e)) {
        e.preventDefault();
        this.templates.open();
      }
    });
    this.templates = new TemplatePicker({ textarea: $("reply-text") });
    this.personalData = new PersonalDataConfirm();
    $("reply-text").addEventListener("input", () => {
      this.count();
      this.typing();
    });
    this.sticker = null;
    this.quickReplies = [];
    this.typedAt = {};
    $("qr-add").addEventListener("click", () => this.addQuickReply());
    $("qr-label").addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        this.addQuickReply();
      }
    });
    // 既読 only while a person can see the chat: a hidden tab refreshes without it.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.refreshSoon();
    });
    this.stickers = [];
    this.casework = new Casework({
      onChanged: () => {
        this.onChanged();
        this.refreshSoon();
      },
      onOpenCase: (caseId) => (onOpenCase ? onOpenCase(caseId) : this.open(caseId)),
      onError: (text) => this.error(text),
    });
    this.emergency = new Emergency({
      onChanged: () => this.refresh(),
      onError: (text) => this.error(text),
    });
    this.karte = new Karte({ root: $("karte"), banner: $("karte-banner") });
  }

  reset() {
    this.caseId = null;
    this.detail = null;
    $("chat").hidden = true;
    $("chat-empty").hidden = false;
    this.karte.reset();
  }

  async open(caseId) {
    if (caseId !== this.caseId) {
      this.templates.close({ refocus: false });
      $("reply-text").value = "";
      this.sticker = null;
      this.quickReplies = [];
      this.renderAttachments();
    }
    this.caseId = caseId;
    this.karte.reload(); // opening a case reads its client's record afresh
    this.error("");
    if (!this.stickers.length) this.loadStickers(); // after login: the list needs a session
    await this.refresh({ scroll: true });
    $("reply-text").focus();
  }

  refreshSoon() {
    if (!this.caseId) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 200);
  }

  async refresh({ scroll = false } = {}) {
    if (!this.caseId) return;
    const caseId = this.caseId;
    try {
      const detail = await api.caseDetail(caseId, document.visibilityState === "visible");
      if (caseId !== this.caseId) return;
      this.detail = detail;
      this.render(scroll);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        window.dispatchEvent(new Event("sodan:unauthorized"));
      } else if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        // open and visible a moment ago: a supervisor moved it to someone else
        const left = error.status === 403 && this.detail && this.detail.case.status !== "closed";
        this.reset();
        $("chat-empty").textContent = left
          ? "この相談は担当が変わりました（スーパーバイザーによる担当変更・引き継ぎ）。一覧から外れています。"
          : error.message;
      }
    }
  }

  render(forceScroll) {
    const { case: c, messages } = this.detail;
    $("chat-empty").hidden = true;
    $("chat").hidden = false;
    const badge = $("chat-urgency");
    badge.className = `badge ${c.urgency}`;
    badge.textContent = URGENCY[c.urgency] || c.urgency;
    $("chat-client").textContent = c.client_label;
    const status = $("chat-status");
    status.className = `status ${c.status}`;
    status.textContent = STATUS[c.status] || c.status;
    const meta = [`担当: ${c.assignee_name || "未割当"}`];
    if (c.status !== "closed") meta.push(`受付から ${waitingTime(c.opened_at)}`);
    $("chat-meta").textContent = meta.join("　");

    this.emergency.render(c);
    if (this.controls) this.controls.render(c);
    if (this.caseLabels) this.caseLabels.render(c); // case-labels.js, set by app.js
    this.casework.render(c);
    $("chat-blocked").hidden = !c.client_blocked;
    // a case this counsellor once had (handed over, reassigned): they may read it, not act
    const readOnly = c.status !== "closed" && c.assigned_to && !c.can_act && !c.can_hand_over;
    $("chat-readonly").hidden = !readOnly;
    $("chat-readonly").textContent = readOnly
      ? `閲覧のみ: この相談は現在 ${c.assignee_name || "ほかの相談員"} さんの担当です。`
      : "";
    renderIntake($("chat-intake"), c.intake);
    this.karte.show(this.detail);
    $("reply-form").hidden = !c.can_act || c.client_blocked;

    const list = $("messages");
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    // The conversation and the case's staff-only timeline, in time order.
    const lines = [
      ...messages.map((m) => ({ at: m.sent_at, el: () => this.bubble(m) })),
      ...(this.detail.log || []).map((e) => ({ at: e.at, el: () => this.casework.line(e) })),
    ].sort((a, b) => new Date(a.at) - new Date(b.at));
    list.replaceChildren(...lines.map((l) => l.el()));
    if (forceScroll || nearBottom) list.scrollTop = list.scrollHeight;
  }

  bubble(m) {
    const li = document.createElement("li");
    li.className = `msg ${m.direction === "in" ? "from-client" : "from-staff"}`;
    if (m.automatic) li.classList.add("automatic");
    if (m.kind === "unsent") li.classList.add("unsent");
    if (FOLLOW_LINES.includes(m.kind)) li.classList.add("event-line");
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (m.urgency && m.urgency !== "normal" && m.direction === "in") {
      bubble.classList.add(`flag-${m.urgency}`);
    }
    const media = m.text === null && !m.unreadable ? this.emergency.body(m) : null;
    if (m.text !== null && m.direction === "in" && (m.score_reasons || []).length) {
      bubble.append(markedText(m.text, m.score_reasons));
      if (m.sticker_label) bubble.append(`\n${m.sticker_label}`);
    } else if (m.text !== null || m.sticker_label) {
      bubble.textContent = [m.text, m.sticker_label].filter(Boolean).join("\n");
    } else if (media) {
      bubble.append(media);
    } else {
      bubble.classList.add("placeholder");
      bubble.textContent = m.unreadable
        ? "（この内容は表示できません）"
        : KIND[m.kind] || KIND.unknown;
    }
    const meta = document.createElement("div");
    meta.className = "msg-meta";
    const parts = [clock(m.sent_at)];
    if (m.direction === "out") {
      if (m.automatic) parts.unshift("自動送信");
      else if (m.staff_name) parts.unshift(m.staff_name);
      if (m.delivery) parts.push(DELIVERY[m.delivery]);
    } else {
      if (m.urgency && m.urgency !== "normal") parts.push(`緊急度: ${URGENCY[m.urgency]}`);
      const why = (m.score_reasons || []).map(
        (r) => r.category + (r.subject === "other" ? "・第三者の話" : "") + (r.hedged ? "・過去" : ""),
      );
      if (why.length) parts.push(`（${[...new Set(why)].join("、")}）`);
      if (m.late) parts.push("遅延受信");
    }
    meta.textContent = parts.join(" · ");
    if (m.delivery) meta.classList.add(`delivery-${m.delivery}`);
    li.append(bubble, meta);
    if (m.quick_replies && m.quick_replies.length) {
      const buttons = document.createElement("div");
      buttons.className = "msg-quick-replies";
      buttons.textContent = `クイックリプライ: ${m.quick_replies.join(" / ")}`;
      li.append(buttons);
    }
    if (m.delivery === "failed" && m.delivery_error) {
      const why = document.createElement("div");
      why.className = "msg-warning delivery-reason";
      why.textContent = failureReason(m.delivery_error);
      li.append(why);
    }
    if (m.delivery === "failed" && !m.automatic && this.detail && this.detail.case.can_act) {
      // the same message again (LINE's retry key keeps it from arriving twice)
      const again = document.createElement("button");
      again.type = "button";
      again.className = "ghost resend";
      again.textContent = "再送する";
      again.addEventListener("click", () => this.resend(m.message_id, again));
      li.append(again);
    }
    if (m.direction === "in" && m.personal_data && m.personal_data.length) {
      // Only kinds are shown (never the matched text): the counsellor decides what to do.
      const warning = document.createElement("div");
      warning.className = "msg-warning";
      const kinds = m.personal_data.map((k) => PERSONAL_DATA[k] || k);
      warning.textContent = `⚠ 個人情報の可能性: ${kinds.join("、")}`;
      li.append(warning);
    }
    return li;
  }

  async resend(messageId, button) {
    button.disabled = true;
    try {
      await api.resend(this.caseId, messageId);
      this.error("");
    } catch (error) {
      this.error(error.message);
    }
    this.refreshSoon();
  }

  count() {
    const n = $("reply-text").value.length;
    $("reply-count").textContent = `${n} / ${MAX}`;
  }

  error(text) {
    const el = $("reply-error");
    el.textContent = text;
    el.hidden = !text;
  }

  async loadStickers() {
    try {
      this.stickers = await api.stickers();
    } catch {
      this.stickers = [];
    }
    // Labels only: LINE's sticker pictures are not loaded (no outside requests).
    $("sticker-list").replaceChildren(
      ...this.stickers.map((s) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = s.label;
        b.dataset.sticker = s.key;
        b.addEventListener("click", () => {
          this.sticker = s;
          this.renderAttachments();
        });
        return b;
      }),
    );
  }

  addQuickReply() {
    const label = $("qr-label").value.trim();
    if (!label) return;
    if (this.quickReplies.length >= MAX_QUICK_REPLIES) {
      return this.error(`クイックリプライは${MAX_QUICK_REPLIES}個までです`);
    }
    this.quickReplies.push(label);
    $("qr-label").value = "";
    this.renderAttachments();
  }

  renderAttachments() {
    const chip = (text, onRemove) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "attached";
      b.title = "外す";
      b.textContent = `${text} ×`;
      b.addEventListener("click", onRemove);
      return b;
    };
    const chips = [];
    if (this.sticker) {
      chips.push(chip(`［スタンプ］${this.sticker.label}`, () => {
        this.sticker = null;
        this.renderAttachments();
      }));
    }
    this.quickReplies.forEach((label, i) => {
      chips.push(chip(`［ボタン］${label}`, () => {
        this.quickReplies.splice(i, 1);
        this.renderAttachments();
      }));
    });
    $("reply-attachments").replaceChildren(...chips);
  }

  typing() {
    const caseId = this.caseId;
    if (!caseId || !this.detail || !this.detail.case.can_act) return;
    const now = Date.now();
    if (now - (this.typedAt[caseId] || 0) < TYPING_EVERY_MS) return;
    this.typedAt[caseId] = now;
    api.typing(caseId).catch(() => {}); // best effort: a lost signal is harmless
  }

  async send({ confirmed = false } = {}) {
    const text = $("reply-text").value;
    if (this.sending || !this.caseId) return;
    if (!text.trim() && !this.sticker) return this.error("本文を入力するかスタンプを選んでください");
    const body = {};
    if (text.trim()) body.text = text;
    if (this.sticker) body.sticker = this.sticker.key;
    if (this.quickReplies.length) {
      body.quick_replies = this.quickReplies.map((label) => ({ label, text: label }));
    }
    if (confirmed) body.confirm_personal_data = true;
    this.sending = true;
    $("send").disabled = true;
    this.error("");
    let held = null; // a 409 for personal data: ask the counsellor
    try {
      await api.send(this.caseId, body);
      $("reply-text").value = "";
      this.sticker = null;
      this.quickReplies = [];
      this.renderAttachments();
      this.count();
      await this.refresh({ scroll: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.data && error.data.spans) {
        held = error.data;
      } else {
        this.error(error.message);
      }
    } finally {
      this.sending = false;
      $("send").disabled = false;
    }
    if (held) await this.confirmPersonalData(text, held);
  }

  // The reply looks like personal data: send only after the counsellor says so;
  // going back to edit keeps everything in the reply box and selects the first part found.
  async confirmPersonalData(text, refusal) {
    const send = await this.personalData.ask(text, refusal);
    if (send) return this.send({ confirmed: true });
    const box = $("reply-text");
    box.focus();
    const first = refusal.spans[0];
    if (first && box.value === text) box.setSelectionRange(first.start, first.end);
  }
}
