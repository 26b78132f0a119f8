// The confirmation before a reply that looks like personal data is sent.
// The server decides (409 with the kinds and where they are); this dialog shows the
// counsellor's own text with those parts marked, built from text nodes only.

import { PERSONAL_DATA } from "./labels.js";

const $ = (id) => document.getElementById(id);

// The text split into plain and marked parts; spans are JavaScript string indices.
export function markedParts(text, spans) {
  const parts = [];
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < at || s.end > text.length) continue; // stale or overlapping: skip
    if (s.start > at) parts.push({ text: text.slice(at, s.start) });
    parts.push({ text: text.slice(s.start, s.end), kind: s.kind });
    at = s.end;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

export class PersonalDataConfirm {
  constructor() {
    this.dialog = $("pd-dialog");
    $("pd-send").addEventListener("click", () => this.dialog.close("send"));
    $("pd-edit").addEventListener("click", () => this.dialog.close("edit"));
  }

  // Resolves true for 送信する, false for 修正する (or Esc).
  ask(text, refusal) {
    const names = refusal.personal_data.map((k) => PERSONAL_DATA[k] || k);
    $("pd-kinds").textContent = `この返信に ${names.join("、")} と思われる部分があります。`;
    $("pd-preview").replaceChildren(
      ...markedParts(text, refusal.spans).map((p) => {
        if (!p.kind) return document.createTextNode(p.text);
        const mark = document.createElement("mark");
        mark.className = "pd-mark";
        mark.dataset.kind = p.kind;
        mark.title = PERSONAL_DATA[p.kind] || p.kind;
        mark.textContent = p.text;
        return mark;
      }),
    );
    this.dialog.returnValue = "";
    return new Promise((resolve) => {
      this.dialog.addEventListener("close", () => resolve(this.dialog.returnValue === "send"), {
        once: true,
      });
      this.dialog.showModal();
      $("pd-edit").focus(); // the safe choice has the focus: Enter does not send
    });
  }
}
