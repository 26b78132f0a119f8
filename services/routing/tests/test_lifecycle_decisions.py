"""The lifecycle's pure decisions: 保留, 転送, closing, reopening, the after-survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sodan_routing.assignment import Counsellor
from sodan_routing.lifecycle import (
    CaseState,
    can_return_to,
    close_needs_confirmation,
    close_refusal,
    handover_refusal,
    hold_refusal,
    reopens,
    survey_answer,
)

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ME, OTHER = uuid4(), uuid4()


def counsellor(**kw: object) -> Counsellor:
    fields: dict[str, object] = {
        "staff_id": OTHER,
        "role": "counsellor",
        "presence": "available",
        "capacity": 3,
        "load": 0,
        "last_assigned_at": None,
    }
    fields.update(kw)
    return Counsellor(**fields)  # type: ignore[arg-type]


def mine(status: str = "assigned", urgency: str = "normal") -> CaseState:
    return CaseState(status=status, assigned_to=ME, urgency=urgency)


def test_only_the_assigned_counsellor_holds_and_resumes() -> None:
    assert hold_refusal(mine(), staff_id=ME, hold=True) is None
    assert hold_refusal(mine("on_hold"), staff_id=ME, hold=False) is None
    assert (
        hold_refusal(mine(), staff_id=OTHER, hold=True)
        == "この相談の担当ではないため操作できません"
    )
    assert hold_refusal(mine("on_hold"), staff_id=ME, hold=True) == "この相談はすでに保留中です"
    assert hold_refusal(mine(), staff_id=ME, hold=False) == "この相談は保留中ではありません"
    assert hold_refusal(mine("closed"), staff_id=ME, hold=True) == "この相談はすでに終了しています"
    queued = CaseState(status="queued", assigned_to=None, urgency="normal")
    assert hold_refusal(queued, staff_id=ME, hold=True) is not None


def test_a_handover_goes_to_an_available_colleague_with_a_free_slot() -> None:
    assert (
        handover_refusal(mine(), staff_id=ME, to=OTHER, receiver=counsellor(), critical_cap=1)
        is None
    )
    assert (
        handover_refusal(mine("on_hold"), staff_id=ME, to=None, receiver=None, critical_cap=1)
        is None
    )
    full = counsellor(load=3)
    assert "上限" in (
        handover_refusal(mine(), staff_id=ME, to=OTHER, receiver=full, critical_cap=1) or ""
    )
    away = counsellor(presence="away")
    assert "対応可ではありません" in (
        handover_refusal(mine(), staff_id=ME, to=OTHER, receiver=away, critical_cap=1) or ""
    )
    assert handover_refusal(mine(), staff_id=ME, to=OTHER, receiver=None, critical_cap=1)
    assert handover_refusal(
        mine(), staff_id=ME, to=ME, receiver=counsellor(staff_id=ME), critical_cap=1
    )
    assert handover_refusal(mine(), staff_id=OTHER, to=ME, receiver=counsellor(), critical_cap=1)


def test_a_critical_handover_respects_the_critical_cap() -> None:
    busy = counsellor(load=1, critical_load=1)
    refusal = handover_refusal(
        mine(urgency="critical"), staff_id=ME, to=OTHER, receiver=busy, critical_cap=1
    )
    assert refusal is not None and "緊急" in refusal
    assert handover_refusal(mine(), staff_id=ME, to=OTHER, receiver=busy, critical_cap=1) is None
    assert (
        handover_refusal(
            mine(urgency="critical"), staff_id=ME, to=OTHER, receiver=busy, critical_cap=0
        )
        is None
    )


def test_closing_needs_a_known_outcome_and_known_topics() -> None:
    assert close_refusal(mine(), outcome="他機関紹介", topics=["家族", "学校・職場"]) is None
    assert close_refusal(mine(), outcome="傾聴・情報提供", topics=[]) is None
    assert "対応結果" in (close_refusal(mine(), outcome=None, topics=[]) or "")
    assert "対応結果" in (close_refusal(mine(), outcome="対応完了", topics=[]) or "")
    assert close_refusal(mine(), outcome="その他", topics=["宇宙"]) == "不明な相談内容です: 宇宙"
    assert (
        close_refusal(mine(), outcome="その他", topics=["家族", "家族"])
        == "相談内容が重複しています"
    )


def test_a_counsellors_close_of_a_critical_case_needs_a_supervisor() -> None:
    critical = mine(urgency="critical")
    assert close_needs_confirmation(critical, staff_role="counsellor")
    assert close_needs_confirmation(critical, staff_role=None)
    assert not close_needs_confirmation(critical, staff_role="supervisor")
    assert not close_needs_confirmation(mine(urgency="high"), staff_role="counsellor")


def test_a_message_within_the_window_reopens_and_later_does_not() -> None:
    assert reopens(NOW - timedelta(minutes=29), now=NOW, within_min=30)
    assert reopens(NOW - timedelta(minutes=30), now=NOW, within_min=30)
    assert not reopens(NOW - timedelta(minutes=31), now=NOW, within_min=30)
    assert not reopens(NOW - timedelta(minutes=1), now=NOW, within_min=0)
    assert not reopens(None, now=NOW, within_min=30)


def test_a_reopened_case_returns_to_its_counsellor_only_if_they_could_take_it() -> None:
    assert can_return_to(counsellor(), urgency="normal", critical_cap=1)
    assert not can_return_to(counsellor(load=3), urgency="normal", critical_cap=1)
    assert not can_return_to(counsellor(presence="break"), urgency="normal", critical_cap=1)
    assert not can_return_to(None, urgency="normal", critical_cap=1)
    held = counsellor(load=1, critical_load=1)
    assert not can_return_to(held, urgency="critical", critical_cap=1)


def test_a_survey_answer_is_one_of_the_buttons_while_the_survey_is_open() -> None:
    sent = NOW - timedelta(minutes=5)
    assert (
        survey_answer("役に立った", sent_at=sent, answered=None, now=NOW, within_min=60)
        == "役に立った"
    )
    assert (
        survey_answer(" 答えない\n", sent_at=sent, answered=None, now=NOW, within_min=60)
        == "答えない"
    )
    assert (
        survey_answer("まだ話したい", sent_at=sent, answered=None, now=NOW, within_min=60) is None
    )
    assert survey_answer("役に立った", sent_at=None, answered=None, now=NOW, within_min=60) is None
    assert (
        survey_answer("役に立った", sent_at=sent, answered="答えない", now=NOW, within_min=60)
        is None
    )
    assert survey_answer("役に立った", sent_at=sent, answered=None, now=NOW, within_min=1) is None
