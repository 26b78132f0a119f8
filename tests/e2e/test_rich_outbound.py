"""Stickers, quick replies, the loading animation and 既読 across the real processes:
console → console-api → NATS → ingress → simulated LINE.

Like every end-to-end test without settings of its own, these run on the shared
stack (tests/e2e/conftest.py): each finds its case by its own client's words.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack

from tests.e2e.conftest import Console, eventually


async def _assigned_case(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> tuple[str, str]:
    await counsellor.go_on_duty(stack.database_url)
    user = await sim.create_user()
    words = f"聞いてほしいことがあります（{user.user_id[-6:]}）"
    assert (await sim.send_text(user.user_id, words)).final_status == 200

    # (case_with looks without marking it read: 既読 is what the first test checks)
    case = await counsellor.wait_for_case(words, status="assigned")
    return user.user_id, str(case["case_id"])


async def test_the_counsellor_opening_the_case_marks_it_read_once_a_supervisor_never(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    user_id, case_id = await _assigned_case(stack, sim, counsellor)
    async with httpx.AsyncClient(
        base_url=stack.url("console"), headers={"X-Requested-With": "sodan"}, timeout=10
    ) as client:
        supervisor = Console(client)
        await supervisor.login("supervisor", "demo-pass-sv")
        # The supervisor monitors a new message first: nothing is marked by that.
        assert (await sim.send_text(user_id, "二通目です")).final_status == 200

        async def shown_to_supervisor() -> bool:
            detail: dict[str, Any] = await supervisor.case(case_id)
            return len([m for m in detail["messages"] if m["direction"] == "in"]) == 2

        await eventually(shown_to_supervisor, what="the supervisor sees both messages")
        await asyncio.sleep(2.0)
        assert (await sim.get_user(user_id)).read_marks == 0

    second_id = [e for e in await sim.timeline(user_id) if e.direction == "sent"][-1]
    await counsellor.case(case_id)

    async def marked() -> int:
        return (await sim.get_user(user_id)).read_marks

    assert await eventually(marked, what="既読 on LINE") == 1
    user = await sim.get_user(user_id)
    assert user.read_up_to_message_id == (second_id.message or {}).get("id")
    await counsellor.case(case_id)
    await asyncio.sleep(2.0)
    assert await marked() == 1  # opening again marks nothing new


async def test_sticker_quick_replies_and_typing_reach_the_client_and_the_end_button_ends(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    user_id, case_id = await _assigned_case(stack, sim, counsellor)

    typing = await counsellor.http.post(f"/api/cases/{case_id}/typing")
    assert typing.json() == {"signalled": True}

    async def loading() -> int:
        return (await sim.get_user(user_id)).loading_calls

    assert await eventually(loading, what="the loading animation") == 1

    sent = await counsellor.http.post(
        f"/api/cases/{case_id}/replies",
        json={
            "text": "今は話せますか？",
            "sticker": "thumbs_up",
            "quick_replies": [{"label": "はい", "text": "はい"}],
        },
    )
    assert sent.status_code == 202, sent.text
    text, sticker = await sim.wait_for_inbox(user_id, 2, timeout=30)
    assert text.message["text"] == "今は話せますか？" and "quickReply" not in text.message
    assert (sticker.message["packageId"], sticker.message["stickerId"]) == ("11537", "52002734")
    labels = [i["action"]["label"] for i in sticker.message["quickReply"]["items"]]
    assert labels == ["はい", "相談を終わる"]
    end_text = sticker.message["quickReply"]["items"][-1]["action"]["text"]
    message_id = sent.json()["message"]["message_id"]

    async def shown_sent() -> bool:
        detail: dict[str, Any] = await counsellor.case(case_id)
        [mine] = [m for m in detail["messages"] if m["message_id"] == message_id]
        assert mine["sticker_label"] == "［スタンプ］👍 いいね"
        assert mine["quick_replies"] == ["はい"]
        return bool(mine["delivery"] == "sent")

    await eventually(shown_sent, what="the console shows the sticker message 送信済み")

    refused = await counsellor.http.post(
        f"/api/cases/{case_id}/replies", json={"type": "location", "latitude": 35.0}
    )
    assert refused.status_code == 422

    # The client taps 「相談を終わる」: their LINE sends its text, the end word.
    assert (await sim.send_text(user_id, end_text)).final_status == 200

    async def closed() -> bool:
        detail: dict[str, Any] = await counsellor.case(case_id)
        return bool(detail["case"]["status"] == "closed")

    await eventually(closed, what="the case closed by the end button")
