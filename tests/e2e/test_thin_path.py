"""The thin path through every service as separate processes.

simulated LINE user → ingress → triage → routing → console-api → counsellor
reply → ingress → simulated LINE user.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import nats
from line_simulator.client import SimulatorClient
from sodan_devstack.stack import Stack

from tests.e2e.conftest import Console, eventually

T = TypeVar("T")
JST = ZoneInfo("Asia/Tokyo")


def texts_of(case: dict[str, Any], direction: str) -> list[str]:
    return [m["text"] for m in case["messages"] if m["direction"] == direction and m.get("text")]


async def test_a_client_message_reaches_a_counsellor_and_the_reply_reaches_the_client(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    await counsellor.go_on_duty(stack.database_url)
    user = await sim.create_user("テスト利用者")

    words = "はじめまして。相談してもいいですか"
    delivery = await sim.send_text(user.user_id, words)
    assert delivery.outcome == "delivered"
    assert delivery.final_status == 200

    # The assignment and the message reach the console by separate consumers:
    # the case is found once both are projected.
    case = await counsellor.wait_for_case(words, status="assigned")
    shown = texts_of(await counsellor.case(str(case["case_id"])), "in")
    assert shown == [words]

    await counsellor.reply(str(case["case_id"]), "こんばんは。相談員です。どうぞお話しください。")
    inbox = await sim.wait_for_inbox(user.user_id, 1, timeout=30)
    assert [e.message["text"] for e in inbox] == ["こんばんは。相談員です。どうぞお話しください。"]

    async def reply_sent() -> bool:
        detail = await counsellor.case(str(case["case_id"]))
        return any(
            m["direction"] == "out" and m.get("delivery") == "sent" for m in detail["messages"]
        )

    await eventually(reply_sent, what="the console shows the reply as sent")

    # One trace follows the message across processes (context in NATS headers).
    events: list[dict[str, Any]] = []

    async def scored() -> dict[str, Any] | None:
        # Triage may still be loading its lexicon when the case is already open.
        events[:] = await stream_events(stack.nats_url, "LINE_IN", "TRIAGE", "CASES")
        return _trace_of(events, str(case["case_id"]))

    trace = await eventually(scored, what="triage scored the message")
    assert trace["line.message_received"]["trace_id"]
    # (case.assigned is not listed: it belongs to whichever event made the
    # assignment possible, the message or the counsellor becoming available.)
    for derived in ("triage.message_scored", "case.opened"):
        assert trace[derived]["trace_id"] == trace["line.message_received"]["trace_id"], derived
    # and nothing on the stream carries the text in clear
    assert all("相談" not in json.dumps(e, ensure_ascii=False) for e in events)


def _trace_of(events: list[dict[str, Any]], case_id: str) -> dict[str, Any] | None:
    """The case's opening, its first message as received and that message's score,
    by type, once all three are on the streams (other tests' events are there too)."""
    opened = next(
        (e for e in events if e["type"] == "case.opened" and e["payload"]["case_id"] == case_id),
        None,
    )
    if opened is None:
        return None
    first = opened["payload"]["first_message_event_id"]
    received = next((e for e in events if e["id"] == first), None)
    score = next(
        (
            e
            for e in events
            if e["type"] == "triage.message_scored" and e["payload"]["message_event_id"] == first
        ),
        None,
    )
    if received is None or score is None:
        return None
    return {
        "case.opened": opened,
        "line.message_received": received,
        "triage.message_scored": score,
    }


async def stream_events(nats_url: str, *streams: str) -> list[dict[str, Any]]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        events = []
        for stream in streams:
            info = await js.stream_info(stream)
            sub = await js.subscribe("", stream=stream, ordered_consumer=True)
            for _ in range(info.state.messages):
                events.append(json.loads((await sub.next_msg(timeout=5)).data))
            await sub.unsubscribe()
        return events
    finally:
        await nc.close()
