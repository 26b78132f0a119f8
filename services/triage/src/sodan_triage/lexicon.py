"""The versioned urgency lexicon: terms, weights, levels, negations, idioms.

The data lives in ``data/lexicon.json`` (edited by supervisors in a later
issue); this module loads and validates it. Patterns are stored as written and
normalised on load, so they match whatever :func:`normalise` makes of a message.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sodan_triage.normalise import normalise

Level = Literal["critical", "high", "medium", "normal"]
AlertLevel = Literal["critical", "high", "medium"]
LEVELS_DESC: tuple[AlertLevel, ...] = ("critical", "high", "medium")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Term(_Frozen):
    id: str = Field(min_length=1)
    category: str = Field(min_length=1)
    level: Level
    weight: float = Field(ge=0.0, le=1.0)
    patterns: tuple[str, ...] = Field(min_length=1)


class Negation(_Frozen):
    window: int = Field(ge=0, description="Characters after a match where a negation may start")
    factor: float = Field(ge=0.0, le=1.0, description="Weight multiplier for a negated match")
    patterns: tuple[str, ...]


class Lexicon(_Frozen):
    version: str = Field(min_length=1)
    levels: dict[AlertLevel, float]
    negation: Negation
    benign: tuple[str, ...] = Field(
        default=(), description="Idioms that hide matches inside them (死ぬほど笑った)"
    )
    terms: tuple[Term, ...]

    def level_for(self, score: float) -> Level:
        for level in LEVELS_DESC:
            if score >= self.levels[level]:
                return level
        return "normal"

    @model_validator(mode="after")
    def _consistent(self) -> Lexicon:
        if set(self.levels) != set(LEVELS_DESC):
            raise ValueError("levels must give thresholds for critical, high and medium")
        ids = [t.id for t in self.terms]
        if len(ids) != len(set(ids)):
            raise ValueError("term ids must be unique")
        for term in self.terms:
            if self.level_for(term.weight) != term.level:
                raise ValueError(
                    f"term {term.id}: weight {term.weight} is not in the {term.level} band"
                )
            if any(not normalise(p) for p in term.patterns):
                raise ValueError(f"term {term.id}: a pattern normalises to nothing")
        return self


def load_lexicon(raw: str | None = None) -> Lexicon:
    """The packaged lexicon, or one given as JSON text (tests, later: supervisors' edits)."""
    if raw is None:
        raw = (resources.files("sodan_triage") / "data" / "lexicon.json").read_text("utf-8")
    return Lexicon.model_validate(json.loads(raw))
