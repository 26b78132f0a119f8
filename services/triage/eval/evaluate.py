"""Recall and precision of triage's scoring on the evaluation set (``make eval``).

Two fixed splits of hand-written synthetic messages (see README.md): the
tuning set, which the lexicon may be adjusted against, and the held-out third,
which it must not. The headline is held-out recall on critical: a missed
suicidal message is the worst failure this system can have.

Usage: python services/triage/eval/evaluate.py [--errors] [--lexicon FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from sodan_triage.lexicon import load_lexicon
from sodan_triage.scoring import Scorer

HERE = Path(__file__).resolve().parent
LEVELS = ("critical", "high", "medium", "normal")
RANK = {level: i for i, level in enumerate(reversed(LEVELS))}
SPLITS = ("tuning", "heldout")


def load(split: str) -> list[dict[str, str]]:
    with (HERE / f"{split}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def figures(rows: list[dict[str, str]], scorer: Scorer) -> dict[str, tuple[float, float]]:
    """(recall, precision) per level."""
    confusion = Counter((row["level"], scorer.score(row["text"]).level) for row in rows)
    out = {}
    for level in LEVELS:
        actual = sum(n for (a, _), n in confusion.items() if a == level)
        predicted = sum(n for (_, p), n in confusion.items() if p == level)
        hit = confusion[(level, level)]
        out[level] = (hit / actual if actual else 0.0, hit / predicted if predicted else 0.0)
    return out


def report(split: str, rows: list[dict[str, str]], scorer: Scorer, errors: bool) -> float:
    pairs = [(row["level"], scorer.score(row["text"]).level) for row in rows]
    confusion = Counter(pairs)
    print(f"\n== {split}: {len(rows)} messages (lexicon {scorer.lexicon.version})")
    print(f"{'level':<9}{'n':>5}{'recall':>9}{'precision':>11}{'>=level':>9}")
    recall_critical = 0.0
    for level in LEVELS:
        actual = sum(n for (a, _), n in confusion.items() if a == level)
        predicted = sum(n for (_, p), n in confusion.items() if p == level)
        hit = confusion[(level, level)]
        # flagged at least this gravely: the miss that matters for the upper levels
        at_least = sum(
            n for (a, p), n in confusion.items() if a == level and RANK[p] >= RANK[level]
        )
        recall = hit / actual if actual else 0.0
        precision = hit / predicted if predicted else 0.0
        print(
            f"{level:<9}{actual:>5}{recall:>9.1%}{precision:>11.1%}"
            f"{(at_least / actual if actual else 0.0):>9.1%}"
        )
        if level == "critical":
            recall_critical = recall
    print("confusion (rows: label, columns: scored)")
    print(" " * 9 + "".join(f"{p:>9}" for p in LEVELS))
    for a in LEVELS:
        print(f"{a:<9}" + "".join(f"{confusion[(a, p)]:>9}" for p in LEVELS))
    if errors:
        for row, (a, p) in zip(rows, pairs, strict=True):
            if a != p:
                print(f"  {row['id']} label={a} scored={p}  {row['text']}")
    return recall_critical


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--errors",
        action="store_true",
        help="list the tuning set's disagreements (never the held-out set's: do not tune on it)",
    )
    parser.add_argument("--lexicon", type=Path, help="a lexicon JSON file instead of the default")
    ns = parser.parse_args(argv)
    lexicon = load_lexicon(ns.lexicon.read_text("utf-8") if ns.lexicon else None)
    scorer = Scorer(lexicon)
    recalls = {
        split: report(split, load(split), scorer, ns.errors and split == "tuning")
        for split in SPLITS
    }
    print(
        f"\nHEADLINE held-out recall on critical: {recalls['heldout']:.1%} "
        f"(tuning: {recalls['tuning']:.1%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
