import json

from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_shared.db import create_engine, session_factory, transaction
from sodan_shared.db.idempotency import (
    add_to_outbox,
    first_time,
    outbox_table,
    processed_events_table,
)
from sodan_shared.outbox import OutboxRelay
from sodan_shared.subjects import MESSAGE_RECEIVED
from sodan_shared.testing.factories import make_message_received
from sqlalchemy import MetaData, text


async def test_outbox_relay_publishes_once_in_order_and_event_ids_dedup(
    fresh_database_url: str, js: JetStreamContext
) -> None:
    metadata = MetaData(schema="svc")
    outbox = outbox_table(metadata)
    processed = processed_events_table(metadata)
    engine = create_engine(fresh_database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA svc"))
        await conn.run_sync(metadata.create_all)
    sessions = session_factory(engine)

    events = [make_message_received(text=f"m{i}") for i in range(3)]
    async with transaction(sessions) as session:
        for event in events:
            assert await first_time(session, processed, event_id=event.id, consumer="t")
            await add_to_outbox(session, outbox, event)
    async with transaction(sessions) as session:
        assert not await first_time(session, processed, event_id=events[0].id, consumer="t")

    # only what this test publishes: other tests share the session's NATS server
    sub = await js.subscribe(
        MESSAGE_RECEIVED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    relay = OutboxRelay(sessions, outbox, js)
    assert await relay.publish_pending() == 3
    assert await relay.publish_pending() == 0
    # a crash between publish and commit republishes: Nats-Msg-Id drops the copy
    async with transaction(sessions) as session:
        await session.execute(text("UPDATE svc.outbox SET published_at = NULL"))
    assert await relay.publish_pending() == 3

    got = [json.loads((await sub.next_msg(timeout=2)).data)["id"] for _ in range(3)]
    assert got == [str(e.id) for e in events]
    try:
        extra = await sub.next_msg(timeout=0.5)
    except TimeoutError:
        extra = None
    assert extra is None
    await engine.dispose()
