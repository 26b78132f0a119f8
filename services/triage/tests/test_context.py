import pytest
from sodan_triage.context import level_with_context
from sodan_triage.lexicon import Level


@pytest.mark.parametrize(
    ("current", "recent", "expected"),
    [
        ("normal", [], "normal"),
        ("medium", [], "medium"),
        ("critical", ["normal"], "critical"),
        # nothing of concern now: context does not invent it
        ("normal", ["critical", "critical"], "normal"),
        # keep: a concern right after a graver one takes its gravity
        ("medium", ["critical"], "critical"),
        ("medium", ["high"], "high"),
        ("high", ["medium"], "high"),
        # raise: the third concerning message in a row goes up one level...
        ("medium", ["medium", "medium"], "high"),
        ("medium", ["medium", "normal", "medium"], "high"),
        ("medium", ["medium", "normal"], "medium"),
        # ...but accumulation alone never makes critical
        ("high", ["high", "high"], "high"),
        ("high", ["critical", "medium"], "critical"),
    ],
)
def test_level_with_context(current: Level, recent: list[Level], expected: Level) -> None:
    assert level_with_context(current, recent) == expected


def test_context_never_lowers() -> None:
    levels: list[Level] = ["normal", "medium", "high", "critical"]
    ranks = {level: i for i, level in enumerate(levels)}
    for current in levels:
        for a in levels:
            for b in levels:
                assert ranks[level_with_context(current, [a, b])] >= ranks[current]
