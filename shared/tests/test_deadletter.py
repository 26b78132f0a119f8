"""Poison messages: a consumer gives up on one message, keeps the rest flowing."""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import uuid4

import pytest
import sqlalchemy.exc
from faststream.middlewares import AckPolicy
from faststream.nats import PullSub
from nats.js import JetStreamContext
from pydantic import BaseModel
from sodan_shared.deadletter import (
    CONSUMER_HEADER,
    REASON_HEADER,
    STREAM_HEADER,
    SUBJECT_HEADER,
    dead_letter_subject,
    redelivery_delay,
    retry_through_outage,
)
from sodan_shared.nats import jstream
from sodan_shared.runtime import broker_for
from sodan_shared.settings import SodanSettings
from sodan_shared.subjects import AUDIT, DEADLETTER


class Poisoned(RuntimeError):
    pass


class Note(BaseModel):
    n: int


def test_redelivery_delay_grows_and_then_repeats_the_last() -> None:
    delays = [1.0, 5.0, 30.0]
    assert [redelivery_delay(n, delays) for n in (1, 2, 3, 4, 9)] == [1.0, 5.0, 30.0, 30.0, 30.0]
    assert redelivery_delay(1, []) is None


async def _dead_letters(js: JetStreamContext, subject: str) -> list[tuple[bytes, dict[str, str]]]:
    sub = await js.pull_subscribe(dead_letter_subject(subject), stream=DEADLETTER.name)
    found: list[tuple[bytes, dict[str, str]]] = []
    try:
        while True:
            try:
                batch = await sub.fetch(10, timeout=0.3)
            except TimeoutError:
                return found
            for msg in batch:
                await msg.ack()
                found.append((msg.data, dict(msg.headers or {})))
    finally:
        await sub.unsubscribe()


async def test_poison_message_is_dead_lettered_after_max_deliveries_and_others_flow(
    nats_url: str, js: JetStreamContext
) -> None:
    subject = f"audit.test.{uuid4().hex}"
    durable = f"test-{uuid4().hex[:8]}"
    settings = SodanSettings(nats_url=nats_url, max_deliveries=3, redelivery_delays_s=[0.05])
    broker = broker_for(settings, None)
    processed: list[int] = []
    deliveries: Counter[int] = Counter()

    @broker.subscriber(
        subject,
        stream=jstream(AUDIT),
        durable=durable,
        pull_sub=PullSub(batch_size=5, timeout=0.2),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def handle(note: Note) -> None:
        deliveries[note.n] += 1
        if note.n == 2:
            raise Poisoned("message 2 always fails")
        processed.append(note.n)

    await broker.start()
    try:
        for n in range(5):
            await js.publish(subject, Note(n=n).model_dump_json().encode(), headers={"X-Test": "1"})
        # Not an instance of Note: dead-lettered at once, never retried.
        await js.publish(subject, b'{"n": "not a number"}')

        deadline = asyncio.get_running_loop().time() + 15
        letters: list[tuple[bytes, dict[str, str]]] = []
        while asyncio.get_running_loop().time() < deadline:
            letters += await _dead_letters(js, subject)
            if len(letters) == 2 and sorted(processed) == [0, 1, 3, 4]:
                break
        info = await js.consumer_info(AUDIT.name, durable)
    finally:
        await broker.stop()

    assert sorted(processed) == [0, 1, 3, 4]
    assert deliveries[2] == 3
    assert len(letters) == 2
    by_reason = {headers[REASON_HEADER]: (data, headers) for data, headers in letters}
    assert by_reason["ValidationError"][0] == b'{"n": "not a number"}'
    data, headers = by_reason["Poisoned"]
    assert Note.model_validate_json(data).n == 2
    assert headers[REASON_HEADER] == "Poisoned"  # the type only, never the text
    assert headers[STREAM_HEADER] == AUDIT.name
    assert headers[SUBJECT_HEADER] == subject
    assert headers[CONSUMER_HEADER] == durable
    assert headers["X-Test"] == "1"
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


def test_outages_are_retried_not_dead_lettered() -> None:
    import psycopg
    import sqlalchemy.exc
    from sodan_shared.deadletter import is_transient

    assert is_transient(sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("down")))
    assert is_transient(psycopg.OperationalError("connection refused"))
    assert is_transient(ConnectionRefusedError())
    assert is_transient(TimeoutError())
    assert not is_transient(ValueError("a bug or a poison message"))
    assert not is_transient(KeyError("x"))


async def test_an_outage_on_the_last_delivery_is_held_through_and_anything_else_raised() -> None:
    failures = [
        sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("down")),
        ConnectionError(),
    ]
    kept_alive: list[int] = []

    async def attempt() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    async def keep_alive() -> None:
        kept_alive.append(1)
        if len(kept_alive) == 1:  # NATS may be the outage: in_progress fails too
            raise ConnectionError

    assert await retry_through_outage(attempt, keep_alive=keep_alive, pause_s=0) == "sent"
    assert len(kept_alive) == 2

    async def poison() -> str:
        raise ValueError("not an outage")

    with pytest.raises(ValueError):
        await retry_through_outage(poison, keep_alive=keep_alive, pause_s=0)
    assert len(kept_alive) == 2  # raised at once, never held
