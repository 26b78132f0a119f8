"""console-api against a real NATS JetStream and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx
from console_support import (
    CSRF,
    STAFF,
    eventually,
    every_listed,
    logged_in,
    make_case_assigned,
    make_case_closed,
    make_case_opened,
    new_client,
)
from fastapi import FastAPI
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console.db import queries
from sodan_console.db.tables import processed_events
from sodan_console.handlers import CASES_CONSUMER, PUSH_RESULTS_CONSUMER
from sodan_console.state import ConsoleState
from sodan_shared.crypto import Keyring
from sodan_shared.db import transaction
from sodan_shared.events.console import StaffPresenceChanged
from sodan_shared.events.line import PushRequested, PushResult, PushResultV1
from sodan_shared.events.routing import (
    CaseUnanswered,
    CaseUnansweredV1,
    CongestionChanged,
    CongestionChangedV1,
)
from sodan_shared.nats import publish_event
from sodan_shared.subjects import MESSAGE_RECEIVED, PUSH_REQUESTED, STAFF_PRESENCE_CHANGED
from sodan_shared.testing.factories import make_message_received, make_message_scored
from sqlalchemy import select


async def _staff_id(client: httpx.AsyncClient) -> str:
    return str((await client.get("/api/me")).json()["staff_id"])


async def test_login_sets_a_strict_httponly_session_cookie(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        "/api/login", json={"login": "counsellor1", "password": "demo-pass-1"}, headers=CSRF
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == STAFF["counsellor1"].display_name
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert (await anonymous.get("/api/me")).json()["login"] == "counsellor1"


async def test_wrong_password_and_unknown_login_get_the_same_generic_error(
    anonymous: httpx.AsyncClient,
) -> None:
    wrong = await anonymous.post(
        "/api/login", json={"login": "counsellor1", "password": "nope-nope-1"}, headers=CSRF
    )
    unknown = await anonymous.post(
        "/api/login", json={"login": "nobody", "password": "demo-pass-1"}, headers=CSRF
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"detail": "ログインID・パスワード・確認コードのいずれかが正しくありません"}
    )
    assert "set-cookie" not in wrong.headers


async def test_api_requires_a_session(anonymous: httpx.AsyncClient) -> None:
    for path in ("/api/me", "/api/cases", f"/api/cases/{uuid4()}", "/api/stream"):
        response = await anonymous.get(path)
        assert response.status_code == 401, path
        assert response.json()["detail"] == "ログインしてください"


async def test_logout_ends_the_session(app: FastAPI) -> None:
    client = await logged_in(app, "counsellor2")
    assert (await client.post("/api/logout", headers=CSRF)).status_code == 204
    assert (await client.get("/api/me")).status_code == 401
    await client.aclose()


async def test_state_changing_requests_need_the_csrf_header(
    anonymous: httpx.AsyncClient, counsellor1: httpx.AsyncClient
) -> None:
    login = await anonymous.post("/api/login", json={"login": "counsellor1", "password": "x"})
    presence = await counsellor1.put("/api/me/presence", json={"presence": "away"})
    reply = await counsellor1.post(f"/api/cases/{uuid4()}/replies", json={"text": "はい"})
    for response in (login, presence, reply):
        assert response.status_code == 403
        assert "X-Requested-With" in response.json()["detail"]


async def test_presence_change_is_stored_and_emits_staff_presence_changed(
    counsellor1: httpx.AsyncClient, js: JetStreamContext
) -> None:
    staff_id = await _staff_id(counsellor1)
    sub = await js.subscribe(
        STAFF_PRESENCE_CHANGED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    response = await counsellor1.put(
        "/api/me/presence", json={"presence": "available"}, headers=CSRF
    )
    assert response.status_code == 200 and response.json()["presence"] == "available"
    while True:
        event = StaffPresenceChanged.model_validate_json((await sub.next_msg(timeout=10)).data)
        if str(event.payload.staff_id) == staff_id:
            break
    assert event.payload.presence == "available"
    assert event.payload.role == "counsellor" and event.payload.capacity == 3
    assert (await counsellor1.get("/api/me")).json()["presence"] == "available"
    await sub.unsubscribe()


async def test_events_from_nats_build_the_case_list_and_the_decrypted_chat(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    identity, cipher = await new_client(keyring)
    received = make_message_received(
        cipher=cipher, client_no=identity.client_no, text="最近つらくて眠れません"
    )
    scored = make_message_scored(received, level="high", score=4.0)
    opened = make_case_opened(identity=identity, first_message_id=received.id, urgency="high")
    assigned = make_case_assigned(opened, counsellor_id=await _staff_id(counsellor1))  # type: ignore[arg-type]
    # Out of order on purpose: the score before its message, the assignment before the open.
    for event in (scored, assigned, received, opened):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def listed() -> dict[str, Any] | None:
        items = await every_listed(counsellor1)
        found = [c for c in items if c["case_id"] == case_id]
        # complete once all four events are projected, whatever order they arrived in
        done = found and found[0]["urgency"] == "high" and found[0]["status"] == "assigned"
        return found[0] if done else None

    case = await eventually(listed, what="the case in the list")
    assert case["client_label"] == f"C-{identity.client_no:06d}"
    assert case["status"] == "assigned" and case["urgency"] == "high"
    assert case["assignee_name"] == STAFF["counsellor1"].display_name
    assert case["can_act"] is True

    async def chat() -> dict[str, Any] | None:
        detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
        msgs = detail["messages"]
        return detail if msgs and msgs[0]["urgency"] and msgs[0]["text"] else None

    detail = await eventually(chat, what="the decrypted message with its score")
    [message] = detail["messages"]
    assert message["text"] == "最近つらくて眠れません"
    assert message["direction"] == "in" and message["urgency"] == "high"
    assert message["message_id"] == str(received.id)
    # Supervisors see the same case; the LINE user id never appears anywhere.
    sv_view = await supervisor.get(f"/api/cases/{case_id}")
    assert sv_view.status_code == 200
    assert "line_user_id" not in sv_view.text and "U" + "0" * 5 not in sv_view.text


async def _assigned_case(
    keyring: Keyring, js: JetStreamContext, counsellor: httpx.AsyncClient, *, text: str = "相談です"
) -> tuple[str, Any]:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text=text)
    opened = make_case_opened(identity=identity, first_message_id=received.id)
    assigned = make_case_assigned(opened, counsellor_id=await _staff_id(counsellor))  # type: ignore[arg-type]
    for event in (received, opened, assigned):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def ready() -> bool:
        response = await counsellor.get(f"/api/cases/{case_id}")
        return response.status_code == 200 and response.json()["case"]["status"] == "assigned"

    await eventually(ready, what="the assigned case")
    return case_id, opened


async def test_reply_is_stored_pending_emits_sealed_push_and_push_result_marks_it_sent(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    sub = await js.subscribe(
        PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    response = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "お話ししてくれてありがとう"}, headers=CSRF
    )
    assert response.status_code == 202, response.text
    message_id = response.json()["message"]["message_id"]

    while True:
        push = PushRequested.model_validate_json((await sub.next_msg(timeout=10)).data)
        if str(push.payload.push_id) == message_id:
            break
    await sub.unsubscribe()
    assert push.payload.origin == "counsellor" and str(push.payload.case_id) == case_id
    assert push.payload.client_id == opened.payload.client_id
    [sealed] = push.payload.texts
    assert "ありがとう" not in sealed
    cipher = await keyring.cipher(opened.payload.client_id)
    assert cipher.open("message.text", sealed) == "お話ししてくれてありがとう"

    detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
    mine = [m for m in detail["messages"] if m["message_id"] == message_id]
    assert mine[0]["delivery"] == "pending" and mine[0]["direction"] == "out"
    assert mine[0]["text"] == "お話ししてくれてありがとう"

    result = PushResult.new(
        channel="demo",
        caused_by=push,
        payload=PushResultV1(
            push_id=push.payload.push_id,
            client_id=push.payload.client_id,
            case_id=push.payload.case_id,
            status="sent",
            attempts=1,
        ),
    )
    await publish_event(js, result)

    async def sent() -> bool:
        detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
        return any(
            m["message_id"] == message_id and m["delivery"] == "sent" for m in detail["messages"]
        )

    await eventually(sent, what="the reply marked sent")


async def test_a_failed_push_shows_why_and_a_late_failure_never_undoes_sent(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext, state: ConsoleState
) -> None:
    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    cipher = await keyring.cipher(opened.payload.client_id)
    ids = [str(uuid4()), str(uuid4())]
    # Stored as the reply endpoint stores them, without a PushRequested: only the
    # results below decide their state (no ingress of another test may answer).
    async with transaction(state.db.sessions) as session:
        for message_id, text in zip(ids, ("一通目", "二通目"), strict=True):
            await queries.add_outbound_message(
                session,
                message_id=UUID(message_id),
                client_id=opened.payload.client_id,
                case_id=opened.payload.case_id,
                body=cipher.seal("message.text", text),
                staff_id=uuid4(),
                sent_at=datetime.now(UTC),
            )

    def result(push_id: str, status: str, error: str | None) -> PushResult:
        return PushResult.new(
            channel="demo",
            payload=PushResultV1(
                push_id=UUID(push_id),
                client_id=opened.payload.client_id,
                status=status,  # type: ignore[arg-type]
                attempts=1,
                error=error,
            ),
        )

    late_failure = result(ids[1], "failed", "400 The request body has 1 error(s)")
    for event in (
        result(ids[0], "failed", "client_ended_conversation"),
        result(ids[1], "sent", None),
        late_failure,
    ):
        await publish_event(js, event)

    async def consumed() -> bool:
        async with state.db.sessions() as session:
            found = await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.event_id == late_failure.id,
                    processed_events.c.consumer == PUSH_RESULTS_CONSUMER,
                )
            )
            return found.first() is not None

    await eventually(consumed, what="every result consumed")

    async def settled() -> dict[str, dict[str, object]] | None:
        detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
        mine = {m["message_id"]: m for m in detail["messages"] if m["message_id"] in ids}
        return mine if mine[ids[0]]["delivery"] == "failed" else None

    mine = await eventually(settled, what="the failure recorded")
    assert mine[ids[0]]["delivery_error"] == "client_ended_conversation"
    assert mine[ids[1]]["delivery"] == "sent" and mine[ids[1]]["delivery_error"] is None


async def test_a_failed_reply_is_resent_with_the_same_push_id_and_then_shows_sent(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    pushes = await js.subscribe(
        PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    sent = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "届きますように"}, headers=CSRF
    )
    message_id = sent.json()["message"]["message_id"]
    first = PushRequested.model_validate_json((await pushes.next_msg(timeout=10)).data)
    url = f"/api/cases/{case_id}/replies/{message_id}/resend"
    not_failed = await counsellor1.post(url, headers=CSRF)
    assert not_failed.status_code == 409
    assert not_failed.json()["detail"] == "再送できるのは送信に失敗したメッセージだけです"

    def result(push: PushRequested, status: str) -> PushResult:
        return PushResult.new(
            channel="demo",
            event_id=uuid5(push.id, "result"),  # as ingress names it: one per command event
            payload=PushResultV1(
                push_id=push.payload.push_id,
                client_id=opened.payload.client_id,
                case_id=opened.payload.case_id,
                status=status,  # type: ignore[arg-type]
                attempts=5,
                error="500 Internal Server Error" if status == "failed" else None,
            ),
        )

    async def delivery() -> str | None:
        detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
        return next(m["delivery"] for m in detail["messages"] if m["message_id"] == message_id)

    await publish_event(js, result(first, "failed"))
    await eventually(lambda: _is(delivery, "failed"), what="the failure shown")

    assert (await counsellor2.post(url, headers=CSRF)).status_code == 403
    unknown = f"/api/cases/{case_id}/replies/{uuid4()}/resend"
    assert (await counsellor1.post(unknown, headers=CSRF)).status_code == 404
    again = await counsellor1.post(url, headers=CSRF)
    assert again.status_code == 202, again.text
    assert await delivery() == "pending"
    second = PushRequested.model_validate_json((await pushes.next_msg(timeout=10)).data)
    # the same message, the same retry key for LINE, and not a new message in the reports
    assert second.payload.push_id == first.payload.push_id
    assert second.payload.texts == first.payload.texts and second.payload.resend
    assert second.id != first.id
    await pushes.unsubscribe()

    await publish_event(js, result(second, "sent"))
    await eventually(lambda: _is(delivery, "sent"), what="the resend shown as sent")


async def _is(probe: Any, wanted: str) -> bool:
    return bool(await probe() == wanted)


async def test_only_the_assigned_counsellor_or_a_supervisor_may_reply_or_close(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, _ = await _assigned_case(keyring, js, counsellor1)
    other = await counsellor2.post(
        f"/api/cases/{case_id}/replies", json={"text": "横から失礼"}, headers=CSRF
    )
    assert other.status_code == 403
    assert other.json()["detail"] == "この相談を表示する権限がありません"
    assert (await counsellor2.get(f"/api/cases/{case_id}")).status_code == 403
    listed = await every_listed(counsellor2)
    assert case_id not in [c["case_id"] for c in listed]

    by_sv = await supervisor.post(
        f"/api/cases/{case_id}/replies", json={"text": "SVです"}, headers=CSRF
    )
    assert by_sv.status_code == 202


async def test_a_counsellor_still_reads_a_case_they_once_had_but_cannot_act_on_it(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    # reassigned to counsellor2 (a supervisor's 担当変更 or a hand-over)
    moved = make_case_assigned(opened, counsellor_id=STAFF["counsellor2"].staff_id)
    await publish_event(js, moved)

    async def read_only() -> dict[str, Any] | None:
        response = await counsellor1.get(f"/api/cases/{case_id}")
        if response.status_code != 200:
            return None
        case: dict[str, Any] = response.json()["case"]
        return case if case["assigned_to"] == str(STAFF["counsellor2"].staff_id) else None

    case = await eventually(read_only, what="the case moved to counsellor2")
    assert case["can_act"] is False
    listed = await every_listed(counsellor1)
    assert case_id in [c["case_id"] for c in listed]
    reply = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "まだ私です"}, headers=CSRF
    )
    assert reply.status_code == 403
    assert (await counsellor2.get(f"/api/cases/{case_id}")).json()["case"]["can_act"] is True


async def test_close_emits_close_case_and_a_closed_case_refuses_replies(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    from sodan_shared.events.console import CloseCase
    from sodan_shared.subjects import CLOSE_CASE

    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    sub = await js.subscribe(
        CLOSE_CASE.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    closing = {"outcome": "傾聴・情報提供", "topics": ["家族"]}
    response = await counsellor1.post(f"/api/cases/{case_id}/close", json=closing, headers=CSRF)
    assert response.status_code == 202
    while True:
        command = CloseCase.model_validate_json((await sub.next_msg(timeout=10)).data)
        if str(command.payload.case_id) == case_id:
            break
    await sub.unsubscribe()
    assert str(command.payload.staff_id) == await _staff_id(counsellor1)

    # routing decides; its CaseClosed is what closes the case in the console
    await publish_event(js, make_case_closed(opened, by=command.payload.staff_id))

    async def closed() -> bool:
        detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
        return detail["case"]["status"] == "closed"

    await eventually(closed, what="the closed case")
    late = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "まだいますか"}, headers=CSRF
    )
    assert late.status_code == 409
    assert late.json()["detail"] == "この相談はすでに終了しています"


async def test_bad_input_gets_a_clear_japanese_error(counsellor1: httpx.AsyncClient) -> None:
    case_id = uuid4()
    empty = await counsellor1.post(f"/api/cases/{case_id}/replies", json={"text": ""}, headers=CSRF)
    blank = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "  \n "}, headers=CSRF
    )
    too_long = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "あ" * 5001}, headers=CSRF
    )
    presence = await counsellor1.put("/api/me/presence", json={"presence": "sleep"}, headers=CSRF)
    bad_id = await counsellor1.get("/api/cases/not-a-uuid")
    bad_cursor = await counsellor1.get("/api/cases", params={"cursor": "%%%"})
    bad_status = await counsellor1.get("/api/cases", params={"status": "lost"})
    assert empty.status_code == blank.status_code == too_long.status_code == 422
    assert empty.json()["detail"] == "本文: 入力してください"
    assert blank.json()["detail"] == "本文: 入力してください"
    assert too_long.json()["detail"] == "本文: 5000文字以内で入力してください"
    assert presence.status_code == 422 and presence.json()["detail"].startswith("状態:")
    assert bad_id.status_code == 422 and "ID" in bad_id.json()["detail"]
    assert bad_cursor.status_code == 400 and bad_cursor.json()["detail"].startswith("カーソル")
    assert bad_status.status_code == 422
    missing = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "はい"}, headers=CSRF
    )
    assert missing.status_code == 404 and missing.json()["detail"] == "相談が見つかりません"


async def test_duplicate_events_change_nothing(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext, state: ConsoleState
) -> None:
    case_id, opened = await _assigned_case(keyring, js, counsellor1, text="一回目")
    cipher = await keyring.cipher(opened.payload.client_id)
    again = make_message_received(cipher=cipher, client_no=opened.payload.client_no, text="二回目")
    # Published twice without a Nats-Msg-Id: the stream keeps both copies, the
    # consumer must apply the event once.
    for _ in range(2):
        await js.publish(MESSAGE_RECEIVED.name, again.to_bytes())

    async def both() -> list[str] | None:
        detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
        texts = [m["text"] for m in detail["messages"]]
        return texts if "二回目" in texts else None

    await eventually(both, what="the second message")
    # The consumer handles one subject in order: once a later message shows, the
    # duplicate copy before it has been consumed too.
    later = make_message_received(cipher=cipher, client_no=opened.payload.client_no, text="三回目")
    await publish_event(js, later)
    texts = await eventually(
        lambda: _texts_if(counsellor1, case_id, "三回目"), what="the third message"
    )
    assert texts.count("二回目") == 1 and texts.count("一回目") == 1


async def _texts_if(client: httpx.AsyncClient, case_id: str, wanted: str) -> list[str] | None:
    detail = (await client.get(f"/api/cases/{case_id}")).json()
    texts = [m["text"] for m in detail["messages"]]
    return texts if wanted in texts else None


async def test_asyncapi_document_is_up_to_date() -> None:
    from pathlib import Path

    from sodan_console.main import generated_asyncapi

    committed = Path(__file__).parents[1] / "asyncapi.yaml"
    assert committed.read_text(encoding="utf-8") == generated_asyncapi(), (
        "services/console-api/asyncapi.yaml is stale: run `sodan-console asyncapi`"
    )


def test_json_payloads_are_ids_only() -> None:
    from sodan_console.live import Change

    change = Change(kind="case", case_id=uuid4())
    assert set(json.loads(change.to_json())) == {"kind", "case_id", "client_id"}


async def test_a_requeued_case_returns_to_the_queue_without_its_counsellor(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    from sodan_shared.events.routing import CaseReturnedToQueue, CaseReturnedToQueueV1

    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    me = await _staff_id(counsellor1)
    requeued = CaseReturnedToQueue.new(
        channel="demo",
        caused_by=opened,
        payload=CaseReturnedToQueueV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            previous_counsellor_id=me,  # type: ignore[arg-type]
            reason="counsellor_unavailable",
        ),
    )
    await publish_event(js, requeued)

    async def queued() -> dict[str, Any] | None:
        case = (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]
        return case if case["status"] == "queued" else None

    case = await eventually(queued, what="the case back in the queue")
    assert case["assigned_to"] is None and case["can_act"] is False


def _congestion(level: str, *, at: datetime, queue_length: int) -> CongestionChanged:
    return CongestionChanged.new(
        channel="desk-test",
        occurred_at=at,
        payload=CongestionChangedV1(
            level=level,  # type: ignore[arg-type]
            desk_open=True,
            queue_length=queue_length,
            active_counsellors=2,
            capacity=4,
            free_capacity=0,
            avg_handling_s=None,
            avg_first_response_s=None,
            longest_wait_s=600.0,
            next_wait_s=1200.0,
            window_min=60.0,
        ),
    )


async def test_the_desk_level_routing_announces_is_shown_and_an_older_one_never_wins(
    counsellor1: httpx.AsyncClient, js: JetStreamContext, state: ConsoleState
) -> None:
    now = datetime.now(UTC)
    busy = _congestion("busy", at=now, queue_length=7)
    stale = _congestion("normal", at=now - timedelta(minutes=5), queue_length=0)
    for event in (busy, stale):
        await publish_event(js, event)

    async def shown() -> dict[str, Any] | None:
        found = [
            d for d in (await counsellor1.get("/api/desk")).json() if d["channel"] == "desk-test"
        ]
        return found[0] if found and found[0]["queue_length"] == 7 else None

    desk = await eventually(shown, what="the busy level")
    assert desk["level"] == "busy" and desk["desk_open"] is True
    assert desk["next_wait_s"] == 1200.0

    async def stale_consumed() -> bool:
        async with state.db.sessions() as session:
            found = await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.event_id == stale.id,
                    processed_events.c.consumer == CASES_CONSUMER,
                )
            )
            return found.first() is not None

    await eventually(stale_consumed, what="the stale announcement consumed")
    [again] = [
        d for d in (await counsellor1.get("/api/desk")).json() if d["channel"] == "desk-test"
    ]
    assert again["level"] == "busy"


async def test_an_unanswered_case_is_marked_until_its_counsellor_writes(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, opened = await _assigned_case(keyring, js, counsellor1)
    detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
    assert detail["case"]["unanswered"] is False
    alert = CaseUnanswered.new(
        channel="demo",
        payload=CaseUnansweredV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            counsellor_id=UUID(str(detail["case"]["assigned_to"])),
            assigned_at=datetime.fromisoformat(detail["case"]["assigned_at"]),
            waited_s=600.0,
        ),
    )
    await publish_event(js, alert)

    async def marked() -> bool:
        case = (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]
        return bool(case["unanswered"])

    await eventually(marked, what="the case marked unanswered")
    response = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "お待たせしました"}, headers=CSRF
    )
    assert response.status_code == 202
    assert (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]["unanswered"] is False
