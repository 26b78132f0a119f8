"""Supervisors edit the urgency lexicon; a real triage replica applies the edit."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from console_support import CSRF
from sodan_console.settings import ConsoleSettings
from sodan_triage.handlers import TriageDeps
from sodan_triage.main import compose
from sodan_triage.main import migrate as migrate_triage
from sodan_triage.settings import TriageSettings


@pytest.fixture
async def triage(seeded: ConsoleSettings) -> AsyncIterator[TriageDeps]:
    """One triage replica: it seeds the lexicon bucket and applies edits."""
    migrate_triage(seeded.database_url)
    app, _, deps = compose(
        TriageSettings(
            nats_url=seeded.nats_url, database_url=seeded.database_url, environment="test"
        )
    )
    await app.start()
    yield deps
    await app.stop()


async def _current(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/lexicon")
    assert response.status_code == 200, response.text
    lexicon: dict[str, Any] = response.json()["lexicon"]
    return lexicon


async def test_a_supervisor_adds_a_term_and_triage_scores_with_it(
    triage: TriageDeps, supervisor: httpx.AsyncClient
) -> None:
    lexicon = await _current(supervisor)
    assert lexicon["version"] == triage.lexicon.version
    edited = copy.deepcopy(lexicon)
    edited["terms"].append(
        {
            "id": "slang.console_test",
            "category": "自殺・自傷",
            "level": "high",
            "weight": 0.7,
            "patterns": ["こんそーるてすと語"],
        }
    )
    response = await supervisor.put(
        "/api/lexicon",
        json={"lexicon": edited, "base_version": lexicon["version"], "comment": "隠語の追加"},
        headers=CSRF,
    )
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["status"] == "applied"
    await triage.lexicon.wait_for_version(saved["version"])
    assert triage.lexicon.scorer.score("コンソールテスト語").level == "high"
    assert (await _current(supervisor))["version"] == saved["version"]


async def test_bad_input_gets_422_with_every_problem_and_sends_nothing(
    triage: TriageDeps, supervisor: httpx.AsyncClient
) -> None:
    lexicon = await _current(supervisor)
    edited = copy.deepcopy(lexicon)
    edited["terms"][0]["weight"] = 1.5
    edited["terms"][1]["patterns"] = ["！！"]
    response = await supervisor.put(
        "/api/lexicon",
        json={"lexicon": edited, "base_version": lexicon["version"], "comment": "誤り"},
        headers=CSRF,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("辞書に誤りがあるため保存できません")
    assert "語1番目・重み: 1.0 以下にしてください" in body["errors"]
    assert (await _current(supervisor))["version"] == lexicon["version"]


async def test_an_edit_of_an_outdated_version_is_refused_by_triage(
    triage: TriageDeps, supervisor: httpx.AsyncClient
) -> None:
    lexicon = await _current(supervisor)
    response = await supervisor.put(
        "/api/lexicon",
        json={"lexicon": lexicon, "base_version": "v0-20000101", "comment": "古い版から"},
        headers=CSRF,
    )
    assert response.status_code == 422
    assert "再読み込み" in response.json()["detail"]


async def test_counsellors_may_not_read_or_edit_the_lexicon(
    triage: TriageDeps, counsellor1: httpx.AsyncClient
) -> None:
    assert (await counsellor1.get("/api/lexicon")).status_code == 403
    put = await counsellor1.put(
        "/api/lexicon", json={"lexicon": {}, "base_version": "x", "comment": "x"}, headers=CSRF
    )
    assert put.status_code == 403
    assert "スーパーバイザー" in put.json()["detail"]


async def test_saving_needs_the_csrf_header(
    triage: TriageDeps, supervisor: httpx.AsyncClient
) -> None:
    response = await supervisor.put(
        "/api/lexicon", json={"lexicon": {}, "base_version": "x", "comment": "x"}
    )
    assert response.status_code == 403


async def test_history_lists_accepted_edits_with_who_and_why(
    triage: TriageDeps, supervisor: httpx.AsyncClient, counsellor1: httpx.AsyncClient
) -> None:
    lexicon = await _current(supervisor)
    edited = copy.deepcopy(lexicon)
    edited["benign"] = [*edited["benign"], "履歴テスト"]
    response = await supervisor.put(
        "/api/lexicon",
        json={"lexicon": edited, "base_version": lexicon["version"], "comment": "慣用句を追加"},
        headers=CSRF,
    )
    assert response.status_code == 200, response.text
    history = (await supervisor.get("/api/lexicon/history")).json()
    latest = history[0]
    assert latest["version"] == response.json()["version"]
    assert latest["previous_version"] == lexicon["version"]
    assert latest["comment"] == "慣用句を追加"
    assert latest["staff_name"] == "スーパーバイザー 三咲"
    assert latest["settings_changed"] and latest["added"] == []
    assert (await counsellor1.get("/api/lexicon/history")).status_code == 403
