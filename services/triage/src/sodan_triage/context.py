"""Context: a client's previous messages raise or keep the level of the next one.

Pure. A single message can be mild on its own ("薬飲んだ") right after a grave
one; and several concerning messages in a row say more than each alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sodan_shared.events.triage import URGENCY_RANK

from sodan_triage.lexicon import Level

_BY_RANK: dict[int, Level] = {0: "normal", 1: "medium", 2: "high", 3: "critical"}
# How many earlier concerning messages (medium or above) make this one count more.
REPEATED_CONCERN = 2


def level_with_context(current: Level, recent: Sequence[Level]) -> Level:
    """The level of a message given the client's recent levels (within the window).

    * A message with nothing of concern stays as it is: context adds to what
      a message says, it does not invent concern (the case already carries
      the earlier level in routing, which never lowers it).
    * keep: a concerning message right after a graver one takes that gravity
      (死にたい, then 薬飲んだ: both critical).
    * raise: the third concerning message in the window goes up one level,
      but accumulation alone never makes critical; that takes a critical
      word, now or before.
    """
    rank = URGENCY_RANK[current]
    if rank == 0 or not recent:
        return current
    ranks = [URGENCY_RANK[level] for level in recent]
    kept = max(rank, max(ranks))
    if sum(1 for r in ranks if r >= 1) >= REPEATED_CONCERN and kept < 2:
        kept += 1
    return _BY_RANK[kept]
