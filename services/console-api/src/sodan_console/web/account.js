// アカウント設定 (every staff member): change one's own password, enrol or re-enrol
// TOTP with a QR code, and see one's own recent logins. Also the QR helper the login
// screen's enrolment form uses. Everything is rendered with textContent; the QR code
// is an SVG drawn by the server, shown as an <img> (scripts in it could never run).

import { call, el, Panel } from "./supervise.js";

export function showQr(img, setup) {
  img.src = setup.qr_svg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}` : "";
  img.hidden = !setup.qr_svg;
}

const LOGIN_ACTION = { "login.succeeded": "ログイン", "login.failed": "ログイン失敗", logout: "ログアウト" };
const LOGIN_REASON = {
  wrong_password: "パスワード誤り",
  wrong_totp: "確認コード誤り",
  totp_required: "確認コード待ち",
  locked: "ロック中",
  disabled: "無効なアカウント",
  enrolment_required: "二段階認証の登録",
};

export function stamp(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

// a browser's user agent, shortened to what a person recognises
function browserOf(agent) {
  if (!agent) return "";
  const match = agent.match(/(Edg|Firefox|Chrome|Safari)\/[\d.]+/);
  const os = agent.match(/\((Windows|Macintosh|iPhone|iPad|Android|X11|Linux)[^;)]*/);
  return [match ? match[0].split("/")[0].replace("Edg", "Edge") : "", os ? os[1] : ""]
    .filter(Boolean)
    .join(" / ");
}

export class AccountPanel extends Panel {
  constructor(root) {
    super(root, "アカウント設定");
    this.renewing = false;
  }

  async load() {
    const [{ data: account }, { data: logins }] = await Promise.all([
      call("GET", "/api/me/account"),
      call("GET", "/api/me/logins"),
    ]);
    this.account = account;
    this.root.replaceChildren(
      this.head(),
      el("p", { class: "muted" }, `${account.display_name}（ログインID: ${account.login}）`),
      this.passwordSection(),
      this.totpSection(),
      this.loginsSection(logins),
    );
  }

  // --- password ------------------------------------------------------------------

  passwordSection() {
    const input = (id, label, autocomplete) =>
      el("label", {}, label, el("input", { id, type: "password", autocomplete, maxlength: "256", required: true }));
    const form = el(
      "form",
      { class: "term-form", id: "acc-password-form", onsubmit: (e) => (e.preventDefault(), this.changePassword()) },
      input("acc-pw-current", "今のパスワード", "current-password"),
      input("acc-pw-new", "新しいパスワード", "new-password"),
      input("acc-pw-again", "新しいパスワード（確認）", "new-password"),
      el("p", { class: "muted" }, "10文字以上、ログインIDを含まない、5種類以上の文字を使ったもの。変更すると、ほかの端末でのログインは終了します。"),
      el("p", { id: "acc-pw-message", role: "status", class: "muted" }),
      el("div", { class: "form-actions" }, el("button", { type: "submit", class: "primary" }, "パスワードを変更")),
    );
    return el("section", { class: "lexicon-category" }, el("h3", {}, "パスワードの変更"), form);
  }

  async changePassword() {
    const message = this.root.querySelector("#acc-pw-message");
    const value = (id) => this.root.querySelector(`#${id}`).value;
    if (value("acc-pw-new") !== value("acc-pw-again")) {
      message.className = "error";
      message.textContent = "新しいパスワードが確認用と一致しません";
      return;
    }
    try {
      await call("POST", "/api/me/password", {
        current_password: value("acc-pw-current"),
        new_password: value("acc-pw-new"),
      });
    } catch (e) {
      message.className = "error";
      message.textContent = e.message;
      return;
    }
    for (const id of ["acc-pw-current", "acc-pw-new", "acc-pw-again"]) this.root.querySelector(`#${id}`).value = "";
    message.className = "ok";
    message.textContent = "パスワードを変更しました。ほかの端末でのログインは終了しました。";
  }

  // --- TOTP ----------------------------------------------------------------------

  totpSection() {
    const a = this.account;
    const status = a.totp_enrolled
      ? "登録済みです。ログインのたびに認証アプリの確認コードが必要です。"
      : a.totp_required
        ? "未登録です。この役割では登録が必要です。"
        : "未登録です（相談員は任意です）。登録すると、ログインに認証アプリの確認コードも必要になり、パスワードが知られても他人はログインできません。";
    this.totpArea = el("div", { id: "acc-totp-area" });
    const start = a.totp_enrolled
      ? el("button", { type: "button", id: "acc-totp-start", class: "ghost", onclick: () => this.askPassword() }, "登録し直す（スマートフォンを替えたときなど）")
      : el("button", { type: "button", id: "acc-totp-start", class: "primary", onclick: () => this.startEnrolment() }, "登録する");
    return el(
      "section",
      { class: "lexicon-category" },
      el("h3", {}, "二段階認証（認証アプリ）"),
      el("p", { id: "acc-totp-status" }, status),
      el("div", { class: "form-actions" }, start),
      this.totpArea,
    );
  }

  askPassword() {
    this.root.querySelector("#acc-totp-start").hidden = true;
    const password = el("input", { id: "acc-totp-password", type: "password", autocomplete: "current-password", maxlength: "256" });
    const message = el("p", { id: "acc-totp-message", role: "status", class: "muted" });
    this.totpArea.replaceChildren(
      el(
        "form",
        { class: "term-form", onsubmit: (e) => (e.preventDefault(), this.startEnrolment(password.value, message)) },
        el("p", {}, "新しい登録用のQRコードを表示します。確定するまでは、今の認証アプリの確認コードが使えます。"),
        el("label", {}, "今のパスワード", password),
        message,
        el("div", { class: "form-actions" }, el("button", { type: "submit", class: "primary" }, "QRコードを表示")),
      ),
    );
    password.focus();
  }

  async startEnrolment(password, message) {
    let setup;
    try {
      setup =
        password === undefined
          ? (await call("POST", "/api/me/totp/setup")).data
          : (await call("POST", "/api/me/totp/renew", { password })).data;
    } catch (e) {
      const target = message || this.totpMessage();
      target.className = "error";
      target.textContent = e.message;
      return;
    }
    this.renewing = password !== undefined;
    this.showSetup(setup);
  }

  totpMessage() {
    let message = this.root.querySelector("#acc-totp-message");
    if (!message) {
      message = el("p", { id: "acc-totp-message", role: "status", class: "muted" });
      this.totpArea.replaceChildren(message);
    }
    return message;
  }

  showSetup(setup) {
    this.root.querySelector("#acc-totp-start").hidden = true;
    const img = el("img", { id: "acc-totp-qr", class: "totp-qr", alt: "認証アプリで読み取る登録用QRコード" });
    showQr(img, setup);
    const code = el("input", { id: "acc-totp-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "8", required: true });
    const message = el("p", { id: "acc-totp-message", role: "status", class: "muted" });
    this.totpArea.replaceChildren(
      el(
        "form",
        { class: "term-form totp-setup", onsubmit: (e) => (e.preventDefault(), this.confirm(code, message)) },
        el("p", {}, "1. 認証アプリ（Google Authenticator など）でQRコードを読み取ります。読み取れないときは下のキーを手入力してください。"),
        img,
        el("label", {}, "セットアップキー（手入力用）", el("code", { id: "acc-totp-secret", class: "enrol-secret" }, setup.secret)),
        el("details", {}, el("summary", {}, "登録用URI（otpauth://）"), el("code", { id: "acc-totp-uri", class: "enrol-uri" }, setup.uri)),
        el("label", {}, "2. アプリに表示された6桁の確認コード", code),
        message,
        el("div", { class: "form-actions" }, el("button", { type: "submit", class: "primary" }, "登録を確定")),
      ),
    );
    code.focus();
  }

  async confirm(code, message) {
    const path = this.renewing ? "/api/me/totp/renew/confirm" : "/api/me/totp/confirm";
    try {
      await call("POST", path, { code: code.value.trim() });
    } catch (e) {
      message.className = "error";
      message.textContent = e.message;
      code.value = "";
      code.focus();
      return;
    }
    await this.load();
    const status = this.root.querySelector("#acc-totp-status");
    status.className = "ok";
    status.textContent = "二段階認証を登録しました。次回のログインから確認コードが必要です。";
  }

  // --- own logins ----------------------------------------------------------------

  loginsSection(logins) {
    const rows = logins.map((r) =>
      el(
        "tr",
        { "data-action": r.action },
        el("td", {}, stamp(r.at)),
        el("td", {}, LOGIN_ACTION[r.action] || r.action, r.reason ? `（${LOGIN_REASON[r.reason] || r.reason}）` : ""),
        el("td", {}, r.client_addr || ""),
        el("td", { title: r.user_agent || "" }, browserOf(r.user_agent)),
      ),
    );
    return el(
      "section",
      { class: "lexicon-category" },
      el("h3", {}, "最近のログイン"),
      el("p", { class: "muted" }, "自分のアカウントのログイン・ログアウトの記録です（新しい順に20件）。心当たりのないものがあれば、すぐにパスワードを変更し、管理者に知らせてください。"),
      el(
        "table",
        { class: "staff-table", id: "acc-logins" },
        el("thead", {}, el("tr", {}, ...["日時", "操作", "接続元", "ブラウザ"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows),
      ),
    );
  }
}
