import itertools
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from sodan_reporting.projection import (
    CaseFact,
    CaseObservation,
    Increment,
    first_contact,
    merge_case,
)

OPENED = datetime(2026, 5, 31, 15, 31, tzinfo=UTC)  # 2026-06-01 in Japan
JUNE_1 = date(2026, 6, 1)


def _apply(observations: list[CaseObservation]) -> tuple[CaseFact, list[Increment]]:
    fact = CaseFact(case_id=uuid4(), channel="demo")
    counts: list[Increment] = []
    for seen in observations:
        fact, more, _ = merge_case(fact, seen)
        counts += more
    return fact, counts


def test_case_figures_do_not_depend_on_the_order_events_arrive_in() -> None:
    counsellor = uuid4()
    observations = [
        CaseObservation(opened_at=OPENED, urgency="normal"),
        CaseObservation(assigned_at=OPENED + timedelta(minutes=2), counsellor_id=counsellor),
        CaseObservation(urgency="critical"),
        CaseObservation(closed_at=OPENED + timedelta(hours=1)),
    ]
    results = set()
    for order in itertools.permutations(observations):
        fact, counts = _apply(list(order))
        results.add(
            (
                fact.opened_at,
                fact.first_assigned_at,
                fact.closed_at,
                fact.max_urgency,
                fact.counsellor_ids,
                tuple(sorted(counts)),
            )
        )
    assert len(results) == 1
    (_, assigned, _, urgency, counsellors, counts) = results.pop()
    assert assigned == OPENED + timedelta(minutes=2)
    assert urgency == "critical"
    assert counsellors == (counsellor,)
    assert sorted(c.metric for c in counts) == ["cases_closed", "cases_opened", "urgent_cases"]
    assert all(c.day == JUNE_1 for c in counts)


def test_an_urgent_case_is_counted_once_however_often_urgency_rises() -> None:
    _, counts = _apply(
        [
            CaseObservation(opened_at=OPENED, urgency="high"),
            CaseObservation(urgency="critical"),
            CaseObservation(urgency="high"),
        ]
    )
    assert [c.metric for c in counts].count("urgent_cases") == 1


def test_the_first_assignment_is_kept_when_a_case_is_reassigned() -> None:
    a, b = uuid4(), uuid4()
    fact, _ = _apply(
        [
            CaseObservation(assigned_at=OPENED + timedelta(minutes=9), counsellor_id=b),
            CaseObservation(assigned_at=OPENED + timedelta(minutes=3), counsellor_id=a),
        ]
    )
    assert fact.first_assigned_at == OPENED + timedelta(minutes=3)
    assert set(fact.counsellor_ids) == {a, b}


def test_a_client_is_new_once_on_the_day_of_their_earliest_message() -> None:
    later = datetime(2026, 6, 2, 3, 0, tzinfo=UTC)
    earlier = datetime(2026, 5, 31, 15, 30, tzinfo=UTC)
    first, counts = first_contact(None, later, channel="demo")
    assert counts == [Increment(date(2026, 6, 2), "demo", "clients_new")]
    # the earlier message arrives afterwards: the count moves to its day
    first, counts = first_contact(first, earlier, channel="demo")
    assert first == earlier
    assert counts == [
        Increment(date(2026, 6, 2), "demo", "clients_new", -1),
        Increment(JUNE_1, "demo", "clients_new", 1),
    ]
    assert first_contact(first, later, channel="demo") == (earlier, [])


def test_an_after_survey_answer_counts_the_survey_as_sent_in_either_order() -> None:
    closed = CaseObservation(closed_at=OPENED + timedelta(hours=1), outcome="助言・情報提供")
    sent = CaseObservation(survey_sent=True)
    answered = CaseObservation(survey_answer="役に立った")
    for order in itertools.permutations([closed, sent, answered]):
        fact, _ = _apply(list(order))
        assert (fact.survey_sent, fact.survey_answer, fact.outcome) == (
            True,
            "役に立った",
            "助言・情報提供",
        )
    # the answer alone (its 'sent' event not yet replayed) still means it was sent
    fact, _ = _apply([answered])
    assert fact.survey_sent


def test_a_resent_reply_is_not_a_new_counsellor_message() -> None:
    from sodan_reporting.projection import counsellor_message_counts, is_counsellor_message
    from sodan_shared.events.line import PushRequested, PushRequestedV1

    def push(resend: bool) -> PushRequested:
        return PushRequested.new(
            channel="demo",
            payload=PushRequestedV1(
                push_id=uuid4(),
                client_id=uuid4(),
                case_id=uuid4(),
                texts=["v1.sealedtext"],
                origin="counsellor",
                staff_id=uuid4(),
                resend=resend,
            ),
        )

    assert is_counsellor_message(push(False)) and len(counsellor_message_counts(push(False))) == 1
    assert not is_counsellor_message(push(True)) and counsellor_message_counts(push(True)) == []
