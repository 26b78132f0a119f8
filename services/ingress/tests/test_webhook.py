"""The webhook endpoint against real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from line_simulator.webhook import (
    make_image_event,
    make_location_event,
    make_sticker_event,
    make_text_event,
    new_user_id,
    sign,
)
from nats.js import JetStreamContext
from sodan_devstack.nats import NatsServer
from sodan_ingress.main import create_app
from sodan_ingress.webhook import event_id_for
from sodan_shared.subjects import LINE_IN, MESSAGE_RECEIVED, WEBHOOK_REJECTED

from .conftest import ingress_settings, serving, signed_webhook, stream_messages, wait_for_messages

WEBHOOK = "/line/webhook/demo"


def _with_id(event_id: object) -> object:
    return lambda data: data["id"] == str(event_id)


async def _post(
    http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await http.post(url, content=body, headers=headers)


async def test_signed_text_is_published_sealed_before_200(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    user_id = new_user_id()
    event = make_text_event(text="死にたいと思うことがある", user_id=user_id)
    hook = signed_webhook([event])

    response = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)

    assert response.status_code == 200
    assert response.json() == {"accepted": 1}
    event_id = event_id_for("demo", event["webhookEventId"])
    found = await stream_messages(js, MESSAGE_RECEIVED.name, where=_with_id(event_id))
    assert len(found) == 1
    raw, data = found[0]
    payload = data["payload"]
    assert payload["kind"] == "text"
    assert payload["refused"] is False
    assert payload["text"].startswith("v1.")
    assert payload["line_user_id"].startswith("v1.")
    assert payload["reply_token"].startswith("v1.")
    assert payload["webhook_event_id"] == event["webhookEventId"]
    for secret in ("死にたい", user_id, event["replyToken"]):
        assert secret.encode() not in raw
        assert json.dumps(secret).encode() not in raw


async def test_sealed_text_opens_with_the_clients_key(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext, keyring: object
) -> None:
    event = make_text_event(text="相談したいです")
    hook = signed_webhook([event])
    assert (await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)).status_code == 200
    event_id = event_id_for("demo", event["webhookEventId"])
    [(_, data)] = await stream_messages(js, MESSAGE_RECEIVED.name, where=_with_id(event_id))
    from uuid import UUID

    cipher = await keyring.cipher(UUID(data["payload"]["client_id"]))  # type: ignore[attr-defined]
    assert cipher.open("message.text", data["payload"]["text"]) == "相談したいです"
    assert cipher.open("line_user_id", data["payload"]["line_user_id"]) == event["source"]["userId"]


async def test_the_same_webhook_event_delivered_twice_is_one_event(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    event = make_text_event(text="もう一度")
    hook = signed_webhook([event])

    first = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)
    second = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)

    assert (first.status_code, second.status_code) == (200, 200)
    event_id = event_id_for("demo", event["webhookEventId"])
    assert len(await stream_messages(js, MESSAGE_RECEIVED.name, where=_with_id(event_id))) == 1


async def test_forged_signature_is_401_and_audited_and_nothing_published(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    event = make_text_event(text="偽物")
    hook = signed_webhook([event], secret="not-the-channel-secret")
    line_in_before = (await js.stream_info(LINE_IN.name)).state.messages

    response = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)

    assert response.status_code == 401
    audits = await wait_for_messages(
        js, WEBHOOK_REJECTED.name, where=lambda d: d["payload"]["body_size"] == len(hook.body)
    )
    assert len(audits) == 1
    raw, data = audits[0]
    assert data["payload"]["reason"] == "bad_signature"
    assert data["payload"]["source_address"] == "127.0.0.1"
    assert data["payload"]["count"] == 1
    assert "偽物".encode() not in raw
    assert (await js.stream_info(LINE_IN.name)).state.messages == line_in_before


async def test_missing_signature_is_401_without_reading_the_body(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    hook = signed_webhook([make_text_event()])
    headers = {k: v for k, v in hook.headers.items() if k != "X-Line-Signature"}
    line_in_before = (await js.stream_info(LINE_IN.name)).state.messages

    response = await _post(http, ingress_url + WEBHOOK, hook.body, headers)

    assert response.status_code == 401
    (_, data), *_ = await wait_for_messages(
        js, WEBHOOK_REJECTED.name, where=lambda d: d["payload"]["reason"] == "missing_signature"
    )
    assert data["payload"] == {
        "reason": "missing_signature",
        "source_address": "127.0.0.1",
        "body_size": None,
        "count": 1,
        "since": None,
    }
    assert (await js.stream_info(LINE_IN.name)).state.messages == line_in_before


async def test_a_flood_of_forgeries_is_audited_first_at_once_then_as_one_count(
    http: httpx.AsyncClient, nats_url: str, migrated_database_url: str, js: JetStreamContext
) -> None:
    # a body size of this test's own tells its entries from other tests'
    hook = signed_webhook([make_text_event(text="洪水" * 777)], secret="not-the-channel-secret")
    mine = len(hook.body)
    settings = ingress_settings(nats_url, migrated_database_url, ingress_rejection_window_s=1.0)
    async with serving(create_app(settings)) as url:
        first = await _post(http, url + WEBHOOK, hook.body, hook.headers)
        assert first.status_code == 401
        audits = await wait_for_messages(
            js, WEBHOOK_REJECTED.name, where=lambda d: d["payload"]["body_size"] == mine
        )
        assert [d["payload"]["count"] for _, d in audits] == [1]

        flood = await asyncio.gather(
            *(_post(http, url + WEBHOOK, hook.body, hook.headers) for _ in range(40))
        )
        assert {r.status_code for r in flood} == {401}
        # the window's end, not the server's stop, publishes the count: 41 rejections
        # in all, however the windows fell
        for _ in range(100):
            audits = await stream_messages(
                js, WEBHOOK_REJECTED.name, where=lambda d: d["payload"]["body_size"] == mine
            )
            counts = [d["payload"]["count"] for _, d in audits]
            if sum(counts) >= 41:
                break
            await asyncio.sleep(0.1)
    assert counts[0] == 1 and sum(counts) == 41, counts
    assert len(counts) <= 4, counts
    assert all(d["payload"]["since"] for _, d in audits if d["payload"]["count"] > 1)


async def test_unknown_channel_is_404(http: httpx.AsyncClient, ingress_url: str) -> None:
    hook = signed_webhook([make_text_event()])
    response = await _post(http, ingress_url + "/line/webhook/nope", hook.body, hook.headers)
    assert response.status_code == 404


async def test_malformed_json_is_400_with_a_clear_error(
    http: httpx.AsyncClient, ingress_url: str
) -> None:
    for body in (b"{not json", b'{"destination":"U1"}', b'{"events":[{"type":"message"}]}', b"[]"):
        headers = {
            "Content-Type": "application/json",
            "X-Line-Signature": sign(body, "sodan-demo-channel-secret"),
        }
        response = await _post(http, ingress_url + WEBHOOK, body, headers)
        assert response.status_code == 400, body
        assert response.json()["error"] == "malformed_body"


async def test_oversized_body_is_413(http: httpx.AsyncClient, ingress_url: str) -> None:
    hook = signed_webhook([make_text_event(text="あ" * 30_000)])  # ~90 KB > 64 KiB limit
    response = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)
    assert response.status_code == 413


async def test_oversized_chunked_body_is_413(http: httpx.AsyncClient, ingress_url: str) -> None:
    hook = signed_webhook([make_text_event(text="あ" * 30_000)])

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(hook.body), 8192):
            yield hook.body[i : i + 8192]

    response = await http.post(ingress_url + WEBHOOK, content=chunks(), headers=hook.headers)
    assert response.status_code == 413


async def test_verify_button_with_no_events_is_200(
    http: httpx.AsyncClient, ingress_url: str
) -> None:
    hook = signed_webhook([])
    response = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)
    assert response.status_code == 200
    assert response.json() == {"accepted": 0}


async def test_image_and_location_are_refused_and_never_downloaded(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    image, location = make_image_event(), make_location_event()
    hook = signed_webhook([image, location])

    response = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)

    assert response.status_code == 200
    for event, kind in ((image, "image"), (location, "location")):
        event_id = event_id_for("demo", event["webhookEventId"])
        [(raw, data)] = await stream_messages(js, MESSAGE_RECEIVED.name, where=_with_id(event_id))
        assert data["payload"]["kind"] == kind
        assert data["payload"]["refused"] is True
        assert data["payload"]["text"] is None
    assert "東京駅".encode() not in raw


async def test_sticker_is_accepted_as_a_message(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    sticker = make_sticker_event()
    hook = signed_webhook([sticker])

    response = await _post(http, ingress_url + WEBHOOK, hook.body, hook.headers)

    assert response.status_code == 200
    assert response.json() == {"accepted": 1}
    event_id = event_id_for("demo", sticker["webhookEventId"])
    [(_, data)] = await stream_messages(js, MESSAGE_RECEIVED.name, where=_with_id(event_id))
    assert data["payload"]["kind"] == "sticker"
    assert data["payload"]["refused"] is False


async def test_simulated_user_text_reaches_the_stream(sim: object, js: JetStreamContext) -> None:
    user = await sim.create_user("テスト")  # type: ignore[attr-defined]
    record = await sim.send_text(user.user_id, "こんにちは")  # type: ignore[attr-defined]
    assert record.outcome == "delivered"
    event_id = event_id_for("demo", record.webhook_event_id)
    found = await wait_for_messages(js, MESSAGE_RECEIVED.name, where=_with_id(event_id))
    assert len(found) == 1


async def test_nats_down_means_503_so_line_redelivers(
    http: httpx.AsyncClient, migrated_database_url: str, tmp_path: Path
) -> None:
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        settings = ingress_settings(server.url, migrated_database_url)
        async with serving(create_app(settings)) as url:
            assert (await http.get(url + "/readyz")).status_code == 200
            server.stop()
            hook = signed_webhook([make_text_event()])
            response = await _post(http, url + WEBHOOK, hook.body, hook.headers)
            assert response.status_code == 503
            assert (await http.get(url + "/readyz")).status_code == 503
            assert (await http.get(url + "/healthz")).status_code == 200
    finally:
        server.stop()


async def test_health_and_readiness(http: httpx.AsyncClient, ingress_url: str) -> None:
    assert (await http.get(ingress_url + "/healthz")).json() == {"status": "ok"}
    ready = await http.get(ingress_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "nats": "ok", "database": "ok"}
