"""The evaluation set keeps its shape, and the shipped lexicon does not regress on it.

Floors just under the figures at the time of writing: a lexicon change that
loses critical recall (held out or tuning) or floods normal messages fails here.
"""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from sodan_triage.lexicon import load_lexicon
from sodan_triage.scoring import Scorer

EVAL = Path(__file__).resolve().parents[1] / "eval" / "evaluate.py"


@pytest.fixture(scope="module")
def evaluate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("triage_evaluate", EVAL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_set_is_large_split_and_disjoint(evaluate: ModuleType) -> None:
    tuning, heldout = evaluate.load("tuning"), evaluate.load("heldout")
    assert len(tuning) + len(heldout) >= 400
    assert 0.3 <= len(heldout) / (len(tuning) + len(heldout)) <= 0.36
    assert not {r["text"] for r in tuning} & {r["text"] for r in heldout}
    assert len({r["id"] for r in tuning + heldout}) == len(tuning) + len(heldout)
    for rows in (tuning, heldout):
        assert {r["level"] for r in rows} == {"critical", "high", "medium", "normal"}


@pytest.mark.parametrize(("split", "critical_recall"), [("heldout", 0.85), ("tuning", 0.9)])
def test_the_shipped_lexicon_keeps_its_figures(
    evaluate: ModuleType, split: str, critical_recall: float
) -> None:
    figures = evaluate.figures(evaluate.load(split), Scorer(load_lexicon()))
    recall, precision = figures["critical"]
    assert recall >= critical_recall
    assert precision >= 0.9
    assert figures["normal"][0] >= 0.9  # ordinary messages are not flagged
