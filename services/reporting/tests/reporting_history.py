"""A known event history for the monthly report: June 2026, with May 2026 and June 2025."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sodan_shared.crypto import ClientCipher
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import PushRequested, PushRequestedV1, PushResult, PushResultV1
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseAssignedV1,
    CaseClosed,
    CaseClosedV1,
    CaseOpened,
    CaseOpenedV1,
    CaseSurveyAnswered,
    CaseSurveyAnsweredV1,
    CaseSurveySent,
    CaseSurveySentV1,
    CaseUrgencyChanged,
    CaseUrgencyChangedV1,
)
from sodan_shared.testing.factories import make_cipher, make_message_received

JST = ZoneInfo("Asia/Tokyo")
S1, S2 = UUID(int=1), UUID(int=2)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


class History:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.events: list[Envelope[Any]] = []

    def _add(self, cls: Any, payload: Any, at: datetime) -> Any:
        event = cls.new(channel=self.channel, payload=payload, occurred_at=at)
        self.events.append(event)
        return event

    def message(self, client: ClientCipher, at: datetime) -> Any:
        event = make_message_received(cipher=client, channel=self.channel, sent_at=at)
        self.events.append(event)
        return event

    def case(
        self,
        client: ClientCipher,
        opened: datetime,
        *,
        assigned: tuple[UUID, int] | None = None,
        replies: tuple[tuple[UUID, int], ...] = (),
        urgency: str | None = None,
        closed_after: int | None = None,
        survey_answer: str | None = None,
        survey_sent: bool = False,
        **closing: Any,
    ) -> UUID:
        first = self.message(client, opened - timedelta(seconds=30))
        case_id = uuid4()
        self._add(
            CaseOpened,
            CaseOpenedV1(
                case_id=case_id,
                client_id=client.client_id,
                client_no=1,
                first_message_event_id=first.id,
                queued_at=opened,
            ),
            opened,
        )
        if assigned is not None:
            staff, minutes = assigned
            self._add(
                CaseAssigned,
                CaseAssignedV1(case_id=case_id, client_id=client.client_id, counsellor_id=staff),
                opened + timedelta(minutes=minutes),
            )
        if urgency is not None:
            self._add(
                CaseUrgencyChanged,
                CaseUrgencyChangedV1(
                    case_id=case_id,
                    client_id=client.client_id,
                    urgency=urgency,
                    score=9.0,
                    cause_message_event_id=first.id,
                ),
                opened,
            )
        for staff, minutes in replies:
            push_id = uuid4()
            at = opened + timedelta(minutes=minutes)
            self._add(
                PushRequested,
                PushRequestedV1(
                    push_id=push_id,
                    client_id=client.client_id,
                    case_id=case_id,
                    texts=[client.seal("message.text", "ご相談ありがとうございます")],
                    origin="counsellor",
                    staff_id=staff,
                ),
                at,
            )
            self._add(
                PushResult,
                PushResultV1(
                    push_id=push_id,
                    client_id=client.client_id,
                    case_id=case_id,
                    status="sent",
                    attempts=1,
                ),
                at,
            )
        if closed_after is not None:
            self._add(
                CaseClosed,
                CaseClosedV1(case_id=case_id, client_id=client.client_id, **closing),
                opened + timedelta(minutes=closed_after),
            )
            closed = opened + timedelta(minutes=closed_after)
            ids = {"case_id": case_id, "client_id": client.client_id}
            if survey_sent:
                self._add(CaseSurveySent, CaseSurveySentV1(**ids), closed)
            if survey_answer is not None:
                answer = CaseSurveyAnsweredV1(**ids, answer=survey_answer)
                self._add(CaseSurveyAnswered, answer, closed + timedelta(minutes=3))
        return case_id


def june_2026(channel: str) -> list[Envelope[Any]]:
    h = History(channel)
    a, b, c, d = make_cipher(), make_cipher(), make_cipher(), make_cipher()
    # June 2025: one case (same month last year)
    h.case(d, jst(2025, 6, 15, 14, 0), assigned=(S1, 1), replies=((S1, 2),), closed_after=30)
    # May 2026: client c's first contact and case (previous month)
    h.case(c, jst(2026, 5, 20, 19, 0), assigned=(S1, 3), replies=((S1, 4),), closed_after=40)
    # June 2026
    h.case(  # X: Monday 00:31, critical, answered, closed with every closing fact
        a,
        jst(2026, 6, 1, 0, 31),
        assigned=(S1, 2),
        replies=((S1, 5),),
        urgency="critical",
        closed_after=60,
        outcome="助言・情報提供",
        topics=["カミングアウト", "家族"],
        age_group="20代",
        region="北勢",
        gender_identity="トランス女性",
        survey_sent=True,
        survey_answer="役に立った",
    )
    h.case(  # Y: left unanswered; the after-survey went out but got no answer
        b, jst(2026, 6, 2, 20, 1), assigned=(S1, 10), closed_after=20, survey_sent=True
    )
    h.case(c, jst(2026, 6, 3, 12, 0), closed_after=0, refused="out_of_hours")  # Z: refused
    h.case(  # W: client a again, two replies by S2, still open at month end
        a, jst(2026, 6, 10, 13, 0), assigned=(S2, 4), replies=((S2, 6), (S2, 9))
    )
    return h.events
