"""緊急対応モード in the console: the supervisor's switch (command + audit), stored
media served decrypted to staff who may see the case (audited), failures shown."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from console_support import (
    CSRF,
    eventually,
    make_case_assigned,
    make_case_closed,
    make_case_opened,
    new_client,
)
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console.policy import Viewer, can_switch_emergency_mode
from sodan_shared.crypto import ClientCipher, ClientIdentity, Keyring
from sodan_shared.events.console import EmergencyModeAudited, EmergencyModeSet, MediaViewed
from sodan_shared.events.line import (
    MediaFetchFailed,
    MediaFetchFailedV1,
    MediaStored,
    MediaStoredV1,
    MessageReceived,
)
from sodan_shared.media_store import MEDIA_BUCKET, MEDIA_PURPOSE, media_object_name, media_store
from sodan_shared.nats import publish_event
from sodan_shared.subjects import EMERGENCY_MODE_AUDITED, EMERGENCY_MODE_SET, MEDIA_VIEWED
from sodan_shared.testing.factories import make_message_received

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.mark.parametrize(
    ("role", "allowed"), [("supervisor", True), ("counsellor", False), ("admin", False)]
)
def test_only_supervisors_switch_emergency_mode(role: Any, allowed: bool) -> None:
    assert can_switch_emergency_mode(Viewer(staff_id=uuid4(), role=role)) is allowed


async def _me(client: httpx.AsyncClient) -> UUID:
    return UUID((await client.get("/api/me")).json()["staff_id"])


async def _case(
    keyring: Keyring, js: JetStreamContext, counsellor: httpx.AsyncClient
) -> tuple[str, Any, ClientIdentity, ClientCipher]:
    identity, cipher = await new_client(keyring)
    first = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    opened = make_case_opened(identity=identity, first_message_id=first.id)
    assigned = make_case_assigned(opened, counsellor_id=await _me(counsellor))
    for event in (first, opened, assigned):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def ready() -> bool:
        r = await counsellor.get(f"/api/cases/{case_id}")
        return r.status_code == 200 and r.json()["case"]["status"] == "assigned"

    await eventually(ready, what="the assigned case")
    return case_id, opened, identity, cipher


async def _next(sub: Any, event_type: type[Any], where: Any) -> Any:
    while True:
        event = event_type.model_validate_json((await sub.next_msg(timeout=10)).data)
        if where(event):
            return event


async def test_supervisor_switches_it_on_with_a_reason_command_and_audit_are_published(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, _, identity, cipher = await _case(keyring, js, counsellor1)
    commands = await js.subscribe(
        EMERGENCY_MODE_SET.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    audits = await js.subscribe(
        EMERGENCY_MODE_AUDITED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    before = (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]
    assert before["emergency_mode"] is False and before["can_switch_emergency_mode"] is False

    response = await supervisor.put(
        f"/api/cases/{case_id}/emergency-mode",
        json={"enabled": True, "reason": "自傷の写真が送られてくる恐れ"},
        headers=CSRF,
    )

    assert response.status_code == 200, response.text
    assert response.json()["emergency_mode"] is True
    matches = lambda e: str(e.payload.case_id) == case_id  # noqa: E731
    command = await _next(commands, EmergencyModeSet, matches)
    audit = await _next(audits, EmergencyModeAudited, matches)
    sv = await _me(supervisor)
    assert command.payload.enabled is True and command.payload.client_id == identity.client_id
    assert command.payload.staff_id == sv
    assert audit.payload.staff_id == sv and audit.payload.staff_role == "supervisor"
    assert audit.payload.enabled is True and audit.payload.client_id == identity.client_id
    assert "自傷" not in audit.model_dump_json()  # the reason travels sealed
    assert audit.payload.reason is not None
    assert cipher.open("emergency.reason", audit.payload.reason) == "自傷の写真が送られてくる恐れ"
    # Everyone looking at the case sees the badge.
    seen = (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]
    assert seen["emergency_mode"] is True

    off = await supervisor.put(
        f"/api/cases/{case_id}/emergency-mode", json={"enabled": False}, headers=CSRF
    )
    assert off.status_code == 200 and off.json()["emergency_mode"] is False
    command = await _next(commands, EmergencyModeSet, matches)
    audit = await _next(audits, EmergencyModeAudited, matches)
    assert command.payload.enabled is False and audit.payload.enabled is False
    await commands.unsubscribe()
    await audits.unsubscribe()


async def test_counsellors_cannot_switch_and_bad_bodies_get_clear_errors(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, opened, _, _ = await _case(keyring, js, counsellor1)
    url = f"/api/cases/{case_id}/emergency-mode"

    forbidden = await counsellor1.put(url, json={"enabled": True, "reason": "x"}, headers=CSRF)
    no_csrf = await supervisor.put(url, json={"enabled": True, "reason": "x"})
    no_reason = await supervisor.put(url, json={"enabled": True}, headers=CSRF)
    blank = await supervisor.put(url, json={"enabled": True, "reason": "   "}, headers=CSRF)
    too_long = await supervisor.put(url, json={"enabled": True, "reason": "あ" * 501}, headers=CSRF)
    not_bool = await supervisor.put(url, json={"enabled": "maybe", "reason": "x"}, headers=CSRF)
    missing = await supervisor.put(
        f"/api/cases/{uuid4()}/emergency-mode", json={"enabled": False}, headers=CSRF
    )

    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "緊急対応モードの切り替えはスーパーバイザーのみ行えます"
    assert no_csrf.status_code == 403
    assert no_reason.status_code == blank.status_code == too_long.status_code == 422
    assert no_reason.json()["detail"] == "理由: 入力してください"
    assert blank.json()["detail"] == "理由: 入力してください"
    assert too_long.json()["detail"] == "理由: 500文字以内で入力してください"
    assert not_bool.status_code == 422 and not_bool.json()["detail"].startswith("緊急対応モード:")
    assert missing.status_code == 404
    case = (await counsellor1.get(f"/api/cases/{case_id}")).json()["case"]
    assert case["emergency_mode"] is False

    # A closed case cannot be switched on, and closing ends the mode.
    on = await supervisor.put(url, json={"enabled": True, "reason": "確認"}, headers=CSRF)
    assert on.status_code == 200
    await publish_event(js, make_case_closed(opened))

    async def closed() -> dict[str, Any] | None:
        c = (await supervisor.get(f"/api/cases/{case_id}")).json()["case"]
        return c if c["status"] == "closed" else None

    assert (await eventually(closed, what="the closed case"))["emergency_mode"] is False
    again = await supervisor.put(url, json={"enabled": True, "reason": "確認"}, headers=CSRF)
    assert again.status_code == 409


async def _media_message(
    js: JetStreamContext, identity: ClientIdentity, cipher: ClientCipher, kind: str = "image"
) -> MessageReceived:
    received = make_message_received(
        cipher=cipher, client_no=identity.client_no, text=None, kind=kind, media="pending"
    )
    await publish_event(js, received)
    return received


async def _store(js: JetStreamContext, received: MessageReceived, cipher: ClientCipher) -> None:
    """What ingress does after fetching from LINE: seal, put, announce."""
    p = received.payload
    name = media_object_name(p.client_id, p.line_message_id)
    await (await media_store(js)).put(name, cipher.seal_bytes(MEDIA_PURPOSE, PNG))
    await publish_event(
        js,
        MediaStored.new(
            channel="demo",
            caused_by=received,
            payload=MediaStoredV1(
                client_id=p.client_id,
                message_event_id=received.id,
                line_message_id=p.line_message_id,
                kind=p.kind,
                bucket=MEDIA_BUCKET,
                object_name=name,
                content_type="image/png",
                size=len(PNG),
                sha256=hashlib.sha256(PNG).hexdigest(),
            ),
        ),
    )


async def _message(client: httpx.AsyncClient, case_id: str, message_id: UUID) -> Any:
    detail = (await client.get(f"/api/cases/{case_id}")).json()
    found = [m for m in detail["messages"] if m["message_id"] == str(message_id)]
    return found[0] if found else None


async def test_stored_media_is_served_decrypted_to_who_may_see_the_case_and_audited(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, _, identity, cipher = await _case(keyring, js, counsellor1)
    received = await _media_message(js, identity, cipher)

    async def pending() -> Any:
        m = await _message(counsellor1, case_id, received.id)
        return m if m and m["media"] else None

    shown = await eventually(pending, what="the pending media line")
    assert shown["media"] == {
        "status": "pending",
        "content_type": None,
        "size": None,
        "error": None,
        "url": None,
    }
    views = await js.subscribe(
        MEDIA_VIEWED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    await _store(js, received, cipher)

    async def stored() -> Any:
        m = await _message(counsellor1, case_id, received.id)
        return m if m["media"]["status"] == "stored" else None

    media = (await eventually(stored, what="the stored media"))["media"]
    assert media["content_type"] == "image/png" and media["size"] == len(PNG)
    url = media["url"]
    assert url == f"/api/cases/{case_id}/media/{received.id}"

    response = await counsellor1.get(url)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    viewed = await _next(views, MediaViewed, lambda e: e.payload.message_id == received.id)
    assert viewed.payload.staff_id == await _me(counsellor1)
    assert str(viewed.payload.case_id) == case_id and viewed.payload.kind == "image"
    assert (await supervisor.get(url)).status_code == 200
    await _next(views, MediaViewed, lambda e: e.payload.staff_role == "supervisor")
    await views.unsubscribe()

    # Not their case / not logged in / not this case's client / no such media.
    assert (await counsellor2.get(url)).status_code == 403
    assert (await anonymous.get(url)).status_code == 401
    other_case, _, _, _ = await _case(keyring, js, counsellor1)
    assert (
        await counsellor1.get(f"/api/cases/{other_case}/media/{received.id}")
    ).status_code == 404
    assert (await counsellor1.get(f"/api/cases/{case_id}/media/{uuid4()}")).status_code == 404


async def test_fetch_failures_are_shown_and_never_served(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, _, identity, cipher = await _case(keyring, js, counsellor1)
    received = await _media_message(js, identity, cipher, kind="video")
    p = received.payload
    await publish_event(
        js,
        MediaFetchFailed.new(
            channel="demo",
            caused_by=received,
            payload=MediaFetchFailedV1(
                client_id=p.client_id,
                message_event_id=received.id,
                line_message_id=p.line_message_id,
                kind="video",
                reason="expired",
                status=404,
            ),
        ),
    )

    async def failed() -> Any:
        m = await _message(counsellor1, case_id, received.id)
        return m if m and m["media"] and m["media"]["status"] == "failed" else None

    media = (await eventually(failed, what="the failure line"))["media"]
    assert media["error"] == "expired" and media["url"] is None
    served = await counsellor1.get(f"/api/cases/{case_id}/media/{received.id}")
    assert served.status_code == 404
    assert json.loads(served.text)["detail"] == "メディアが見つかりません"


async def test_a_location_kept_in_emergency_mode_is_shown_decrypted(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, _, identity, cipher = await _case(keyring, js, counsellor1)
    place = {"title": "駅前", "address": "大阪市北区", "latitude": 34.7, "longitude": 135.5}
    received = make_message_received(
        cipher=cipher,
        client_no=identity.client_no,
        text=None,
        kind="location",
        location=cipher.seal("message.location", json.dumps(place, ensure_ascii=False)),
    )
    await publish_event(js, received)

    async def shown() -> Any:
        m = await _message(counsellor1, case_id, received.id)
        return m if m and m["location"] else None

    message = await eventually(shown, what="the location")
    assert message["location"] == place and message["media"] is None
