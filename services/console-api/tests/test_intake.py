"""The intake questionnaire as staff see it: アンケート中 in the queue, the answers in the chat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from nats.js import JetStreamContext
from sodan_shared.crypto import Keyring
from sodan_shared.events.line import ReplyRequested, ReplyRequestedV1
from sodan_shared.events.routing import CaseIntakeFinished, CaseIntakeFinishedV1
from sodan_shared.nats import publish_event
from sodan_shared.testing.factories import make_message_received

from .console_support import eventually, every_listed, make_case_opened, new_client


async def test_a_case_in_intake_shows_in_the_queue_then_its_answers_in_the_chat(
    supervisor: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    opened = make_case_opened(identity=identity, first_message_id=received.id, intake=True)
    for event in (received, opened):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def listed() -> dict[str, object] | None:
        items = await every_listed(supervisor)
        return next((c for c in items if c["case_id"] == case_id), None)

    await eventually(listed, what="the case in the queue")
    case = await listed()
    assert case is not None and case["in_intake"] is True and case["status"] == "queued"
    detail = (await supervisor.get(f"/api/cases/{case_id}")).json()["case"]
    assert detail["intake"]["status"] == "running"
    assert detail["intake"]["age_group"] is None

    await publish_event(
        js,
        CaseIntakeFinished.new(
            channel="demo",
            caused_by=opened,
            payload=CaseIntakeFinishedV1(
                case_id=opened.payload.case_id,
                client_id=identity.client_id,
                outcome="completed",
                consent="同意",
                age_group="10代以下",
                region="伊賀",
                gender_identity=cipher.seal("intake.gender_identity", "わからない"),
            ),
        ),
    )

    async def answered() -> bool:
        c = (await supervisor.get(f"/api/cases/{case_id}")).json()["case"]
        return bool(c["intake"]["status"] == "completed")

    await eventually(answered, what="the answers")
    detail = (await supervisor.get(f"/api/cases/{case_id}")).json()["case"]
    assert detail["in_intake"] is False
    assert detail["intake"] == {
        "status": "completed",
        "consent": "同意",
        "age_group": "10代以下",
        "region": "伊賀",
        "gender_identity": "わからない",
    }
    case = await listed()
    assert case is not None and case["in_intake"] is False and case["intake"] is None


async def test_answers_projected_before_the_case_opened_are_kept(
    supervisor: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no)
    queued_at = datetime.now(UTC) - timedelta(hours=1)
    opened = make_case_opened(
        identity=identity, first_message_id=received.id, intake=True, queued_at=queued_at
    )
    finished = CaseIntakeFinished.new(
        channel="demo",
        payload=CaseIntakeFinishedV1(
            case_id=opened.payload.case_id,
            client_id=identity.client_id,
            outcome="urgent",
            consent="同意",
        ),
    )
    for event in (received, finished, opened):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def opened_projected() -> bool:  # case.opened's time replaces the first guess
        r = await supervisor.get(f"/api/cases/{case_id}")
        return r.status_code == 200 and (
            datetime.fromisoformat(r.json()["case"]["opened_at"]) == queued_at
        )

    await eventually(opened_projected, what="the case opened")
    c = (await supervisor.get(f"/api/cases/{case_id}")).json()["case"]
    assert c["in_intake"] is False and c["intake"]["status"] == "urgent"


async def test_an_automatic_question_shows_its_buttons_in_the_chat(
    supervisor: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no)
    opened = make_case_opened(identity=identity, first_message_id=received.id, intake=True)
    question = ReplyRequested.new(
        channel="demo",
        payload=ReplyRequestedV1(
            reply_id=uuid4(),
            client_id=identity.client_id,
            case_id=opened.payload.case_id,
            texts=[cipher.seal("message.text", "年代を教えてください。")],
            quick_replies=cipher.seal(
                "quick_replies",
                json.dumps(
                    [{"label": "20代", "text": "20代"}, {"label": "スキップ", "text": "スキップ"}]
                ),
            ),
        ),
    )
    for event in (received, opened, question):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def shown() -> dict[str, object] | None:
        r = await supervisor.get(f"/api/cases/{case_id}")
        if r.status_code != 200:
            return None
        automatic = [m for m in r.json()["messages"] if m["automatic"]]
        return automatic[0] if automatic else None

    message = await eventually(shown, what="the automatic question in the chat")
    assert message["text"] == "年代を教えてください。"
    assert message["quick_replies"] == ["20代", "スキップ"]
