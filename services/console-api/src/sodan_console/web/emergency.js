// 緊急対応モード: the supervisor's switch, the badge everyone sees, and the media
// lines of the chat (stored items are opened on purpose: every view is audited).

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);

const KIND_NAME = { image: "画像", video: "動画", audio: "音声", file: "ファイル" };
const FAILURE = {
  expired: "LINE の保存期間が過ぎていました",
  too_large: "サイズが上限を超えています",
  unavailable: "LINE から取得できませんでした",
  client_erased: "相談者のデータは消去されています",
};
const INLINE = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

function size(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class Emergency {
  constructor({ onChanged, onError }) {
    this.onChanged = onChanged;
    this.onError = onError;
    this.caseData = null;
    // Opened images, kept across re-renders so a refresh neither refetches nor re-audits.
    this.opened = new Map();
    $("emergency-toggle").addEventListener("click", () => this.toggle());
  }

  render(caseData) {
    if (!this.caseData || this.caseData.case_id !== caseData.case_id) this.opened.clear();
    this.caseData = caseData;
    $("chat-emergency").hidden = !caseData.emergency_mode;
    const button = $("emergency-toggle");
    const canSwitch = caseData.can_switch_emergency_mode;
    button.hidden = !canSwitch || (!caseData.emergency_mode && caseData.status === "closed");
    button.textContent = caseData.emergency_mode ? "緊急対応モードを解除" : "緊急対応モードにする";
  }

  async toggle() {
    const c = this.caseData;
    if (!c) return;
    let body;
    if (c.emergency_mode) {
      if (!window.confirm(`${c.client_label} の緊急対応モードを解除しますか？\n以後の画像などは受け取らなくなります。`)) return;
      body = { enabled: false };
    } else {
      const reason = window.prompt(
        `${c.client_label} を緊急対応モードにします。\n` +
          "以後この相談者から届く画像・動画・音声・ファイル・位置情報を取得し、暗号化して保存します。" +
          "切り替えは監査記録に残ります。\n\n理由を入力してください（500文字以内）",
      );
      if (reason === null) return;
      if (!reason.trim()) return this.onError("理由を入力してください");
      body = { enabled: true, reason };
    }
    try {
      await api.setEmergencyMode(c.case_id, body);
      this.onChanged();
    } catch (error) {
      this.onError(error.message);
    }
  }

  // The bubble's content for a media or location message, or null (the usual label).
  body(m) {
    if (m.location) {
      const p = m.location;
      const parts = [p.title, p.address].filter(Boolean);
      const where = p.latitude != null ? `（${p.latitude}, ${p.longitude}）` : "";
      return document.createTextNode(`📍 位置情報: ${parts.join(" ")}${where}`);
    }
    if (!m.media) return null;
    const name = KIND_NAME[m.kind] || "メディア";
    if (m.media.status === "pending") return document.createTextNode(`（${name}：取得中…）`);
    if (m.media.status === "failed") {
      const why = FAILURE[m.media.error] || "取得できませんでした";
      const span = document.createElement("span");
      span.className = "media-failed";
      span.textContent = `（${name}：取得失敗 — ${why}）`;
      return span;
    }
    const box = document.createElement("span");
    box.className = "media";
    if (INLINE.has(m.media.content_type)) {
      const shown = this.opened.get(m.message_id);
      if (shown) return shown;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "ghost";
      button.textContent = `${name}を表示（${size(m.media.size)}・閲覧は記録されます）`;
      button.addEventListener("click", () => {
        const img = document.createElement("img");
        img.className = "media-image";
        img.alt = `${name}（緊急対応モードで保存）`;
        img.src = m.media.url;
        this.opened.set(m.message_id, img);
        box.replaceChildren(img);
      });
      box.append(button);
      return box;
    }
    const link = document.createElement("a");
    link.href = m.media.url;
    link.download = "";
    link.textContent = `${name}をダウンロード（${size(m.media.size)}・閲覧は記録されます）`;
    box.append(link);
    return box;
  }
}
