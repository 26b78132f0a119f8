"""The in-memory fold (fast replay) does not depend on the order events come in."""

from typing import Any

from reporting_history import june_2026
from sodan_reporting.fold import Fold
from sodan_reporting.handlers import CONSUMERS
from sodan_shared.subjects import subject_for

DURABLE = {c.subject.name: c.durable for c in CONSUMERS}


def _fold(events: list[Any]) -> Fold:
    fold = Fold()
    for event in events:
        fold.apply(DURABLE[subject_for(event).name], event)
    return fold


def test_any_order_gives_the_same_projections_and_repeats_count_once() -> None:
    events = june_2026("demo")
    forward = _fold(events)
    backward = _fold(list(reversed(events)))
    twice = _fold(events + events)
    for other in (backward, twice):
        assert other.cases == forward.cases
        assert +other.counts == +forward.counts
        assert +other.staff == +forward.staff
        assert {c: at for c, (_, at) in other.first_seen.items()} == {
            c: at for c, (_, at) in forward.first_seen.items()
        }
    assert sum(v for (_, _, m), v in forward.counts.items() if m == "cases_opened") == 6
