"""The intake questionnaire over real NATS and PostgreSQL: asked, answered, never a trap."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sodan_shared.crypto import ClientCipher
from sodan_shared.events.line import MessageReceived, ReplyRequested
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseClosed,
    CaseIntakeFinished,
    CaseOpened,
)
from sodan_shared.testing.factories import make_message_received, make_message_scored

from .conftest import Rig, make_close, make_presence
from .test_hours_congestion import CLOSED, only_session

INTAKE = {"routing_intake_enabled": True}


async def _buttons(rig: Rig, reply: ReplyRequested) -> list[str]:
    assert reply.payload.quick_replies is not None
    cipher = await rig.keyring.cipher(reply.payload.client_id)
    return [
        b["label"] for b in json.loads(cipher.open("quick_replies", reply.payload.quick_replies))
    ]


async def _text(rig: Rig, reply: ReplyRequested) -> str:
    cipher = await rig.keyring.cipher(reply.payload.client_id)
    return "\n".join(cipher.open("message.text", t) for t in reply.payload.texts)


class Client:
    """A client who answers each question after it arrives."""

    def __init__(self, rig: Rig, cipher: ClientCipher, client_no: int) -> None:
        self.rig, self.cipher, self.client_no = rig, cipher, client_no

    def message(self, text: str, **overrides: object) -> MessageReceived:
        return make_message_received(
            cipher=self.cipher, client_no=self.client_no, text=text, **overrides
        )

    async def says(self, text: str, *, expect_replies: int | None = None) -> MessageReceived:
        before = len(self.rig.replies.events)
        event = self.message(text)
        await self.rig.publish(event)
        await self.rig.replies.wait_for(expect_replies or before + 1)
        return event


async def test_the_client_answers_every_question_and_the_case_is_served_with_the_answers(
    rig: Rig,
) -> None:
    counsellor = uuid4()
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE):
        await rig.publish(make_presence(counsellor))
        first = await client.says("相談したいことがあります")
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
        (opened,) = rig.cases.of(CaseOpened)
        assert opened.payload.intake is True
        assert rig.cases.of(CaseAssigned) == []  # not before the questionnaire ends
        (row,) = await rig.rows("SELECT status, intake_step FROM routing.cases")
        assert (row.status, row.intake_step) == ("intake", "consent")

        consent = rig.replies.events[-1]
        assert consent.payload.reply_token == first.payload.reply_token
        assert "利用規約" in await _text(rig, consent)
        assert await _buttons(rig, consent) == ["同意する", "同意しない", "スキップ"]

        await client.says("同意する")
        assert "年代" in await _text(rig, rig.replies.events[-1])
        assert "20代" in await _buttons(rig, rig.replies.events[-1])
        await client.says("２０代")
        assert "北勢" in await _buttons(rig, rig.replies.events[-1])
        await client.says("北勢")
        assert await _buttons(rig, rig.replies.events[-1]) == ["答えたくない", "スキップ"]
        await client.says("ノンバイナリー")
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        (finished,) = rig.cases.of(CaseIntakeFinished)
        case_id = opened.payload.case_id
        await rig.publish(make_close(case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)

    assert "ありがとうございました" in await _text(rig, rig.replies.events[-1])
    p = finished.payload
    assert (p.outcome, p.consent, p.age_group, p.region) == ("completed", "同意", "20代", "北勢")
    assert p.gender_identity is not None
    assert cipher.open("intake.gender_identity", p.gender_identity) == "ノンバイナリー"
    (closed,) = rig.cases.of(CaseClosed)
    assert (closed.payload.age_group, closed.payload.region) == ("20代", "北勢")
    assert closed.payload.gender_identity == "ノンバイナリー"
    # every message of the client stayed with the case (the console shows them all)
    assert len(await rig.rows("SELECT 1 FROM routing.case_messages")) == 5
    (row,) = await rig.rows("SELECT intake_gender_identity FROM routing.cases")
    assert "ノンバイナリー" not in row.intake_gender_identity  # sealed at rest


async def test_an_urgent_score_stops_the_questions_and_queues_the_case_at_once(rig: Rig) -> None:
    counsellor = uuid4()
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE):
        await rig.publish(make_presence(counsellor))
        first = await client.says("もう消えてしまいたい")
        await client.says("同意する")
        await rig.publish(make_message_scored(first, level="critical", score=1.0))
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
    (finished,) = rig.cases.of(CaseIntakeFinished)
    assert (finished.payload.outcome, finished.payload.consent) == ("urgent", "同意")
    (row,) = await rig.rows("SELECT status, intake_step, urgency FROM routing.cases")
    assert (row.status, row.intake_step, row.urgency) == ("assigned", None, "critical")


async def test_a_case_already_scored_urgent_is_never_asked(rig: Rig) -> None:
    counsellor = uuid4()
    cipher, client_no = await rig.client()
    first = make_message_received(cipher=cipher, client_no=client_no, text="助けて")
    async with rig.app(**INTAKE):
        await rig.publish(make_presence(counsellor))
        await rig.publish(make_message_scored(first, level="high", score=0.8))  # overtakes
        await asyncio.sleep(0.5)
        await rig.publish(first)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
    (opened,) = rig.cases.of(CaseOpened)
    assert opened.payload.intake is False
    assert rig.cases.of(CaseIntakeFinished) == []


async def test_a_client_who_writes_instead_of_answering_is_queued_at_once(rig: Rig) -> None:
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE):
        await client.says("こんにちは")
        await client.says(
            "学校でずっとからかわれていて、誰にも言えなくて、今日はもう限界だと思いました"
        )
        await rig.cases.wait_for(lambda log: len(log.of(CaseIntakeFinished)) == 1)
    (finished,) = rig.cases.of(CaseIntakeFinished)
    assert finished.payload.outcome == "not_an_answer"
    (row,) = await rig.rows("SELECT status FROM routing.cases")
    assert row.status == "queued"
    # nobody was free: the client hears the usual wait notice, no further question
    assert "順番にお返事しています" in await _text(rig, rig.replies.events[-1])


async def test_an_answer_not_understood_is_asked_once_more_then_the_next_question(
    rig: Rig,
) -> None:
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE):
        await client.says("こんにちは")
        await client.says("はい")  # consent, typed
        await client.says("わからない")
        again = rig.replies.events[-1]
        await client.says("うーん")
        nxt = rig.replies.events[-1]
    assert "うまく受け取れませんでした" in await _text(rig, again)
    assert "年代" in await _text(rig, again)
    assert "地域" in await _text(rig, nxt)
    (row,) = await rig.rows(
        "SELECT intake_step, intake_consent, intake_age_group FROM routing.cases"
    )
    assert (row.intake_step, row.intake_consent, row.intake_age_group) == ("region", "同意", None)


async def test_declining_the_terms_closes_the_case_politely_and_agreeing_later_starts_again(
    rig: Rig,
) -> None:
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE, routing_phone="相談電話 059-000-0000"):
        await client.says("こんにちは")
        await client.says("同意しない")
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
        declined = rig.replies.events[-1]
        await client.says("同意する")  # changed their mind: a new case, straight to age
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 2)
        asked = rig.replies.events[-1]

    text = await _text(rig, declined)
    assert "同意" in text and "059-000-0000" in text and "0120-279-338" in text
    assert await _buttons(rig, declined) == ["同意する"]
    (closed,) = rig.cases.of(CaseClosed)
    assert closed.payload.outcome == "intake_declined" and closed.payload.closed_by is None
    (finished,) = rig.cases.of(CaseIntakeFinished)
    assert (finished.payload.outcome, finished.payload.consent) == ("declined", "同意しない")
    assert "年代" in await _text(rig, asked)
    rows = await rig.rows("SELECT status, intake_consent FROM routing.cases ORDER BY opened_at")
    assert [(r.status, r.intake_consent) for r in rows] == [
        ("closed", "同意しない"),
        ("intake", "同意"),
    ]


async def test_a_client_who_stops_answering_is_queued_after_the_timeout(rig: Rig) -> None:
    counsellor = uuid4()
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE, routing_intake_timeout_min=0.01):
        await rig.publish(make_presence(counsellor))
        await client.says("こんにちは")
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
    (finished,) = rig.cases.of(CaseIntakeFinished)
    assert finished.payload.outcome == "timeout"


async def test_the_end_word_during_the_questionnaire_closes_the_case(rig: Rig) -> None:
    cipher, client_no = await rig.client()
    client = Client(rig, cipher, client_no)
    async with rig.app(**INTAKE):
        await client.says("こんにちは")
        await client.says("同意する")
        await rig.publish(client.message("終了", ends_conversation=True))
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)
    (finished,) = rig.cases.of(CaseIntakeFinished)
    assert (finished.payload.outcome, finished.payload.consent) == ("closed", "同意")


async def test_out_of_hours_the_questionnaire_is_not_asked(rig: Rig) -> None:
    now = datetime.now(UTC)
    await only_session(rig, now + timedelta(days=1), now + timedelta(days=1, hours=3))
    cipher, client_no = await rig.client()
    async with rig.app(**INTAKE, **CLOSED):
        await rig.publish(make_message_received(cipher=cipher, client_no=client_no))
        await rig.replies.wait_for(1)
    (reply,) = rig.replies.events
    assert reply.payload.quick_replies is None
    assert "受付時間外" in await _text(rig, reply)
    (opened,) = rig.cases.of(CaseOpened)
    assert opened.payload.intake is False
    (row,) = await rig.rows("SELECT status FROM routing.cases")
    assert row.status == "queued"
