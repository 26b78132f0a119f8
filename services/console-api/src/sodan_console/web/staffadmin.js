// スタッフ管理 (admins only): the staff list with role, status, TOTP, last login and
// sessions; adding an account; and per person: edit name/role, disable/enable, end
// sessions, reset TOTP, lift a lockout, reset the password. Every action is
// confirmed first; a generated password is shown once. Rendered with textContent.

import { stamp } from "./account.js";
import { call, el, Panel } from "./supervise.js";

const ROLE = { counsellor: "相談員", supervisor: "スーパーバイザー", admin: "管理者" };

function statusOf(s) {
  if (s.disabled) return { key: "disabled", label: "無効" };
  if (s.locked) return { key: "locked", label: "ロック中" };
  return { key: "enabled", label: "有効" };
}

function roleSelect(id, value) {
  return el(
    "select",
    { id, "aria-label": "役割" },
    ...Object.entries(ROLE).map(([key, label]) => {
      const option = el("option", { value: key }, label);
      option.selected = key === value;
      return option;
    }),
  );
}

export class StaffAdminPanel extends Panel {
  constructor(root) {
    super(root, "スタッフ管理");
    this.me = null;
  }

  async load() {
    const { data } = await call("GET", "/api/admin/staff");
    this.staff = data;
    this.message = el("p", { id: "sa-message", role: "status", class: "muted" });
    this.secretBox = el("div", { id: "sa-secret", class: "one-time", role: "alert", hidden: true });
    this.body = el("tbody", { id: "sa-rows" }, ...data.map((s) => this.row(s)));
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "スタッフのアカウントを管理します。操作はすべてアクセスログに記録されます。新しいアカウントと再発行したパスワードは、本人が最初のログインで変更するまで使えません。",
      ),
      this.createForm(),
      this.secretBox,
      this.message,
      el(
        "table",
        { class: "staff-table staff-admin" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["ログインID", "表示名", "役割", "状態", "二段階認証", "最終ログイン", "セッション", "操作"].map((h) =>
              el("th", {}, h),
            ),
          ),
        ),
        this.body,
      ),
    );
  }

  async reload() {
    const { data } = await call("GET", "/api/admin/staff");
    this.staff = data;
    this.body.replaceChildren(...data.map((s) => this.row(s)));
  }

  say(text, ok = true) {
    this.message.className = ok ? "ok" : "error";
    this.message.textContent = text;
  }

  showOnce(who, password) {
    this.secretBox.replaceChildren(
      el("strong", {}, `${who} の仮パスワード: `),
      el("code", { id: "sa-secret-value", class: "enrol-secret" }, password),
      el(
        "p",
        {},
        "この表示は一度だけです（閉じると二度と表示できません）。本人に安全な方法で伝えてください。最初のログインで変更が求められます。",
      ),
      el("button", { type: "button", class: "ghost", onclick: () => (this.secretBox.hidden = true) }, "伝えたので消す"),
    );
    this.secretBox.hidden = false;
  }

  // --- adding an account -----------------------------------------------------------

  createForm() {
    const login = el("input", { id: "sa-login", maxlength: "64", autocomplete: "off", required: true });
    const name = el("input", { id: "sa-name", maxlength: "100", autocomplete: "off", required: true });
    const password = el("input", { id: "sa-password", type: "password", maxlength: "128", autocomplete: "new-password", disabled: true });
    const generate = el("input", { type: "radio", name: "sa-pw-mode", id: "sa-pw-generate", value: "generate", checked: true });
    const typed = el("input", { type: "radio", name: "sa-pw-mode", id: "sa-pw-typed", value: "typed" });
    const toggle = () => {
      password.disabled = generate.checked;
      if (generate.checked) password.value = "";
    };
    generate.addEventListener("change", toggle);
    typed.addEventListener("change", toggle);
    const error = el("p", { id: "sa-create-error", class: "error", role: "alert", hidden: true });
    const form = el(
      "form",
      {
        class: "term-form staff-create",
        id: "sa-create",
        onsubmit: (e) => (e.preventDefault(), this.create(login, name, password, generate, error)),
      },
      el("label", {}, "ログインID（半角英小文字・数字・._@-、3〜64文字）", login),
      el("label", {}, "表示名", name),
      el("label", {}, "役割", roleSelect("sa-role", "counsellor")),
      el(
        "fieldset",
        {},
        el("legend", {}, "最初のパスワード"),
        el("label", { class: "check" }, generate, " 自動で作る（作成後に一度だけ表示）"),
        el("label", { class: "check" }, typed, " 自分で入力する"),
        el("label", {}, "パスワード（10文字以上・ログインIDを含まない・5種類以上の文字）", password),
      ),
      error,
      el("div", { class: "form-actions" }, el("button", { type: "submit", class: "primary" }, "アカウントを追加")),
    );
    return el("details", { class: "lexicon-category", id: "sa-create-box" }, el("summary", {}, "アカウントを追加"), form);
  }

  async create(login, name, password, generate, error) {
    const role = this.root.querySelector("#sa-role").value;
    const who = `${name.value.trim()}（${login.value.trim()}）`;
    if (!confirm(`${who} を「${ROLE[role]}」として追加しますか？`)) return;
    error.hidden = true;
    let data;
    try {
      ({ data } = await call("POST", "/api/admin/staff", {
        login: login.value.trim(),
        display_name: name.value,
        role,
        password: generate.checked ? null : password.value,
      }));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    login.value = "";
    name.value = "";
    password.value = "";
    await this.reload();
    this.say(`${data.staff.display_name}（${data.staff.login}）を追加しました`);
    if (data.temporary_password) this.showOnce(`${data.staff.display_name}（${data.staff.login}）`, data.temporary_password);
    else this.secretBox.hidden = true;
  }

  // --- the table -------------------------------------------------------------------

  row(s) {
    const self = this.me && s.staff_id === this.me.staff_id;
    const status = statusOf(s);
    const who = `${s.display_name}（${s.login}）`;
    const action = (label, onclick, extra = {}) =>
      el("button", { type: "button", class: extra.danger ? "danger" : "ghost", "data-op": extra.op, onclick }, label);
    const ops = [action("編集", () => this.edit(s, tr), { op: "edit" })];
    if (!self) {
      const simple = (label, op, question, done, extra = {}) =>
        action(label, () => this.act(s, op, `${who} ${question}`, done), { op: extra.op || op, ...extra });
      ops.push(
        s.disabled
          ? simple("有効にする", "enable", "を有効に戻しますか？", "を有効にしました")
          : simple(
              "無効にする",
              "disable",
              "を無効にしますか？ すぐにログアウトされ、ログインできなくなります。",
              "を無効にしました",
              { danger: true },
            ),
      );
      if (s.sessions > 0)
        ops.push(
          simple("セッション終了", "sessions", "のログイン中のセッションをすべて終了しますか？", "のセッションを終了しました"),
        );
      if (s.totp_enrolled)
        ops.push(
          simple(
            "二段階認証リセット",
            "totp/reset",
            "の二段階認証を解除しますか？ 次のログインで登録し直しになります（スマートフォンをなくしたときなど）。",
            "の二段階認証をリセットしました",
            { op: "totp-reset" },
          ),
        );
      if (s.locked)
        ops.push(
          simple(
            "ロック解除",
            "unlock",
            "のロックを解除しますか？ 本人からの依頼であることを確かめてから解除してください。",
            "のロックを解除しました",
          ),
        );
      ops.push(action("パスワード再発行", () => this.resetPassword(s), { op: "password-reset" }));
    }
    const tr = el(
      "tr",
      { "data-staff-id": s.staff_id, "data-login": s.login },
      el("td", { class: "mono" }, s.login),
      el("td", {}, s.display_name, self ? el("span", { class: "muted" }, "（自分）") : null),
      el("td", {}, ROLE[s.role] || s.role),
      el(
        "td",
        { class: `staff-status ${status.key}`, "data-status": status.key },
        status.label,
        s.password_change_required ? el("span", { class: "muted" }, "（パスワード変更待ち）") : null,
      ),
      el("td", {}, s.totp_enrolled ? "登録済み" : "未登録"),
      el("td", { class: "num" }, stamp(s.last_login_at)),
      el("td", { class: "num" }, String(s.sessions)),
      el("td", { class: "actions" }, ...ops),
    );
    return tr;
  }

  async act(s, op, question, done) {
    if (!confirm(question)) return;
    try {
      const path = `/api/admin/staff/${encodeURIComponent(s.staff_id)}/${op}`;
      await call(op === "sessions" ? "DELETE" : "POST", path);
    } catch (e) {
      this.say(e.message, false);
      return;
    }
    await this.reload();
    this.say(`${s.display_name}（${s.login}）${done}`);
  }

  async resetPassword(s) {
    const who = `${s.display_name}（${s.login}）`;
    if (!confirm(`${who} のパスワードを再発行しますか？ 今のパスワードは使えなくなり、ログイン中のセッションも終了します。`)) return;
    let data;
    try {
      ({ data } = await call("POST", `/api/admin/staff/${encodeURIComponent(s.staff_id)}/password/reset`));
    } catch (e) {
      this.say(e.message, false);
      return;
    }
    await this.reload();
    this.say(`${who} のパスワードを再発行しました`);
    this.showOnce(who, data.temporary_password);
  }

  edit(s, tr) {
    const self = this.me && s.staff_id === this.me.staff_id;
    const name = el("input", { id: "sa-edit-name", maxlength: "100", value: s.display_name, "aria-label": "表示名" });
    const role = roleSelect("sa-edit-role", s.role);
    role.disabled = Boolean(self); // one's own role is changed by another admin
    const form = el(
      "form",
      { class: "staff-edit", onsubmit: (e) => (e.preventDefault(), this.saveEdit(s, name, role)) },
      el("label", {}, "表示名 ", name),
      el("label", {}, " 役割 ", role),
      " ",
      el("button", { type: "submit", class: "primary" }, "保存"),
      " ",
      el("button", { type: "button", class: "ghost", onclick: () => this.reload() }, "やめる"),
    );
    const editRow = el("tr", { class: "staff-edit-row", "data-edit-for": s.staff_id }, el("td", { colspan: "8" }, form));
    this.body.querySelectorAll(".staff-edit-row").forEach((r) => r.remove());
    tr.after(editRow);
    name.focus();
  }

  async saveEdit(s, name, role) {
    const body = {};
    if (name.value !== s.display_name) body.display_name = name.value;
    if (role.value !== s.role) body.role = role.value;
    if (!Object.keys(body).length) return this.reload();
    const who = `${s.display_name}（${s.login}）`;
    const question = body.role
      ? `${who} の役割を「${ROLE[s.role]}」から「${ROLE[body.role]}」に変えますか？ ログイン中なら一度ログアウトされます。`
      : `${who} の表示名を「${name.value.trim()}」に変えますか？`;
    if (!confirm(question)) return;
    try {
      await call("PATCH", `/api/admin/staff/${encodeURIComponent(s.staff_id)}`, body);
    } catch (e) {
      this.say(e.message, false);
      return;
    }
    await this.reload();
    this.say(`${who} を変更しました`);
  }
}
