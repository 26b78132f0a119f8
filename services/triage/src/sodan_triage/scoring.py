"""Urgency scoring: Aho-Corasick over the normalised lexicon.

Pure: text in, :class:`Scored` out. The result names lexicon terms and
categories only, never the client's words.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension without stubs

from sodan_triage.lexicon import Level, Lexicon, Term
from sodan_triage.normalise import normalise


@dataclass(frozen=True)
class Match:
    term_id: str
    category: str
    weight: float
    negated: bool


@dataclass(frozen=True)
class Scored:
    level: Level
    score: float
    matches: tuple[Match, ...]
    lexicon_version: str


def _automaton(keys: dict[str, Any]) -> Any:
    automaton = ahocorasick.Automaton()
    for key, value in keys.items():
        automaton.add_word(key, (key, value))
    if keys:
        automaton.make_automaton()
    return automaton


def _spans(automaton: Any, text: str) -> list[tuple[int, int, Any]]:
    """(start, end exclusive, value) of every occurrence, overlapping ones included."""
    if not len(automaton):
        return []
    return [(end + 1 - len(key), end + 1, value) for end, (key, value) in automaton.iter(text)]


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
        self._terms = _automaton(dict(terms_by_key))
        self._benign = _automaton({normalise(p): True for p in lexicon.benign if normalise(p)})
        self._negations = _automaton(
            {normalise(p): True for p in lexicon.negation.patterns if normalise(p)}
        )

    def score(self, text: str) -> Scored:
        norm = normalise(text)
        benign = [(s, e) for s, e, _ in _spans(self._benign, norm)]
        negation_starts = sorted({s for s, _, _ in _spans(self._negations, norm)})
        window = self.lexicon.negation.window
        best: dict[tuple[str, bool], Match] = {}
        for start, end, terms in _spans(self._terms, norm):
            if any(bs <= start and end <= be for bs, be in benign):
                continue  # an idiom such as 死ぬほど: not about dying
            negated = any(end <= ns <= end + window for ns in negation_starts)
            for term in terms:
                weight = term.weight * (self.lexicon.negation.factor if negated else 1.0)
                match = Match(term.id, term.category, round(weight, 4), negated)
                current = best.get((term.id, negated))
                if current is None or current.weight < match.weight:
                    best[(term.id, negated)] = match
        matches = tuple(sorted(best.values(), key=lambda m: (-m.weight, m.term_id)))
        score = matches[0].weight if matches else 0.0
        return Scored(
            level=self.lexicon.level_for(score),
            score=score,
            matches=matches,
            lexicon_version=self.lexicon.version,
        )
