"""Automatic texts to clients: defaults, placeholders, validation, rendering.

Clients are often young people on a shared phone: a text may be read on a lock
screen by someone else. So no text names the desk or its topic, and edits that
would are refused (the words are a setting). Placeholders are Python-format
names in braces; each text allows only the ones it can be given.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Literal

AutoTextKey = Literal[
    "out_of_hours",
    "queued",
    "wait_reminder",
    "suspended",
    "closing_soon",
    "closed",
    "survey",
    "intake_consent",
    "intake_age_group",
    "intake_region",
    "intake_gender_identity",
    "intake_retry",
    "intake_declined",
    "intake_done",
]

PLACEHOLDERS: dict[str, str] = {
    "next_opening": "次の相談日時（例: 12月2日（火）18:00〜21:00）",
    "closes_at": "今日の受付が終わる時刻（例: 21:00）",
    "estimated_wait": "待ち時間の目安（例: おおよそ20分ほど／しばらく）",
    "phone": "電話での相談先（設定 SODAN_ROUTING_PHONE）",
    "emergency": "緊急時の連絡先（設定 SODAN_ROUTING_EMERGENCY_CONTACTS）",
    "terms_url": "利用規約のURL（設定 SODAN_ROUTING_TERMS_URL）",
}

ALLOWED: dict[AutoTextKey, frozenset[str]] = {
    "out_of_hours": frozenset({"next_opening", "phone", "emergency"}),
    "queued": frozenset({"estimated_wait", "phone", "emergency"}),
    "wait_reminder": frozenset({"estimated_wait", "phone", "emergency"}),
    "suspended": frozenset({"estimated_wait", "phone", "emergency", "next_opening"}),
    "closing_soon": frozenset({"closes_at", "next_opening", "phone", "emergency"}),
    "closed": frozenset({"next_opening", "phone", "emergency"}),
    # the after-survey's question; its answers are quick-reply buttons (closing.SURVEY_ANSWERS)
    "survey": frozenset({"phone", "emergency"}),
    "intake_consent": frozenset({"terms_url", "phone", "emergency"}),
    "intake_age_group": frozenset({"phone", "emergency"}),
    "intake_region": frozenset({"phone", "emergency"}),
    "intake_gender_identity": frozenset({"phone", "emergency"}),
    "intake_retry": frozenset({"phone", "emergency"}),
    "intake_declined": frozenset({"terms_url", "phone", "emergency"}),
    "intake_done": frozenset({"phone", "emergency"}),
}

DEFAULT_TEXTS: dict[AutoTextKey, str] = {
    "out_of_hours": (
        "メッセージありがとうございます。いまは受付時間外のため、すぐにはお返事できません。"
        "いただいたメッセージは届いていて、次の受付時間に順番にお返事します。\n"
        "次の相談日は {next_opening} です。\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
    "queued": (
        "メッセージありがとうございます。順番にお返事しています。"
        "{estimated_wait}お待ちいただく見込みです。このままお待ちください。"
    ),
    "wait_reminder": (
        "お待たせしていてごめんなさい。メッセージは届いています。"
        "いまは{estimated_wait}お待ちいただく見込みです。もう少しお待ちください。"
    ),
    "suspended": (
        "メッセージありがとうございます。いま大変混み合っていて、"
        "お返事までかなりお待たせしてしまいそうです。メッセージは届いています。\n"
        "お電話でもお話を聞いています。\n{phone}\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
    "closing_soon": (
        "本日の受付は {closes_at} までです。時間内にお返事できないときは、"
        "次の相談日 {next_opening} に順番にお返事します。"
    ),
    "closed": (
        "本日の受付時間が終わりました。お返事できず、ごめんなさい。"
        "メッセージは届いていますので、次の相談日 {next_opening} に順番にお返事します。\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
    "survey": (
        "今日はお話ししてくれてありがとうございました。"
        "今日の相談はいかがでしたか。下のボタンから選んでください（答えなくても大丈夫です）。"
    ),
    # The intake questionnaire (事前アンケート). Lock-screen safe like every text:
    # the gender question cannot name its topic (the forbidden words), so it asks
    # how the client describes themselves.
    "intake_consent": (
        "メッセージありがとうございます。お話を聞く前に、いくつか質問させてください"
        "（どれも答えなくてかまいません）。\n"
        "まず、利用規約に同意いただけますか？\n{terms_url}"
    ),
    "intake_age_group": "年代を教えてください。",
    "intake_region": "お住まいの地域を教えてください。",
    "intake_gender_identity": (
        "ご自身のことを、どのように表していますか？ あなたの言葉で自由に書いてください。"
        "答えたくないときは「スキップ」を押してください。"
    ),
    "intake_retry": "ごめんなさい、うまく受け取れませんでした。下のボタンから選んでください。",
    "intake_declined": (
        "お返事ありがとうございます。ここでのご相談は、利用規約への同意をいただいてから"
        "お受けしています。\n{terms_url}\n"
        "気持ちが変わったときは「同意する」を押すか、もう一度メッセージを送ってください。\n"
        "お電話でもお話を聞いています。\n{phone}\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
    "intake_done": "ありがとうございました。相談員におつなぎします。",
}

# For the supervisors' editor: a name, and when the text is sent.
DESCRIPTIONS: dict[AutoTextKey, tuple[str, str]] = {
    "out_of_hours": ("時間外の案内", "受付時間外にメッセージが届いたとき（閉まっている間に1回）"),
    "queued": ("受付待ちの案内", "受付時間内、すぐに担当できる相談員がいないとき（受付ごとに1回）"),
    "wait_reminder": ("お待たせのお知らせ", "受付待ちが長くなったとき（設定した間隔・回数まで）"),
    "suspended": (
        "受付停止の案内",
        "混雑で受付停止の状態のときに届いたメッセージへ（受付ごとに1回）",
    ),
    "closing_soon": ("まもなく終了の案内", "受付終了の少し前に、まだ待っている相談者へ"),
    "closed": ("受付終了の案内", "受付が終わったとき、お返事できなかった相談者へ"),
    "survey": (
        "終了後アンケート",
        "相談員が終了時に「アンケートを送る」を選んだとき（1問・ボタンで回答）",
    ),
    "intake_consent": (
        "事前アンケート: 利用規約への同意",
        "新しい相談の最初のメッセージへ（受付時間内）",
    ),
    "intake_age_group": ("事前アンケート: 年代", "同意のあと"),
    "intake_region": ("事前アンケート: お住まいの地域", "年代のあと"),
    "intake_gender_identity": (
        "事前アンケート: ご自身の表し方",
        "地域のあと（自由記述・スキップ可）",
    ),
    "intake_retry": (
        "事前アンケート: 聞き直し",
        "答えが読み取れなかったとき（1回だけ、質問の前に付きます）",
    ),
    "intake_declined": ("事前アンケート: 同意いただけないとき", "利用規約に同意しないと答えたとき"),
    "intake_done": (
        "事前アンケート: 終わりのあいさつ",
        "すべて答え終わったとき（相談員につなぐ前）",
    ),
}

AUTO_TEXT_KEYS: tuple[AutoTextKey, ...] = tuple(DEFAULT_TEXTS)
MAX_TEXT_CHARS = 1000  # well under LINE's 5000; long notices are not read


class AutoTextError(ValueError):
    """An automatic text that cannot be used; the message says why, for a supervisor."""


def placeholders_in(body: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise AutoTextError(
            f"波かっこ {{ }} の対応が取れていません / unbalanced braces: {exc}"
        ) from exc
    names: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or spec or conversion:
            raise AutoTextError(
                f"差し込みは {{名前}} の形だけ使えます / only plain {{name}} placeholders: "
                f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            )
        names.append(name)
    return names


def validate(key: str, body: str, *, forbidden_words: Iterable[str] = ()) -> str:
    """The body, stripped, if usable for `key`; otherwise AutoTextError saying why."""
    if key not in ALLOWED:
        raise AutoTextError(
            f"不明な自動応答です / unknown automatic text {key!r}; known: {', '.join(ALLOWED)}"
        )
    body = body.strip()
    if not body:
        raise AutoTextError("本文が空です / the text is empty")
    if len(body) > MAX_TEXT_CHARS:
        raise AutoTextError(
            f"{MAX_TEXT_CHARS}文字までです / at most {MAX_TEXT_CHARS} characters ({len(body)})"
        )
    allowed = ALLOWED[key]
    unknown = sorted({n for n in placeholders_in(body) if n not in allowed})
    if unknown:
        raise AutoTextError(
            f"この文面で使えない差し込みです / unknown placeholder(s) for {key}: "
            + ", ".join(f"{{{n}}}" for n in unknown)
            + "; allowed: "
            + ", ".join(f"{{{n}}}" for n in sorted(allowed))
        )
    lowered = body.casefold()
    found = [w for w in forbidden_words if w and w.casefold() in lowered]
    if found:
        raise AutoTextError(
            "ロック画面で相談内容が分かってしまう言葉は使えません / words that would reveal the "
            "topic on a lock screen are not allowed: " + ", ".join(found)
        )
    return body


def render(key: AutoTextKey, body: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders the text uses; a missing value is a bug, so it raises."""
    names = placeholders_in(body)
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"no value for {missing} in automatic text {key}")
    return body.format_map({n: values[n] for n in names}).strip()
