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
    "out_of_hours", "queued", "wait_reminder", "suspended", "closing_soon", "closed"
]

PLACEHOLDERS: dict[str, str] = {
    "next_opening": "次の相談日時（例: 12月2日（火）18:00〜21:00）",
    "closes_at": "今日の受付が終わる時刻（例: 21:00）",
    "estimated_wait": "待ち時間の目安（例: おおよそ20分ほど／しばらく）",
    "phone": "電話での相談先（設定 SODAN_ROUTING_PHONE）",
    "emergency": "緊急時の連絡先（設定 SODAN_ROUTING_EMERGENCY_CONTACTS）",
}

ALLOWED: dict[AutoTextKey, frozenset[str]] = {
    "out_of_hours": frozenset({"next_opening", "phone", "emergency"}),
    "queued": frozenset({"estimated_wait", "phone", "emergency"}),
    "wait_reminder": frozenset({"estimated_wait", "phone", "emergency"}),
    "suspended": frozenset({"estimated_wait", "phone", "emergency", "next_opening"}),
    "closing_soon": frozenset({"closes_at", "next_opening", "phone", "emergency"}),
    "closed": frozenset({"next_opening", "phone", "emergency"}),
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
