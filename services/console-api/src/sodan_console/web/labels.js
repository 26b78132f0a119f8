// Japanese labels and small formatting helpers.

export const URGENCY = { critical: "緊急", high: "高", medium: "中", normal: "通常" };
export const STATUS = { queued: "受付待ち", assigned: "対応中", closed: "終了" };
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
};

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
