// The intake questionnaire (事前アンケート): the アンケート中 badge in the case list and
// the answers above the chat.

const ENDED = {
  running: "回答中",
  completed: "回答済み",
  declined: "利用規約に同意しませんでした",
  not_an_answer: "相談者が話し始めたため途中で終了",
  urgent: "緊急度が高いため途中で終了",
  timeout: "回答がなく途中で終了",
  closed: "相談の終了で途中で終了",
};
const NOT_SAYING = "不明"; // what routing records for 答えたくない

function answer(value) {
  if (value === null || value === undefined) return "未回答";
  if (value === NOT_SAYING) return "答えたくない";
  return value;
}

export function intakeBadge(c) {
  if (!c.in_intake) return null;
  const badge = document.createElement("span");
  badge.className = "badge intake";
  badge.textContent = "アンケート中";
  badge.title = "相談者が事前アンケートに回答しています。終わると受付待ちに並びます";
  return badge;
}

export function renderIntake(el, intake) {
  if (!intake) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  const title = document.createElement("strong");
  title.textContent = "事前アンケート";
  const state = document.createElement("span");
  state.className = "muted";
  state.textContent = `（${ENDED[intake.status] || intake.status}）`;
  const list = document.createElement("dl");
  const rows = [
    ["利用規約", intake.consent === "同意" ? "同意" : answer(intake.consent)],
    ["年代", answer(intake.age_group)],
    ["地域", answer(intake.region)],
    ["自認（相談者の言葉）", answer(intake.gender_identity)],
  ];
  for (const [label, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value; // textContent: the client's words are never markup
    list.append(dt, dd);
  }
  el.replaceChildren(title, state, list);
  el.hidden = false;
}
