"""The intake questionnaire (事前アンケート) through every service and the LINE simulator.

A client writes, gets the consent question with quick-reply buttons, taps an answer
to each question, and the case is queued and assigned; the console shows the
answers; closing the case reports the age group and region (case.closed), which
the monthly report counts.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from line_simulator.client import SimulatorClient
from line_simulator.schemas import InboxEntry
from sodan_devstack.stack import Stack
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from tests.e2e.conftest import Console, eventually
from tests.e2e.test_thin_path import stream_events, texts_of

pytestmark = pytest.mark.stack_env(SODAN_ROUTING_INTAKE_ENABLED="true")


def buttons(entry: InboxEntry) -> list[str]:
    items = entry.message.get("quickReply", {}).get("items", [])
    return [i["action"]["text"] for i in items]


async def tap(sim: SimulatorClient, user_id: str, entry: InboxEntry, label: str) -> None:
    """Tapping a message-action quick reply makes the client's LINE send its text."""
    assert label in buttons(entry), (label, buttons(entry))
    assert (await sim.send_text(user_id, label)).final_status == 200


def _reporting_facts(database_url: str, case_id: str) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sql(
                    "SELECT age_group, region, gender_identity FROM reporting.case_facts "
                    "WHERE case_id = :c"
                ),
                {"c": case_id},
            ).first()
    finally:
        engine.dispose()


async def test_the_client_answers_the_questionnaire_by_quick_replies_and_the_case_is_served(
    stack: Stack, sim: SimulatorClient, counsellor: Console
) -> None:
    await counsellor.go_on_duty(stack.database_url)
    user = await sim.create_user("アンケート回答者")
    assert (await sim.send_text(user.user_id, "はじめまして。相談したいです")).final_status == 200

    [consent] = await sim.wait_for_inbox(user.user_id, 1, timeout=30)
    assert "利用規約" in consent.message["text"]
    assert buttons(consent) == ["同意する", "同意しない", "スキップ", "終了"]

    # アンケート中: the case is not assigned yet (the counsellor's list shows it queued). The
    # question can reach LINE before the console's consumer has projected the case: wait.
    async def listed() -> list[dict[str, Any]] | None:
        cases = await counsellor.cases()
        return cases or None

    cases = await eventually(listed, what="the case in the console's list")
    assert [(c["status"], c["in_intake"]) for c in cases] == [("queued", True)]

    await tap(sim, user.user_id, consent, "同意する")
    age = (await sim.wait_for_inbox(user.user_id, 2, timeout=30))[-1]
    assert "年代" in age.message["text"]
    await tap(sim, user.user_id, age, "10代以下")
    region = (await sim.wait_for_inbox(user.user_id, 3, timeout=30))[-1]
    assert buttons(region)[:5] == ["北勢", "中勢", "南勢志摩", "伊賀", "東紀州"]
    await tap(sim, user.user_id, region, "中勢")
    gender = (await sim.wait_for_inbox(user.user_id, 4, timeout=30))[-1]
    assert buttons(gender) == ["答えたくない", "スキップ", "終了"]
    assert (await sim.send_text(user.user_id, "まだ分からない")).final_status == 200  # own words

    async def assigned() -> dict[str, Any] | None:
        found = [c for c in await counsellor.cases() if c["status"] == "assigned"]
        return found[0] if found else None

    case = await eventually(assigned, what="the case assigned once the questionnaire ended")
    case_id = str(case["case_id"])
    thanks = (await sim.wait_for_inbox(user.user_id, 5, timeout=30))[-1]
    assert "ありがとうございました" in thanks.message["text"]

    async def answered() -> dict[str, Any] | None:
        detail = await counsellor.case(case_id)
        intake = detail["case"]["intake"]
        return detail if intake and intake["status"] == "completed" else None

    detail = await eventually(answered, what="the console shows the answers")
    assert detail["case"]["in_intake"] is False
    assert detail["case"]["intake"] == {
        "status": "completed",
        "consent": "同意",
        "age_group": "10代以下",
        "region": "中勢",
        "gender_identity": "まだ分からない",
    }
    # every message the client wrote is in the chat, answers included (the last one
    # reaches the console by another consumer than the questionnaire's end)
    written = [
        "はじめまして。相談したいです",
        "同意する",
        "10代以下",
        "中勢",
        "まだ分からない",
    ]

    async def all_in_chat() -> list[str] | None:
        got = texts_of(await counsellor.case(case_id), "in")
        return got if got == written else None

    assert await eventually(all_in_chat, what="every answer in the chat") == written

    r = await counsellor.http.post(
        f"/api/cases/{case_id}/close", json={"outcome": "傾聴・情報提供", "topics": []}
    )
    assert r.status_code == 202, r.text

    async def closed() -> dict[str, Any] | None:
        events = await stream_events(stack.nats_url, "CASES")
        found = [e for e in events if e["type"] == "case.closed"]
        return found[0] if found else None

    event = await eventually(closed, what="case.closed on the stream")
    payload = event["payload"]
    assert (payload["age_group"], payload["region"]) == ("10代以下", "中勢")
    assert payload["gender_identity"] == "まだ分からない"

    async def reported() -> Any:
        row = await asyncio.to_thread(_reporting_facts, stack.database_url, case_id)
        return row if row is not None and row.age_group is not None else None

    facts = await eventually(reported, what="reporting counts the answers")
    assert (facts.age_group, facts.region) == ("10代以下", "中勢")
