"""The client's own way out: one word ends the conversation at once.

Someone on a shared phone may need to stop now; the word is matched loosely
(width, spaces, trailing punctuation) but must be the whole message, so
「終了したらどうなる？」 is still a question, not an exit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

_TRAILING = "。．.！!～〜ー…・ 　"


# katakana → hiragana, so オワリ and ｵﾜﾘ match おわり
_KANA = str.maketrans({chr(k): chr(k - 0x60) for k in range(0x30A1, 0x30F7)})


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).translate(_KANA)
    return folded.strip().rstrip(_TRAILING).replace(" ", "")


def is_end_word(text: str, end_words: Iterable[str]) -> bool:
    folded = _fold(text)
    return bool(folded) and folded in {_fold(word) for word in end_words}
