"""Automatic texts: defaults, placeholders and validation live in
:mod:`sodan_shared.auto_texts`, so the console's editor shows and checks the same."""

from sodan_shared.auto_texts import (
    ALLOWED,
    AUTO_TEXT_KEYS,
    DEFAULT_TEXTS,
    MAX_TEXT_CHARS,
    PLACEHOLDERS,
    AutoTextError,
    AutoTextKey,
    placeholders_in,
    render,
    validate,
)

__all__ = [
    "ALLOWED",
    "AUTO_TEXT_KEYS",
    "DEFAULT_TEXTS",
    "MAX_TEXT_CHARS",
    "PLACEHOLDERS",
    "AutoTextError",
    "AutoTextKey",
    "placeholders_in",
    "render",
    "validate",
]
