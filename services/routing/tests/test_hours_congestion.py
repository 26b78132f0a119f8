"""Consultation hours and congestion over real NATS and PostgreSQL: what a waiting
client is told, once, and what supervisors see."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AsyncExitStack
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

from sodan_routing.hours import JST, Session, format_session
from sodan_shared.events.console import (
    HoursRuleV1,
    ReplaceHours,
    ReplaceHoursV1,
    UpdateAutoText,
    UpdateAutoTextV1,
)
from sodan_shared.events.line import PushRequested, PushRequestedV1
from sodan_shared.events.routing import (
    AutoTextChanged,
    CaseAssigned,
    CaseOpened,
    CaseReturnedToQueue,
    CaseUnanswered,
    CongestionChanged,
    HoursChanged,
)
from sodan_shared.testing.factories import make_message_received

from .conftest import AuditLog, Rig, make_presence

CLOSED = {"routing_always_open": False}


async def only_session(rig: Rig, starts: datetime, ends: datetime) -> Session:
    """Replace the seeded calendar with one dated session (Japan time)."""
    s, e = starts.astimezone(JST), ends.astimezone(JST)
    await rig.execute("DELETE FROM routing.hours_rules")
    await rig.execute(
        "INSERT INTO routing.hours_rules (kind, day, starts, ends) VALUES ('dated', :d, :s, :e)",
        d=s.date(),
        s=s.time().replace(microsecond=0),
        e=e.time().replace(microsecond=0),
    )
    return Session(starts=s.replace(microsecond=0), ends=e.replace(microsecond=0))


async def test_out_of_hours_the_client_hears_the_next_session_once_and_waits(rig: Rig) -> None:
    now = datetime.now(UTC)
    session = await only_session(rig, now + timedelta(days=1), now + timedelta(days=1, hours=3))
    cipher, client_no = await rig.client()
    first = make_message_received(cipher=cipher, client_no=client_no, text="こんばんは")
    second = make_message_received(cipher=cipher, client_no=client_no, text="まだですか")
    async with rig.app(**CLOSED):
        await rig.publish(make_presence(uuid4()))  # someone is there, yet it is closed
        await rig.publish(first)
        await rig.replies.wait_for(1)
        await rig.publish(second)
        await asyncio.sleep(1.5)

    (reply,) = rig.replies.events
    (text,) = await rig.replies.texts()
    assert f"次の相談日は {format_session(session)} です。" in text
    assert "0120-279-338" in text  # emergency contacts
    assert reply.payload.reply_token == first.payload.reply_token
    assert reply.causation_id == first.id
    (opened,) = rig.cases.of(CaseOpened)
    assert opened.payload.opens_at == session.starts
    assert rig.cases.of(CaseAssigned) == []
    (row,) = await rig.rows("SELECT status FROM routing.cases")
    assert row.status == "queued"  # kept, and shown when the desk opens
    assert len(await rig.rows("SELECT 1 FROM routing.case_messages")) == 2


async def test_a_waiting_client_hears_the_estimated_wait_and_supervisors_see_the_level(
    rig: Rig,
) -> None:
    cipher, client_no = await rig.client()
    async with rig.app(routing_busy_queue=3, routing_suspend_queue=5):
        await rig.publish(make_message_received(cipher=cipher, client_no=client_no))
        await rig.replies.wait_for(1)
        await rig.cases.wait_for(lambda log: bool(log.of(CongestionChanged)))

    (text,) = await rig.replies.texts()
    # open, nobody on duty: the wait is not knowable
    assert "しばらくお待ちいただく見込みです" in text
    (level,) = rig.cases.of(CongestionChanged)
    assert level.payload.level == "busy"  # people waiting, nobody on duty
    assert level.payload.desk_open is True
    assert level.payload.queue_length == 1
    assert level.payload.active_counsellors == 0


async def test_the_wait_is_estimated_from_the_queue_and_capacity(rig: Rig) -> None:
    counsellor = uuid4()
    clients = [await rig.client() for _ in range(3)]
    async with rig.app(routing_default_handling_min=20):
        await rig.publish(make_presence(counsellor, capacity=1))
        async with asyncio.timeout(15):  # routing knows the counsellor before anyone writes
            while True:
                if await rig.rows("SELECT 1 FROM routing.counsellors"):
                    break
                await asyncio.sleep(0.05)
        for n, (cipher, no) in enumerate(clients, start=1):
            await rig.publish(make_message_received(cipher=cipher, client_no=no))
            # in this order: each case is queued before the next client writes
            await rig.cases.wait_for(lambda log, n=n: len(log.of(CaseOpened)) == n)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        await rig.replies.wait_for(2)
    # the first is served at once and told nothing; the others wait 20 and 40 minutes
    assert await rig.replies.texts(clients[0][0].client_id) == []
    (second,) = await rig.replies.texts(clients[1][0].client_id)
    (third,) = await rig.replies.texts(clients[2][0].client_id)
    assert "おおよそ20分ほどお待ちいただく見込みです" in second
    assert "おおよそ40分ほどお待ちいただく見込みです" in third


async def test_at_suspension_the_client_gets_the_phone_line_instead(rig: Rig) -> None:
    clients = [await rig.client() for _ in range(2)]
    async with rig.app(
        routing_busy_queue=1, routing_suspend_queue=2, routing_phone="電話 059-000-0000"
    ):
        for n, (cipher, no) in enumerate(clients, start=1):
            await rig.publish(make_message_received(cipher=cipher, client_no=no))
            await rig.cases.wait_for(lambda log, n=n: len(log.of(CaseOpened)) == n)
        await rig.replies.wait_for(2)
        await rig.cases.wait_for(
            lambda log: any(e.payload.level == "suspended" for e in log.of(CongestionChanged))
        )
    (first,) = await rig.replies.texts(clients[0][0].client_id)
    (second,) = await rig.replies.texts(clients[1][0].client_id)
    assert "順番にお返事しています" in first
    assert "大変混み合っていて" in second and "電話 059-000-0000" in second


async def test_queued_clients_are_told_before_and_at_closing(rig: Rig) -> None:
    now = datetime.now(UTC)
    session = await only_session(rig, now - timedelta(hours=1), now + timedelta(seconds=4))
    cipher, client_no = await rig.client()
    async with rig.app(**CLOSED, routing_closing_soon_min=10):
        await rig.publish(make_message_received(cipher=cipher, client_no=client_no))
        await rig.replies.wait_for(3, timeout=20)
        await rig.cases.wait_for(
            lambda log: any(not e.payload.desk_open for e in log.of(CongestionChanged))
        )
        await asyncio.sleep(1.5)  # and nothing more
    queued, closing_soon, closed = await rig.replies.texts()
    assert "順番にお返事しています" in queued
    assert f"本日の受付は {session.ends.astimezone(JST):%H:%M} までです" in closing_soon
    assert "本日の受付時間が終わりました" in closed
    assert len(rig.replies.events) == 3
    (row,) = await rig.rows("SELECT status FROM routing.cases")
    assert row.status == "queued"


async def test_a_long_wait_brings_a_reminder_up_to_the_limit(rig: Rig) -> None:
    cipher, client_no = await rig.client()
    async with rig.app(routing_wait_reminder_after_min=0.02, routing_wait_reminders=1):
        await rig.publish(make_message_received(cipher=cipher, client_no=client_no))
        await rig.replies.wait_for(2)
        await asyncio.sleep(2.5)
    _greeting, reminder = await rig.replies.texts()
    assert "お待たせしていてごめんなさい" in reminder
    assert len(rig.replies.events) == 2


async def test_three_replicas_send_each_automatic_message_once(rig: Rig) -> None:
    clients = [await rig.client() for _ in range(8)]
    async with AsyncExitStack() as stack:
        for _ in range(3):
            await stack.enter_async_context(rig.app())
        messages = []
        for cipher, no in clients:
            messages += [make_message_received(cipher=cipher, client_no=no) for _ in range(3)]
        await asyncio.gather(*(rig.publish(m) for m in messages))
        await rig.replies.wait_for(len(clients))
        await asyncio.sleep(3)  # sweeps of three replicas come and go
    assert len(rig.replies.events) == len(clients)
    assert {e.payload.client_id for e in rig.replies.events} == {c.client_id for c, _ in clients}
    changes = rig.cases.of(CongestionChanged)
    assert len({e.id for e in changes}) == len(changes)
    assert [e.payload.previous_level for e in changes][:1] == [None]
    for before, after in itertools.pairwise(changes):
        assert after.payload.previous_level == before.payload.level


async def test_a_supervisor_edits_a_text_and_a_bad_edit_is_refused_saying_why(rig: Rig) -> None:
    supervisor = uuid4()
    audit = AuditLog()
    await audit.follow(rig)
    good = UpdateAutoText.new(
        channel="demo",
        payload=UpdateAutoTextV1(
            key="queued",
            body="順番にお返事します。{estimated_wait}お待ちください。",
            staff_id=supervisor,
        ),
    )
    bad = UpdateAutoText.new(
        channel="demo",
        payload=UpdateAutoTextV1(key="queued", body="{next_opening}に", staff_id=supervisor),
    )
    cipher, client_no = await rig.client()
    async with rig.app():
        await rig.publish(good, bad)
        await audit.wait_for(2)
        await rig.publish(make_message_received(cipher=cipher, client_no=client_no))
        await rig.replies.wait_for(1)
    applied, refused = audit.events
    assert isinstance(applied, AutoTextChanged) and applied.payload.outcome == "applied"
    assert applied.payload.staff_id == supervisor and applied.causation_id == good.id
    assert refused.payload.outcome == "refused" and refused.payload.command_id == bad.id
    assert "{next_opening}" in refused.payload.error
    assert await rig.replies.texts() == ["順番にお返事します。しばらくお待ちください。"]
    (row,) = await rig.rows("SELECT body, updated_by FROM routing.auto_texts WHERE key = 'queued'")
    assert row.updated_by == supervisor


async def test_a_supervisor_replaces_the_calendar_and_a_broken_one_is_refused(rig: Rig) -> None:
    supervisor = uuid4()
    audit = AuditLog()
    await audit.follow(rig)
    tuesday = HoursRuleV1(kind="weekly", weekday=1, starts=time(18), ends=time(21), holidays="skip")
    good = ReplaceHours.new(
        channel="demo", payload=ReplaceHoursV1(rules=[tuesday], staff_id=supervisor)
    )
    bad = ReplaceHours.new(
        channel="demo",
        payload=ReplaceHoursV1(
            rules=[tuesday, HoursRuleV1(kind="dated", starts=time(13), ends=time(16))],
            staff_id=supervisor,
        ),
    )
    async with rig.app():
        await rig.publish(good, bad)
        await audit.wait_for(2)
    applied, refused = audit.events
    assert isinstance(applied, HoursChanged) and applied.payload.outcome == "applied"
    assert applied.payload.next_opening is not None
    assert applied.payload.next_opening.astimezone(JST).weekday() == 1
    assert refused.payload.outcome == "refused"
    assert refused.payload.error == "rule 2: a dated session needs day, starts and ends"
    rows = await rig.rows("SELECT kind, weekday, holidays FROM routing.hours_rules")
    assert [(r.kind, r.weekday, r.holidays) for r in rows] == [("weekly", 1, "skip")]


async def test_an_unanswered_case_alerts_supervisors_once_and_an_answered_one_does_not(
    rig: Rig,
) -> None:
    counsellor = uuid4()
    answered_cipher, answered_no = await rig.client()
    silent_cipher, silent_no = await rig.client()
    async with rig.app(routing_unanswered_after_min=0.03):
        await rig.publish(make_presence(counsellor))
        answered = make_message_received(cipher=answered_cipher, client_no=answered_no)
        await rig.publish(answered)
        await rig.cases.wait_for(lambda log: len(log.of(CaseAssigned)) == 1)
        (case,) = rig.cases.of(CaseAssigned)
        await rig.publish(
            PushRequested.new(
                channel="demo",
                payload=PushRequestedV1(
                    push_id=uuid4(),
                    client_id=answered_cipher.client_id,
                    case_id=case.payload.case_id,
                    texts=[answered_cipher.seal("message.text", "こんばんは")],
                    origin="counsellor",
                    staff_id=counsellor,
                ),
            )
        )
        await rig.publish(make_message_received(cipher=silent_cipher, client_no=silent_no))
        await rig.cases.wait_for(lambda log: bool(log.of(CaseUnanswered)))
        await asyncio.sleep(1.5)
    (alert,) = rig.cases.of(CaseUnanswered)
    assert alert.payload.client_id == silent_cipher.client_id
    assert alert.payload.counsellor_id == counsellor
    assert alert.payload.returned_to_queue is False
    assert rig.cases.of(CaseReturnedToQueue) == []
    (row,) = await rig.rows(
        "SELECT first_response_at FROM routing.cases WHERE client_id = :c",
        c=answered_cipher.client_id,
    )
    assert row.first_response_at is not None


async def test_an_unanswered_case_can_go_back_to_the_queue(rig: Rig) -> None:
    counsellor = uuid4()
    cipher, client_no = await rig.client()
    async with rig.app(routing_unanswered_after_min=0.03, routing_unanswered_requeue=True):
        await rig.publish(make_presence(counsellor, capacity=1))
        await rig.publish(make_message_received(cipher=cipher, client_no=client_no))
        await rig.cases.wait_for(lambda log: bool(log.of(CaseReturnedToQueue)))
    (alert,) = rig.cases.of(CaseUnanswered)[:1]
    (back,) = rig.cases.of(CaseReturnedToQueue)[:1]
    assert alert.payload.returned_to_queue is True
    assert back.payload.reason == "unanswered"
    assert back.payload.previous_counsellor_id == counsellor
