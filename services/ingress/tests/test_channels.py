"""Several LINE official accounts on one ingress: each with its own secret, token
and simulator; a webhook finds its channel by path or, path-less, by signature."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID, uuid4, uuid5

import httpx
import pytest
from line_simulator.client import SimulatorClient
from line_simulator.webhook import make_text_event, make_webhook_body, sign, webhook_headers
from nats.js import JetStreamContext
from pydantic import SecretStr
from sodan_ingress.channels import Channel, ChannelRegistry
from sodan_ingress.webhook import event_id_for
from sodan_shared.crypto import Keyring
from sodan_shared.events.line import PushRequested, PushRequestedV1
from sodan_shared.nats import publish_event
from sodan_shared.subjects import MESSAGE_RECEIVED, PUSH_RESULT, WEBHOOK_REJECTED

from .conftest import BOT_USER_ID, YOUTH, signed_webhook, stream_messages, wait_for_messages


@pytest.fixture
async def youth_sim(youth_simulator_url: str, ingress_url: str) -> AsyncIterator[SimulatorClient]:
    async with SimulatorClient(youth_simulator_url) as client:
        await client.configure(webhook_url=f"{ingress_url}/line/webhook/youth")
        await client.clear_faults()
        yield client


async def _first_message(
    sim: SimulatorClient, js: JetStreamContext, *, channel: str
) -> tuple[str, dict[str, object]]:
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "はじめまして")
    assert record.outcome == "delivered", record
    event_id = str(event_id_for(channel, record.webhook_event_id))
    [(_, data)] = await wait_for_messages(
        js, MESSAGE_RECEIVED.name, where=lambda d: d["id"] == event_id
    )
    return user.user_id, data


async def test_a_second_channel_receives_and_pushes_with_its_own_credentials(
    youth_sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, data = await _first_message(youth_sim, js, channel="youth")
    assert data["channel"] == "youth"
    client_id = UUID(str(data["payload"]["client_id"]))  # type: ignore[index]

    cipher = await keyring.cipher(client_id)
    push = PushRequested.new(
        channel="youth",
        payload=PushRequestedV1(
            push_id=uuid4(),
            client_id=client_id,
            texts=[cipher.seal("message.text", "お返事です")],
            origin="counsellor",
        ),
    )
    await publish_event(js, push)

    result_id = str(uuid5(push.id, "result"))
    [(_, result)] = await wait_for_messages(
        js, PUSH_RESULT.name, where=lambda d: d["id"] == result_id, timeout=15
    )
    assert result["payload"]["status"] == "sent"  # the youth simulator accepted youth's token
    inbox = await youth_sim.wait_for_inbox(user_id, count=1)
    assert [m.message["text"] for m in inbox] == ["お返事です"]


async def test_a_pathless_webhook_is_matched_by_whose_secret_signed_it(
    youth_sim: SimulatorClient, ingress_url: str, js: JetStreamContext
) -> None:
    await youth_sim.configure(webhook_url=f"{ingress_url}/line/webhook")
    _, data = await _first_message(youth_sim, js, channel="youth")
    assert data["channel"] == "youth"


async def test_a_body_signed_for_one_channel_is_refused_on_anothers_path(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    event = make_text_event(text="こんにちは")
    hook = signed_webhook([event])  # demo's secret

    response = await http.post(
        f"{ingress_url}/line/webhook/youth", content=hook.body, headers=hook.headers
    )

    assert response.status_code == 401
    assert not await stream_messages(
        js,
        MESSAGE_RECEIVED.name,
        where=lambda d: d["payload"].get("webhook_event_id") == event["webhookEventId"],
    )


async def test_a_pathless_webhook_no_secret_signed_is_refused_and_audited(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    body = make_webhook_body(BOT_USER_ID, [make_text_event(text="x")])
    headers = webhook_headers(body, "a-secret-nobody-has")

    response = await http.post(f"{ingress_url}/line/webhook", content=body, headers=headers)

    assert response.status_code == 401
    found = await wait_for_messages(
        js,
        WEBHOOK_REJECTED.name,
        where=lambda d: d["channel"] == "unmatched" and d["payload"]["body_size"] == len(body),
    )
    assert found, "the forged path-less webhook left no audit entry"


async def test_a_body_addressed_to_another_account_is_a_clear_400(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    event = make_text_event(text="宛先違い")
    body = make_webhook_body(BOT_USER_ID, [event])  # demo's account, youth's secret

    response = await http.post(
        f"{ingress_url}/line/webhook/youth",
        content=body,
        headers=webhook_headers(body, YOUTH.channel_secret),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "wrong_destination"
    assert not await stream_messages(
        js,
        MESSAGE_RECEIVED.name,
        where=lambda d: d["payload"].get("webhook_event_id") == event["webhookEventId"],
    )


def test_signed_by_finds_the_one_channel_whose_secret_matches() -> None:
    registry = ChannelRegistry(
        [
            Channel(
                channel_id=name, secret=SecretStr(f"{name}-secret"), access_token=SecretStr("t")
            )
            for name in ("a", "b", "c")
        ]
    )
    body = b'{"destination": "", "events": []}'
    found = registry.signed_by(body, sign(body, "b-secret"))
    assert found is not None and found.channel_id == "b"
    assert registry.signed_by(body, sign(body, "z-secret")) is None
    assert registry.signed_by(body, "not base64 at all") is None


def test_destination_is_checked_only_when_both_sides_are_known() -> None:
    channel = Channel(
        channel_id="a", secret=SecretStr("s"), access_token=SecretStr("t"), bot_user_id=BOT_USER_ID
    )
    assert channel.is_destination(BOT_USER_ID)
    assert channel.is_destination("")
    assert not channel.is_destination(YOUTH.bot_user_id)
    # anyone can put any text there: it must be a "no", never an error (found by the fuzz test)
    assert not channel.is_destination("\u0080宛先")
    assert Channel(
        channel_id="b", secret=SecretStr("s"), access_token=SecretStr("t")
    ).is_destination(YOUTH.bot_user_id)
