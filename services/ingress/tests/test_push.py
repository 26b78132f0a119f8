"""The push consumer against real NATS, PostgreSQL and the LINE simulator."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4, uuid5

from line_simulator.client import SimulatorClient
from nats.js import JetStreamContext
from sodan_ingress.outbound import PUSH_CONSUMER
from sodan_ingress.webhook import event_id_for
from sodan_shared.crypto import Keyring
from sodan_shared.deadletter import dead_letter_subject
from sodan_shared.events.line import PushRequested, PushRequestedV1
from sodan_shared.nats import publish_event
from sodan_shared.subjects import LINE_OUT, MESSAGE_RECEIVED, PUSH_REQUESTED, PUSH_RESULT

from .conftest import stream_messages, wait_for_messages


async def _client_of_new_user(sim: SimulatorClient, js: JetStreamContext) -> tuple[str, UUID]:
    """A simulated LINE user who has written once, so ingress knows them."""
    user = await sim.create_user("相談者")
    record = await sim.send_text(user.user_id, "はじめまして")
    assert record.outcome == "delivered"
    event_id = str(event_id_for("demo", record.webhook_event_id))
    [(_, data)] = await wait_for_messages(
        js, MESSAGE_RECEIVED.name, where=lambda d: d["id"] == event_id
    )
    return user.user_id, UUID(data["payload"]["client_id"])


async def _request_push(
    js: JetStreamContext, keyring: Keyring, client_id: UUID, *texts: str
) -> PushRequested:
    cipher = await keyring.cipher(client_id)
    push = PushRequested.new(
        channel="demo",
        payload=PushRequestedV1(
            push_id=uuid4(),
            client_id=client_id,
            texts=[cipher.seal("message.text", t) for t in texts],
            origin="counsellor",
            staff_id=uuid4(),
        ),
    )
    await publish_event(js, push)
    return push


async def _result_of(js: JetStreamContext, push: PushRequested) -> dict[str, Any]:
    result_id = str(uuid5(push.id, "result"))
    found = await wait_for_messages(
        js, PUSH_RESULT.name, where=lambda d: d["id"] == result_id, timeout=15
    )
    assert len(found) == 1, "expected exactly one PushResult"
    return found[0][1]


async def _consumer_idle(js: JetStreamContext, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        info = await js.consumer_info(LINE_OUT.name, PUSH_CONSUMER)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the push consumer did not drain")


async def test_push_request_reaches_the_user_once_and_reports_sent(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)

    push = await _request_push(
        js, keyring, client_id, "相談員の田中です。", "お話を聞かせてください。"
    )

    result = await _result_of(js, push)
    assert result["payload"]["status"] == "sent"
    assert result["payload"]["attempts"] == 1
    assert result["payload"]["line_request_id"]
    assert result["causation_id"] == str(push.id)
    inbox = await sim.wait_for_inbox(user_id, 2)
    assert [e.message["text"] for e in inbox] == ["相談員の田中です。", "お話を聞かせてください。"]
    assert {e.retry_key for e in inbox} == {str(push.payload.push_id)}


async def test_the_same_push_event_twice_is_delivered_once(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    push = await _request_push(js, keyring, client_id, "一度だけ")
    await _result_of(js, push)

    # A replay outside the dedup window: different Nats-Msg-Id is not possible with
    # publish_event, so publish the same event under a fresh message id.
    await js.publish(PUSH_REQUESTED.name, push.to_bytes(), headers={"Nats-Msg-Id": str(uuid4())})

    await _consumer_idle(js)
    await _result_of(js, push)
    inbox = await sim.inbox(user_id)
    assert [e.message["text"] for e in inbox] == ["一度だけ"]


async def test_line_failing_then_recovering_delivers_once(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await sim.add_fault("push", status=500, count=1)

    push = await _request_push(js, keyring, client_id, "再送テスト")

    result = await _result_of(js, push)
    assert result["payload"]["status"] == "sent"
    assert result["payload"]["attempts"] == 2
    inbox = await sim.wait_for_inbox(user_id, 1)
    assert len(inbox) == 1


async def test_answer_lost_after_delivery_counts_as_sent_via_retry_key(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await sim.add_fault("push", status=503, count=1, after_delivery=True)

    push = await _request_push(js, keyring, client_id, "届いているはず")

    result = await _result_of(js, push)
    assert result["payload"]["status"] == "sent"  # the retry got 409: LINE has it
    assert result["payload"]["attempts"] == 2
    assert len(await sim.inbox(user_id)) == 1


async def test_lines_400_is_a_failed_result_at_once(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await sim.add_fault("push", status=400, count=1)

    push = await _request_push(js, keyring, client_id, "届かない")

    result = await _result_of(js, push)
    assert result["payload"]["status"] == "failed"
    assert result["payload"]["attempts"] == 1
    assert result["payload"]["error"].startswith("400")
    assert "届かない" not in result["payload"]["error"]
    assert await sim.inbox(user_id) == []


async def test_line_down_for_every_attempt_ends_failed(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await sim.add_fault("push", status=503, count=3)

    push = await _request_push(js, keyring, client_id, "諦める")

    result = await _result_of(js, push)
    assert result["payload"]["status"] == "failed"
    assert result["payload"]["attempts"] == 3  # push_retry_delays_s has 2 entries in tests
    assert result["payload"]["error"].startswith("503")
    assert await sim.inbox(user_id) == []
    # LINE refusing is an outcome, not a poison message.
    letters = await stream_messages(js, dead_letter_subject(PUSH_REQUESTED.name))
    assert str(push.id) not in {data["id"] for _, data in letters}


async def test_push_to_an_unknown_client_fails_without_calling_line(
    js: JetStreamContext, keyring: Keyring
) -> None:
    identity = await keyring.ensure_client(channel="demo", line_user_id="U" + uuid4().hex)

    push = await _request_push(js, keyring, identity.client_id, "宛先なし")

    result = await _result_of(js, push)
    assert result["payload"]["status"] == "failed"
    assert result["payload"]["error"] == "client_unknown"
