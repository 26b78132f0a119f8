"""Triage as a process sees it: sealed messages in on NATS, scores out."""

import asyncio
import json
from uuid import UUID, uuid4, uuid5

from faststream import FastStream
from nats.aio.client import Client
from nats.js import JetStreamContext
from sodan_shared.crypto import Keyring
from sodan_shared.events.triage import MessageScored
from sodan_shared.nats import publish_event
from sodan_shared.subjects import MESSAGE_RECEIVED, MESSAGE_SCORED
from sodan_shared.testing.factories import make_message_received
from sodan_triage.handlers import DURABLE


async def _client(keyring: Keyring) -> tuple[UUID, int]:
    identity = await keyring.ensure_client(channel="demo", line_user_id="U" + uuid4().hex)
    return identity.client_id, identity.client_no


async def _scores(js: JetStreamContext) -> JetStreamContext.PushSubscription:
    return await js.subscribe(MESSAGE_SCORED.name, ordered_consumer=True)


async def _wait_for_score(sub: JetStreamContext.PushSubscription, event_id: UUID) -> MessageScored:
    async with asyncio.timeout(10):
        while True:
            msg = await sub.next_msg(timeout=10)
            scored = MessageScored.model_validate_json(msg.data)
            if scored.id == event_id:
                return scored


async def _wait_until_consumed(js: JetStreamContext) -> None:
    async with asyncio.timeout(10):
        while True:
            info = await js.consumer_info(MESSAGE_RECEIVED.stream.name, DURABLE)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return
            await asyncio.sleep(0.1)


async def test_a_sealed_critical_message_is_scored_without_its_text(
    triage_app: FastStream, keyring: Keyring, js: JetStreamContext
) -> None:
    client_id, client_no = await _client(keyring)
    cipher = await keyring.cipher(client_id)
    sub = await _scores(js)
    received = make_message_received(cipher=cipher, client_no=client_no, text="もう、ｼﾆﾀｲ")
    await publish_event(js, received)

    scored = await _wait_for_score(sub, uuid5(received.id, "scored"))
    assert scored.causation_id == received.id
    assert scored.correlation_id == received.correlation_id
    assert scored.payload.message_event_id == received.id
    assert scored.payload.client_id == client_id
    assert scored.payload.level == "critical"
    assert scored.payload.matches[0].term_id == "suicide.want_to_die"
    assert scored.payload.lexicon_version
    assert "ｼﾆﾀｲ" not in scored.model_dump_json() and "死" not in scored.model_dump_json()


async def test_an_everyday_message_is_scored_normal(
    triage_app: FastStream, keyring: Keyring, js: JetStreamContext
) -> None:
    client_id, client_no = await _client(keyring)
    sub = await _scores(js)
    received = make_message_received(
        cipher=await keyring.cipher(client_id), client_no=client_no, text="死ぬほど笑った"
    )
    await publish_event(js, received)
    scored = await _wait_for_score(sub, uuid5(received.id, "scored"))
    assert (scored.payload.level, scored.payload.matches) == ("normal", [])


async def test_non_text_erased_and_malformed_messages_are_acked_without_a_score(
    triage_app: FastStream, keyring: Keyring, js: JetStreamContext, nc: Client
) -> None:
    sub = await _scores(js)
    image_client, no = await _client(keyring)
    image = make_message_received(
        cipher=await keyring.cipher(image_client), client_no=no, text=None
    )
    erased_client, no = await _client(keyring)
    erased = make_message_received(
        cipher=await keyring.cipher(erased_client), client_no=no, text="死にたい"
    )
    await keyring.destroy_client(erased_client)
    await publish_event(js, image)
    await publish_event(js, erased)
    await js.publish(MESSAGE_RECEIVED.name, json.dumps({"id": "not an event"}).encode())
    await _wait_until_consumed(js)

    expected = {uuid5(image.id, "scored"), uuid5(erased.id, "scored")}
    try:
        while True:
            msg = await sub.next_msg(timeout=0.5)
            assert MessageScored.model_validate_json(msg.data).id not in expected
    except TimeoutError:
        pass


async def test_a_redelivered_message_gets_the_same_score_id(
    triage_app: FastStream, keyring: Keyring, js: JetStreamContext
) -> None:
    client_id, client_no = await _client(keyring)
    sub = await _scores(js)
    received = make_message_received(
        cipher=await keyring.cipher(client_id), client_no=client_no, text="消えたい"
    )
    await publish_event(js, received)
    first = await _wait_for_score(sub, uuid5(received.id, "scored"))
    # ingress republishing after its dedup window: same event, new stream message
    await js.publish(MESSAGE_RECEIVED.name, received.to_bytes())
    await _wait_until_consumed(js)
    assert first.payload.level == "high"
    seen: list[UUID] = []
    check = await js.subscribe(MESSAGE_SCORED.name, ordered_consumer=True)
    try:
        while True:
            msg = await check.next_msg(timeout=1)
            seen.append(MessageScored.model_validate_json(msg.data).id)
    except TimeoutError:
        pass  # the subject is drained (TRIAGE holds other subjects too)
    assert seen.count(first.id) == 1


async def test_context_keeps_a_concern_after_a_critical_message_critical(
    triage_app: FastStream, keyring: Keyring, js: JetStreamContext
) -> None:
    client_id, client_no = await _client(keyring)
    cipher = await keyring.cipher(client_id)
    sub = await _scores(js)
    levels = []
    for text in ("しにたい", "もう無理", "こんにちは"):
        received = make_message_received(cipher=cipher, client_no=client_no, text=text)
        await publish_event(js, received)
        scored = await _wait_for_score(sub, uuid5(received.id, "scored"))
        levels.append((scored.payload.base_level, scored.payload.level))
    assert levels == [
        ("critical", "critical"),
        ("medium", "critical"),  # kept by context
        ("normal", "normal"),  # context does not invent concern
    ]
