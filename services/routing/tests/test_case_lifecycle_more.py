"""保留, 転送, reopening, the closing form and its after-survey, closing a 緊急 case,
over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sodan_shared.crypto import ClientCipher
from sodan_shared.events.console import (
    DecideClose,
    DecideCloseV1,
    HandOverCase,
    HandOverCaseV1,
    HoldCase,
    HoldCaseV1,
    UpdateClosingCategories,
    UpdateClosingCategoriesV1,
)
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseClosed,
    CaseCloseDeclined,
    CaseCloseRequested,
    CaseCommandRefused,
    CaseHandedOver,
    CaseHoldChanged,
    CaseOpened,
    CaseReopened,
    CaseSurveyAnswered,
    CaseSurveySent,
    CaseUnanswered,
    ClosingCategoriesChanged,
)
from sodan_shared.testing.factories import make_message_received, make_message_scored

from .conftest import AuditLog, Rig, make_close, make_presence


def hold(case_id: UUID, staff_id: UUID, on: bool = True) -> HoldCase:
    return HoldCase.new(
        channel="demo", payload=HoldCaseV1(case_id=case_id, staff_id=staff_id, hold=on)
    )


def hand_over(
    case_id: UUID, staff_id: UUID, to: UUID | None, note: str | None = None
) -> HandOverCase:
    return HandOverCase.new(
        channel="demo",
        payload=HandOverCaseV1(case_id=case_id, staff_id=staff_id, to_staff_id=to, note=note),
    )


def decide(case_id: UUID, staff_id: UUID, approve: bool) -> DecideClose:
    return DecideClose.new(
        channel="demo", payload=DecideCloseV1(case_id=case_id, staff_id=staff_id, approve=approve)
    )


async def assigned_case(
    rig: Rig, counsellor: UUID, **presence: object
) -> tuple[UUID, ClientCipher]:
    cipher, client_no = await rig.client()
    first = make_message_received(cipher=cipher, client_no=client_no, text="相談です")
    await rig.publish(make_presence(counsellor, **presence), first)  # type: ignore[arg-type]
    await rig.cases.wait_for(
        lambda log: any(a.payload.client_id == cipher.client_id for a in log.of(CaseAssigned))
    )
    case_id = next(
        a.payload.case_id
        for a in rig.cases.of(CaseAssigned)
        if a.payload.client_id == cipher.client_id
    )
    return case_id, cipher


async def test_a_case_on_hold_stays_with_its_counsellor_and_the_clients_reply_resumes_it(
    rig: Rig,
) -> None:
    counsellor = uuid4()
    async with rig.app(routing_unanswered_after_min=0.001):
        case_id, cipher = await assigned_case(rig, counsellor, capacity=1)
        await rig.publish(hold(case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseHoldChanged)) == 1)
        (row,) = await rig.rows("SELECT status, assigned_to FROM routing.cases")
        assert (row.status, row.assigned_to) == ("on_hold", counsellor)
        # on hold it keeps its slot: a new client waits
        other = make_message_received(client_no=2)
        await rig.publish(other)
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 2)
        await asyncio.sleep(1.0)
        assert len(rig.cases.of(CaseAssigned)) == 1
        assert rig.cases.of(CaseUnanswered) == []  # the unanswered guard skips it
        await rig.publish(make_message_received(cipher=cipher, text="お返事です"))
        await rig.cases.wait_for(lambda log: len(log.of(CaseHoldChanged)) == 2)
    resumed = rig.cases.of(CaseHoldChanged)[1].payload
    assert (resumed.on_hold, resumed.by, resumed.counsellor_id) == (False, "client", counsellor)
    rows = await rig.rows("SELECT status FROM routing.cases WHERE case_id = :c", c=case_id)
    assert rows[0].status == "assigned"


async def test_hold_by_someone_else_is_refused_with_a_reason(rig: Rig) -> None:
    counsellor = uuid4()
    async with rig.app():
        case_id, _ = await assigned_case(rig, counsellor)
        await rig.publish(hold(case_id, uuid4()))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCommandRefused)) == 1)
    (refused,) = rig.cases.of(CaseCommandRefused)
    assert refused.payload.reason == "この相談の担当ではないため操作できません"
    assert refused.payload.command == "console.hold_case"
    (row,) = await rig.rows("SELECT status FROM routing.cases")
    assert row.status == "assigned"


async def test_a_handover_goes_to_the_colleague_with_its_sealed_note(rig: Rig) -> None:
    giver, receiver = uuid4(), uuid4()
    async with rig.app():
        case_id, cipher = await assigned_case(rig, giver)
        await rig.publish(make_presence(receiver))
        await asyncio.sleep(0.5)
        note = cipher.seal("handover.note", "家族の話の途中です")
        await rig.publish(hand_over(case_id, giver, receiver, note))
        await rig.cases.wait_for(lambda log: len(log.of(CaseHandedOver)) == 1)
    (handed,) = rig.cases.of(CaseHandedOver)
    assert (handed.payload.from_counsellor_id, handed.payload.to_counsellor_id) == (giver, receiver)
    assert cipher.open("handover.note", handed.payload.note) == "家族の話の途中です"
    (row,) = await rig.rows("SELECT status, assigned_to FROM routing.cases")
    assert (row.status, row.assigned_to) == ("assigned", receiver)


async def test_a_handover_to_a_full_colleague_is_refused_and_the_case_stays(rig: Rig) -> None:
    giver, receiver = uuid4(), uuid4()
    async with rig.app():
        await rig.publish(make_presence(receiver, capacity=0))
        case_id, _ = await assigned_case(rig, giver)
        await rig.publish(hand_over(case_id, giver, receiver))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCommandRefused)) == 1)
    (refused,) = rig.cases.of(CaseCommandRefused)
    assert "上限" in refused.payload.reason
    assert rig.cases.of(CaseHandedOver) == []
    (row,) = await rig.rows("SELECT assigned_to FROM routing.cases")
    assert row.assigned_to == giver


async def test_closing_records_outcome_and_topics_and_an_unknown_topic_is_refused(
    rig: Rig,
) -> None:
    counsellor = uuid4()
    async with rig.app():
        case_id, _ = await assigned_case(rig, counsellor)
        await rig.publish(make_close(case_id, counsellor, topics=["家族", "宇宙"]))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCommandRefused)) == 1)
        (row,) = await rig.rows("SELECT status FROM routing.cases")
        assert row.status == "assigned"
        await rig.publish(
            make_close(case_id, counsellor, outcome="他機関紹介", topics=["家族", "学校・職場"])
        )
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
    assert rig.cases.of(CaseCommandRefused)[0].payload.reason == "不明な相談内容です: 宇宙"
    (closed,) = rig.cases.of(CaseClosed)
    assert closed.payload.outcome == "他機関紹介"
    assert closed.payload.topics == ["家族", "学校・職場"]


async def test_a_supervisors_edited_lists_are_what_closings_are_checked_against(
    rig: Rig,
) -> None:
    counsellor, supervisor = uuid4(), uuid4()
    audit = AuditLog()
    await audit.follow(rig)

    def edit(outcomes: list[str], topics: list[str]) -> UpdateClosingCategories:
        return UpdateClosingCategories.new(
            channel="demo",
            payload=UpdateClosingCategoriesV1(
                outcomes=outcomes, topics=topics, staff_id=supervisor
            ),
        )

    good = edit(["傾聴・情報提供", "医療機関を紹介"], ["家族", "住まい"])
    duplicate = edit(["その他", "その他"], ["家族"])
    async with rig.app():
        case_id, _ = await assigned_case(rig, counsellor)
        await rig.publish(good, duplicate)
        await audit.wait_for(2)
        # 学校・職場 was removed from the form: a closing that still names it is refused
        await rig.publish(make_close(case_id, counsellor, outcome="その他", topics=["住まい"]))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCommandRefused)) == 1)
        await rig.publish(
            make_close(case_id, counsellor, outcome="医療機関を紹介", topics=["住まい"])
        )
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
    applied, refused = audit.events
    assert isinstance(applied, ClosingCategoriesChanged)
    assert applied.payload.outcome == "applied" and applied.payload.topics == ["家族", "住まい"]
    assert refused.payload.outcome == "refused" and refused.payload.command_id == duplicate.id
    assert refused.payload.error == "対応結果「その他」が重複しています"
    assert "対応結果を選んでください" in rig.cases.of(CaseCommandRefused)[0].payload.reason
    (closed,) = rig.cases.of(CaseClosed)
    assert (closed.payload.outcome, closed.payload.topics) == ("医療機関を紹介", ["住まい"])


async def test_the_after_survey_is_sent_and_its_answer_does_not_reopen_the_case(
    rig: Rig,
) -> None:
    counsellor = uuid4()
    async with rig.app():
        case_id, cipher = await assigned_case(rig, counsellor)
        await rig.publish(make_close(case_id, counsellor, send_survey=True))
        await rig.cases.wait_for(lambda log: len(log.of(CaseSurveySent)) == 1)
        answer = make_message_received(cipher=cipher, text="役に立った")
        await rig.publish(answer, make_message_scored(answer))
        await rig.cases.wait_for(lambda log: len(log.of(CaseSurveyAnswered)) == 1)
        await asyncio.sleep(0.5)
    (answered,) = rig.cases.of(CaseSurveyAnswered)
    assert (answered.payload.case_id, answered.payload.answer) == (case_id, "役に立った")
    assert rig.cases.of(CaseReopened) == []
    assert len(rig.cases.of(CaseOpened)) == 1
    rows = await rig.rows("SELECT status, survey_answer FROM routing.cases")
    assert [(r.status, r.survey_answer) for r in rows] == [("closed", "役に立った")]


async def test_writing_again_soon_reopens_the_same_case_for_the_same_counsellor(rig: Rig) -> None:
    counsellor = uuid4()
    async with rig.app():
        case_id, cipher = await assigned_case(rig, counsellor)
        await rig.publish(make_close(case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
        again = make_message_received(cipher=cipher, text="もう一つ聞きたいです")
        await rig.publish(again)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 2)
    (reopened,) = rig.cases.of(CaseReopened)
    assert reopened.payload.case_id == case_id
    assert reopened.payload.previous_counsellor_id == counsellor
    assert rig.cases.of(CaseAssigned)[1].payload.counsellor_id == counsellor
    assert len(rig.cases.of(CaseOpened)) == 1
    (row,) = await rig.rows("SELECT status, assigned_to FROM routing.cases")
    assert (row.status, row.assigned_to) == ("assigned", counsellor)


async def test_a_reopened_case_whose_counsellor_left_waits_in_the_queue_with_its_urgency(
    rig: Rig,
) -> None:
    counsellor = uuid4()
    t0 = datetime.now(UTC)
    async with rig.app():
        case_id, cipher = await assigned_case(rig, counsellor, occurred_at=t0)
        await rig.publish(make_close(case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
        await rig.publish(
            make_presence(counsellor, "offline", occurred_at=t0 + timedelta(seconds=1))
        )
        again = make_message_received(cipher=cipher, text="やっぱりつらい")
        # the score overtakes its message: the case it opened folds into the reopened one
        await rig.publish(make_message_scored(again, level="high", score=0.8))
        await asyncio.sleep(0.5)
        await rig.publish(again)
        await rig.cases.wait_for(lambda log: len(log.of(CaseReopened)) == 1)
    (reopened,) = rig.cases.of(CaseReopened)
    assert reopened.payload.urgency == "high"
    rows = await rig.rows("SELECT case_id, status, urgency FROM routing.cases")
    assert [(r.case_id, r.status, r.urgency) for r in rows] == [(case_id, "queued", "high")]


async def test_writing_after_the_window_opens_a_new_case_linked_to_the_previous(rig: Rig) -> None:
    counsellor = uuid4()
    async with rig.app(routing_reopen_within_min=0):
        case_id, cipher = await assigned_case(rig, counsellor)
        await rig.publish(make_close(case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
        await rig.publish(make_message_received(cipher=cipher, text="また相談です"))
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 2)
    second = rig.cases.of(CaseOpened)[1].payload
    assert second.case_id != case_id
    assert second.previous_case_id == case_id
    assert rig.cases.of(CaseReopened) == []


async def test_a_counsellor_closing_a_critical_case_waits_for_a_supervisor(rig: Rig) -> None:
    counsellor, supervisor = uuid4(), uuid4()
    async with rig.app():
        case_id, _ = await assigned_case(rig, counsellor)
        await rig.execute("UPDATE routing.cases SET urgency = 'critical'")
        await rig.publish(make_close(case_id, counsellor, outcome="他機関紹介"))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCloseRequested)) == 1)
        (row,) = await rig.rows("SELECT status FROM routing.cases")
        assert row.status == "assigned"
        await rig.publish(decide(case_id, supervisor, approve=False))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCloseDeclined)) == 1)
        (row,) = await rig.rows("SELECT status, close_request FROM routing.cases")
        assert (row.status, row.close_request) == ("assigned", None)
        # asked again, confirmed this time: closed with the counsellor's form
        await rig.publish(make_close(case_id, counsellor, outcome="他機関紹介"))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCloseRequested)) == 2)
        await rig.publish(decide(case_id, supervisor, approve=True))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
    (closed,) = rig.cases.of(CaseClosed)
    assert (closed.payload.outcome, closed.payload.closed_by) == ("他機関紹介", counsellor)
    declined = rig.cases.of(CaseCloseDeclined)[0].payload
    assert (declined.staff_id, declined.requested_by) == (supervisor, counsellor)
    steps = await rig.rows(
        "SELECT data FROM routing.outbox WHERE subject = 'audit.critical_close.v1' ORDER BY seq"
    )
    assert [json.loads(s.data)["payload"]["step"] for s in steps] == [
        "requested",
        "declined",
        "requested",
        "confirmed",
    ]


async def test_a_supervisor_closes_a_critical_case_directly(rig: Rig) -> None:
    counsellor, supervisor = uuid4(), uuid4()
    async with rig.app():
        case_id, _ = await assigned_case(rig, counsellor)
        await rig.execute("UPDATE routing.cases SET urgency = 'critical'")
        await rig.publish(make_close(case_id, supervisor, staff_role="supervisor"))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
    assert rig.cases.of(CaseCloseRequested) == []


async def test_deciding_without_a_request_is_refused(rig: Rig) -> None:
    counsellor = uuid4()
    async with rig.app():
        case_id, _ = await assigned_case(rig, counsellor)
        await rig.publish(decide(case_id, uuid4(), approve=True))
        await rig.cases.wait_for(lambda log: len(log.of(CaseCommandRefused)) == 1)
    assert rig.cases.of(CaseClosed) == []
