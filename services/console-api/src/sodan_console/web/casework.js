// A counsellor's moves on their case — 終了 (the closing form), 保留, 引き継ぎ (転送) —
// a supervisor's confirmation of closing a 緊急 case, the 前回の相談 link, and the
// staff-only lines of the case's timeline. Everything shown is set with textContent.

import { api } from "./api.js";
import { ATTENTION, clock } from "./labels.js";

const $ = (id) => document.getElementById(id);

function who(name) {
  return name || "スタッフ";
}

function closing(data) {
  const parts = [];
  if (data.outcome) parts.push(`対応結果: ${data.outcome}`);
  if (data.topics && data.topics.length) parts.push(`相談内容: ${data.topics.join("、")}`);
  return parts.length ? `（${parts.join("／")}）` : "";
}

// One sentence per timeline entry (staff-only; never sent to the client).
export function logText(e) {
  const d = e.data || {};
  switch (e.kind) {
    case "reopened":
      return "相談者が終了後まもなく連絡してきたため、同じ相談を再開しました";
    case "hold_changed":
      if (d.on_hold) return `${who(e.staff_name)} が保留にしました（相談者の返信待ち）`;
      return d.by === "client"
        ? "相談者の返信で保留が解除されました"
        : `${who(e.staff_name)} が保留を解除しました`;
    case "handed_over":
      return e.other_staff_name
        ? `${who(e.staff_name)} から ${e.other_staff_name} へ引き継ぎました`
        : `${who(e.staff_name)} が受付待ちに戻しました（引き継ぎ）`;
    case "close_requested":
      return `${who(e.staff_name)} が終了を依頼しました${closing(d)}。緊急のためスーパーバイザーの確認待ちです`;
    case "close_declined":
      return `${who(e.staff_name)} が終了を差し戻しました（相談は継続します）`;
    case "command_refused":
      return `操作できませんでした: ${d.reason || "理由不明"}`;
    case "survey_sent":
      return "相談者に終了後アンケートを送信しました";
    case "survey_answered":
      return `アンケートの回答: ${d.answer}`;
    case "closed":
      return `${e.staff_name ? `${e.staff_name} が` : ""}相談を終了しました${closing(d)}`;
    default:
      return e.kind;
  }
}

