"""The urgency lexicon's schema, shared by triage (which matches with it) and
console-api (where supervisors edit it): one model, so both refuse the same
mistakes with the same messages.

A lexicon is data only: terms with their category, weight and level, and the
cue lists that change a match's weight (negation, hedging, third-party
reports, benign idioms). Patterns are stored as written; they are compared
after :func:`sodan_shared.normalise.normalise`, like the messages.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from sodan_shared.normalise import normalise

Level = Literal["critical", "high", "medium", "normal"]
AlertLevel = Literal["critical", "high", "medium"]
LEVELS_DESC: tuple[AlertLevel, ...] = ("critical", "high", "medium")
LEVEL_LABELS: dict[str, str] = {"critical": "緊急", "high": "高", "medium": "中", "normal": "通常"}

Pattern = Annotated[str, StringConstraints(min_length=1, max_length=60, strip_whitespace=True)]
Patterns = Annotated[tuple[Pattern, ...], Field(max_length=300)]
TermId = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Term(_Frozen):
    id: TermId = Field(description="Stable id, shown to staff and stored in scores (a-z0-9._-)")
    category: str = Field(min_length=1, max_length=40)
    level: Level = Field(
        description="The level this term alone gives; must fit its weight (normal: a weak "
        "signal that only adds to other terms)"
    )
    weight: float = Field(ge=0.0, le=1.0)
    patterns: Patterns = Field(min_length=1, description="Ways of writing it, as written")
    note: str = Field(default="", max_length=300, description="Why it is here, for the editor")


class Negation(_Frozen):
    window: int = Field(ge=0, le=10, description="Characters between a match and its negation")
    factor: float = Field(ge=0.0, le=1.0, description="Weight multiplier for a negated match")
    patterns: Patterns = Field(description="What follows a term to negate it (ない, とは思わない)")
    exceptions: Patterns = Field(
        default=(),
        description="Words a negation is part of without negating (かもしれない, しかない)",
    )


class Hedging(_Frozen):
    window: int = Field(ge=0, le=20, description="Characters before a match a cue may end")
    factor: float = Field(ge=0.0, le=1.0, description="Weight multiplier for a hedged match")
    before: Patterns = Field(description="Cues before a term: past or distance (前は, 昔)")
    exceptions: Patterns = Field(
        default=(), description="Words a cue is part of without being one (お前は, 名前は)"
    )


class ThirdParty(_Frozen):
    window: int = Field(ge=0, le=20, description="Characters between a match and the cue")
    factor: float = Field(ge=0.0, le=1.0, description="Weight multiplier for someone else's")
    before: Patterns = Field(description="Who it is about, before the term (友達が)")
    after: Patterns = Field(description="Reported speech after the term (って言ってた)")
    categories: tuple[str, ...] = Field(
        description="Categories where a report about someone else is told apart; elsewhere "
        "(violence, abuse) the client is usually the one it happens to"
    )


class Lexicon(_Frozen):
    version: str = Field(min_length=1, max_length=64)
    levels: dict[AlertLevel, float] = Field(description="Lowest score of each level")
    combine: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="How much each further term adds: s += (1 - s) * weight * combine",
    )
    categories: tuple[str, ...] = Field(min_length=1, description="Known categories, in order")
    negation: Negation
    hedging: Hedging
    third_party: ThirdParty
    benign: Patterns = Field(
        default=(), description="Idioms that hide matches inside them (死ぬほど笑った)"
    )
    terms: tuple[Term, ...] = Field(max_length=3000)

    def level_for(self, score: float) -> Level:
        for level in LEVELS_DESC:
            if score >= self.levels[level]:
                return level
        return "normal"

    def _band(self, level: Level) -> str:
        lows = {"critical": self.levels["critical"], "high": self.levels["high"]}
        lows["medium"] = self.levels["medium"]
        if level == "critical":
            return f"{lows['critical']} 以上"
        if level == "normal":
            return f"{lows['medium']} 未満"
        upper = {"high": lows["critical"], "medium": lows["high"]}[level]
        return f"{lows[level]} 以上 {upper} 未満"

    @model_validator(mode="after")
    def _consistent(self) -> Lexicon:
        # Japanese: supervisors read these in the console
        problems: list[str] = []
        levels_ok = False
        if set(self.levels) != set(LEVELS_DESC):
            problems.append("levels: critical・high・medium の閾値が必要です")
        elif not 0 < self.levels["medium"] < self.levels["high"] < self.levels["critical"] <= 1:
            problems.append("levels: 閾値は 0 < 中 < 高 < 緊急 ≤ 1 の順にしてください")
        else:
            levels_ok = True
        seen: set[str] = set()
        for term in self.terms:
            if term.id in seen:
                problems.append(f"語 {term.id}: ID が重複しています")
            seen.add(term.id)
            if term.category not in self.categories:
                problems.append(f"語 {term.id}: 未知のカテゴリ「{term.category}」です")
            if levels_ok and self.level_for(term.weight) != term.level:
                actual = LEVEL_LABELS[self.level_for(term.weight)]
                problems.append(
                    f"語 {term.id}: 重み {term.weight} は「{actual}」の範囲です"
                    f"（「{LEVEL_LABELS[term.level]}」なら重みを {self._band(term.level)} に）"
                )
            for pattern in term.patterns:
                if not normalise(pattern):
                    problems.append(f"語 {term.id}: 表現「{pattern}」は空白や記号だけです")
        for name, patterns in (
            ("negation", self.negation.patterns),
            ("negation.exceptions", self.negation.exceptions),
            ("hedging", self.hedging.before),
            ("hedging.exceptions", self.hedging.exceptions),
            ("third_party.before", self.third_party.before),
            ("third_party.after", self.third_party.after),
            ("benign", self.benign),
        ):
            for pattern in patterns:
                if not normalise(pattern):
                    problems.append(f"{name}: 表現「{pattern}」は空白や記号だけです")
        for category in self.third_party.categories:
            if category not in self.categories:
                problems.append(f"third_party: 未知のカテゴリ「{category}」です")
        if problems:
            raise ValueError("; ".join(problems[:20]))
        return self


def parse_lexicon(raw: str | bytes) -> Lexicon:
    """A lexicon from JSON text; raises pydantic's ValidationError with every problem."""
    return Lexicon.model_validate(json.loads(raw))


