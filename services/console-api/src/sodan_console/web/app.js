// The counsellor console: login, presence, live case list, chat and replies.
// Text from clients is only ever inserted with textContent (never as HTML).

import { AccessLogPanel } from "./accesslog.js";
import { AccountPanel, showQr } from "./account.js";
import { UrgentAlerts } from "./alerts.js";
import { api, ApiError } from "./api.js";
import { CaseLabels, LabelPanel } from "./case-labels.js";
import { CaseList } from "./cases.js";
import { ClosingCategoriesEditor } from "./categories.js";
import { ChannelPanel } from "./channels.js";
import { Chat } from "./chat.js";
import { LexiconEditor } from "./lexicon.js";
import { ReportNotice } from "./reportnotice.js";
import { StaffAdminPanel } from "./staffadmin.js";
import {
  AssignmentMode,
  AutoTextEditor,
  CaseControls,
  HandbackAlerts,
  HoursEditor,
  StaffPanel,
} from "./supervise.js";
import { TemplateEditor } from "./template_editor.js";

const $ = (id) => document.getElementById(id);

const state = { me: null, stream: null };
const cases = new CaseList({ onSelect: (c) => chat.open(c.case_id) });
const controls = new CaseControls({
  onChanged: () => {
    cases.refresh();
    chat.refreshSoon();
  },
});
const chat = new Chat({
  onChanged: () => cases.refresh(),
  onOpenCase: (caseId) => {
    cases.select(caseId);
    chat.open(caseId);
  },
  controls,
});
chat.caseLabels = new CaseLabels({
  onChanged: () => cases.refresh(),
  onError: (text) => chat.error(text),
});
const lexicon = new LexiconEditor($("lexicon-view"));
const staffPanel = new StaffPanel($("staff-view"));
const autoTexts = new AutoTextEditor($("auto-texts-view"));
const closingCategories = new ClosingCategoriesEditor($("closing-categories-view"));
const hoursEditor = new HoursEditor($("hours-view"));
const accessLog = new AccessLogPanel($("access-log-view"));
const templateEditor = new TemplateEditor($("templates-view"));
const staffAdmin = new StaffAdminPanel($("staff-admin-view"));
const account = new AccountPanel($("account-view"));
const handbacks = new HandbackAlerts();
const reportNotice = new ReportNotice();
const assignMode = new AssignmentMode({ onChanged: (mode) => controls.setMode(mode) });
// overlay screens: one at a time
const PANELS = {
  "open-lexicon": { view: "lexicon-view", panel: lexicon },
  "open-staff": { view: "staff-view", panel: staffPanel },
  "open-auto-texts": { view: "auto-texts-view", panel: autoTexts },
  "open-closing-categories": { view: "closing-categories-view", panel: closingCategories },
  "open-hours": { view: "hours-view", panel: hoursEditor },
  "open-access-log": { view: "access-log-view", panel: accessLog },
  "open-templates": { view: "templates-view", panel: templateEditor },
  "open-staff-admin": { view: "staff-admin-view", panel: staffAdmin },
  "open-account": { view: "account-view", panel: account },
  "open-labels": { view: "labels-view", panel: new LabelPanel($("labels-view")) },
  "open-channels": { view: "channels-view", panel: new ChannelPanel($("channels-view")) },
};
const alerts = new UrgentAlerts({
  onOpen: (caseId) => {
    cases.select(caseId);
    chat.open(caseId);
  },
});

function show(view) {
  $("login-view").hidden = view !== "login";
  $("main-view").hidden = view !== "main";
}

function onUnauthorized() {
  stopStream();
  // Already logged out (a late 401 from the closed stream's last check): resetting the
  // login form now would hide the code field of a login in progress.
  if (state.me === null && !$("login-view").hidden) return;
  state.me = null;
  chat.reset();
  alerts.reset();
  handbacks.reset();
  reportNotice.reset();
  for (const { view, panel } of Object.values(PANELS)) {
    panel.dirty = false;
    if (!$(view).hidden) panel.close();
  }
  show("login");
  $("login-form").hidden = false;
  $("enrol-form").hidden = true;
  $("password-form").hidden = true;
  $("login-totp-row").hidden = true;
  $("login-totp").value = "";
  $("login-id").focus();
}

