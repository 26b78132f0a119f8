"""緊急対応モード through every service as separate processes: a supervisor's switch
in the console makes ingress fetch the client's image from LINE (the simulator),
store it sealed, and the console serve it back; closing the case ends it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from line_simulator.client import SimulatorClient
from line_simulator.media import content_for
from line_simulator.state import MediaRef
from sodan_devstack.stack import Stack

from tests.e2e.conftest import Console, eventually
from tests.e2e.test_thin_path import stream_events


async def test_emergency_mode_end_to_end(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    await counsellor.go_on_duty(stack.database_url)
    user = await sim.create_user("緊急テスト")
    words = f"助けてください（{user.user_id[-6:]}）"
    assert (await sim.send_text(user.user_id, words)).final_status == 200

    case_id = str((await counsellor.wait_for_case(words, status="assigned"))["case_id"])
    async with httpx.AsyncClient(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=10
    ) as http:
        supervisor = Console(http)
        await supervisor.login("supervisor", "demo-pass-sv")
        denied = await counsellor.http.put(
            f"/api/cases/{case_id}/emergency-mode", json={"enabled": True, "reason": "x"}
        )
        assert denied.status_code == 403
        on = await http.put(
            f"/api/cases/{case_id}/emergency-mode",
            json={"enabled": True, "reason": "写真で状況を確認する必要がある"},
        )
        assert on.status_code == 200, on.text
        await asyncio.sleep(3.0)  # console outbox → NATS → ingress applies the command

        record = await sim.send_media(user.user_id, "image")
        assert record.message_id is not None
        _, original = content_for(record.message_id, MediaRef("image"))

        async def stored() -> dict[str, Any] | None:
            detail = await counsellor.case(case_id)
            for m in detail["messages"]:
                if m["kind"] == "image" and (m.get("media") or {}).get("status") == "stored":
                    return dict(m)
            return None

        message = await eventually(stored, what="the image stored and shown")
        assert (await counsellor.case(case_id))["case"]["emergency_mode"] is True
        served = await counsellor.http.get(message["media"]["url"])
        assert served.status_code == 200
        assert served.content == original
        assert served.headers["cache-control"] == "no-store"
        assert await sim.inbox(user.user_id) == []  # no refused-media notice

        # The audit trail has the switch and the view, and no stream carries the bytes.
        # (the view's audit event leaves the console through its outbox, a moment later)
        async def audited() -> list[dict[str, Any]] | None:
            found = await stream_events(stack.nats_url, "AUDIT")
            types = {e["type"] for e in found}
            wanted = {"audit.emergency_mode_changed", "audit.media_viewed"}
            return found if wanted <= types else None

        events = await eventually(audited, what="the switch and the view audited")
        assert all("写真で状況" not in json.dumps(e, ensure_ascii=False) for e in events)

        # The supervisor closes the case (directly, even at 緊急): the mode ends, media
        # are refused again.
        closed = await http.post(
            f"/api/cases/{case_id}/close",
            json={"outcome": "他機関紹介", "topics": ["その他"]},
        )
        assert closed.status_code == 202
        await asyncio.sleep(3.0)
        await sim.send_media(user.user_id, "image")
        [notice] = await sim.wait_for_inbox(user.user_id, 1, timeout=30)
        assert "受け取れません" in notice.message["text"]
