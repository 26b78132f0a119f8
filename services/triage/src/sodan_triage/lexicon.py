"""The versioned urgency lexicon triage matches with.

The schema is shared with console-api (:mod:`sodan_shared.lexicon`); the
default shipped here seeds the NATS key-value bucket the first time, after
which supervisors' edits there are what every replica uses.
"""

from __future__ import annotations

from importlib import resources

from sodan_shared.lexicon import (
    LEVELS_DESC,
    AlertLevel,
    Level,
    Lexicon,
    Term,
    parse_lexicon,
)

__all__ = [
    "LEVELS_DESC",
    "AlertLevel",
    "Level",
    "Lexicon",
    "Term",
    "default_lexicon_text",
    "load_lexicon",
]


def default_lexicon_text() -> str:
    return (resources.files("sodan_triage") / "data" / "lexicon.json").read_text("utf-8")


def load_lexicon(raw: str | bytes | None = None) -> Lexicon:
    """The packaged lexicon, or one given as JSON text."""
    return parse_lexicon(default_lexicon_text() if raw is None else raw)
