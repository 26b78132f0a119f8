// Admins' access log screen (spec 4(1)(イ)): a filtered table, newest first, with
// "さらに表示" (keyset by id) and a CSV download of the same filters.
// Everything is rendered with textContent.

import { call, el, Panel } from "./supervise.js";

const ACTION = {
  "login.succeeded": "ログイン",
  "login.failed": "ログイン失敗",
  logout: "ログアウト",
  "case.list": "相談一覧の閲覧",
  "case.read": "相談の閲覧",
  "case.media": "画像等の閲覧",
  change: "変更操作",
  "access_log.read": "アクセスログの閲覧",
  "access_log.export": "アクセスログの出力",
  "reply.personal_data_confirmed": "個人情報の確認後に返信",
  "client_record.read": "相談者カルテの閲覧",
  "case_notes.read": "ケースメモの閲覧",
};
const REASON = {
  unknown_login: "未登録のID",
  wrong_password: "パスワード誤り",
  disabled: "無効なアカウント",
  phone: "電話番号",
  email: "メールアドレス",
  postal_address: "住所",
  my_number: "マイナンバー",
};

function stamp(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export class AccessLogPanel extends Panel {
  constructor(root) {
    super(root, "アクセスログ");
    this.next = null;
  }

  params() {
    const params = new URLSearchParams();
    for (const [name, id] of [
      ["from", "al-from"],
      ["to", "al-to"],
      ["staff_id", "al-staff"],
      ["action", "al-action"],
    ]) {
      const value = this.root.querySelector(`#${id}`).value;
      if (value) params.set(name, value);
    }
    return params;
  }

  async load() {
    let staff = [];
    try {
      staff = (await call("GET", "/api/staff")).data;
    } catch {
      staff = [];
    }
    const filter = (label, control) => el("label", {}, label, control);
    const form = el(
      "form",
      { class: "access-log-filters", onsubmit: (e) => (e.preventDefault(), this.search()) },
      filter("開始日", el("input", { type: "date", id: "al-from" })),
      filter("終了日", el("input", { type: "date", id: "al-to" })),
      filter(
        "スタッフ",
        el(
          "select",
          { id: "al-staff" },
          el("option", { value: "" }, "すべて"),
          ...staff.map((s) => el("option", { value: s.staff_id }, `${s.display_name}（${s.login}）`)),
        ),
      ),
      filter(
        "操作",
        el(
          "select",
          { id: "al-action" },
          el("option", { value: "" }, "すべて"),
          ...Object.entries(ACTION).map(([key, label]) => el("option", { value: key }, label)),
        ),
      ),
      el("button", { type: "submit", class: "primary" }, "検索"),
      el("a", { id: "al-csv", href: "/api/admin/access-log.csv", download: "" }, "CSVダウンロード"),
    );
    this.body = el("tbody", { id: "al-rows" });
    this.more = el("button", { class: "ghost", hidden: true, onclick: () => this.fetch(true) }, "さらに表示");
    this.message = el("p", { role: "status", class: "muted", id: "al-message" });
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "ログイン・ログアウト、相談の閲覧、すべての変更操作の記録です（新しい順）。記録は変更・削除できません。",
      ),
      form,
      el(
        "table",
        { class: "staff-table access-log" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["日時", "スタッフ", "操作", "対象", "結果", "接続元"].map((h) => el("th", {}, h)),
          ),
        ),
        this.body,
      ),
      this.message,
      this.more,
    );
    await this.fetch(false);
  }

  async search() {
    try {
      await this.fetch(false);
    } catch (e) {
      this.message.textContent = e.message;
      this.message.className = "error";
    }
  }

  async fetch(more) {
    const params = this.params();
    this.root.querySelector("#al-csv").href = `/api/admin/access-log.csv?${params}`;
    if (more && this.next) params.set("before_id", this.next);
    const { data } = await call("GET", `/api/admin/access-log?${params}`);
    if (!more) this.body.replaceChildren();
    this.body.append(...data.entries.map((e) => this.row(e)));
    this.next = data.next_before_id;
    this.more.hidden = !this.next;
    this.message.className = "muted";
    this.message.textContent =
      this.body.children.length === 0 ? "該当する記録はありません" : `${this.body.children.length} 件を表示`;
  }

  row(e) {
    const who = e.staff_name ? `${e.staff_name}（${e.login}）` : e.login || "—";
    const what = e.path ? `${e.method || ""} ${e.path}` : "";
    const target = e.target_id ? `${e.target_kind}: ${e.target_id}` : what;
    const result = e.reason ? REASON[e.reason] || e.reason : e.status ? String(e.status) : "";
    return el(
      "tr",
      { "data-action": e.action },
      el("td", {}, stamp(e.at)),
      el("td", {}, who),
      el("td", { title: what }, ACTION[e.action] || e.action),
      el("td", { title: what }, target),
      el("td", {}, result),
      el("td", { title: e.user_agent || "" }, e.client_addr || ""),
    );
  }
}
