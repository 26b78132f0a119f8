"""Does a text look like it contains personal data? (spec 4(1))

The counsellor is warned (and, per setting, ingress masks the stored copy) when a
client's message seems to hold a phone number, an e-mail address, a postal
address or a My Number; the console asks the counsellor to confirm before a
reply that seems to hold one is sent. One detector for both, so the two never
disagree. Pure functions: no I/O, no logging of the text.

Matching runs on the NFKC form (full-width digits, ＠ and － become ASCII), one
character at a time so every match maps back to a span of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import get_args

from sodan_shared.events.line import PersonalDataKind

MASK = "＊＊＊"
KINDS: tuple[PersonalDataKind, ...] = get_args(PersonalDataKind)

# Hyphen look-alikes Japanese users type between digit groups (ー is the long
# vowel mark, often typed by mistake for a hyphen) and brackets around area codes.
_DASH = r"\-‐‑‒–—―−ー"
_SEP = rf"[{_DASH}\s()]{{1,2}}"
_NOT_AFTER_DIGIT = rf"(?<!\d)(?<!\d[{_DASH}])"
_NOT_BEFORE_DIGIT = rf"(?!\d)(?![{_DASH}]\d)"

_PHONE = re.compile(
    _NOT_AFTER_DIGIT
    + r"(?:"
    + rf"\+81{_SEP}?(?:\(0\))?[1-9]\d{{0,3}}{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}"
    + rf"|\(?0\d{{1,4}}{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}"
    + r"|0[5789]0\d{8}"
    + r"|0[1-9]\d{8}"
    + r")"
    + _NOT_BEFORE_DIGIT
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MY_NUMBER = re.compile(
    _NOT_AFTER_DIGIT + rf"\d{{4}}[{_DASH}\s]?\d{{4}}[{_DASH}\s]?\d{{4}}" + _NOT_BEFORE_DIGIT
)

_PREFECTURES = (
    "北海道|東京都|大阪府|京都府|"
    "(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|石川|福井|"
    "山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|"
    "愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県"
)
# A municipality: kanji/katakana (a hiragana particle like の ends it, so
# 「東京都の区役所」 is not an address) or one of the hiragana city names.
_CITY = r"(?:さいたま|つくば|いわき|ひたちなか|[一-龥々〆ヶケァ-ヴー]{1,6}?)[市区町村郡]"
# Block and lot numbers right after the municipality: 「丸の内1丁目2-3」.
_LOT = rf"(?:[^\s、。,.!?！？]{{0,6}}?\d{{1,4}}(?:(?:丁目|番地|番|号|[{_DASH}])\d{{0,4}})*)?"
_POSTCODE = rf"\d{{3}}[{_DASH}]\d{{4}}"
_ADDRESS = re.compile(
    rf"〒\s?\d{{3}}[{_DASH}]?\d{{4}}(?:\s?(?:{_PREFECTURES})?(?:{_CITY})?{_LOT})?"
    rf"|(?<!\d){_POSTCODE}\s?(?:(?:{_PREFECTURES})(?:{_CITY})?|{_CITY}){_LOT}"
    rf"|(?:{_PREFECTURES}){_CITY}{_LOT}"
)


@dataclass(frozen=True)
class Finding:
    kind: PersonalDataKind
    start: int
    end: int


def _normalised(text: str) -> tuple[str, list[int]]:
    """NFKC of ``text`` and, for each of its characters, the index it came from."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit of an individual number (総務省令 第5条)."""
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_my_number(candidate: str) -> bool:
    digits = "".join(c for c in candidate if c.isdigit())
    return len(digits) == 12 and my_number_check_digit(digits[:11]) == int(digits[11])


def _phone_digits_fit(match: str) -> bool:
    digits = "".join(c for c in match if c.isdigit())
    if digits.startswith("81") and match.lstrip().startswith("+"):
        return len(digits) in (11, 12)
    # Mobile, IP and 0800 numbers have 11 digits, every other number 10.
    return len(digits) == (11 if re.match(r"0[5789]0", digits) else 10)


def find_personal_data(text: str) -> list[Finding]:
    """Where ``text`` seems to hold personal data, as spans of the original text."""
    norm, origin = _normalised(text)
    found: list[tuple[PersonalDataKind, int, int]] = []
    for match in _EMAIL.finditer(norm):
        found.append(("email", match.start(), match.end()))
    for match in _ADDRESS.finditer(norm):
        found.append(("postal_address", match.start(), match.end()))
    for match in _MY_NUMBER.finditer(norm):
        if is_my_number(match.group()):
            found.append(("my_number", match.start(), match.end()))
    for match in _PHONE.finditer(norm):
        if _phone_digits_fit(match.group()):
            found.append(("phone", match.start(), match.end()))
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []
    # Earlier kinds win an overlap: digits inside an address or an e-mail are not
    # also a phone number.
    for kind, start, end in found:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        findings.append(Finding(kind=kind, start=origin[start], end=origin[end - 1] + 1))
    return sorted(findings, key=lambda f: f.start)


def detect_personal_data(text: str) -> list[PersonalDataKind]:
    """The kinds found in ``text``, each once, in a fixed order."""
    kinds = {f.kind for f in find_personal_data(text)}
    return [kind for kind in KINDS if kind in kinds]


def mask_personal_data(text: str) -> str:
    """``text`` with every finding replaced by ``＊＊＊``."""
    parts: list[str] = []
    cursor = 0
    for finding in find_personal_data(text):
        parts.append(text[cursor : finding.start])
        parts.append(MASK)
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)
