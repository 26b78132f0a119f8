"""Supervisors' controls through every service as separate processes: manual pick-up,
a take-over the counsellor sees, and the two editors answered by the real routing."""

from __future__ import annotations

from typing import Any

import httpx
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack

from tests.e2e.conftest import Console, eventually, until_routing_knows


async def test_manual_pick_up_take_over_and_the_editors_end_to_end(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    async with httpx.AsyncClient(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=15
    ) as http:
        supervisor = Console(http)
        await supervisor.login("supervisor", "demo-pass-sv")
        switched = await http.put("/api/assignment-mode", json={"mode": "manual"})
        assert switched.status_code == 200, switched.text
        assert switched.json()["status"] == "applied"
        await counsellor.go_on_duty(stack.database_url)

        try:
            await _manual_pick_up_take_over_and_the_editors(stack, sim, counsellor, supervisor)
        finally:
            # put the shared desk back as the other tests expect it
            await supervisor.set_presence("offline")
            back = await http.put("/api/assignment-mode", json={"mode": "auto"})
            assert back.status_code == 200


async def _manual_pick_up_take_over_and_the_editors(
    stack: Stack, sim: SimulatorClient, counsellor: Console, supervisor: Console
) -> None:
    http = supervisor.http
    user = await sim.create_user("手動テスト")
    words = f"相談したいです（{user.user_id[-6:]}）"
    assert (await sim.send_text(user.user_id, words)).final_status == 200

    case_id = str((await counsellor.wait_for_case(words, status="queued"))["case_id"])
    picked = await counsellor.http.post(f"/api/cases/{case_id}/pick")
    assert picked.status_code == 200, picked.text
    assert picked.json()["status"] == "assigned"
    again = await counsellor.http.post(f"/api/cases/{case_id}/pick")
    assert again.status_code == 409
    assert again.json()["reason"] == "already_assigned"

    # the supervisor takes it over; it leaves the counsellor's console
    await supervisor.set_presence("available")
    me = (await http.get("/api/me")).json()["staff_id"]

    await until_routing_knows(stack.database_url, "staff_id = :s", s=me)
    taken = await http.post(f"/api/cases/{case_id}/take-over")
    assert taken.status_code == 200, taken.text

    async def gone() -> bool:
        # no longer theirs: still readable (they once had it), no longer theirs to act on
        r = await counsellor.http.get(f"/api/cases/{case_id}?mark_read=false")
        return r.status_code == 200 and r.json()["case"]["can_act"] is False

    await eventually(gone, what="the case left the counsellor")

    # routing answers the editors: a text applied, one refused, a monthly calendar
    body = "順番にお返事しています。{estimated_wait}お待ちください。"
    saved = await http.put("/api/auto-texts/queued", json={"body": body})
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "applied"
    refused = await http.put(
        "/api/auto-texts/closed", json={"body": "性の相談窓口です。次は {next_opening} です。"}
    )
    assert refused.status_code == 422
    assert "routing が保存を断りました" in refused.json()["detail"]
    rules = [{"kind": "weekly", "weekday": 1, "nth": 2, "starts": "18:00", "ends": "21:00"}]
    hours = await http.put("/api/hours", json={"rules": rules})
    assert hours.status_code == 200, hours.text

    async def calendar() -> dict[str, Any] | None:
        data = (await http.get("/api/hours")).json()
        return data if not data["is_seeded"] else None

    shown = await eventually(calendar, what="the applied calendar")
    assert shown["rules"][0]["nth"] == 2
    assert all("（火）18:00〜21:00" in s["label"] for s in shown["upcoming"])
