"""Pure rules: access, sessions, cursors, the live fan-out. No broker, no database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sodan_console.auth import SessionTimes, hash_password, session_is_live, verify_password
from sodan_console.cursor import BadCursorError, CaseCursor
from sodan_console.live import Change, Hub
from sodan_console.policy import (
    CaseFacts,
    Viewer,
    alerts_viewer,
    can_act_on_case,
    can_pick_case,
    can_view_case,
    client_label,
)

ME = uuid4()
OTHER = uuid4()


def test_counsellors_see_the_queue_their_own_cases_and_the_cases_they_once_had() -> None:
    me = Viewer(ME, "counsellor")
    assert can_view_case(me, CaseFacts("queued", None))
    assert can_view_case(me, CaseFacts("assigned", ME))
    assert not can_view_case(me, CaseFacts("assigned", OTHER))
    # handed over or reassigned since: still readable, but no longer theirs to act on
    handed_on = CaseFacts("assigned", OTHER, once_assigned=True)
    assert can_view_case(me, handed_on)
    assert not can_act_on_case(me, handed_on)
    assert can_view_case(Viewer(ME, "supervisor"), CaseFacts("assigned", OTHER))


def test_only_the_assigned_counsellor_or_a_supervisor_acts_on_a_case() -> None:
    assert can_act_on_case(Viewer(ME, "counsellor"), CaseFacts("assigned", ME))
    assert not can_act_on_case(Viewer(ME, "counsellor"), CaseFacts("queued", None))
    assert can_act_on_case(Viewer(ME, "supervisor"), CaseFacts("assigned", OTHER))
    assert not can_act_on_case(Viewer(ME, "admin"), CaseFacts("assigned", OTHER))


def test_a_case_is_picked_only_by_who_takes_cases_and_may_see_it() -> None:
    queued, mine, theirs = (
        CaseFacts("queued", None),
        CaseFacts("assigned", ME),
        CaseFacts("assigned", OTHER),
    )
    counsellor = Viewer(ME, "counsellor")
    assert can_pick_case(counsellor, queued) and can_pick_case(counsellor, mine)
    assert not can_pick_case(counsellor, theirs)
    assert can_pick_case(Viewer(ME, "supervisor"), theirs)
    assert not can_pick_case(Viewer(ME, "admin"), queued)


def test_clients_are_shown_by_number_never_by_line_id() -> None:
    assert client_label(123) == "C-000123"


def test_sessions_end_when_idle_or_past_their_lifetime() -> None:
    now = datetime.now(UTC)
    times = SessionTimes(
        now - timedelta(hours=1), now - timedelta(minutes=5), now + timedelta(hours=1)
    )
    assert session_is_live(times, now=now, idle=timedelta(minutes=30))
    assert not session_is_live(times, now=now, idle=timedelta(minutes=4))
    expired = SessionTimes(times.created_at, now, now - timedelta(seconds=1))
    assert not session_is_live(expired, now=now, idle=timedelta(minutes=30))


def test_passwords_verify_only_with_the_right_secret() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong horse")
    assert not verify_password(None, "correct horse")


def test_case_cursor_round_trips_and_rejects_garbage() -> None:
    cursor = CaseCursor(3, datetime.now(UTC), uuid4())
    assert CaseCursor.decode(cursor.encode()) == cursor
    for bad in ("%%%", "bm90IGpzb24", CaseCursor(1, datetime(2026, 1, 1), uuid4()).encode()):
        with pytest.raises(BadCursorError):
            CaseCursor.decode(bad)


async def test_a_stalled_listener_gets_a_resync_instead_of_blocking_others() -> None:
    hub = Hub(queue_size=2)
    slow, fast = hub.subscribe(), hub.subscribe()
    for _ in range(3):
        hub.publish(Change(kind="case", case_id=uuid4()))
        await asyncio.sleep(0)
        if not fast.empty():
            fast.get_nowait()
    assert [slow.get_nowait().kind] == ["resync"]  # type: ignore[union-attr]
    hub.unsubscribe(slow)
    assert hub.listeners == 1


def test_a_critical_case_alerts_supervisors_and_its_counsellor_only() -> None:
    supervisor, me = Viewer(ME, "supervisor"), Viewer(ME, "counsellor")
    queued, mine, theirs = (
        CaseFacts("queued", None),
        CaseFacts("assigned", ME),
        CaseFacts("assigned", OTHER),
    )
    assert alerts_viewer(supervisor, queued, urgency="critical")
    assert alerts_viewer(supervisor, theirs, urgency="critical")
    assert alerts_viewer(me, mine, urgency="critical")
    assert not alerts_viewer(me, queued, urgency="critical")  # the supervisors handle the queue
    assert not alerts_viewer(me, theirs, urgency="critical")
    assert not alerts_viewer(supervisor, queued, urgency="high")
    assert not alerts_viewer(supervisor, CaseFacts("closed", ME), urgency="critical")
    assert not alerts_viewer(Viewer(ME, "admin"), queued, urgency="critical")


def test_score_reasons_name_categories_once_and_skip_negated_matches() -> None:
    from sodan_console.handlers import score_reasons
    from sodan_shared.events.triage import UrgencyMatch

    def match(category: str, **kw: object) -> UrgencyMatch:
        return UrgencyMatch(term_id=f"t.{category}", category=category, weight=1.0, **kw)  # type: ignore[arg-type]

    reasons = score_reasons(
        [
            match("自殺・自傷", spans=[(4, 8)]),
            match("自殺・自傷", spans=[(0, 3), (4, 8)]),
            match("自殺・自傷", subject="other"),
            match("虐待", hedged=True),
            match("他害・暴力被害", negated=True),
        ]
    )
    assert reasons == [
        {"category": "自殺・自傷", "subject": "self", "hedged": False, "spans": [(0, 3), (4, 8)]},
        {"category": "自殺・自傷", "subject": "other", "hedged": False, "spans": []},
        {"category": "虐待", "subject": "self", "hedged": True, "spans": []},
    ]