async function showEnrolment() {
  $("login-form").hidden = true;
  $("enrol-form").hidden = false;
  $("enrol-error").hidden = true;
  const setup = await api.totpSetup();
  $("enrol-secret").textContent = setup.secret;
  $("enrol-uri").textContent = setup.uri;
  showQr($("enrol-qr"), setup);
  $("enrol-code").value = "";
  $("enrol-code").focus();
}

// a new account, or one whose password an admin reset: nothing else until changed
function showPasswordChange() {
  show("login");
  $("login-form").hidden = true;
  $("enrol-form").hidden = true;
  $("password-form").hidden = false;
  $("pw-error").hidden = true;
  for (const id of ["pw-current", "pw-new", "pw-again"]) $(id).value = "";
  $("pw-current").focus();
}

async function start() {
  try {
    state.me = await api.me();
  } catch (error) {
    // 403 here: a session good only for TOTP enrolment (e.g. after a reload).
    if (error instanceof ApiError && [401, 403].includes(error.status)) return onUnauthorized();
    throw error;
  }
  $("me-name").textContent = state.me.display_name;
  $("reports-link").hidden = !["supervisor", "admin"].includes(state.me.role);
  $("presence").value = state.me.presence;
  const supervises = ["supervisor", "admin"].includes(state.me.role);
  for (const id of Object.keys(PANELS)) $(id).hidden = !supervises;
  // the access log is the admins' alone
  $("open-access-log").hidden = state.me.role !== "admin";
  $("admin-nav").hidden = state.me.role !== "admin";
  $("settings-nav").hidden = !supervises;
  $("open-account").hidden = false; // アカウント設定: everyone's own
  staffAdmin.me = state.me;
  $("open-channels").hidden = state.me.role !== "admin";
  controls.setMe(state.me);
  staffPanel.me = state.me;
  show("main");
  await cases.setup(state.me);
  startStream();
  await cases.refresh();
  await alerts.check();
  await refreshDesk();
  await assignMode.refresh(state.me);
  handbacks.start(state.me);
  reportNotice.start(state.me);
}

// --- the desk's congestion level -----------------------------------------------

const DESK_LEVEL = { normal: "通常", busy: "混雑", suspended: "受付停止" };

async function refreshDesk() {
  let statuses;
  try {
    statuses = await api.desk();
  } catch {
    return;
  }
  const el = $("desk-state");
  el.hidden = statuses.length === 0;
  el.replaceChildren(
    ...statuses.map((d) => {
      const span = document.createElement("span");
      span.className = `desk-level ${d.level}${d.desk_open ? "" : " closed"}`;
      const wait = d.next_wait_s == null ? "" : `・目安${Math.ceil(d.next_wait_s / 60)}分`;
      const name = statuses.length > 1 ? `${d.channel}: ` : "";
      span.textContent = d.desk_open
        ? `${name}${DESK_LEVEL[d.level] || d.level}（待ち${d.queue_length}件${wait}）`
        : `${name}時間外（待ち${d.queue_length}件）`;
      return span;
    }),
  );
}

// --- live updates ------------------------------------------------------------

function setLive(text, ok) {
  const el = $("live-state");
  el.textContent = text;
  el.classList.toggle("ok", ok);
}

