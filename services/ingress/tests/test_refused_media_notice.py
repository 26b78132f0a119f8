"""The refused-media notice, through the LINE simulator: sent at once, once."""

from __future__ import annotations

import asyncio
from uuid import uuid5

import httpx
from line_simulator.client import SimulatorClient
from line_simulator.webhook import make_location_event, make_media_event
from nats.js import JetStreamContext
from sodan_ingress.replies import REFUSED_NOTICE_CONSUMER, REPLY_CONSUMER
from sodan_ingress.settings import IngressSettings
from sodan_ingress.webhook import event_id_for
from sodan_shared.subjects import LINE_IN, LINE_OUT, PUSH_RESULT

from .conftest import signed_webhook, wait_for_messages

END_BUTTON = {
    "items": [
        {"type": "action", "action": {"type": "message", "label": "相談を終わる", "text": "終了"}}
    ]
}
NOTICE = IngressSettings.model_fields["ingress_refused_media_notice"].default


async def _idle(js: JetStreamContext, stream: str, consumer: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        info = await js.consumer_info(stream, consumer)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{consumer} did not drain")


async def _drained(js: JetStreamContext) -> None:
    await _idle(js, LINE_IN.name, REFUSED_NOTICE_CONSUMER)
    await _idle(js, LINE_OUT.name, REPLY_CONSUMER)


async def test_an_image_gets_the_notice_by_reply_once_even_when_the_webhook_is_redelivered(
    sim: SimulatorClient, js: JetStreamContext, http: httpx.AsyncClient, ingress_url: str
) -> None:
    user = await sim.create_user("相談者")

    record = await sim.send_media(user.user_id, "image")

    [entry] = await sim.wait_for_inbox(user.user_id, 1)
    assert entry.via == "reply"
    assert entry.message == {"type": "text", "text": NOTICE, "quickReply": END_BUTTON}
    reply_id = uuid5(event_id_for("demo", record.webhook_event_id), "refused-notice")
    [(_, result)] = await wait_for_messages(
        js, PUSH_RESULT.name, where=lambda d: d["payload"]["push_id"] == str(reply_id)
    )
    assert result["payload"]["status"] == "sent"

    # LINE redelivers the same event (a lost 200): same ids, isRedelivery set.
    assert record.message_id is not None
    redelivered = make_media_event(
        "image",
        user_id=user.user_id,
        message_id=record.message_id,
        webhook_event_id=record.webhook_event_id,
        is_redelivery=True,
    )
    webhook = signed_webhook([redelivered])
    answer = await http.post(
        f"{ingress_url}/line/webhook/demo", content=webhook.body, headers=webhook.headers
    )
    assert answer.status_code == 200
    await _drained(js)
    await asyncio.sleep(0.3)
    assert len(await sim.inbox(user.user_id)) == 1


async def test_an_expired_reply_token_falls_back_to_a_push_with_the_reply_id_as_retry_key(
    sim: SimulatorClient, js: JetStreamContext, http: httpx.AsyncClient, ingress_url: str
) -> None:
    user = await sim.create_user("相談者")
    # A reply token the simulator never issued: LINE answers 400 "Invalid reply token".
    event = make_location_event(user_id=user.user_id, reply_token="expired-token")
    webhook = signed_webhook([event])

    answer = await http.post(
        f"{ingress_url}/line/webhook/demo", content=webhook.body, headers=webhook.headers
    )

    assert answer.status_code == 200
    [entry] = await sim.wait_for_inbox(user.user_id, 1)
    reply_id = uuid5(event_id_for("demo", event["webhookEventId"]), "refused-notice")
    assert entry.via == "push"
    assert entry.retry_key == str(reply_id)
    assert entry.message["text"] == NOTICE
    await _drained(js)
    assert len(await sim.inbox(user.user_id)) == 1


async def test_text_and_stickers_get_no_notice(sim: SimulatorClient, js: JetStreamContext) -> None:
    user = await sim.create_user("相談者")

    await sim.send_text(user.user_id, "こんにちは")
    await sim.send_sticker(user.user_id)
    await sim.send_media(user.user_id, "file")  # the marker: its notice comes after

    [entry] = await sim.wait_for_inbox(user.user_id, 1)
    assert entry.message["text"] == NOTICE
    await _drained(js)
    assert len(await sim.inbox(user.user_id)) == 1
