// The admins' channel screen (チャネル): every LINE official account the console has
// seen, its case counts, and the display name (表示名) and note staff see. The
// accounts' credentials are not here: they stay in ingress' environment.

import { call, el, Panel } from "./supervise.js";

const $ = (id) => document.getElementById(id);

// channel id -> 表示名 (or the id itself), for the list and its filter
export const channelNames = {
  names: new Map(),
  list: [],
  async load() {
    try {
      this.list = (await call("GET", "/api/channels")).data;
    } catch {
      return this.list;
    }
    this.names = new Map(this.list.map((c) => [c.channel, c.display_name || c.channel]));
    window.dispatchEvent(new Event("sodan:channels"));
    return this.list;
  },
  name(channel) {
    return this.names.get(channel) || channel;
  },
};

export class ChannelPanel extends Panel {
  constructor(root) {
    super(root, "チャネル");
  }

  async load() {
    const { data } = await call("GET", "/api/admin/channels");
    this.root.replaceChildren(
      this.head(),
      el(
        "p",
        { class: "muted" },
        "コンソールが受け取ったことのある LINE 公式アカウントです。表示名は相談一覧と絞り込みに表示されます。チャネルシークレットやアクセストークンはここでは扱いません（サーバーの環境変数で管理します）。",
      ),
      el(
        "table",
        { class: "staff-table channels-table" },
        el(
          "thead",
          {},
          el("tr", {}, el("th", {}, "チャネルID"), el("th", {}, "表示名"), el("th", {}, "メモ"), el("th", {}, "相談（対応中／終了）"), el("th", {}, "")),
        ),
        el("tbody", {}, ...data.map((c) => this.row(c))),
      ),
      el("p", { id: "channel-message", role: "status", class: "muted" }),
    );
  }

  row(c) {
    const name = el("input", { value: c.display_name || "", maxlength: "60", "aria-label": `${c.channel} の表示名` });
    const note = el("input", { value: c.note || "", maxlength: "400", "aria-label": `${c.channel} のメモ`, class: "channel-note" });
    return el(
      "tr",
      { "data-channel": c.channel },
      el("td", {}, el("code", {}, c.channel)),
      el("td", {}, name),
      el("td", {}, note),
      el("td", { class: "num" }, `${c.total}件（${c.open}／${c.closed}）`),
      el("td", {}, el("button", { class: "ghost", onclick: () => this.save(c, name, note) }, "保存")),
    );
  }

  async save(c, name, note) {
    const message = $("channel-message");
    try {
      await call("PUT", `/api/admin/channels/${encodeURIComponent(c.channel)}`, {
        display_name: name.value,
        note: note.value,
      });
      await this.load();
      await channelNames.load();
      $("channel-message").className = "ok";
      $("channel-message").textContent = `${c.channel} を保存しました`;
    } catch (e) {
      message.className = "error";
      message.textContent = e.message;
    }
  }
}