class LexiconDiff(BaseModel):
    """What an edit changed, by term id only (no patterns: safe for the audit log)."""

    model_config = ConfigDict(frozen=True)

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    settings_changed: bool = Field(
        default=False, description="Thresholds, cue lists or benign idioms changed"
    )


def lexicon_diff(old: Lexicon, new: Lexicon) -> LexiconDiff:
    before = {t.id: t for t in old.terms}
    after = {t.id: t for t in new.terms}
    rest = ("levels", "combine", "categories", "negation", "hedging", "third_party", "benign")
    return LexiconDiff(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
        settings_changed=any(getattr(old, f) != getattr(new, f) for f in rest),
    )


# Where the live lexicon is: every triage replica watches this key, console-api reads it.
LEXICON_BUCKET = "sodan-lexicon"
LEXICON_KEY = "current"


async def lexicon_bucket(js: JetStreamContext) -> KeyValue:
    """The key-value bucket of the live lexicon, created on first use (idempotent)."""
    try:
        return await js.key_value(LEXICON_BUCKET)
    except BucketNotFoundError:
        # history keeps the last versions in NATS too; the audit trail is triage's table
        return await js.create_key_value(
            KeyValueConfig(
                bucket=LEXICON_BUCKET,
                history=16,
                storage=StorageType.FILE,
                description="The live urgency lexicon (key current)",
            )
        )


_FIELD_NAMES = {
    "terms": "語",
    "id": "ID",
    "category": "カテゴリ",
    "level": "緊急度",
    "weight": "重み",
    "patterns": "表現",
    "note": "メモ",
    "benign": "慣用句",
    "negation": "negation",
    "categories": "カテゴリ一覧",
}


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}{part + 1}番目"]
        else:
            parts.append(_FIELD_NAMES.get(part, part))
    return "・".join(parts) or "辞書"


def _message(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    messages = {
        "missing": "必須です",
        "extra_forbidden": "不明な項目です",
        "greater_than_equal": f"{ctx.get('ge')} 以上にしてください",
        "less_than_equal": f"{ctx.get('le')} 以下にしてください",
        "string_too_short": "入力してください",
        "too_short": "1つ以上必要です",
        "string_too_long": f"{ctx.get('max_length')} 文字以内にしてください",
        "too_long": f"{ctx.get('max_length')} 個以内にしてください",
        "string_pattern_mismatch": "英小文字・数字・「.」「_」「-」で書いてください",
        "literal_error": "選択肢（critical・high・medium・normal）から選んでください",
        "float_parsing": "数値にしてください",
        "float_type": "数値にしてください",
        "string_type": "文字列にしてください",
    }
    if kind in messages:
        return messages[kind]
    return str(error["msg"]).removeprefix("Value error, ")


def describe_errors(exc: ValidationError) -> str:
    """Pydantic's errors in Japanese a supervisor can act on (where, then what), "; "-joined."""
    return "; ".join(f"{_where(tuple(e['loc']))}: {_message(e)}" for e in exc.errors())
