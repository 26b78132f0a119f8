"""A client can end the conversation at once with one word; nothing is pushed after."""

from __future__ import annotations

import pytest
from line_simulator.client import SimulatorClient
from nats.js import JetStreamContext
from sodan_ingress.end_words import is_end_word
from sodan_ingress.webhook import event_id_for
from sodan_shared.crypto import Keyring
from sodan_shared.subjects import MESSAGE_RECEIVED

from .conftest import wait_for_messages
from .test_push import _client_of_new_user, _request_push, _result_of

WORDS = ["終了", "おわり"]


@pytest.mark.parametrize("text", ["終了", "終了。", " 終了 ", "おわり", "終了！", "ｵﾜﾘ"])
def test_the_end_word_alone_ends_the_conversation(text: str) -> None:
    assert is_end_word(text, WORDS)


@pytest.mark.parametrize("text", ["終了したらどうなる？", "まだ終了しないで", "", "。"])
def test_a_sentence_with_the_word_in_it_does_not(text: str) -> None:
    assert not is_end_word(text, WORDS)


async def _published(js: JetStreamContext, webhook_event_id: str) -> dict[str, object]:
    event_id = str(event_id_for("demo", webhook_event_id))
    [(_, data)] = await wait_for_messages(
        js, MESSAGE_RECEIVED.name, where=lambda d: d["id"] == event_id
    )
    return data


async def test_after_the_end_word_nothing_is_pushed_until_the_client_writes_again(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)

    ended = await sim.send_text(user_id, "終了")
    data = await _published(js, ended.webhook_event_id)
    assert data["payload"]["ends_conversation"] is True  # type: ignore[index]

    blocked = await _request_push(js, keyring, client_id, "まだいらっしゃいますか？")
    result = await _result_of(js, blocked)
    assert result["payload"]["status"] == "failed"
    assert result["payload"]["error"] == "client_ended_conversation"
    assert await sim.inbox(user_id) == []

    again = await sim.send_text(user_id, "やっぱりもう少し話したいです")
    data = await _published(js, again.webhook_event_id)
    assert data["payload"]["ends_conversation"] is False  # type: ignore[index]
    allowed = await _request_push(js, keyring, client_id, "はい、お聞きします。")
    assert (await _result_of(js, allowed))["payload"]["status"] == "sent"
    inbox = await sim.wait_for_inbox(user_id, 1)
    assert [e.message["text"] for e in inbox] == ["はい、お聞きします。"]
