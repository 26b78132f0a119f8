// Alerts for 緊急 cases: every supervisor at once, and the counsellor a case is
// assigned to. The server decides who (CasePublic.urgent_alert); this shows a
// banner that stays until dismissed, plays a short tone and, when the browser
// allows it, raises a desktop notification whose text says nothing about the
// client (desk screens can be seen by others).

import { api } from "./api.js";
import { STATUS } from "./labels.js";

const $ = (id) => document.getElementById(id);
const MAX_PAGES = 20; // 1,000 open 緊急 cases: far beyond any desk, and bounded

export class UrgentAlerts {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.seen = new Set(); // case id + assignee: a case assigned later alerts its counsellor
    this.timer = null;
    $("urgent-alert-dismiss").addEventListener("click", () => this.dismiss());
    $("urgent-alert-open").addEventListener("click", () => {
      const caseId = $("urgent-alert").dataset.caseId;
      this.dismiss();
      if (caseId) this.onOpen(caseId);
    });
  }

  reset() {
    this.seen.clear();
    this.dismiss();
  }

  checkSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), 200);
  }

  async check() {
    // Every open 緊急 case, not just the first page: the list puts the oldest first,
    // so with more than a page open a new one would otherwise never alert.
    const items = [];
    let cursor = null;
    try {
      for (let pages = 0; pages < MAX_PAGES; pages += 1) {
        const page = await api.cases(["queued", "assigned"], cursor, ["critical"]);
        items.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
    } catch {
      return; // the case list reports errors; an alert check simply waits for the next change
    }
    const fresh = items.filter((c) => c.urgent_alert && !this.seen.has(this.key(c)));
    for (const c of items) if (c.urgent_alert) this.seen.add(this.key(c));
    if (fresh.length) this.raise(fresh[0], fresh.length);
  }

  key(c) {
    return `${c.case_id}:${c.assigned_to || "queue"}`;
  }

  raise(c, count) {
    const banner = $("urgent-alert");
    banner.dataset.caseId = c.case_id;
    const more = count > 1 ? `（ほか${count - 1}件）` : "";
    $("urgent-alert-text").textContent =
      `緊急の相談があります: ${c.client_label}（${STATUS[c.status] || c.status}）${more}`;
    banner.hidden = false;
    this.tone();
    this.notify();
  }

  dismiss() {
    $("urgent-alert").hidden = true;
  }

  tone() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.4);
    } catch {
      // No audio device: the banner is the alert.
    }
  }

  notify() {
    if (!("Notification" in window)) return;
    const show = () => new Notification("相談コンソール", { body: "緊急の相談があります" });
    if (Notification.permission === "granted") show();
    else if (Notification.permission === "default") {
      Notification.requestPermission().then((p) => p === "granted" && show());
    }
  }
}
