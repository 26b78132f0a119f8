"""Congestion measures, wait estimates and levels; automatic texts (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sodan_routing.assignment import Counsellor, QueuedCase
from sodan_routing.congestion import (
    Answered,
    Finished,
    Measures,
    Thresholds,
    estimated_wait_s,
    level_of,
    measure,
    wait_phrase,
    waits,
)
from sodan_routing.settings import DEFAULT_FORBIDDEN_WORDS
from sodan_routing.texts import (
    ALLOWED,
    DEFAULT_TEXTS,
    AutoTextError,
    render,
    validate,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def counsellor(*, capacity: int = 2, load: int = 0, presence: str = "available") -> Counsellor:
    return Counsellor(
        staff_id=uuid4(),
        role="counsellor",
        presence=presence,
        capacity=capacity,
        load=load,
        last_assigned_at=None,
    )


def queued(minutes_ago: float, urgency: str = "normal") -> QueuedCase:
    return QueuedCase(
        case_id=uuid4(), urgency=urgency, queued_at=NOW - timedelta(minutes=minutes_ago)
    )


def test_a_case_is_served_at_once_while_slots_are_free() -> None:
    staff = [counsellor(capacity=2, load=1)]
    assert estimated_wait_s(0, staff, handling_s=1800) == 0.0


def test_the_wait_grows_with_the_position_and_shrinks_with_capacity() -> None:
    full = [counsellor(capacity=2, load=2), counsellor(capacity=2, load=2)]
    # 4 slots turning over every 30 minutes: one case every 7.5 minutes
    assert estimated_wait_s(0, full, handling_s=1800) == 450
    assert estimated_wait_s(3, full, handling_s=1800) == 1800
    one = [counsellor(capacity=1, load=1)]
    assert estimated_wait_s(3, one, handling_s=1800) == 4 * 1800


def test_nobody_on_duty_means_the_wait_is_unknown() -> None:
    assert estimated_wait_s(0, [counsellor(presence="away")], handling_s=1800) is None
    assert estimated_wait_s(0, [], handling_s=1800) is None


def test_waits_follow_queue_order_urgent_first() -> None:
    normal, urgent = queued(30), queued(1, "critical")
    result = waits([normal, urgent], [counsellor(capacity=1, load=1)], handling_s=600)
    assert result[urgent.case_id] == 600 and result[normal.case_id] == 1200


def test_measures_over_the_window() -> None:
    staff = [counsellor(capacity=2, load=1), counsellor(presence="offline")]
    m = measure(
        queued=[queued(12), queued(3)],
        counsellors=staff,
        finished=[
            Finished(
                assigned_at=NOW - timedelta(minutes=50), closed_at=NOW - timedelta(minutes=30)
            ),
            Finished(assigned_at=NOW - timedelta(minutes=40), closed_at=NOW),
        ],
        answered=[Answered(queued_at=NOW - timedelta(minutes=5), first_response_at=NOW)],
        now=NOW,
        default_handling_s=1800,
    )
    assert (m.queue_length, m.active_counsellors, m.capacity, m.free_capacity) == (2, 1, 2, 1)
    assert m.avg_handling_s == 30 * 60
    assert m.avg_first_response_s == 300
    assert m.longest_wait_s == 12 * 60
    # a third case: position 2, one free slot, 2 slots turning over every 30 min
    assert m.next_wait_s == 2 * 1800 / 2


def _m(queue: int, wait_min: float | None) -> Measures:
    return Measures(
        queue_length=queue,
        active_counsellors=1,
        capacity=2,
        free_capacity=0,
        avg_handling_s=None,
        avg_first_response_s=None,
        longest_wait_s=0,
        next_wait_s=None if wait_min is None else wait_min * 60,
    )


def test_levels_by_wait_or_queue_length() -> None:
    t = Thresholds(busy_wait_min=30, suspend_wait_min=90, busy_queue=5, suspend_queue=15)
    assert level_of(_m(0, 0), t) == "normal"
    assert level_of(_m(2, 29), t) == "normal"
    assert level_of(_m(2, 30), t) == "busy"
    assert level_of(_m(5, 0), t) == "busy"
    assert level_of(_m(2, 90), t) == "suspended"
    assert level_of(_m(15, 10), t) == "suspended"
    assert level_of(_m(1, None), t) == "busy"  # people waiting and nobody on duty
    assert level_of(_m(0, None), t) == "normal"


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Thresholds(busy_wait_min=60, suspend_wait_min=30)


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (None, "しばらく"),
        (0, "おおよそ5分ほど"),
        (6 * 60, "おおよそ10分ほど"),
        (17 * 60, "おおよそ20分ほど"),
        (31 * 60, "おおよそ40分ほど"),
        (55 * 60, "おおよそ1時間ほど"),
        (61 * 60, "1時間以上"),
        (5 * 3600, "2時間以上"),
    ],
)
def test_the_wait_is_rounded_up_kindly(seconds: float | None, phrase: str) -> None:
    assert wait_phrase(seconds) == phrase


def test_default_texts_are_valid_and_reveal_nothing_on_a_lock_screen() -> None:
    for key, body in DEFAULT_TEXTS.items():
        assert validate(key, body, forbidden_words=DEFAULT_FORBIDDEN_WORDS) == body.strip()
        for word in ("LGBT", "性", "セクシュアル", "ジェンダー"):
            assert word not in body


def test_the_seeded_texts_are_the_defaults() -> None:
    from importlib import import_module

    seeded: dict[str, str] = {}
    for name in ("0002_hours_congestion", "0003_case_lifecycle", "0004_intake"):
        seeded.update(import_module(f"sodan_routing.db.migrations.versions.{name}").SEED_TEXTS)
    assert seeded == DEFAULT_TEXTS


def test_rendering_fills_the_placeholders() -> None:
    text = render(
        "out_of_hours",
        DEFAULT_TEXTS["out_of_hours"],
        {"next_opening": "12月1日（火）18:00〜21:00", "emergency": "110", "phone": "x"},
    )
    assert "次の相談日は 12月1日（火）18:00〜21:00 です。" in text
    assert "{" not in text


def test_an_unknown_placeholder_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(AutoTextError, match=r"\{estimated_wait\}.*allowed: \{emergency\}"):
        validate("out_of_hours", "{estimated_wait}お待ちください")


@pytest.mark.parametrize(
    ("key", "body", "why"),
    [
        ("nope", "こんにちは", "unknown automatic text"),
        ("queued", "   ", "empty"),
        ("queued", "{estimated_wait", "unbalanced"),
        ("queued", "{estimated_wait:>10}", "plain"),
        ("queued", "{}", "plain"),
        ("queued", "あ" * 1001, "1000"),
        ("queued", "LGBTの相談です", "lock screen"),
        ("queued", "性のこと", "lock screen"),
    ],
)
def test_bad_texts_are_refused_saying_why(key: str, body: str, why: str) -> None:
    with pytest.raises(AutoTextError, match=why):
        validate(key, body, forbidden_words=DEFAULT_FORBIDDEN_WORDS)


def test_every_text_has_its_placeholders_allowed() -> None:
    assert set(ALLOWED) == set(DEFAULT_TEXTS)
