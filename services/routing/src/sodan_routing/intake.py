"""The intake questionnaire (事前アンケート): questions, answers, the next step.

Before a new case is queued the client is asked, by LINE quick replies, to
agree to the terms, then their age group, their region in Mie and, in their
own words, how they describe themselves. Every question can be skipped, and a
client is never trapped: an answer that is not understood is asked once more,
then the questionnaire moves on; a message that is not an answer at all (long,
several lines) ends it and the case is queued at once. Urgency ends it too
(routing decides that; this module only says what a message means).

Pure functions over plain data: no broker, no database. The values recorded are
the report's labels (``sodan_reporting.monthly``: 10代以下 … 60代以上, 不明;
北勢 … 東紀州, 県外, 不明); a skipped question records nothing (the report
shows 未回答).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

Step = Literal["consent", "age_group", "region", "gender_identity"]
STEPS: tuple[Step, ...] = ("consent", "age_group", "region", "gender_identity")

# Why the questionnaire ended; also CaseIntakeFinished.outcome.
Outcome = Literal["completed", "declined", "not_an_answer", "urgent", "timeout", "closed"]

AGREED = "同意"
DECLINED = "同意しない"
SKIP = "スキップ"
NOT_SAYING = "答えたくない"
UNKNOWN = "不明"  # the report's label for 答えたくない
OUTSIDE = "県外"
AGE_GROUPS = ("10代以下", "20代", "30代", "40代", "50代", "60代以上")
REGIONS = ("北勢", "中勢", "南勢志摩", "伊賀", "東紀州")

# Longer than this, or on several lines, a message is the client talking, not answering.
MAX_ANSWER_CHARS = 30
# What a free-text answer may put in case.closed (reporting counts it as written).
MAX_REPORTED_CHARS = 20

_SKIP_WORDS = frozenset({"スキップ", "skip", "とばす", "飛ばす", "パス", "pass", "次へ"})
_NOT_SAYING_WORDS = frozenset(
    {"答えたくない", "こたえたくない", "言いたくない", "いいたくない", "ひみつ", "秘密", "内緒"}
)
_AGREE_WORDS = frozenset({"同意する", "同意します", "同意", "はい", "yes", "ok", "okay", "了解"})
_DECLINE_WORDS = frozenset({"同意しない", "同意しません", "いいえ", "no", "しない"})


@dataclass(frozen=True)
class Choice:
    """A quick-reply button: its label is also the text the client sends."""

    label: str
    value: str | None  # recorded; None: skipped


@dataclass(frozen=True)
class Question:
    step: Step
    text_key: str  # the automatic text asking it (texts.AutoTextKey)
    choices: tuple[Choice, ...]
    free_text: bool = False


QUESTIONS: dict[Step, Question] = {
    "consent": Question(
        "consent",
        "intake_consent",
        (Choice("同意する", AGREED), Choice(DECLINED, DECLINED), Choice(SKIP, None)),
    ),
    "age_group": Question(
        "age_group",
        "intake_age_group",
        (
            *(Choice(a, a) for a in AGE_GROUPS),
            Choice(NOT_SAYING, UNKNOWN),
            Choice(SKIP, None),
        ),
    ),
    "region": Question(
        "region",
        "intake_region",
        (
            *(Choice(r, r) for r in REGIONS),
            Choice(OUTSIDE, OUTSIDE),
            Choice(NOT_SAYING, UNKNOWN),
            Choice(SKIP, None),
        ),
    ),
    "gender_identity": Question(
        "gender_identity",
        "intake_gender_identity",
        (Choice(NOT_SAYING, UNKNOWN), Choice(SKIP, None)),
        free_text=True,
    ),
}


@dataclass(frozen=True)
class Answers:
    consent: str | None = None  # 同意 / 同意しない; None: skipped or not asked
    age_group: str | None = None
    region: str | None = None
    gender_identity: str | None = None  # as the client wrote it (normalised), or 不明


@dataclass(frozen=True)
class State:
    """Where a case's questionnaire is: the question last asked, whether it was
    asked a second time, and the answers so far."""

    step: Step
    retried: bool = False
    answers: Answers = Answers()


@dataclass(frozen=True)
class Next:
    """What to do after a message: ask ``ask`` (again, if ``retry``), or end with ``outcome``."""

    answers: Answers
    ask: Step | None = None
    retry: bool = False
    outcome: Outcome | None = None

    @property
    def state(self) -> State | None:
        return None if self.ask is None else State(self.ask, self.retry, self.answers)


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), trimmed, inner spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _key(text: str) -> str:
    """For matching: no spaces or punctuation, case-folded."""
    return re.sub(r"[\s。、.,!！?？「」]", "", normalise(text)).casefold()


def is_answer_shaped(text: str | None) -> bool:
    """A short, one-line text. Anything else is the client talking: never hold it back."""
    if text is None:
        return True  # a sticker or an image: not understood, but not a reason to stop
    stripped = text.strip()
    return "\n" not in stripped and len(normalise(stripped)) <= MAX_ANSWER_CHARS


def _age_from_number(key: str) -> str | None:
    m = re.fullmatch(r"(\d{1,3})(?:歳|才|さい)?(?:代)?(?:です)?", key)
    if m is None:
        return None
    age = int(m.group(1))
    if age < 20:
        return "10代以下"
    if age >= 60:
        return "60代以上"
    return f"{age // 10 * 10}代"


def _choice(question: Question, text: str) -> tuple[bool, str | None]:
    """(understood, value): value None with understood True means skipped."""
    key = _key(text)
    if not key:
        return False, None
    for choice in question.choices:
        if key == _key(choice.label):
            return True, choice.value
    if key in _SKIP_WORDS:
        return True, None
    if key in _NOT_SAYING_WORDS:
        return True, UNKNOWN if question.step != "consent" else None
    if question.step == "consent":
        if key in _AGREE_WORDS:
            return True, AGREED
        if key in _DECLINE_WORDS:
            return True, DECLINED
    if question.step == "age_group":
        age = _age_from_number(key)
        if age is not None:
            return True, age
        for a in AGE_GROUPS:  # 「10代」「60代」 without 以下/以上
            if key == _key(a).removesuffix("以下").removesuffix("以上"):
                return True, a
    if question.step == "region":
        for r in REGIONS:
            if key in (_key(r), _key(r) + "地域", _key(r) + "地方"):
                return True, r
        if key in ("三重県外", "県外です", "三重以外"):
            return True, OUTSIDE
    return False, None


def _record(answers: Answers, step: Step, value: str | None) -> Answers:
    return replace(answers, **{step: value})


def _after(step: Step) -> Step | None:
    i = STEPS.index(step)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def start(first_text: str | None) -> Next:
    """A new case: ask for consent, unless the first message already gives it (a
    client who declined and changed their mind taps 同意する again)."""
    if first_text is not None and _choice(QUESTIONS["consent"], first_text) == (True, AGREED):
        return Next(answers=Answers(consent=AGREED), ask="age_group")
    return Next(answers=Answers(), ask="consent")


def answer(state: State, text: str | None) -> Next:
    """The client's message while ``state.step`` was asked (text None: not a text)."""
    if not is_answer_shaped(text):
        return Next(answers=state.answers, outcome="not_an_answer")
    question = QUESTIONS[state.step]
    understood, value = _choice(question, text) if text is not None else (False, None)
    if not understood and question.free_text and text is not None and normalise(text):
        understood, value = True, normalise(text)
    if not understood:
        if not state.retried:
            return Next(answers=state.answers, ask=state.step, retry=True)
        value = None  # asked twice: move on rather than trap the client
    answers = _record(state.answers, state.step, value)
    if state.step == "consent" and value == DECLINED:
        return Next(answers=answers, outcome="declined")
    nxt = _after(state.step)
    if nxt is None:
        return Next(answers=answers, outcome="completed")
    return Next(answers=answers, ask=nxt)


def quick_replies(step: Step) -> list[dict[str, str]]:
    """The question's buttons as PushRequested/ReplyRequested quick replies."""
    return [{"label": c.label, "text": c.label} for c in QUESTIONS[step].choices]


def consent_again() -> list[dict[str, str]]:
    """After declining: one button to change their mind."""
    return [{"label": "同意する", "text": "同意する"}]


def reportable_gender_identity(answers: Answers, *, personal_data: bool) -> str | None:
    """What case.closed may carry for the report: a short answer without anything that
    looked like personal data (the report merges rare answers into その他 anyway)."""
    value = answers.gender_identity
    if value is None or personal_data or len(value) > MAX_REPORTED_CHARS:
        return None
    return value
