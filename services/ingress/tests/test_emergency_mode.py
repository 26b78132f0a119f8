"""Emergency mode: a supervisor's switch makes ingress fetch a client's media from
LINE (the simulator's content API), seal it into the object store and record it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from uuid import UUID, uuid4

import pytest
from line_simulator.client import SimulatorClient
from line_simulator.media import content_for
from line_simulator.state import MediaRef
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sodan_ingress.media import fetch_verdict
from sodan_ingress.webhook import event_id_for, is_refused, keeps_location, should_fetch_media
from sodan_shared.crypto import Keyring, SealedValueError
from sodan_shared.events.console import EmergencyModeSet, EmergencyModeSetV1
from sodan_shared.events.routing import CaseClosed, CaseClosedV1
from sodan_shared.media_store import MEDIA_PURPOSE, media_store
from sodan_shared.nats import publish_event
from sodan_shared.subjects import MEDIA_FETCH_FAILED, MEDIA_STORED, MESSAGE_RECEIVED

from .conftest import wait_for_messages
from .test_push import _client_of_new_user

# ---- decisions --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["image", "video", "audio", "file"])
def test_media_is_fetched_only_in_emergency_mode(kind: Any) -> None:
    assert should_fetch_media(kind, emergency=True)
    assert not should_fetch_media(kind, emergency=False)
    assert is_refused(kind) and not is_refused(kind, emergency=True)


def test_location_is_kept_not_fetched_and_unknown_is_always_refused() -> None:
    assert keeps_location("location", emergency=True)
    assert not keeps_location("location", emergency=False)
    assert not should_fetch_media("location", emergency=True)
    assert not is_refused("location", emergency=True)
    assert is_refused("unknown", emergency=True)
    assert not should_fetch_media("text", emergency=True)
    assert not should_fetch_media("sticker", emergency=True)


@pytest.mark.parametrize(
    ("status", "too_large", "attempt", "verdict"),
    [
        (200, False, 1, "store"),
        (200, True, 1, "too_large"),
        (404, False, 1, "expired"),
        (410, False, 1, "expired"),
        (429, False, 1, "retry"),
        (500, False, 2, "retry"),
        (0, False, 2, "retry"),  # timeout
        (503, False, 3, "unavailable"),  # the last attempt records the failure
    ],
)
def test_fetch_verdict(status: int, too_large: bool, attempt: int, verdict: str) -> None:
    assert fetch_verdict(status, too_large=too_large, attempt=attempt, max_attempts=3) == verdict


# ---- through the simulator ----------------------------------------------------


async def _switch(js: JetStreamContext, client_id: UUID, case_id: UUID, *, on: bool) -> None:
    command = EmergencyModeSet.new(
        channel="demo",
        payload=EmergencyModeSetV1(
            case_id=case_id, client_id=client_id, enabled=on, staff_id=uuid4()
        ),
    )
    await publish_event(js, command)
    # The command's consumer applies it within a moment; a message sent before
    # that is (correctly) still refused, so wait for it to be applied.
    await asyncio.sleep(1.5)


async def _received(js: JetStreamContext, webhook_event_id: str) -> dict[str, Any]:
    event_id = str(event_id_for("demo", webhook_event_id))
    [(_, data)] = await wait_for_messages(
        js, MESSAGE_RECEIVED.name, where=lambda d: d["id"] == event_id
    )
    return data


async def _outcome(js: JetStreamContext, subject: str, message_event_id: str) -> dict[str, Any]:
    [(_, data)] = await wait_for_messages(
        js,
        subject,
        where=lambda d: d["payload"]["message_event_id"] == message_event_id,
        timeout=15.0,
    )
    return data


async def _no_notice(sim: SimulatorClient, user_id: str) -> None:
    await asyncio.sleep(1.0)
    assert await sim.inbox(user_id) == []


async def test_in_emergency_mode_an_image_is_stored_sealed_and_no_notice_is_sent(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    case_id = uuid4()
    await _switch(js, client_id, case_id, on=True)

    record = await sim.send_media(user_id, "image")

    received = await _received(js, record.webhook_event_id)
    assert received["payload"]["refused"] is False
    assert received["payload"]["media"] == "pending"
    stored = await _outcome(js, MEDIA_STORED.name, received["id"])
    p = stored["payload"]
    assert record.message_id is not None
    content_type, original = content_for(record.message_id, MediaRef("image"))
    assert p["content_type"] == content_type
    assert p["size"] == len(original)
    assert p["sha256"] == hashlib.sha256(original).hexdigest()
    assert "data" not in json.dumps(p)  # sizes and digests only, never content

    blob = (await (await media_store(js)).get(p["object_name"])).data
    assert blob != original and original not in blob
    cipher = await keyring.cipher(client_id)
    assert cipher.open_bytes(MEDIA_PURPOSE, blob) == original
    with pytest.raises(SealedValueError):
        cipher.open_bytes("message.text", blob)  # bound to its purpose
    await _no_notice(sim, user_id)

    # The client unsends it: the sealed copy is deleted too.
    await sim.unsend(user_id, record.message_id)
    store = await media_store(js)
    for _ in range(50):
        try:
            await store.get_info(p["object_name"])
        except Exception:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the unsent media was not deleted")


async def test_location_is_kept_sealed_in_emergency_mode(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await _switch(js, client_id, uuid4(), on=True)

    record = await sim.send_location(user_id, latitude=34.7, longitude=135.5)

    received = await _received(js, record.webhook_event_id)
    assert received["payload"]["refused"] is False
    assert received["payload"]["media"] is None
    cipher = await keyring.cipher(client_id)
    place = json.loads(cipher.open("message.location", received["payload"]["location"]))
    assert place["latitude"] == 34.7 and place["longitude"] == 135.5
    assert place["title"] == "東京駅"
    await _no_notice(sim, user_id)


async def test_expired_content_and_too_large_files_are_recorded_as_failures(
    sim: SimulatorClient, js: JetStreamContext
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await _switch(js, client_id, uuid4(), on=True)
    # LINE no longer has it: the content API answers 404 from the start. (Not a
    # simulator-wide fault: another test's download could take it.)
    expired = await sim.send_media(user_id, "video", content_expired=True)
    big = await sim.send_media(user_id, "file", file_name="big.pdf", file_size=200_000)

    failed = await _outcome(
        js, MEDIA_FETCH_FAILED.name, (await _received(js, expired.webhook_event_id))["id"]
    )
    assert failed["payload"]["reason"] == "expired"
    assert failed["payload"]["status"] == 404
    too_big = await _outcome(
        js, MEDIA_FETCH_FAILED.name, (await _received(js, big.webhook_event_id))["id"]
    )
    assert too_big["payload"]["reason"] == "too_large"
    await _no_notice(sim, user_id)


async def test_rate_limits_are_retried_and_lasting_failure_is_recorded(
    sim: SimulatorClient, js: JetStreamContext
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await _switch(js, client_id, uuid4(), on=True)

    await sim.add_fault("content", status=429, count=1)
    retried = await sim.send_media(user_id, "audio")
    stored = await _outcome(
        js, MEDIA_STORED.name, (await _received(js, retried.webhook_event_id))["id"]
    )
    assert stored["payload"]["kind"] == "audio"

    await sim.add_fault("content", status=500, count=None)
    try:
        down = await sim.send_media(user_id, "image")
        failed = await _outcome(
            js, MEDIA_FETCH_FAILED.name, (await _received(js, down.webhook_event_id))["id"]
        )
    finally:
        await sim.clear_faults()
    assert failed["payload"]["reason"] == "unavailable"
    assert failed["payload"]["status"] == 500


async def test_off_again_or_after_the_case_closed_media_is_refused_with_the_notice(
    sim: SimulatorClient, js: JetStreamContext
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    case_id = uuid4()
    await _switch(js, client_id, case_id, on=True)
    await _switch(js, client_id, case_id, on=False)

    off = await sim.send_media(user_id, "image")
    assert (await _received(js, off.webhook_event_id))["payload"]["refused"] is True
    await sim.wait_for_inbox(user_id, 1)

    await _switch(js, client_id, case_id, on=True)
    # Another case's close leaves the mode alone; its own case's close ends it.
    for closed_case in (uuid4(), case_id):
        await publish_event(
            js,
            CaseClosed.new(
                channel="demo", payload=CaseClosedV1(case_id=closed_case, client_id=client_id)
            ),
        )
        await asyncio.sleep(1.5)
        record = await sim.send_media(user_id, "image")
        payload = (await _received(js, record.webhook_event_id))["payload"]
        assert payload["refused"] is (closed_case == case_id)
    inbox = await sim.wait_for_inbox(user_id, 2)
    assert len(inbox) == 2  # the notice for the refused ones only


async def test_an_unsend_while_the_download_runs_leaves_nothing_stored(
    sim: SimulatorClient, js: JetStreamContext
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await _switch(js, client_id, uuid4(), on=True)
    await sim.add_fault("content", delay_ms=2500, count=1)  # a slow download

    record = await sim.send_media(user_id, "image")
    assert record.message_id is not None
    await sim.unsend(user_id, record.message_id)  # while LINE is still sending it
    event_id = (await _received(js, record.webhook_event_id))["id"]

    await asyncio.sleep(5.0)
    store = await media_store(js)
    with pytest.raises(NotFoundError):
        await store.get_info(f"{client_id}/{record.message_id}")
    stored = await wait_for_messages(
        js,
        MEDIA_STORED.name,
        where=lambda d: d["payload"]["message_event_id"] == event_id,
        timeout=0.5,
    )
    assert stored == []
