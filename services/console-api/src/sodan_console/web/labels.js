// Japanese labels and small formatting helpers.

export const URGENCY = { critical: "緊急", high: "高", medium: "中", normal: "通常" };
export const STATUS = { queued: "受付待ち", assigned: "対応中", on_hold: "保留", closed: "終了" };

// What a case's counsellor should look at (a badge in the list, a line above the chat).
export const ATTENTION = {
  handed_over: ["転送", "この相談が引き継がれてきました。引き継ぎメモを確認してください"],
  resumed: ["返信あり", "相談者から返信があり、保留が解除されました"],
  reopened: ["再開", "相談者が終了後に連絡してきたため、相談を再開しました"],
  close_declined: ["終了差し戻し", "スーパーバイザーが終了を差し戻しました。相談を続けてください"],
  refused: ["要確認", "操作が受け付けられませんでした（理由は会話欄に表示しています）"],
};
export const DELIVERY = { pending: "送信中", sent: "送信済み", failed: "送信失敗" };
export const PERSONAL_DATA = {
  phone: "電話番号",
  email: "メールアドレス",
  postal_address: "住所",
  my_number: "マイナンバー",
};
export const KIND = {
  sticker: "（スタンプ）",
  image: "（画像：受け取っていません）",
  video: "（動画：受け取っていません）",
  audio: "（音声：受け取っていません）",
  file: "（ファイル：受け取っていません）",
  location: "（位置情報：受け取っていません）",
  unknown: "（未対応の形式）",
  unsent: "（相談者が送信を取り消しました）",
  followed: "（相談者が友だち追加しました）",
  blocked: "（相談者がこのアカウントをブロックしました）",
  unblocked: "（相談者がブロックを解除しました）",
};

// Why a send failed, in words a counsellor can act on; LINE's own text stays visible.
const FAILURE = {
  client_ended_conversation: "相談者が「終了」したため送っていません（相談者から連絡があれば再開できます）",
  client_erased: "相談者のデータが消去されているため送れません",
  client_unknown: "送信先の相談者が見つかりません",
  channel_unknown: "この LINE アカウントの設定がありません（管理者に連絡してください）",
  sealed_value_unreadable: "本文を復号できず送れませんでした（管理者に連絡してください）",
};

export function failureReason(error) {
  if (!error) return "";
  if (FAILURE[error]) return FAILURE[error];
  if (error.startsWith("no answer")) return "LINE から応答がありませんでした（再試行の上限に達しました）";
  if (error.startsWith("429")) return `LINE の送信上限に達しています（${error}）`;
  return `LINE が受け付けませんでした（${error}）`;
}

export function waitingTime(fromIso, now = new Date()) {
  const minutes = Math.max(0, Math.floor((now - new Date(fromIso)) / 60000));
  if (minutes < 1) return "1分未満";
  if (minutes < 60) return `${minutes}分`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}時間${minutes % 60}分`;
  return `${Math.floor(hours / 24)}日`;
}

const timeFormat = new Intl.DateTimeFormat("ja-JP", { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat("ja-JP", { month: "numeric", day: "numeric" });

export function clock(iso) {
  const date = new Date(iso);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? timeFormat.format(date) : `${dateFormat.format(date)} ${timeFormat.format(date)}`;
}
