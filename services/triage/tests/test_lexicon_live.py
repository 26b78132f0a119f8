"""The lexicon over NATS: seeded, edited by a command, hot-reloaded by every replica."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest
from nats.js import JetStreamContext
from sodan_shared.crypto import Keyring
from sodan_shared.events.console import UpdateLexicon, UpdateLexiconV1
from sodan_shared.events.triage import LexiconChanged, LexiconRejected, MessageScored
from sodan_shared.lexicon import LEXICON_KEY, lexicon_bucket, parse_lexicon
from sodan_shared.nats import publish_event
from sodan_shared.subjects import LEXICON_CHANGED, LEXICON_REJECTED, MESSAGE_SCORED, UPDATE_LEXICON
from sodan_shared.testing.factories import make_message_received
from sodan_triage.handlers import TriageDeps
from sodan_triage.main import compose

from .conftest import settings_for


@pytest.fixture
async def replicas(
    nats_url: str, database_url: str, keyring: Keyring
) -> AsyncIterator[list[TriageDeps]]:
    started = []
    for name in ("triage-a", "triage-b"):
        app, _, deps = compose(settings_for(nats_url, database_url, name))
        await app.start()
        started.append((app, deps))
    yield [deps for _, deps in started]
    for app, _ in started:
        await app.stop()


async def _current(js: JetStreamContext) -> dict[str, Any]:
    entry = await (await lexicon_bucket(js)).get(LEXICON_KEY)
    assert entry.value is not None
    data: dict[str, Any] = json.loads(entry.value)
    return data


def _command(content: dict[str, Any], base: str | None, comment: str = "テスト") -> UpdateLexicon:
    return UpdateLexicon.new(
        channel="demo",
        payload=UpdateLexiconV1(
            lexicon=content, base_version=base, staff_id=uuid4(), comment=comment
        ),
    )


async def _next(sub: JetStreamContext.PushSubscription, event_id: UUID) -> bytes:
    async with asyncio.timeout(10):
        while True:
            msg = await sub.next_msg(timeout=10)
            if json.loads(msg.data)["id"] == str(event_id):
                return bytes(msg.data)


async def test_an_edit_reaches_both_replicas_without_restart(
    replicas: list[TriageDeps], js: JetStreamContext, keyring: Keyring
) -> None:
    first, second = replicas
    assert first.lexicon.version == second.lexicon.version
    content = await _current(js)
    content["terms"].append(
        {
            "id": "test.hot_reload",
            "category": "自殺・自傷",
            "level": "critical",
            "weight": 0.95,
            "patterns": ["ほっとりろーど語"],
        }
    )
    assert first.lexicon.scorer.score("ホットリロード語").level == "normal"
    audits = await js.subscribe(LEXICON_CHANGED.name, ordered_consumer=True)
    command = _command(content, base=content["version"], comment="新しい隠語を追加")
    await publish_event(js, command)

    audit = LexiconChanged.model_validate_json(await _next(audits, uuid5(command.id, "changed")))
    assert audit.payload.added == ["test.hot_reload"]
    assert audit.payload.removed == [] and audit.payload.changed == []
    assert audit.payload.previous_version == content["version"]
    assert audit.payload.comment == "新しい隠語を追加"
    assert audit.payload.staff_id == command.payload.staff_id
    new_version = audit.payload.version
    assert new_version != content["version"]

    for replica in replicas:
        await replica.lexicon.wait_for_version(new_version)
        scored = replica.lexicon.scorer.score("ﾎｯﾄﾘﾛｰﾄﾞ語")
        assert (scored.level, scored.lexicon_version) == ("critical", new_version)

    # and over NATS, whichever replica takes each message
    identity = await keyring.ensure_client(channel="demo", line_user_id="U" + uuid4().hex)
    cipher = await keyring.cipher(identity.client_id)
    scores = await js.subscribe(MESSAGE_SCORED.name, ordered_consumer=True)
    for _ in range(4):
        received = make_message_received(
            cipher=cipher, client_no=identity.client_no, text="ホットリロード語"
        )
        await publish_event(js, received)
        raw = await _next(scores, uuid5(received.id, "scored"))
        scored_event = MessageScored.model_validate_json(raw)
        assert scored_event.payload.lexicon_version == new_version
        assert scored_event.payload.matches[0].term_id == "test.hot_reload"

    live = parse_lexicon(json.dumps(await _current(js)))
    assert live.version == new_version


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c: c["terms"][0].update(weight=0.1), "は「通常」の範囲です"),
        (lambda c: c["terms"].append(dict(c["terms"][0])), "ID が重複しています"),
        (lambda c: c.pop("negation"), "negation: 必須です"),
    ],
)
async def test_an_invalid_edit_is_rejected_and_changes_nothing(
    replicas: list[TriageDeps], js: JetStreamContext, mutate: Any, reason: str
) -> None:
    before = await _current(js)
    content = json.loads(json.dumps(before))
    mutate(content)
    rejections = await js.subscribe(LEXICON_REJECTED.name, ordered_consumer=True)
    command = _command(content, base=before["version"])
    await publish_event(js, command)
    raw = await _next(rejections, uuid5(command.id, "rejected"))
    rejected = LexiconRejected.model_validate_json(raw)
    assert reason in rejected.payload.reason
    assert await _current(js) == before
    assert all(r.lexicon.version == before["version"] for r in replicas)


async def test_an_edit_of_an_old_version_is_rejected(
    replicas: list[TriageDeps], js: JetStreamContext
) -> None:
    before = await _current(js)
    rejections = await js.subscribe(LEXICON_REJECTED.name, ordered_consumer=True)
    command = _command(before, base="v0-19990101")
    await publish_event(js, command)
    rejected = LexiconRejected.model_validate_json(
        await _next(rejections, uuid5(command.id, "rejected"))
    )
    assert "再読み込み" in rejected.payload.reason
    assert await _current(js) == before


async def test_a_redelivered_edit_is_applied_once(
    replicas: list[TriageDeps], js: JetStreamContext, database_url: str
) -> None:
    from sodan_shared.db import create_engine
    from sodan_triage.db.tables import lexicon_history
    from sqlalchemy import func, select

    before = await _current(js)
    content = json.loads(json.dumps(before))
    content["benign"].append("再配信テスト")
    audits = await js.subscribe(LEXICON_CHANGED.name, ordered_consumer=True)
    command = _command(content, base=before["version"])
    await publish_event(js, command)
    audit = LexiconChanged.model_validate_json(await _next(audits, uuid5(command.id, "changed")))
    assert audit.payload.settings_changed and not audit.payload.added
    # the same command again, past JetStream's dedup (no Nats-Msg-Id)
    await js.publish(UPDATE_LEXICON.name, command.to_bytes())
    for replica in replicas:
        await replica.lexicon.wait_for_version(audit.payload.version)
    await asyncio.sleep(1.0)
    engine = create_engine(database_url)
    async with engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count())
            .select_from(lexicon_history)
            .where(lexicon_history.c.command_event_id == command.id)
        )
    await engine.dispose()
    assert rows == 1
    assert (await _current(js))["version"] == audit.payload.version
