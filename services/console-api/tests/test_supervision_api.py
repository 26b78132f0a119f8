"""Supervisors' screens and controls through the API: automatic texts, the calendar,
capacity, the assignment mode, pick-up, reassign, take-over and handback notices.
A stand-in answers for routing (supervise_support.FakeRouting)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from console_support import CSRF, STAFF, eventually, logged_in, make_case_opened, new_client
from sodan_console.presence_sweep import sweep_once
from sodan_console.state import ConsoleState
from sodan_shared.auto_texts import AUTO_TEXT_KEYS
from sodan_shared.crypto import Keyring
from sodan_shared.db import transaction
from sodan_shared.events.console import StaffPresenceChanged, StaffPresenceChangedV1
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseAssignedV1,
    CaseReturnedToQueue,
    CaseReturnedToQueueV1,
)
from sodan_shared.nats import publish_event
from sodan_shared.subjects import STAFF_CAPACITY_SET, STAFF_PRESENCE_CHANGED
from sqlalchemy import text
from supervise_support import FakeRouting

C1 = STAFF["counsellor1"].staff_id
C2 = STAFF["counsellor2"].staff_id
SV = STAFF["supervisor"].staff_id


@pytest.fixture
async def routing(state: ConsoleState) -> AsyncIterator[FakeRouting]:
    fake = FakeRouting(state.broker.connection)
    await fake.start()
    yield fake
    await fake.stop()


async def open_case(
    state: ConsoleState, keyring: Keyring, routing: FakeRouting, *, assigned_to: UUID | None = None
) -> UUID:
    identity, _ = await new_client(keyring)
    opened = make_case_opened(identity=identity, first_message_id=uuid4())
    js = state.broker.connection.jetstream()
    await publish_event(js, opened)
    if assigned_to is not None:
        await publish_event(
            js,
            CaseAssigned.new(
                channel="demo",
                caused_by=opened,
                payload=CaseAssignedV1(
                    case_id=opened.payload.case_id,
                    client_id=identity.client_id,
                    counsellor_id=assigned_to,
                ),
            ),
        )
    case_id = opened.payload.case_id
    routing.cases[case_id] = (identity.client_id, assigned_to)
    return case_id


async def case_of(client: httpx.AsyncClient, case_id: UUID) -> dict[str, Any] | None:
    response = await client.get(f"/api/cases/{case_id}?mark_read=false")
    return response.json()["case"] if response.status_code == 200 else None


# --- roles ---------------------------------------------------------------------------


async def test_counsellors_may_not_use_supervisor_screens_or_controls(
    counsellor1: httpx.AsyncClient,
) -> None:
    case = uuid4()
    for method, path, body in (
        ("GET", "/api/staff", None),
        ("PUT", f"/api/staff/{C2}/capacity", {"capacity": 2}),
        ("PUT", "/api/assignment-mode", {"mode": "manual"}),
        ("POST", f"/api/cases/{case}/reassign", {"to_staff_id": str(C2)}),
        ("POST", f"/api/cases/{case}/take-over", None),
        ("GET", "/api/auto-texts", None),
        ("PUT", "/api/auto-texts/queued", {"body": "お待ちください"}),
        ("GET", "/api/hours", None),
        ("PUT", "/api/hours", {"rules": []}),
        ("POST", "/api/hours/preview", {"rules": []}),
        ("GET", "/api/handbacks", None),
        ("GET", "/api/closing-categories", None),
        ("PUT", "/api/closing-categories", {"outcomes": ["その他"], "topics": ["その他"]}),
    ):
        response = await counsellor1.request(method, path, json=body, headers=CSRF)
        assert response.status_code == 403, (method, path, response.text)
        assert "スーパーバイザー" in response.json()["detail"]
    # every staff member sees the mode in the top bar
    assert (await counsellor1.get("/api/assignment-mode")).status_code == 200


# --- the closing form's lists ------------------------------------------------------------


async def test_edited_closing_lists_are_applied_and_offered_by_the_closing_form(
    supervisor: httpx.AsyncClient, counsellor1: httpx.AsyncClient, routing: FakeRouting
) -> None:
    from sodan_shared.closing import OUTCOMES, TOPICS

    before = (await supervisor.get("/api/closing-categories")).json()
    assert before["outcomes"] == list(OUTCOMES) and before["is_default"]
    edited = {"outcomes": [*OUTCOMES, "医療機関を紹介"], "topics": [*TOPICS, "住まい"]}
    saved = await supervisor.put("/api/closing-categories", json=edited, headers=CSRF)
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "applied"
    try:

        async def offered() -> dict[str, Any] | None:
            options = (await counsellor1.get("/api/closing-options")).json()
            return options if "住まい" in options["topics"] else None

        options = await eventually(offered, what="the closing form offering the new topic")
        assert options["outcomes"][-1] == "医療機関を紹介"
        listed = (await supervisor.get("/api/closing-categories")).json()
        assert listed["updated_by_name"] == STAFF["supervisor"].display_name
        assert not listed["is_default"]
    finally:  # other tests close cases with the default lists
        restored = {"outcomes": list(OUTCOMES), "topics": list(TOPICS)}
        await supervisor.put("/api/closing-categories", json=restored, headers=CSRF)


@pytest.mark.parametrize(
    ("outcomes", "topics", "why"),
    [
        (["その他", "その他"], ["家族"], "対応結果「その他」が重複しています"),
        ([], ["家族"], "対応結果を1つ以上入れてください"),
        (["その他"], ["あ" * 31], "30文字まで"),
        (["その他"], ["家族\n学校"], "改行"),
        (["その他"], [" 家族"], "前後の空白"),
    ],
)
async def test_bad_closing_lists_get_422_saying_why_and_send_nothing(
    supervisor: httpx.AsyncClient,
    routing: FakeRouting,
    outcomes: list[str],
    topics: list[str],
    why: str,
) -> None:
    body = {"outcomes": outcomes, "topics": topics}
    response = await supervisor.put("/api/closing-categories", json=body, headers=CSRF)
    assert response.status_code == 422
    assert why in response.json()["detail"]
    assert routing.commands == []


# --- automatic texts -------------------------------------------------------------------


async def test_every_automatic_text_is_listed_with_its_description_and_placeholders(
    supervisor: httpx.AsyncClient,
) -> None:
    response = await supervisor.get("/api/auto-texts")
    assert response.status_code == 200
    texts = {t["key"]: t for t in response.json()}
    assert set(texts) == set(AUTO_TEXT_KEYS)  # hours, congestion, survey and intake texts
    assert {"out_of_hours", "survey", "intake_consent"} <= set(texts)
    out = texts["out_of_hours"]
    assert out["label"] == "時間外の案内"
    assert "{next_opening}" in out["default_body"]
    assert {p["name"] for p in out["placeholders"]} == {"next_opening", "phone", "emergency"}
    assert all(p["description"] for p in out["placeholders"])


async def test_a_saved_text_is_applied_by_routing_and_listed(
    supervisor: httpx.AsyncClient, routing: FakeRouting
) -> None:
    body = "ただいま順番にお返事しています。{estimated_wait}お待ちください。"
    response = await supervisor.put("/api/auto-texts/queued", json={"body": body}, headers=CSRF)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"

    async def listed() -> dict[str, Any] | None:
        texts = {t["key"]: t for t in (await supervisor.get("/api/auto-texts")).json()}
        return texts["queued"] if texts["queued"]["body"] == body else None

    queued = await eventually(listed, what="the applied text projected")
    assert queued["last_outcome"] == "applied"
    assert queued["updated_by_name"] == STAFF["supervisor"].display_name
    assert not queued["is_default"]


async def test_a_text_with_an_unknown_placeholder_gets_422_and_sends_nothing(
    supervisor: httpx.AsyncClient, routing: FakeRouting
) -> None:
    response = await supervisor.put(
        "/api/auto-texts/queued", json={"body": "次は {next_opening} です"}, headers=CSRF
    )
    assert response.status_code == 422
    assert "差し込み" in response.json()["detail"]
    assert "{next_opening}" in response.json()["detail"]
    response = await supervisor.put("/api/auto-texts/queued", json={"body": ""}, headers=CSRF)
    assert response.status_code == 422
    assert (
        await supervisor.put("/api/auto-texts/nope", json={"body": "x"}, headers=CSRF)
    ).status_code == 404
    assert routing.commands == []


async def test_a_text_routing_refuses_comes_back_with_routings_reason(
    supervisor: httpx.AsyncClient, routing: FakeRouting
) -> None:
    response = await supervisor.put(
        "/api/auto-texts/closed",
        json={"body": "性的少数者の相談窓口です。次は {next_opening} です。"},
        headers=CSRF,
    )
    assert response.status_code == 422
    assert "routing が保存を断りました" in response.json()["detail"]
    assert "ロック画面" in response.json()["detail"]

    async def refused() -> dict[str, Any] | None:
        texts = {t["key"]: t for t in (await supervisor.get("/api/auto-texts")).json()}
        return texts["closed"] if texts["closed"]["last_outcome"] == "refused" else None

    closed = await eventually(refused, what="the refusal projected")
    assert "性的少数者" not in closed["body"]  # the text in use did not change


# --- the calendar -------------------------------------------------------------------


MONTHLY = [
    {"kind": "weekly", "weekday": 1, "nth": 2, "starts": "18:00", "ends": "21:00"},
    {
        "kind": "weekly",
        "weekday": 6,
        "nth": -1,
        "starts": "13:00",
        "ends": "16:00",
        "holidays": "any",
        "note": "最終日曜",
    },
    {"kind": "closed", "day": "2030-01-08"},
]


async def test_the_calendar_preview_shows_the_next_openings_of_a_draft(
    supervisor: httpx.AsyncClient,
) -> None:
    response = await supervisor.post("/api/hours/preview", json={"rules": MONTHLY}, headers=CSRF)
    assert response.status_code == 200, response.text
    sessions = response.json()
    assert len(sessions) == 8
    assert all(
        "（火）18:00〜21:00" in s["label"] or "（日）13:00〜16:00" in s["label"] for s in sessions
    )


async def test_a_wrong_calendar_gets_422_saying_which_rule(
    supervisor: httpx.AsyncClient, routing: FakeRouting
) -> None:
    bad = [MONTHLY[0], {"kind": "dated", "starts": "10:00", "ends": "12:00"}]
    response = await supervisor.put("/api/hours", json={"rules": bad}, headers=CSRF)
    assert response.status_code == 422
    assert "rule 2" in response.json()["detail"]
    response = await supervisor.put(
        "/api/hours", json={"rules": [{**MONTHLY[0], "nth": 7}]}, headers=CSRF
    )
    assert response.status_code == 422
    response = await supervisor.put("/api/hours", json={"rules": []}, headers=CSRF)
    assert response.status_code == 422
    assert "1つ" in response.json()["detail"]
    assert routing.commands == []


async def test_a_saved_calendar_is_applied_and_shown(
    supervisor: httpx.AsyncClient, routing: FakeRouting
) -> None:
    response = await supervisor.put("/api/hours", json={"rules": MONTHLY}, headers=CSRF)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"

    async def saved() -> dict[str, Any] | None:
        data = (await supervisor.get("/api/hours")).json()
        return data if not data["is_seeded"] and len(data["rules"]) == 3 else None

    data = await eventually(saved, what="the calendar projected")
    assert data["rules"][0]["nth"] == 2
    assert data["rules"][1]["note"] == "最終日曜"
    assert data["last_outcome"] == "applied"
    assert data["upcoming"]


# --- capacity -----------------------------------------------------------------------------


async def test_a_supervisor_sets_a_counsellors_capacity_and_routing_hears_it(
    supervisor: httpx.AsyncClient, state: ConsoleState
) -> None:
    nc = state.broker.connection
    seen: list[tuple[str, dict[str, Any]]] = []

    async def collect(msg: Any) -> None:
        seen.append((msg.subject, json.loads(msg.data)))

    subs = [
        await nc.subscribe(STAFF_PRESENCE_CHANGED.name, cb=collect),
        await nc.subscribe(STAFF_CAPACITY_SET.name, cb=collect),
    ]
    try:
        before = {s["staff_id"]: s for s in (await supervisor.get("/api/staff")).json()}
        original = before[str(C2)]["capacity"]
        response = await supervisor.put(
            f"/api/staff/{C2}/capacity", json={"capacity": 5}, headers=CSRF
        )
        assert response.status_code == 200, response.text
        assert response.json()["capacity"] == 5

        async def both() -> bool:
            return {s for s, _ in seen} == {STAFF_PRESENCE_CHANGED.name, STAFF_CAPACITY_SET.name}

        await eventually(both, what="presence and audit events")
        presence = next(p for s, p in seen if s == STAFF_PRESENCE_CHANGED.name)["payload"]
        assert (presence["staff_id"], presence["capacity"]) == (str(C2), 5)
        audit = next(p for s, p in seen if s == STAFF_CAPACITY_SET.name)["payload"]
        assert audit["staff_id"] == str(SV)
        assert (audit["previous_capacity"], audit["capacity"]) == (original, 5)
    finally:
        for sub in subs:
            await sub.unsubscribe()
        await supervisor.put(f"/api/staff/{C2}/capacity", json={"capacity": original}, headers=CSRF)


async def test_a_capacity_out_of_range_or_for_nobody_is_refused(
    supervisor: httpx.AsyncClient,
) -> None:
    response = await supervisor.put(
        f"/api/staff/{C2}/capacity", json={"capacity": 21}, headers=CSRF
    )
    assert response.status_code == 422
    assert response.json()["detail"]
    response = await supervisor.put(
        f"/api/staff/{C2}/capacity", json={"capacity": "many"}, headers=CSRF
    )
    assert response.status_code == 422
    response = await supervisor.put(
        f"/api/staff/{uuid4()}/capacity", json={"capacity": 2}, headers=CSRF
    )
    assert response.status_code == 404


# --- assignment mode, pick, reassign, take over ------------------------------------------


async def test_the_assignment_mode_switches_and_every_staff_member_sees_it(
    supervisor: httpx.AsyncClient, counsellor1: httpx.AsyncClient, routing: FakeRouting
) -> None:
    try:
        response = await supervisor.put(
            "/api/assignment-mode", json={"mode": "manual"}, headers=CSRF
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "applied", "mode": "manual"}

        async def manual() -> dict[str, Any] | None:
            data = (await counsellor1.get("/api/assignment-mode")).json()
            return data if data["mode"] == "manual" else None

        data = await eventually(manual, what="the mode projected")
        assert data["changed_by_name"] == STAFF["supervisor"].display_name
        bad = await supervisor.put("/api/assignment-mode", json={"mode": "random"}, headers=CSRF)
        assert bad.status_code == 422
    finally:
        await supervisor.put("/api/assignment-mode", json={"mode": "auto"}, headers=CSRF)


async def test_a_counsellor_picks_a_queued_case(
    counsellor1: httpx.AsyncClient, state: ConsoleState, keyring: Keyring, routing: FakeRouting
) -> None:
    case_id = await open_case(state, keyring, routing)
    await eventually(lambda: case_of(counsellor1, case_id), what="the case projected")
    response = await counsellor1.post(f"/api/cases/{case_id}/pick", headers=CSRF)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"

    async def mine() -> bool:
        case = await case_of(counsellor1, case_id)
        return case is not None and case["assigned_to"] == str(C1)

    await eventually(mine, what="the case assigned to the picker")


async def test_a_pick_routing_refuses_gets_409_with_the_reason(
    counsellor1: httpx.AsyncClient, state: ConsoleState, keyring: Keyring, routing: FakeRouting
) -> None:
    case_id = await open_case(state, keyring, routing)
    routing.refuse[case_id] = ("auto_mode", "自動割当中は相談を選べません")
    await eventually(lambda: case_of(counsellor1, case_id), what="the case projected")
    response = await counsellor1.post(f"/api/cases/{case_id}/pick", headers=CSRF)
    assert response.status_code == 409
    assert response.json() == {"detail": "自動割当中は相談を選べません", "reason": "auto_mode"}
    unknown = await counsellor1.post(f"/api/cases/{uuid4()}/pick", headers=CSRF)
    assert unknown.status_code == 404


async def test_a_counsellor_cannot_pick_a_colleagues_case_by_its_id(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    state: ConsoleState,
    keyring: Keyring,
    routing: FakeRouting,
) -> None:
    case_id = await open_case(state, keyring, routing, assigned_to=C1)
    await eventually(lambda: case_of(counsellor1, case_id), what="counsellor1 sees their case")
    response = await counsellor2.post(f"/api/cases/{case_id}/pick", headers=CSRF)
    assert response.status_code == 403
    assert response.json()["detail"] == "この相談を表示する権限がありません"
    assert not [c for c in routing.commands if c.payload.case_id == case_id]


async def test_a_supervisor_reassigns_a_case_and_it_leaves_the_previous_counsellor(
    supervisor: httpx.AsyncClient,
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    state: ConsoleState,
    keyring: Keyring,
    routing: FakeRouting,
) -> None:
    case_id = await open_case(state, keyring, routing, assigned_to=C1)
    await eventually(lambda: case_of(counsellor1, case_id), what="counsellor1 sees their case")
    response = await supervisor.post(
        f"/api/cases/{case_id}/reassign", json={"to_staff_id": str(C2)}, headers=CSRF
    )
    assert response.status_code == 200, response.text
    await eventually(lambda: case_of(counsellor2, case_id), what="counsellor2 sees it")

    async def gone() -> bool:
        # theirs no longer: they may still read it (they once had it), not act on it
        response = await counsellor1.get(f"/api/cases/{case_id}?mark_read=false")
        return response.status_code == 200 and response.json()["case"]["can_act"] is False

    await eventually(gone, what="the case left counsellor1")
    (command,) = [c for c in routing.commands if c.payload.case_id == case_id]
    assert (command.payload.staff_id, command.payload.to_staff_id) == (SV, C2)


async def test_reassigning_to_nobody_or_an_admin_is_422_and_a_take_over_goes_to_the_supervisor(
    supervisor: httpx.AsyncClient, state: ConsoleState, keyring: Keyring, routing: FakeRouting
) -> None:
    case_id = await open_case(state, keyring, routing, assigned_to=C1)
    await eventually(lambda: case_of(supervisor, case_id), what="the case projected")
    response = await supervisor.post(
        f"/api/cases/{case_id}/reassign", json={"to_staff_id": str(uuid4())}, headers=CSRF
    )
    assert response.status_code == 422
    assert "担当先" in response.json()["detail"]
    response = await supervisor.post(
        f"/api/cases/{case_id}/reassign", json={"to_staff_id": "x"}, headers=CSRF
    )
    assert response.status_code == 422
    response = await supervisor.post(f"/api/cases/{case_id}/take-over", headers=CSRF)
    assert response.status_code == 200, response.text
    assert response.json()["counsellor_id"] == str(SV)
    (command,) = [c for c in routing.commands if c.payload.case_id == case_id]
    assert command.payload.to_staff_id == SV


# --- handback notices ---------------------------------------------------------------------


async def test_cases_handed_back_when_a_counsellor_goes_offline_make_one_notice(
    supervisor: httpx.AsyncClient, state: ConsoleState, keyring: Keyring, routing: FakeRouting
) -> None:
    js = state.broker.connection.jetstream()
    offline = StaffPresenceChanged.new(
        channel="demo",
        payload=StaffPresenceChangedV1(
            staff_id=C2, role="counsellor", presence="offline", capacity=3
        ),
    )
    for _ in range(2):
        case_id = await open_case(state, keyring, routing, assigned_to=C2)
        client_id = routing.cases[case_id][0]
        await publish_event(
            js,
            CaseReturnedToQueue.new(
                channel="demo",
                caused_by=offline,
                payload=CaseReturnedToQueueV1(
                    case_id=case_id,
                    client_id=client_id,
                    previous_counsellor_id=C2,
                    reason="counsellor_unavailable",
                ),
            ),
        )

    async def notice() -> dict[str, Any] | None:
        items = (await supervisor.get("/api/handbacks")).json()
        found = [h for h in items if h["id"] == str(offline.id)]
        return found[0] if found and found[0]["cases"] == 2 else None

    item = await eventually(notice, what="one notice for both cases")
    assert item["counsellor_name"] == STAFF["counsellor2"].display_name
    assert item["reason"] == "counsellor_unavailable"


# --- a session that ends without logging out ------------------------------------------


async def test_a_counsellor_whose_session_ended_goes_offline_and_routing_hears_it(
    app: Any, state: ConsoleState
) -> None:
    client = await logged_in(app, "counsellor2")
    try:
        response = await client.put(
            "/api/me/presence", json={"presence": "available"}, headers=CSRF
        )
        assert response.status_code == 200
        async with transaction(state.db.sessions) as session:  # idle for two hours
            await session.execute(
                text(
                    "UPDATE console.sessions SET last_seen_at = now() - interval '2 hours' "
                    "WHERE staff_id = :s"
                ),
                {"s": C2},
            )
        nc = state.broker.connection
        seen: list[dict[str, Any]] = []

        async def collect(msg: Any) -> None:
            seen.append(json.loads(msg.data)["payload"])

        sub = await nc.subscribe(STAFF_PRESENCE_CHANGED.name, cb=collect)
        try:
            assert await sweep_once(state) >= 1

            async def offline() -> dict[str, Any] | None:
                found = [p for p in seen if p["staff_id"] == str(C2)]
                return found[0] if found else None

            event = await eventually(offline, what="StaffPresenceChanged offline")
        finally:
            await sub.unsubscribe()
        assert event["presence"] == "offline"
        response = await client.get("/api/me")
        assert response.status_code == 401  # the idle session is over as well
    finally:
        await client.aclose()
