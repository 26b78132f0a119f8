"""Japanese text normalisation for urgency matching.

Clients write the same word many ways: half-width katakana, spaced-out kana,
stretched vowels, emoji between characters. Both the lexicon and the message
go through :func:`normalise`, so whatever it folds together matches.
"""

from __future__ import annotations

import unicodedata

_KATAKANA_FIRST = 0x30A1  # ァ
_KATAKANA_LAST = 0x30F6  # ヶ
_KANA_OFFSET = 0x60  # ァ (U+30A1) - ぁ (U+3041)
_LONG_VOWEL_MARKS = frozenset("ー－―‐～〜")
# Format/zero-width characters are category Cf, but list the usual ones for clarity.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def _to_hiragana(ch: str) -> str:
    code = ord(ch)
    if _KATAKANA_FIRST <= code <= _KATAKANA_LAST:
        return chr(code - _KANA_OFFSET)
    return ch


def _is_noise(ch: str) -> bool:
    """Spaces, control/format characters, punctuation and symbols (emoji included)."""
    if ch in _ZERO_WIDTH or ch in _LONG_VOWEL_MARKS:
        return True
    return unicodedata.category(ch)[0] in {"Z", "C", "P", "S"}


def normalise(text: str) -> str:
    """Fold ``text`` to the form the lexicon is matched against.

    NFKC (half-width kana and full-width letters), lower case, katakana to
    hiragana, then drop spaces, symbols and long-vowel marks and collapse runs
    of one character: ``ｼﾆﾀｲ``, ``し　に　た　い`` and ``しにたーーい`` all become
    ``しにたい``. Lossy by design: only for matching, never shown.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for ch in folded:
        if _is_noise(ch):
            continue
        hira = _to_hiragana(ch)
        if out and out[-1] == hira:
            continue
        out.append(hira)
    return "".join(out)