function startStream() {
  stopStream();
  const source = new EventSource("/api/stream");
  state.stream = source;
  source.addEventListener("ready", () => {
    setLive("リアルタイム更新中", true);
    cases.refresh();
    alerts.checkSoon();
    chat.refresh();
  });
  source.addEventListener("case", (e) => {
    cases.refreshSoon();
    alerts.checkSoon();
    handbacks.checkSoon();
    staffPanel.refreshSoon();
    const change = JSON.parse(e.data);
    if (change.case_id && change.case_id === chat.caseId) chat.refreshSoon();
  });
  source.addEventListener("message", () => {
    chat.refreshSoon();
    cases.refreshSoon();
  });
  source.addEventListener("resync", () => {
    cases.refreshSoon();
    alerts.checkSoon();
    handbacks.checkSoon();
    assignMode.refresh();
    chat.refreshSoon();
  });
  source.addEventListener("desk", () => {
    refreshDesk();
    assignMode.refresh();
    staffPanel.refreshSoon();
  });
  source.addEventListener("staff", () => {
    staffPanel.refreshSoon();
    if (chat.caseId) chat.refreshSoon(); // the reassign list shows presence and load
  });
  source.addEventListener("report", () => reportNotice.checkSoon());
  source.addEventListener("logout", () => onUnauthorized());
  source.onerror = () => {
    setLive("再接続中…", false);
    // EventSource reconnects by itself; a 401 means the session is gone.
    api.me().catch((error) => {
      if (error instanceof ApiError && error.status === 401) onUnauthorized();
    });
  };
}

function stopStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
}

// --- wiring ------------------------------------------------------------------

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("login-error");
  error.hidden = true;
  const totpRow = $("login-totp-row");
  try {
    const totp = totpRow.hidden ? "" : $("login-totp").value.trim();
    const me = await api.login($("login-id").value.trim(), $("login-password").value, totp);
    $("login-password").value = "";
    $("login-totp").value = "";
    totpRow.hidden = true;
    if (me.enrolment_required) return await showEnrolment();
    if (me.password_change_required) return showPasswordChange();
    await start();
  } catch (e) {
    if (e instanceof ApiError && e.data && e.data.totp_required) {
      totpRow.hidden = false;
      $("login-totp").focus();
    } else if (!totpRow.hidden) {
      $("login-totp").value = "";
    }
    error.textContent = e.message;
    error.hidden = false;
  }
});

$("enrol-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("enrol-error");
  error.hidden = true;
  try {
    const me = await api.totpConfirm($("enrol-code").value.trim());
    $("enrol-form").hidden = true;
    if (me.password_change_required) return showPasswordChange();
    $("login-form").hidden = false;
    await start();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return onUnauthorized();
    error.textContent = e.message;
    error.hidden = false;
  }
});

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("pw-error");
  error.hidden = true;
  if ($("pw-new").value !== $("pw-again").value) {
    error.textContent = "新しいパスワードが確認用と一致しません";
    error.hidden = false;
    return;
  }
  try {
    await api.changePassword($("pw-current").value, $("pw-new").value);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return onUnauthorized();
    error.textContent = e.message;
    error.hidden = false;
    return;
  }
  for (const id of ["pw-current", "pw-new", "pw-again"]) $(id).value = "";
  $("password-form").hidden = true;
  $("login-form").hidden = false;
  await start();
});

$("logout").addEventListener("click", async () => {
  try {
    await api.logout();
  } finally {
    onUnauthorized();
  }
});

$("presence").addEventListener("change", async (event) => {
  const select = event.target;
  const previous = state.me.presence;
  try {
    state.me = await api.setPresence(select.value);
  } catch (e) {
    select.value = previous;
    if (e instanceof ApiError && e.status === 401) return onUnauthorized();
    alert(e.message);
  }
});

for (const [id, { view, panel }] of Object.entries(PANELS)) {
  $(id).addEventListener("click", () => {
    if (!$(view).hidden) {
      panel.close();
      return;
    }
    for (const other of Object.values(PANELS)) {
      if (other.panel !== panel && !$(other.view).hidden && other.panel.close() === false) return;
    }
    panel.open();
  });
}

// a drop-down menu (設定, 管理) closes once a screen is chosen from it, or on a click elsewhere
document.addEventListener("click", (event) => {
  for (const menu of [$("settings-nav"), $("admin-nav")]) {
    if (menu.open && (!menu.contains(event.target) || event.target.closest(".admin-menu button"))) {
      menu.open = false;
    }
  }
});

window.addEventListener("sodan:unauthorized", onUnauthorized);
setInterval(() => cases.tick(), 30000);

start().catch((error) => {
  console.error(error);
  onUnauthorized();
});
