"""Which forged webhooks are audited at once and which are counted (no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sodan_ingress.rejections import Rejection, RejectionWindow

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_the_first_of_each_kind_is_audited_at_once_and_the_rest_counted() -> None:
    window = RejectionWindow(max_kinds=10)
    forged = Rejection("demo", "bad_signature", "203.0.113.7")
    unsigned = Rejection("demo", "missing_signature", "203.0.113.7")

    assert window.add(forged, 300, T0) is True
    assert window.add(unsigned, None, T0) is True
    assert window.add(forged, 500, T0 + timedelta(seconds=1)) is False
    assert window.add(forged, 200, T0 + timedelta(seconds=2)) is False

    ((kind, count),) = window.close()
    assert kind == forged
    assert (count.count, count.largest_body, count.since) == (2, 500, T0 + timedelta(seconds=1))


def test_a_new_window_audits_the_first_again() -> None:
    window = RejectionWindow(max_kinds=10)
    forged = Rejection("demo", "bad_signature", "203.0.113.7")
    assert window.add(forged, 1, T0)
    assert window.close() == []
    assert window.add(forged, 1, T0)


def test_sources_past_the_limit_are_counted_together_so_memory_stays_bounded() -> None:
    window = RejectionWindow(max_kinds=3)
    sources = [f"198.51.100.{n}" for n in range(50)]

    audited_now = [window.add(Rejection("demo", "bad_signature", s), 10, T0) for s in sources]

    assert audited_now == [True] * 3 + [False] * 47
    ((kind, count),) = window.close()
    assert kind == Rejection("demo", "bad_signature", None)
    assert count.count == 47
