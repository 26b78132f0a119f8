// Tells supervisors and admins that the reporting job produced last month's report
// (on the 1st, Japan time), so it is reviewed and sent by the 10th. Live through
// the "report" stream event, and at login for a report produced while away.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const SEEN_KEY = "sodan.reports.seen";
const RECENT_DAYS = 31; // an older report is no news

const sees = (me) => me && ["supervisor", "admin"].includes(me.role);

export class ReportNotice {
  constructor() {
    this.me = null;
    this.timer = null;
    this.shown = null;
    $("report-notice-dismiss").addEventListener("click", () => this.dismiss());
  }

  start(me) {
    this.me = me;
    this.check();
  }

  reset() {
    this.me = null;
    $("report-notice").hidden = true;
  }

  checkSoon() {
    if (!sees(this.me)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), 300);
  }

  async check() {
    if (!sees(this.me)) return;
    let produced;
    try {
      produced = await api.producedReports();
    } catch {
      return; // reporting unreachable: nothing to tell, the report page says why
    }
    const newest = produced[0];
    if (!newest) return;
    const age = (Date.now() - new Date(newest.generated_at)) / 86400000;
    const key = `${newest.month}@${newest.generated_at}`;
    if (age > RECENT_DAYS || localStorage.getItem(SEEN_KEY) === key) return;
    this.shown = key;
    const [y, m] = newest.month.split("-").map(Number);
    $("report-notice-text").textContent =
      `${y}年${m}月の月次報告ができました（相談 ${newest.cases} 件）。内容と所見を確認して送付してください。`;
    $("report-notice-open").href = `/reports.html?month=${encodeURIComponent(newest.month)}`;
    $("report-notice").hidden = false;
  }

  dismiss() {
    if (this.shown) localStorage.setItem(SEEN_KEY, this.shown);
    $("report-notice").hidden = true;
  }
}
