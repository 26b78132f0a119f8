"""Unsent messages disappear for good; personal-data flags reach the counsellor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from console_support import (
    CSRF,
    eventually,
    make_case_assigned,
    make_case_opened,
    make_message_unsent,
    new_client,
)
from nats.js import JetStreamContext
from sodan_console.db.tables import messages, processed_events, unsent_messages
from sodan_console.handlers import SCORES_CONSUMER, UNFOLLOWS_CONSUMER, UNSEND_CONSUMER
from sodan_console.state import ConsoleState
from sodan_shared.crypto import ClientCipher, ClientIdentity, Keyring
from sodan_shared.events.line import (
    ClientFollowed,
    ClientFollowedV1,
    ClientUnfollowed,
    ClientUnfollowedV1,
    MessageReceived,
    PushResult,
    PushResultV1,
    ReplyRequested,
    ReplyRequestedV1,
)
from sodan_shared.events.triage import UrgencyMatch
from sodan_shared.nats import publish_event
from sodan_shared.subjects import MESSAGE_UNSENT
from sodan_shared.testing.factories import make_message_received, make_message_scored
from sqlalchemy import func, select


async def _case_with(
    counsellor: httpx.AsyncClient,
    js: JetStreamContext,
    identity: ClientIdentity,
    first: MessageReceived,
) -> str:
    opened = make_case_opened(identity=identity, first_message_id=first.id)
    me = (await counsellor.get("/api/me")).json()["staff_id"]
    for event in (opened, make_case_assigned(opened, counsellor_id=UUID(me))):
        await publish_event(js, event)
    return str(opened.payload.case_id)


async def _messages(counsellor: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    response = await counsellor.get(f"/api/cases/{case_id}")
    if response.status_code != 200:
        return []
    found: list[dict[str, Any]] = response.json()["messages"]
    return found


async def _rows(state: ConsoleState, line_message_id: str) -> int:
    async with state.db.sessions() as session:
        count = (
            await session.execute(
                select(func.count())
                .select_from(messages)
                .where(messages.c.line_message_id == line_message_id)
            )
        ).scalar_one()
    return int(count)


async def _processed(state: ConsoleState, event_id: UUID, consumer: str) -> bool:
    async with state.db.sessions() as session:
        row = (
            await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.event_id == event_id,
                    processed_events.c.consumer == consumer,
                )
            )
        ).first()
    return row is not None


def _text(cipher: ClientCipher, identity: ClientIdentity, text: str, **kw: Any) -> MessageReceived:
    return make_message_received(cipher=cipher, client_no=identity.client_no, text=text, **kw)


async def test_unsend_after_the_message_removes_it_from_the_chat_and_the_table(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext, state: ConsoleState
) -> None:
    identity, cipher = await new_client(keyring)
    keep = _text(cipher, identity, "残るメッセージ")
    gone = _text(cipher, identity, "090-1234-5678 に電話して")
    case_id = await _case_with(counsellor1, js, identity, keep)
    for event in (keep, gone, make_message_scored(gone, level="medium", score=1.0)):
        await publish_event(js, event)

    async def both_shown() -> list[dict[str, Any]] | None:
        msgs = await _messages(counsellor1, case_id)
        return msgs if len(msgs) == 2 and msgs[1]["urgency"] == "medium" else None

    await eventually(both_shown, what="both messages, the second scored")
    await publish_event(js, make_message_unsent(gone))

    async def only_kept() -> list[dict[str, Any]] | None:
        msgs = await _messages(counsellor1, case_id)
        lines = [(m["kind"], m["text"]) for m in msgs]
        return msgs if lines == [("text", "残るメッセージ"), ("unsent", None)] else None

    shown = await eventually(only_kept, what="the unsent message replaced by a line saying so")
    tombstone = shown[1]
    # The line says only that something was unsent: no score, no flags, no text.
    assert tombstone["urgency"] is None and tombstone["matched_terms"] == []
    assert tombstone["personal_data"] == [] and tombstone["direction"] == "in"
    assert await _rows(state, gone.payload.line_message_id) == 0  # ciphertext deleted too
    assert await _rows(state, keep.payload.line_message_id) == 1


async def test_a_message_unsent_before_it_arrives_is_never_shown(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext, state: ConsoleState
) -> None:
    identity, cipher = await new_client(keyring)
    first = _text(cipher, identity, "最初")
    early = _text(cipher, identity, "取り消したメッセージ")
    unsend = make_message_unsent(early)
    score = make_message_scored(early, level="high", score=3.0)
    case_id = await _case_with(counsellor1, js, identity, first)
    # The unsend first, then the score, then the message itself.
    for event in (first, unsend, score):
        await publish_event(js, event)
    await eventually(
        lambda: _processed(state, unsend.id, UNSEND_CONSUMER), what="the unsend consumed"
    )
    await eventually(lambda: _processed(state, score.id, SCORES_CONSUMER), what="the score")
    await publish_event(js, early)
    # The message consumer is ordered: once a later message shows, ``early`` was handled.
    later = _text(cipher, identity, "そのあと")
    await publish_event(js, later)

    async def later_shown() -> list[dict[str, Any]] | None:
        msgs = await _messages(counsellor1, case_id)
        return msgs if "そのあと" in [m["text"] for m in msgs] else None

    msgs = await eventually(later_shown, what="the later message")
    assert [m["text"] for m in msgs if m["kind"] != "unsent"] == ["最初", "そのあと"]
    assert [m["kind"] for m in msgs].count("unsent") == 1
    assert await _rows(state, early.payload.line_message_id) == 0
    # A score redelivered after all that does not bring a placeholder back.
    late_score = make_message_scored(early, level="critical", score=9.0)
    await publish_event(js, late_score)
    await eventually(lambda: _processed(state, late_score.id, SCORES_CONSUMER), what="late score")
    assert await _rows(state, early.payload.line_message_id) == 0


async def test_a_duplicate_unsend_is_harmless(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext, state: ConsoleState
) -> None:
    identity, cipher = await new_client(keyring)
    first = _text(cipher, identity, "一つ目")
    second = _text(cipher, identity, "二つ目")
    case_id = await _case_with(counsellor1, js, identity, first)
    for event in (first, second):
        await publish_event(js, event)
    await eventually(lambda: _two(counsellor1, case_id), what="both messages")
    unsend = make_message_unsent(second)
    # Twice without a Nats-Msg-Id (the stream keeps both), and once more as a new
    # LINE redelivery of the same unsend (another event id).
    for _ in range(2):
        await js.publish(MESSAGE_UNSENT.name, unsend.to_bytes())
    again = make_message_unsent(second, webhook_event_id=unsend.payload.webhook_event_id)
    await publish_event(js, again)
    await eventually(lambda: _processed(state, again.id, UNSEND_CONSUMER), what="the redelivery")

    lines = [(m["kind"], m["text"]) for m in await _messages(counsellor1, case_id)]
    assert lines == [("text", "一つ目"), ("unsent", None)]  # one line, however often it came
    async with state.db.sessions() as session:
        kept = (
            await session.execute(
                select(func.count())
                .select_from(unsent_messages)
                .where(unsent_messages.c.client_id == identity.client_id)
            )
        ).scalar_one()
    assert kept == 1


async def _two(client: httpx.AsyncClient, case_id: str) -> bool:
    return len(await _messages(client, case_id)) == 2


async def test_the_refused_media_notice_shows_as_an_automatic_message_with_its_result(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, cipher = await new_client(keyring)
    image = make_message_received(
        cipher=cipher, client_no=identity.client_no, kind="image", text=None, refused=True
    )
    case_id = await _case_with(counsellor1, js, identity, image)
    notice = ReplyRequested.new(
        channel=image.channel,
        payload=ReplyRequestedV1(
            reply_id=uuid4(),
            client_id=identity.client_id,
            texts=[cipher.seal("message.text", "画像は受け取れません")],
        ),
    )
    # The result may be projected before the notice itself: it must still apply.
    result = PushResult.new(
        channel=image.channel,
        payload=PushResultV1(
            push_id=notice.payload.reply_id,
            client_id=identity.client_id,
            status="sent",
            attempts=1,
        ),
    )
    for event in (image, result, notice, notice):
        await publish_event(js, event)

    async def notice_shown() -> list[dict[str, Any]] | None:
        msgs = await _messages(counsellor1, case_id)
        return msgs if len(msgs) == 2 and msgs[1]["delivery"] == "sent" else None

    refused, automatic = await eventually(notice_shown, what="the notice, delivered")
    assert refused["kind"] == "image" and refused["text"] is None
    assert automatic["automatic"] is True and automatic["direction"] == "out"
    assert automatic["text"] == "画像は受け取れません"
    assert automatic["staff_name"] is None


async def test_personal_data_flags_and_late_delivery_are_shown_with_the_message(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, cipher = await new_client(keyring)
    flagged = _text(
        cipher, identity, "連絡先は090-1234-5678です", personal_data=["phone"], late=True
    )
    plain = _text(cipher, identity, "よろしくお願いします")
    case_id = await _case_with(counsellor1, js, identity, flagged)
    for event in (flagged, plain):
        await publish_event(js, event)

    async def shown() -> list[dict[str, Any]] | None:
        msgs = await _messages(counsellor1, case_id)
        return msgs if len(msgs) == 2 else None

    by_id = {m["message_id"]: m for m in await eventually(shown, what="both messages")}
    assert by_id[str(flagged.id)]["personal_data"] == ["phone"]
    assert by_id[str(plain.id)]["score_reasons"] == []
    assert by_id[str(flagged.id)]["late"] is True
    assert by_id[str(plain.id)]["personal_data"] == []
    assert by_id[str(plain.id)]["late"] is False


def _follow(
    identity: ClientIdentity, *, blocked: bool, at: datetime, unblocked: bool = False
) -> Any:
    common = {
        "client_id": identity.client_id,
        "client_no": identity.client_no,
        "webhook_event_id": uuid4().hex[:26].upper(),
        "sent_at": at,
    }
    if blocked:
        return ClientUnfollowed.new(channel="demo", payload=ClientUnfollowedV1(**common))
    return ClientFollowed.new(
        channel="demo", payload=ClientFollowedV1(**common, is_unblocked=unblocked)
    )


async def test_a_block_shows_in_the_chat_and_refuses_replies_until_unblocked(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext, state: ConsoleState
) -> None:
    identity, cipher = await new_client(keyring)
    first = _text(cipher, identity, "こんにちは", sent_at=datetime.now(UTC) - timedelta(minutes=5))
    case_id = await _case_with(counsellor1, js, identity, first)
    blocked_at = datetime.now(UTC) - timedelta(minutes=2)
    block = _follow(identity, blocked=True, at=blocked_at)
    for event in (first, block):
        await publish_event(js, event)

    async def blocked() -> dict[str, Any] | None:
        response = await counsellor1.get(f"/api/cases/{case_id}")
        if response.status_code != 200:  # not projected yet
            return None
        detail: dict[str, Any] = response.json()
        # assigned too: the assignment and the block reach the console by separate consumers
        seen = detail["case"]["client_blocked"] and detail["case"]["status"] == "assigned"
        return detail if seen else None

    detail = await eventually(blocked, what="the block seen on the assigned case")
    assert [m["kind"] for m in detail["messages"]] == ["text", "blocked"]
    refused = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "届きますか"}, headers=CSRF
    )
    assert refused.status_code == 409
    assert "ブロック" in refused.json()["detail"]

    unblock = _follow(identity, blocked=False, unblocked=True, at=datetime.now(UTC))
    # A redelivered, older block arriving after the unblock must not win.
    stale = _follow(identity, blocked=True, at=blocked_at - timedelta(minutes=1))
    for event in (unblock, stale):
        await publish_event(js, event)
    await eventually(
        lambda: _processed(state, stale.id, UNFOLLOWS_CONSUMER), what="the stale block consumed"
    )
    detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
    assert detail["case"]["client_blocked"] is False
    assert [m["kind"] for m in detail["messages"]][-1] == "unblocked"
    accepted = await counsellor1.post(
        f"/api/cases/{case_id}/replies", json={"text": "おかえりなさい"}, headers=CSRF
    )
    assert accepted.status_code == 202


async def test_the_chat_says_why_a_message_scored_without_the_words(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, cipher = await new_client(keyring)
    said = _text(cipher, identity, "友達が死にたいって言ってた")
    case_id = await _case_with(counsellor1, js, identity, said)
    score = make_message_scored(
        said,
        level="high",
        score=0.7,
        matches=[
            UrgencyMatch(
                term_id="suicide.want_to_die",
                category="自殺・自傷",
                weight=1.0,
                subject="other",
                spans=[(3, 7)],
            )
        ],
    )
    for event in (said, score):
        await publish_event(js, event)

    async def scored() -> list[dict[str, Any]] | None:
        msgs = await _messages(counsellor1, case_id)
        return msgs if msgs and msgs[0]["score_reasons"] else None

    [message] = await eventually(scored, what="the reasons shown")
    # offsets into the text the counsellor already sees, to mark the words
    assert message["score_reasons"] == [
        {"category": "自殺・自傷", "subject": "other", "hedged": False, "spans": [[3, 7]]}
    ]
    assert "死にたい" not in json.dumps(message["score_reasons"], ensure_ascii=False)
