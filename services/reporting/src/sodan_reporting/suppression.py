"""Small-cell suppression: a report never singles out a person.

A table of client attributes (age group, region, …) shows each count and the
total. A count from 1 to ``threshold - 1`` is a small cell: shown as
「3未満」 (for threshold 3), never as its number. Zero is shown: "nobody"
singles out no one.

Primary suppression alone can be undone: with one hidden cell, total minus the
shown cells gives it back. So when a table has exactly one hidden cell, a
second one is hidden too: the smallest other non-zero cell (only the pair's
sum is then known), else a zero cell (「3未満」 is true of 0, and the reader
can no longer tell which of the two holds the cases). A one-row table can't
be protected that way: its total is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 3


@dataclass(frozen=True)
class Cell:
    label: str
    value: int
    suppressed: bool = False

    def display(self, threshold: int) -> str:
        return below(threshold) if self.suppressed else str(self.value)


@dataclass(frozen=True)
class SuppressedTable:
    cells: tuple[Cell, ...]
    total: int
    total_suppressed: bool = False

    def total_display(self, threshold: int) -> str:
        return below(threshold) if self.total_suppressed else str(self.total)


def below(threshold: int) -> str:
    return f"{threshold}未満"


def suppress(
    rows: Sequence[tuple[str, int]], *, total: int, threshold: int = DEFAULT_THRESHOLD
) -> SuppressedTable:
    """Hides small cells, then a second cell (or the total) where one hidden cell is recoverable.

    ``total`` is the table's shown total: the sum of the rows for a one-answer
    question, or the number of cases when a case may count in several rows.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if any(v < 0 for _, v in rows) or total < 0:
        raise ValueError("counts are never negative")
    hidden = [0 < v < threshold for _, v in rows]
    total_hidden = False
    if sum(hidden) == 1:
        candidates = [(v, i) for i, (_, v) in enumerate(rows) if not hidden[i] and v > 0]
        zeros = [i for i, (_, v) in enumerate(rows) if v == 0]
        if candidates:
            hidden[min(candidates)[1]] = True
        elif zeros:
            hidden[zeros[-1]] = True
        else:
            total_hidden = True
    cells = tuple(Cell(label, v, h) for (label, v), h in zip(rows, hidden, strict=True))
    return SuppressedTable(cells=cells, total=total, total_suppressed=total_hidden)
