"""The case lifecycle in the console API: the closing form, 保留, 転送, reopening and
the 前回の相談 link, and a supervisor's confirmation to close a 緊急 case."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from console_support import (
    CSRF,
    eventually,
    every_listed,
    make_case_assigned,
    make_case_closed,
    make_case_opened,
    new_client,
)
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_shared.closing import OUTCOMES, TOPICS
from sodan_shared.crypto import ClientCipher, Keyring
from sodan_shared.events.console import CloseCase, DecideClose, HandOverCase, HoldCase
from sodan_shared.events.routing import (
    CaseCloseRequested,
    CaseCloseRequestedV1,
    CaseCommandRefused,
    CaseCommandRefusedV1,
    CaseHandedOver,
    CaseHandedOverV1,
    CaseHoldChanged,
    CaseHoldChangedV1,
    CaseOpened,
    CaseReopened,
    CaseReopenedV1,
)
from sodan_shared.nats import publish_event
from sodan_shared.subjects import CLOSE_CASE, DECIDE_CLOSE, HAND_OVER_CASE, HOLD_CASE, Subject
from sodan_shared.testing.factories import make_message_received

CLOSING = {"outcome": "他機関紹介", "topics": ["家族", "学校・職場"], "send_survey": True}


async def _staff_id(client: httpx.AsyncClient) -> UUID:
    return UUID((await client.get("/api/me")).json()["staff_id"])


async def _case(
    keyring: Keyring, js: JetStreamContext, counsellor: httpx.AsyncClient, **opened_kw: Any
) -> tuple[str, CaseOpened, ClientCipher]:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    opened = make_case_opened(identity=identity, first_message_id=received.id, **opened_kw)
    assigned = make_case_assigned(opened, counsellor_id=await _staff_id(counsellor))
    for event in (received, opened, assigned):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def ready() -> bool:
        response = await counsellor.get(f"/api/cases/{case_id}")
        return response.status_code == 200 and response.json()["case"]["status"] == "assigned"

    await eventually(ready, what="the assigned case")
    return case_id, opened, cipher


async def _command(js: JetStreamContext, subject: Subject, case_id: str, send: Any) -> Any:
    """Send a request and return the command console-api emitted for the case."""
    sub = await js.subscribe(subject.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
    response = await send()
    assert response.status_code == 202, response.text
    while True:
        command = subject.event.model_validate_json((await sub.next_msg(timeout=10)).data)
        if str(command.payload.case_id) == case_id:
            break
    await sub.unsubscribe()
    return command


async def _detail_when(
    client: httpx.AsyncClient, case_id: str, check: Any, what: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        detail: dict[str, Any] = (await client.get(f"/api/cases/{case_id}")).json()
        return detail if check(detail) else None

    return await eventually(probe, what=what)


async def test_the_closing_form_offers_the_shared_lists(counsellor1: httpx.AsyncClient) -> None:
    options = (await counsellor1.get("/api/closing-options")).json()
    assert options["outcomes"] == list(OUTCOMES)
    assert options["topics"] == list(TOPICS)
    assert "役に立った" in options["survey_answers"]


async def test_closing_sends_outcome_topics_and_survey_and_refuses_unknown_ones(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, _, _ = await _case(keyring, js, counsellor1)
    url = f"/api/cases/{case_id}/close"
    unknown = await counsellor1.post(url, json={**CLOSING, "topics": ["宇宙"]}, headers=CSRF)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "不明な相談内容です: 宇宙"
    wrong = await counsellor1.post(url, json={**CLOSING, "outcome": "完了"}, headers=CSRF)
    assert wrong.status_code == 422 and "対応結果" in wrong.json()["detail"]
    missing = await counsellor1.post(url, json={"topics": []}, headers=CSRF)
    assert missing.status_code == 422

    command: CloseCase = await _command(
        js, CLOSE_CASE, case_id, lambda: counsellor1.post(url, json=CLOSING, headers=CSRF)
    )
    p = command.payload
    assert (p.outcome, p.topics, p.send_survey, p.staff_role) == (
        "他機関紹介",
        ["家族", "学校・職場"],
        True,
        "counsellor",
    )


async def test_a_refused_close_shows_its_reason_in_the_case_timeline(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, opened, _ = await _case(keyring, js, counsellor1)
    refused = CaseCommandRefused.new(
        channel="demo",
        payload=CaseCommandRefusedV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            staff_id=await _staff_id(counsellor1),
            command="console.close_case",
            command_id=opened.id,
            reason="不明な相談内容です: 宇宙",
        ),
    )
    await publish_event(js, refused)
    detail = await _detail_when(counsellor1, case_id, lambda d: d["log"], "the refusal")
    (entry,) = detail["log"]
    assert entry["kind"] == "command_refused"
    assert entry["data"]["reason"] == "不明な相談内容です: 宇宙"
    assert detail["case"]["status"] == "assigned"


async def test_hold_is_the_counsellors_and_shows_as_on_hold_until_the_client_replies(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, opened, _ = await _case(keyring, js, counsellor1)
    detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
    assert detail["case"]["can_hold"] is True
    url = f"/api/cases/{case_id}/hold"
    assert (await counsellor2.post(url, json={"hold": True}, headers=CSRF)).status_code == 403
    not_held = await counsellor1.post(url, json={"hold": False}, headers=CSRF)
    assert not_held.status_code == 409
    assert not_held.json()["detail"] == "この相談は保留中ではありません"
    command: HoldCase = await _command(
        js, HOLD_CASE, case_id, lambda: counsellor1.post(url, json={"hold": True}, headers=CSRF)
    )
    assert command.payload.hold is True

    me = await _staff_id(counsellor1)

    def changed(on_hold: bool, by: str) -> CaseHoldChanged:
        return CaseHoldChanged.new(
            channel="demo",
            payload=CaseHoldChangedV1(
                case_id=opened.payload.case_id,
                client_id=opened.payload.client_id,
                counsellor_id=me,
                on_hold=on_hold,
                by=by,
            ),
        )

    await publish_event(js, changed(True, "counsellor"))

    async def listed_on_hold() -> bool:
        items = await every_listed(counsellor1)
        return any(c["case_id"] == case_id and c["status"] == "on_hold" for c in items)

    await eventually(listed_on_hold, what="保留 in the default list")
    await publish_event(js, changed(False, "client"))

    async def resumed() -> dict[str, Any] | None:
        items = await every_listed(counsellor1)
        mine = next(c for c in items if c["case_id"] == case_id)
        return mine if mine["status"] == "assigned" else None

    assert (await eventually(resumed, what="resumed"))["attention"] == "resumed"
    # the counsellor opening the case is what clears the pointer
    await counsellor1.get(f"/api/cases/{case_id}")
    items = await every_listed(counsellor1)
    assert next(c for c in items if c["case_id"] == case_id)["attention"] is None


async def test_a_handover_goes_to_an_available_colleague_with_a_staff_only_note(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, opened, cipher = await _case(keyring, js, counsellor1)
    other = await _staff_id(counsellor2)
    url = f"/api/cases/{case_id}/hand-over"
    await counsellor2.put("/api/me/presence", json={"presence": "away"}, headers=CSRF)
    away = await counsellor1.post(url, json={"to_staff_id": str(other)}, headers=CSRF)
    assert away.status_code == 409
    assert away.json()["detail"] == "引き継ぎ先の相談員はいま対応可ではありません"

    await counsellor2.put("/api/me/presence", json={"presence": "available"}, headers=CSRF)
    targets = (await counsellor1.get(f"/api/cases/{case_id}/handover-targets")).json()
    assert str(other) in [t["staff_id"] for t in targets]
    body = {"to_staff_id": str(other), "note": "家族の話の途中。次は学校のこと"}
    command: HandOverCase = await _command(
        js, HAND_OVER_CASE, case_id, lambda: counsellor1.post(url, json=body, headers=CSRF)
    )
    assert command.payload.to_staff_id == other
    assert command.payload.note is not None and "家族" not in command.payload.note
    assert cipher.open("handover.note", command.payload.note) == body["note"]

    handed = CaseHandedOver.new(
        channel="demo",
        payload=CaseHandedOverV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            from_counsellor_id=await _staff_id(counsellor1),
            to_counsellor_id=other,
            note=command.payload.note,
        ),
    )
    await publish_event(js, handed)
    detail = await _detail_when(
        counsellor2, case_id, lambda d: d.get("case", {}).get("assigned_to") == str(other), "転送"
    )
    assert detail["case"]["attention"] == "handed_over"
    (entry,) = [e for e in detail["log"] if e["kind"] == "handed_over"]
    assert entry["note"] == body["note"]
    # the giver may still read the case they handed over, and no longer act on it
    given = (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]
    assert (given["can_act"], given["can_hand_over"]) == (False, False)
    await counsellor2.put("/api/me/presence", json={"presence": "offline"}, headers=CSRF)


async def test_a_reopened_case_is_open_again_and_a_later_case_links_the_previous(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, opened, _ = await _case(keyring, js, counsellor1)
    await publish_event(js, make_case_closed(opened, by=await _staff_id(counsellor1)))
    await _detail_when(counsellor1, case_id, lambda d: d["case"]["status"] == "closed", "closed")
    reopened = CaseReopened.new(
        channel="demo",
        payload=CaseReopenedV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            message_event_id=opened.payload.first_message_event_id,
            previous_counsellor_id=await _staff_id(counsellor1),
            urgency="high",
        ),
    )
    await publish_event(js, reopened)
    await publish_event(js, make_case_assigned(opened, counsellor_id=await _staff_id(counsellor1)))
    detail = await _detail_when(
        counsellor1, case_id, lambda d: d["case"]["status"] == "assigned", "reopened"
    )
    assert detail["case"]["urgency"] == "high"
    assert detail["case"]["closed_at"] is None
    assert "reopened" in [e["kind"] for e in detail["log"]]

    later_id, _, _ = await _case(keyring, js, counsellor1, previous_case_id=opened.payload.case_id)
    later = (await counsellor1.get(f"/api/cases/{later_id}")).json()
    assert later["case"]["previous_case_id"] == case_id


async def test_closing_a_critical_case_waits_for_a_supervisors_decision(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, opened, _ = await _case(keyring, js, counsellor1, urgency="critical")
    response = await counsellor1.post(f"/api/cases/{case_id}/close", json=CLOSING, headers=CSRF)
    assert response.status_code == 202
    assert response.json()["pending_confirmation"] is True
    assert "スーパーバイザー" in response.json()["notice"]
    decision_url = f"/api/cases/{case_id}/close-decision"
    early = await supervisor.post(decision_url, json={"approve": True}, headers=CSRF)
    assert early.status_code == 409  # nothing to decide until routing records the request

    requested = CaseCloseRequested.new(
        channel="demo",
        payload=CaseCloseRequestedV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            staff_id=await _staff_id(counsellor1),
            outcome=CLOSING["outcome"],  # type: ignore[arg-type]
            topics=CLOSING["topics"],  # type: ignore[arg-type]
        ),
    )
    await publish_event(js, requested)
    detail = await _detail_when(
        supervisor, case_id, lambda d: d["case"]["close_request"] is not None, "the request"
    )
    assert detail["case"]["can_decide_close"] is True
    assert detail["case"]["close_request"]["outcome"] == "他機関紹介"
    assert detail["case"]["close_request"]["staff_name"]
    denied = await counsellor1.post(decision_url, json={"approve": True}, headers=CSRF)
    assert denied.status_code == 403
    again = await counsellor1.post(f"/api/cases/{case_id}/close", json=CLOSING, headers=CSRF)
    assert again.status_code == 409

    command: DecideClose = await _command(
        js,
        DECIDE_CLOSE,
        case_id,
        lambda: supervisor.post(decision_url, json={"approve": False}, headers=CSRF),
    )
    assert command.payload.approve is False
    assert command.payload.staff_id == await _staff_id(supervisor)


async def test_a_supervisor_closes_a_critical_case_without_confirmation(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, _, _ = await _case(keyring, js, counsellor1, urgency="critical")
    command: CloseCase = await _command(
        js,
        CLOSE_CASE,
        case_id,
        lambda: supervisor.post(f"/api/cases/{case_id}/close", json=CLOSING, headers=CSRF),
    )
    assert command.payload.staff_role == "supervisor"