export class Casework {
  constructor({ onChanged, onOpenCase, onError }) {
    this.onChanged = onChanged;
    this.onOpenCase = onOpenCase;
    this.onError = onError;
    this.caseData = null;
    this.options = null;
    $("close-case").addEventListener("click", () => this.openClose());
    $("close-cancel").addEventListener("click", () => this.hideForms());
    $("close-outcomes").addEventListener("change", () => this.formError("close-error", ""));
    $("close-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.submitClose();
    });
    $("hold-case").addEventListener("click", () => this.toggleHold());
    $("hand-over").addEventListener("click", () => this.openHandover());
    $("handover-cancel").addEventListener("click", () => this.hideForms());
    $("handover-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.submitHandover();
    });
    $("close-confirm").addEventListener("click", () => this.decide(true));
    $("close-decline").addEventListener("click", () => this.decide(false));
    $("previous-case").addEventListener("click", () => {
      if (this.caseData && this.caseData.previous_case_id) {
        this.onOpenCase(this.caseData.previous_case_id);
      }
    });
  }

  render(c) {
    if (!this.caseData || this.caseData.case_id !== c.case_id) this.hideForms();
    this.caseData = c;
    const pending = Boolean(c.close_request);
    $("close-case").hidden = !c.can_act || pending;
    $("hold-case").hidden = !c.can_hold;
    $("hold-case").textContent = c.status === "on_hold" ? "保留を解除" : "保留";
    $("hand-over").hidden = !c.can_hand_over;
    $("previous-case").hidden = !c.previous_case_id;
    if (c.status === "closed") this.hideForms();

    const notice = $("case-notice");
    const text = [];
    if (c.attention && ATTENTION[c.attention]) text.push(ATTENTION[c.attention][1]);
    if (pending && !c.can_decide_close) text.push("終了を依頼しました。スーパーバイザーの確認を待っています");
    if (c.status === "closed" && c.outcome) text.push(`終了${closing({ outcome: c.outcome, topics: c.topics })}`);
    if (c.survey_answer) text.push(`アンケートの回答: ${c.survey_answer}`);
    notice.textContent = text.join("　");
    notice.hidden = text.length === 0;

    const request = $("close-request");
    request.hidden = !c.can_decide_close;
    if (c.can_decide_close) {
      const r = c.close_request;
      $("close-request-text").textContent =
        `${who(r.staff_name)} がこの緊急の相談の終了を依頼しています${closing(r)}` +
        (r.send_survey ? "（アンケート送信あり）" : "") + "。確認して終了しますか？";
    }
  }

  hideForms() {
    $("close-form").hidden = true;
    $("handover-form").hidden = true;
    this.formError("close-error", "");
    this.formError("handover-error", "");
  }

  formError(id, text) {
    $(id).textContent = text;
    $(id).hidden = !text;
  }

  async loadOptions() {
    if (this.options) return this.options;
    this.options = await api.closingOptions();
    const choice = (type, name, value) => {
      const label = document.createElement("label");
      label.className = "choice";
      const input = document.createElement("input");
      input.type = type;
      input.name = name;
      input.value = value;
      label.append(input, document.createTextNode(value));
      return label;
    };
    $("close-outcomes").replaceChildren(
      ...this.options.outcomes.map((o) => choice("radio", "close-outcome", o)),
    );
    $("close-topics").replaceChildren(
      ...this.options.topics.map((t) => choice("checkbox", "close-topic", t)),
    );
    return this.options;
  }

  async openClose() {
    if (!this.caseData) return;
    try {
      await this.loadOptions();
    } catch (error) {
      return this.onError(error.message);
    }
    $("handover-form").hidden = true;
    $("close-form").reset();
    this.formError("close-error", "");
    $("close-submit").textContent =
      this.caseData.urgency === "critical" && !this.caseData.can_switch_emergency_mode
        ? "終了を依頼する（SV確認）"
        : "終了する";
    $("close-form").hidden = false;
    $("close-outcomes").querySelector("input").focus();
  }

  async submitClose() {
    const c = this.caseData;
    const outcome = document.querySelector("input[name=close-outcome]:checked");
    if (!outcome) return this.formError("close-error", "対応結果を選んでください");
    const topics = [...document.querySelectorAll("input[name=close-topic]:checked")].map(
      (i) => i.value,
    );
    const body = { outcome: outcome.value, topics, send_survey: $("close-survey").checked };
    $("close-submit").disabled = true;
    try {
      const accepted = await api.close(c.case_id, body);
      this.hideForms();
      $("case-notice").textContent = accepted.notice || "終了を依頼しました…";
      $("case-notice").hidden = false;
      this.onChanged();
    } catch (error) {
      this.formError("close-error", error.message);
    } finally {
      $("close-submit").disabled = false;
    }
  }

  async toggleHold() {
    const c = this.caseData;
    if (!c) return;
    try {
      await api.hold(c.case_id, c.status !== "on_hold");
      this.onChanged();
    } catch (error) {
      this.onError(error.message);
    }
  }

  async openHandover() {
    const c = this.caseData;
    if (!c) return;
    let targets;
    try {
      targets = await api.handoverTargets(c.case_id);
    } catch (error) {
      return this.onError(error.message);
    }
    const option = (value, text, disabled = false) => {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      o.disabled = disabled;
      return o;
    };
    $("handover-to").replaceChildren(
      option("", "受付待ちに戻す（次に空いた相談員へ）"),
      ...targets.map((t) =>
        option(
          t.staff_id,
          `${t.display_name}（${t.load}/${t.capacity}件）${t.available ? "" : ` — ${t.reason}`}`,
          !t.available,
        ),
      ),
    );
    const first = targets.find((t) => t.available);
    if (first) $("handover-to").value = first.staff_id;
    $("handover-note").value = "";
    $("close-form").hidden = true;
    this.formError("handover-error", "");
    $("handover-form").hidden = false;
    $("handover-to").focus();
  }

  async submitHandover() {
    const c = this.caseData;
    const to = $("handover-to").value || null;
    const note = $("handover-note").value.trim() || null;
    $("handover-submit").disabled = true;
    try {
      await api.handOver(c.case_id, { to_staff_id: to, note });
      this.hideForms();
      $("case-notice").textContent = "引き継ぎを依頼しました…";
      $("case-notice").hidden = false;
      this.onChanged();
    } catch (error) {
      this.formError("handover-error", error.message);
    } finally {
      $("handover-submit").disabled = false;
    }
  }

  async decide(approve) {
    const c = this.caseData;
    if (!c) return;
    const question = approve
      ? `${c.client_label} の緊急の相談を終了します。よろしいですか？`
      : `${c.client_label} の終了依頼を差し戻し、相談を継続させますか？`;
    if (!window.confirm(question)) return;
    try {
      await api.decideClose(c.case_id, approve);
      $("close-request").hidden = true;
      this.onChanged();
    } catch (error) {
      this.onError(error.message);
    }
  }

  line(e) {
    const li = document.createElement("li");
    li.className = `msg event-line case-log ${e.kind}`;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = logText(e);
    li.append(bubble);
    if (e.note) {
      const note = document.createElement("div");
      note.className = "handover-note";
      note.textContent = `引き継ぎメモ: ${e.note}`;
      li.append(note);
    }
    const meta = document.createElement("div");
    meta.className = "msg-meta";
    meta.textContent = `${clock(e.at)} · スタッフのみ`;
    li.append(meta);
    return li;
  }
}
