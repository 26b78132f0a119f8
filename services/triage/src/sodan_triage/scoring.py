"""Urgency scoring: Aho-Corasick over the normalised lexicon.

Pure: text in, :class:`Scored` out. The result names lexicon terms and
categories only, never the client's words.

How one match is weighed (all cues are lexicon data, all stop at a sentence end):

* overlapping a benign idiom (死ぬほど笑った, 自殺防止の授業): dropped;
* inside a longer match (家出した in 家出したい, 死ぬ in 死ぬしかない): dropped;
* followed by a negation (死にたくない, 死にたいとは思わない): ``negation.factor``;
* about someone else (友達が死にたいって言ってた), in the categories where that
  is told apart: ``third_party.factor`` and ``subject="other"``;
* hedged into the past (前は死にたかった): ``hedging.factor``.

The message's score is the strongest match plus a damped share of the others
(``s += (1 - s) * w * combine``), so several weak signals can add up to a
level while one strong word alone decides it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import ahocorasick  # type: ignore[import-not-found]  # C extension without stubs

from sodan_triage.lexicon import Level, Lexicon, Term
from sodan_triage.normalise import normalise, normalise_with_breaks

Subject = Literal["self", "other"]


@dataclass(frozen=True)
class Match:
    term_id: str
    category: str
    weight: float
    negated: bool = False
    subject: Subject = "self"
    hedged: bool = False
    # where the client wrote it (code-point offsets into the original text), for the console
    spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Scored:
    level: Level
    score: float
    matches: tuple[Match, ...]
    lexicon_version: str


def _automaton(keys: Iterable[str], value_of: Any = None) -> Any:
    automaton = ahocorasick.Automaton()
    added = False
    for key in keys:
        automaton.add_word(key, (key, value_of(key) if value_of else True))
        added = True
    if added:
        automaton.make_automaton()
    return automaton


def _spans(automaton: Any, text: str) -> list[tuple[int, int, Any]]:
    """(start, end exclusive, value) of every occurrence, overlapping ones included."""
    if not len(automaton) or not text:
        return []
    return [(end + 1 - len(key), end + 1, value) for end, (key, value) in automaton.iter(text)]


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _whole_word(text: str, start: int, end: int) -> bool:
    """Latin patterns (od, dv, sos) only match as words, not inside good or dvd."""
    if _is_latin(text[start]) and start > 0 and _is_latin(text[start - 1]):
        return False
    return not (_is_latin(text[end - 1]) and end < len(text) and _is_latin(text[end]))


def _keys(patterns: Iterable[str]) -> set[str]:
    return {key for key in (normalise(p) for p in patterns) if key}


class Scorer:
    """Built once per lexicon version; :meth:`score` is cheap and thread-safe."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        terms_by_key: dict[str, list[Term]] = defaultdict(list)
        for term in lexicon.terms:
            for pattern in term.patterns:
                key = normalise(pattern)
                if term not in terms_by_key[key]:
                    terms_by_key[key].append(term)
        self._terms = _automaton(terms_by_key, terms_by_key.__getitem__)
        self._benign = _automaton(_keys(lexicon.benign))
        self._negations = _automaton(_keys(lexicon.negation.patterns))
        self._negation_exceptions = _automaton(_keys(lexicon.negation.exceptions))
        self._hedges = _automaton(_keys(lexicon.hedging.before))
        self._hedge_exceptions = _automaton(_keys(lexicon.hedging.exceptions))
        self._others_before = _automaton(_keys(lexicon.third_party.before))
        self._others_after = _automaton(_keys(lexicon.third_party.after))
        self._other_categories = frozenset(lexicon.third_party.categories)

    def score(self, text: str) -> Scored:
        lex = self.lexicon
        norm = normalise_with_breaks(text)
        s, breaks = norm.text, norm.breaks

        def joined(a: int, b: int) -> bool:
            """No sentence ends between positions a and b (a <= b)."""
            return not any(a <= x <= b for x in breaks)

        benign = [(bs, be) for bs, be, _ in _spans(self._benign, s)]
        not_negations = [(xs, xe) for xs, xe, _ in _spans(self._negation_exceptions, s)]
        negation_starts = [
            ns
            for ns, ne, _ in _spans(self._negations, s)
            if not any(xs < ne and ns < xe for xs, xe in not_negations)
        ]
        not_hedges = [(xs, xe) for xs, xe, _ in _spans(self._hedge_exceptions, s)]
        hedge_ends = [
            he
            for hs, he, _ in _spans(self._hedges, s)
            if not any(xs < he and hs < xe for xs, xe in not_hedges)
        ]
        other_ends = [oe for _, oe, _ in _spans(self._others_before, s)]
        other_starts = [os_ for os_, _, _ in _spans(self._others_after, s)]

        def after(starts: list[int], end: int, window: int) -> bool:
            return any(end <= x <= end + window and joined(end, x) for x in starts)

        def before(ends: list[int], start: int, window: int) -> bool:
            return any(start - window <= x <= start and joined(x, start) for x in ends)

        found = [
            (st, en, terms) for st, en, terms in _spans(self._terms, s) if _whole_word(s, st, en)
        ]
        best: dict[tuple[str, bool, Subject, bool], Match] = {}
        spans: dict[tuple[str, bool, Subject, bool], set[tuple[int, int]]] = defaultdict(set)
        for start, end, terms in found:
            if any(
                os_ <= start and end <= oe and (os_, oe) != (start, end) for os_, oe, _ in found
            ):
                continue  # 家出した inside 家出したい: the longer, more precise phrase speaks
            if any(bs < end and start < be for bs, be in benign):
                continue  # an idiom such as 死ぬほど: not about dying
            negated = after(negation_starts, end, lex.negation.window)
            hedged = before(hedge_ends, start, lex.hedging.window)
            reported = before(other_ends, start, lex.third_party.window) or after(
                other_starts, end, lex.third_party.window
            )
            for term in terms:
                subject: Subject = (
                    "other" if reported and term.category in self._other_categories else "self"
                )
                weight = term.weight
                if negated:
                    weight *= lex.negation.factor
                if subject == "other":
                    weight *= lex.third_party.factor
                if hedged:
                    weight *= lex.hedging.factor
                match = Match(term.id, term.category, round(weight, 4), negated, subject, hedged)
                slot = (term.id, negated, subject, hedged)
                spans[slot].add(norm.original_span(start, end))
                current = best.get(slot)
                if current is None or current.weight < match.weight:
                    best[slot] = match
        matches = tuple(
            sorted(
                (replace(m, spans=tuple(sorted(spans[slot]))) for slot, m in best.items()),
                key=lambda m: (-m.weight, m.term_id),
            )
        )
        score = combined_score((m.weight for m in matches), lex.combine)
        return Scored(
            level=lex.level_for(score),
            score=score,
            matches=matches,
            lexicon_version=lex.version,
        )


def combined_score(weights: Iterable[float], combine: float) -> float:
    """The strongest weight, plus a damped share of each further one (never above 1)."""
    ordered = sorted(weights, reverse=True)
    if not ordered:
        return 0.0
    score = ordered[0]
    for weight in ordered[1:]:
        score += (1.0 - score) * weight * combine
    return round(min(score, 1.0), 4)
