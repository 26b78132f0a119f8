"""Japanese text normalisation for urgency matching (triage and the lexicon editor).

Clients write the same word many ways: half-width katakana, spaced-out kana,
stretched vowels, emoji between characters. Both the lexicon and the message
go through :func:`normalise`, so whatever it folds together matches. It lives
in shared because console-api validates supervisors' lexicon edits with the
very same folding (a pattern that folds to nothing is refused there too).

The folded text is lossy and one-way: it is never stored or shown. What it
keeps is where each folded character came from (code-point offsets into the
original), so the console can mark the words that raised a message's urgency
in the client's own writing without any text leaving the message.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_KATAKANA_FIRST = 0x30A1  # ァ
_KATAKANA_LAST = 0x30F6  # ヶ
_KANA_OFFSET = 0x60  # ァ (U+30A1) - ぁ (U+3041)
_LONG_VOWEL_MARKS = frozenset("ー－―‐～〜~")
# Format/zero-width characters are category Cf, but list the usual ones for clarity.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
# Where a sentence ends: negation, hedging and "my friend said" cues never reach across it.
_SENTENCE_BREAKS = frozenset("。．.！!？?\n\r")

# Emoji that carry signal on this desk and survive normalisation, so the lexicon
# can name them; variants fold to one. Every other emoji and symbol is noise.
_SIGNAL_EMOJI: dict[str, str] = {
    "🔪": "🔪",
    "🗡": "🔪",
    "✂": "🔪",
    "💊": "💊",
    "🪢": "🪢",
    "🩸": "🩸",
    "⚰": "⚰",
    "🪦": "⚰",
    "🆘": "🆘",
    "🚑": "🚑",
}
# Crying / despairing kaomoji become one signal character before the symbols
# they are made of are dropped. Matched after NFKC, so widths do not matter.
_KAOMOJI_CRY = "😭"
_KAOMOJI: tuple[str, ...] = (
    "(´;ω;`)",
    "(´;ω;｀)",
    "(;ω;)",
    "(つд`)",
    "(つд⊂)",
    "(´;д;`)",
    "(´・ω・`)",  # しょぼん: low mood, weak on its own
    "(T_T)",
    "(t_t)",
    "(;_;)",
    "(;_;)",
    "(ToT)",
    "(tot)",
    "orz",
)
_KAOMOJI = tuple(dict.fromkeys(unicodedata.normalize("NFKC", k).lower() for k in _KAOMOJI))
_CRY_EMOJI = frozenset("😭😢😿🥲")

# Small vowels after a kana of the same vowel stretch it (しにたぁぁい); elsewhere
# they are the vowel itself written small (しにたぃ, ふぁ) and are enlarged.
_SMALL_VOWELS: dict[str, str] = {"ぁ": "あ", "ぃ": "い", "ぅ": "う", "ぇ": "え", "ぉ": "お"}
_VOWEL_ROWS: dict[str, str] = {}
for _vowel, _row in {
    "あ": "あかがさざただなはばぱまやらわぁゃ",
    "い": "いきぎしじちぢにひびぴみりぃ",
    "う": "うくぐすずつづぬふぶぷむゆるぅゅっ",
    "え": "えけげせぜてでねへべぺめれぇ",
    "お": "おこごそぞとどのほぼぽもよろをぉょ",
}.items():
    for _kana in _row:
        _VOWEL_ROWS[_kana] = _vowel


def _to_hiragana(ch: str) -> str:
    code = ord(ch)
    if _KATAKANA_FIRST <= code <= _KATAKANA_LAST:
        return chr(code - _KANA_OFFSET)
    return ch


def _is_noise(ch: str) -> bool:
    """Spaces, control/format/combining characters, punctuation and symbols."""
    if ch in _ZERO_WIDTH or ch in _LONG_VOWEL_MARKS:
        return True
    return unicodedata.category(ch)[0] in {"Z", "C", "P", "S", "M"}


# A character and the half-open span of the original text it came from.
_Piece = tuple[str, int, int]


def _joins_previous(ch: str) -> bool:
    """Combining marks (and half-width dakuten) compose with the character before under NFKC."""
    return unicodedata.combining(ch) != 0 or ch in "\uff9e\uff9f\u3099\u309a"


def _nfkc_pieces(text: str) -> list[_Piece]:
    """NFKC and lower case, one base character with its combining marks at a time."""
    pieces: list[_Piece] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and _joins_previous(text[j]):
            j += 1
        pieces.extend((ch, i, j) for ch in unicodedata.normalize("NFKC", text[i:j]).lower())
        i = j
    return pieces


def _fold_kaomoji(pieces: list[_Piece]) -> list[_Piece]:
    for face in _KAOMOJI:
        folded = "".join(ch for ch, _, _ in pieces)
        if face not in folded:
            continue
        out: list[_Piece] = []
        i = 0
        while i < len(pieces):
            if folded.startswith(face, i):
                first, last = pieces[i][1], pieces[i + len(face) - 1][2]
                out += [(" ", first, last), (_KAOMOJI_CRY, first, last), (" ", first, last)]
                i += len(face)
            else:
                out.append(pieces[i])
                i += 1
        pieces = out
    return pieces


@dataclass(frozen=True)
class Normalised:
    """The folded text, where its sentences break, and where each character came from.

    A break at ``i`` means a sentence ended just before ``text[i]`` (or at the
    end when ``i == len(text)``). Words still match across a break, because
    ``し。に。た。い`` is a way of hiding one; cues such as negation do not.
    ``origins[i]`` is the span of the original text that became ``text[i]``
    (a stretched vowel or repeated character is part of the one it repeats).
    """

    text: str
    breaks: frozenset[int]
    origins: tuple[tuple[int, int], ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that folded into ``text[start:end]`` (end > start)."""
        return self.origins[start][0], self.origins[end - 1][1]


def normalise_with_breaks(text: str) -> Normalised:
    """:func:`normalise`, plus the sentence breaks the dropped punctuation marked."""
    out: list[str] = []
    origins: list[tuple[int, int]] = []
    breaks: set[int] = set()
    for ch, first, last in _fold_kaomoji(_nfkc_pieces(text)):
        if ch in _SENTENCE_BREAKS:
            breaks.add(len(out))
            continue
        signal = _SIGNAL_EMOJI.get(ch) or (_KAOMOJI_CRY if ch in _CRY_EMOJI else None)
        if signal is None and _is_noise(ch):
            continue
        char = signal or _to_hiragana(ch)
        if char in _SMALL_VOWELS:
            if out and _VOWEL_ROWS.get(out[-1]) == _SMALL_VOWELS[char]:
                origins[-1] = (origins[-1][0], last)
                continue  # しにたぁぁい: a stretched vowel
            char = _SMALL_VOWELS[char]
        if out and out[-1] == char:
            origins[-1] = (origins[-1][0], last)
            continue  # しにたいいいい, 💊💊💊
        out.append(char)
        origins.append((first, last))
    return Normalised("".join(out), frozenset(breaks), tuple(origins))


def normalise(text: str) -> str:
    """Fold ``text`` to the form the lexicon is matched against.

    NFKC (half-width kana and full-width letters), lower case, katakana to
    hiragana, crying kaomoji to 😭, then drop spaces, punctuation, symbols and
    long-vowel marks (signal emoji such as 🔪💊🪢 are kept), fold small vowels
    and collapse runs of one character: ``ｼﾆﾀｲ``, ``し　に　た　い``,
    ``し.に.た.い`` and ``しにたーーい`` all become ``しにたい``.
    """
    return normalise_with_breaks(text).text
