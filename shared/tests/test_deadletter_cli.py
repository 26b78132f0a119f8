"""`sodan-deadletter`: list dead letters without content, replay them once fixed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import nats
import pytest
from faststream.middlewares import AckPolicy
from faststream.nats import PullSub
from nats.js import JetStreamContext
from pydantic import BaseModel
from sodan_devstack.nats import NatsServer
from sodan_shared.deadletter_cli import cli, list_dead_letters, replay, replay_headers
from sodan_shared.nats import ensure_streams, jstream
from sodan_shared.runtime import broker_for
from sodan_shared.settings import SodanSettings
from sodan_shared.subjects import AUDIT


class Note(BaseModel):
    n: int
    secret: str = "中身は表示しない"


class Broken(RuntimeError):
    pass


@pytest.fixture
async def own_nats(tmp_path: Path) -> AsyncIterator[str]:
    """A server of this test's own: replay --all must not touch other tests' letters."""
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        nc = await nats.connect(server.url)
        await ensure_streams(nc.jetstream())
        await nc.close()
        yield server.url
    finally:
        server.stop()


async def _until(probe: object, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.05)


async def test_a_dead_letter_is_listed_and_replayed_to_the_consumer_that_failed(
    own_nats: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = f"audit.test.{uuid4().hex[:8]}"
    settings = SodanSettings(nats_url=own_nats, max_deliveries=2, redelivery_delays_s=[0.05])
    broker = broker_for(settings, None)
    broken = True
    handled: list[int] = []

    @broker.subscriber(
        subject,
        stream=jstream(AUDIT),
        durable="flaky",
        pull_sub=PullSub(batch_size=5, timeout=0.2),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def flaky(note: Note) -> None:
        if broken:
            raise Broken("a bug, fixed later")
        handled.append(note.n)

    nc = await nats.connect(own_nats)
    js: JetStreamContext = nc.jetstream()
    await broker.start()
    try:
        await js.publish(
            subject, Note(n=7).model_dump_json().encode(), headers={"Nats-Msg-Id": "evt-7"}
        )

        async def dead_lettered() -> bool:
            return len(await list_dead_letters(js)) == 1

        await _until(dead_lettered)
        [letter] = await list_dead_letters(js)
        assert (letter.subject, letter.consumer, letter.stream) == (subject, "flaky", AUDIT.name)
        assert letter.reason == "Broken" and letter.msg_id == "evt-7"

        monkeypatch.setenv("SODAN_NATS_URL", own_nats)
        await asyncio.to_thread(cli, ["list"])
        listed = capsys.readouterr().out
        assert "flaky" in listed and subject in listed and "中身" not in listed

        broken = False  # the cause is fixed
        [replayed] = await replay(js, seqs=[letter.seq])
        assert replayed.seq == letter.seq

        async def handled_once() -> bool:
            return handled == [7]

        await _until(handled_once)
        assert await list_dead_letters(js) == []
        assert await replay(js, seqs=[letter.seq]) == []  # gone: a second run does nothing
        assert await asyncio.to_thread(cli, ["replay", str(letter.seq)]) == 1
        assert "not found" in capsys.readouterr().out
    finally:
        await broker.stop()
        await nc.close()


def test_replay_headers_keep_the_trace_and_get_their_own_message_id() -> None:
    headers = {
        "traceparent": "00-abc-def-01",
        "Nats-Msg-Id": "deadletter:AUDIT:flaky:3",
        "Sodan-Dead-Letter-Msg-Id": "evt-7",
        "Sodan-Dead-Letter-Reason": "Broken",
        "Sodan-Dead-Letter-Consumer": "flaky",
        "Sodan-Dead-Letter-Stream": "AUDIT",
        "Sodan-Dead-Letter-Subject": "audit.x",
    }
    assert replay_headers(headers, dead_letter_seq=12) == {
        "traceparent": "00-abc-def-01",
        "Nats-Msg-Id": "replay:12:evt-7",
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["replay"], "--all"), (["replay", "3", "--all"], "not both"), (["purge"], "invalid choice")],
)
def test_unclear_replay_commands_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
