"""Routing over real NATS and PostgreSQL: the case lifecycle as the console sees it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sodan_shared.events.routing import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseReturnedToQueue,
    CaseUrgencyChanged,
)
from sodan_shared.subjects import MESSAGE_RECEIVED
from sodan_shared.testing.factories import make_cipher, make_message_received, make_message_scored

from .conftest import Rig, make_close, make_presence


async def test_a_message_opens_a_case_and_the_available_counsellor_gets_it(rig: Rig) -> None:
    counsellor = uuid4()
    received = make_message_received(client_no=42)
    async with rig.app():
        await rig.publish(make_presence(counsellor))
        await rig.publish(received)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)

    (opened,) = rig.cases.of(CaseOpened)
    (assigned,) = rig.cases.of(CaseAssigned)
    assert opened.payload.client_id == received.payload.client_id
    assert opened.payload.client_no == 42
    assert opened.payload.first_message_event_id == received.id
    assert opened.causation_id == received.id
    assert assigned.payload.case_id == opened.payload.case_id
    assert assigned.payload.counsellor_id == counsellor
    (row,) = await rig.rows("SELECT status, assigned_to FROM routing.cases")
    assert (row.status, row.assigned_to) == ("assigned", counsellor)


async def test_a_second_message_of_the_same_client_joins_the_open_case(rig: Rig) -> None:
    cipher = make_cipher()
    first = make_message_received(cipher=cipher, text="こんにちは")
    second = make_message_received(cipher=cipher, text="相談があります")
    async with rig.app():
        await rig.publish(first, second)
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
        await asyncio.sleep(0.5)
        messages = await rig.rows("SELECT case_id FROM routing.case_messages")
    assert len(rig.cases.of(CaseOpened)) == 1
    assert len(messages) == 2 and messages[0].case_id == messages[1].case_id
    assert len(await rig.rows("SELECT 1 FROM routing.cases")) == 1


async def test_the_same_event_delivered_twice_changes_nothing(rig: Rig) -> None:
    counsellor = uuid4()
    received = make_message_received()
    presence = make_presence(counsellor)
    async with rig.app():
        await rig.publish(presence, received)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        # redelivered after the stream's dedup window: no Nats-Msg-Id to stop it
        await rig.js.publish(MESSAGE_RECEIVED.name, received.to_bytes())
        await rig.js.publish("console.staff.presence.v1", presence.to_bytes())
        await asyncio.sleep(1.5)
    assert len(rig.cases.of(CaseOpened)) == 1
    assert len(rig.cases.of(CaseAssigned)) == 1
    assert len(await rig.rows("SELECT 1 FROM routing.case_messages")) == 1


async def test_a_critical_case_is_served_before_an_older_normal_one(rig: Rig) -> None:
    counsellor = uuid4()
    now = datetime.now(UTC)
    older = make_message_received(sent_at=now - timedelta(minutes=10))
    critical = make_message_received(sent_at=now)
    async with rig.app():
        await rig.publish(older, critical)
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 2)
        await rig.publish(make_message_scored(critical, level="critical", score=1.0))
        await rig.cases.wait_for(lambda log: len(log.of(CaseUrgencyChanged)) == 1)
        await rig.publish(make_presence(counsellor, capacity=1))
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        await asyncio.sleep(1.0)  # and nothing else gets assigned: capacity is 1

    (changed,) = rig.cases.of(CaseUrgencyChanged)
    assert changed.payload.urgency == "critical"
    assert changed.payload.cause_message_event_id == critical.id
    (assigned,) = rig.cases.of(CaseAssigned)
    assert assigned.payload.client_id == critical.payload.client_id
    # a later, milder score never lowers it
    rows = await rig.rows(
        "SELECT urgency FROM routing.cases WHERE client_id = :c", c=critical.payload.client_id
    )
    assert rows[0].urgency == "critical"


async def test_a_score_that_overtakes_its_message_still_sets_the_urgency(rig: Rig) -> None:
    received = make_message_received(client_no=7)
    async with rig.app():
        await rig.publish(make_message_scored(received, level="high", score=0.8))
        await asyncio.sleep(0.5)
        assert rig.cases.of(CaseOpened) == []  # not shown to staff before its message
        await rig.publish(received)
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
    (opened,) = rig.cases.of(CaseOpened)
    assert (opened.payload.urgency, opened.payload.client_no) == ("high", 7)
    assert len(await rig.rows("SELECT 1 FROM routing.cases")) == 1


async def _processed(rig: Rig, event_id: object) -> None:
    async with asyncio.timeout(15):
        while True:
            sql = "SELECT 1 FROM routing.processed_events WHERE event_id = :id"
            if await rig.rows(sql, id=event_id):
                return
            await asyncio.sleep(0.05)


async def test_a_case_opened_by_a_later_messages_score_is_announced_once(rig: Rig) -> None:
    cipher = make_cipher()
    first = make_message_received(cipher=cipher, client_no=7)
    second = make_message_received(cipher=cipher, client_no=7, text="つらい")
    score = make_message_scored(second, level="high", score=0.8)
    async with rig.app():
        # the second message's score arrives before either message: it opens the case
        await rig.publish(score)
        await _processed(rig, score.id)
        await rig.publish(first)
        await _processed(rig, first.id)
        await rig.publish(second)
        await _processed(rig, second.id)
    # the first message announces it; the second, whose score opened it, does not again
    opened = await rig.rows("SELECT 1 FROM routing.outbox WHERE subject = 'case.opened.v1'")
    assert len(opened) == 1


async def test_a_normal_score_before_its_message_opens_nothing(rig: Rig) -> None:
    received = make_message_received()
    score = make_message_scored(received, level="normal", score=0.1)
    async with rig.app():
        await rig.publish(score)
        await _processed(rig, score.id)
        assert await rig.rows("SELECT 1 FROM routing.cases") == []
        await rig.publish(received)
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
    (opened,) = rig.cases.of(CaseOpened)
    assert (opened.payload.first_message_event_id, opened.payload.urgency) == (
        received.id,
        "normal",
    )


async def test_closing_frees_capacity_and_the_next_queued_case_is_assigned(rig: Rig) -> None:
    counsellor = uuid4()
    first = make_message_received(sent_at=datetime.now(UTC) - timedelta(minutes=1))
    second = make_message_received()
    async with rig.app():
        # both waiting before anyone is free (presence and messages are separate
        # consumers): then the longer waiting is served first
        await rig.publish(first, second)
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 2)
        await rig.publish(make_presence(counsellor, capacity=1))
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        (assigned,) = rig.cases.of(CaseAssigned)
        assert assigned.payload.client_id == first.payload.client_id
        await rig.publish(make_close(assigned.payload.case_id, counsellor))
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 2)

    (closed,) = rig.cases.of(CaseClosed)
    assert closed.payload.case_id == assigned.payload.case_id
    assert closed.payload.closed_by == counsellor
    next_one = rig.cases.of(CaseAssigned)[1]
    assert next_one.payload.client_id == second.payload.client_id
    assert next_one.payload.counsellor_id == counsellor


async def test_an_offline_counsellors_cases_go_back_to_the_queue_and_on(rig: Rig) -> None:
    leaving, staying = uuid4(), uuid4()
    received = make_message_received()
    t0 = datetime.now(UTC)
    async with rig.app():
        await rig.publish(make_presence(leaving, occurred_at=t0), received)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        await rig.publish(
            make_presence(leaving, "offline", occurred_at=t0 + timedelta(seconds=1)),
            make_presence(staying, occurred_at=t0 + timedelta(seconds=1)),
        )
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 2)
    (requeued,) = rig.cases.of(CaseReturnedToQueue)
    assert requeued.payload.previous_counsellor_id == leaving
    assert rig.cases.of(CaseAssigned)[1].payload.counsellor_id == staying


async def test_a_late_presence_event_does_not_undo_a_newer_one(rig: Rig) -> None:
    counsellor = uuid4()
    t0 = datetime.now(UTC)
    async with rig.app():
        await rig.publish(make_presence(counsellor, "offline", occurred_at=t0))
        await rig.publish(
            make_presence(counsellor, "available", occurred_at=t0 - timedelta(seconds=5))
        )
        await rig.publish(make_message_received())
        await rig.cases.wait_for(lambda log: len(log.of(CaseOpened)) == 1)
        await asyncio.sleep(1.0)
    assert rig.cases.of(CaseAssigned) == []


async def test_the_clients_end_word_closes_their_case_and_frees_the_counsellor(rig: Rig) -> None:
    counsellor = uuid4()
    cipher = make_cipher()
    first = make_message_received(cipher=cipher, text="相談です")
    end = make_message_received(cipher=cipher, text="終了", ends_conversation=True)
    async with rig.app():
        await rig.publish(make_presence(counsellor), first)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        await rig.publish(end)
        await rig.cases.wait_for(lambda log: len(log.of(CaseClosed)) == 1)

    (closed,) = rig.cases.of(CaseClosed)
    assert closed.payload.closed_by is None
    assert closed.payload.outcome == "client_ended"
    assert closed.causation_id == end.id
    (row,) = await rig.rows("SELECT status FROM routing.cases")
    assert row.status == "closed"


async def test_an_end_word_without_an_open_case_opens_none(rig: Rig) -> None:
    end = make_message_received(text="終了", ends_conversation=True)
    async with rig.app():
        await rig.publish(end)
        await asyncio.sleep(1.0)
    assert rig.cases.of(CaseOpened) == []
    assert await rig.rows("SELECT 1 FROM routing.cases") == []
