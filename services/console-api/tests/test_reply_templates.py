"""定型文: the rules for what a template may hold, and the API around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any

import httpx
import pytest
from console_support import CSRF, logged_in
from fastapi import FastAPI
from sodan_console.policy import Viewer, can_edit_templates
from sodan_console.reply_templates import (
    PLACEHOLDERS,
    TemplateError,
    expand,
    placeholder_values,
    placeholders_in,
    validate_body,
    validate_line,
)
from sodan_console.seed import DEMO_STAFF, DEMO_TEMPLATES
from sodan_shared import hours
from sodan_shared.events.console import HoursRuleV1

URL = "/api/reply-templates"
STAFF = {s.login: s for s in DEMO_STAFF}

# --- pure rules ---------------------------------------------------------------------


def test_known_placeholders_are_accepted_and_listed_once() -> None:
    body = "{相談員名}です。{受付時間}に。また{相談員名}が"
    assert validate_body(body) == body
    assert placeholders_in(body) == ["相談員名", "受付時間"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("担当の{担当者}です", "使えない差し込み {担当者}"),
        ("{相談員名 }です", "使えない差し込み {相談員名 }"),
        ("空の{}です", "使えない差し込み {}"),
        ("閉じていない{相談員名", "「{」「}」は差し込み"),
        ("余分な } があります", "「{」「}」は差し込み"),
        ("   \n ", "入力してください"),
    ],
)
def test_unknown_placeholders_and_stray_braces_are_refused(body: str, says: str) -> None:
    with pytest.raises(TemplateError, match=says):
        validate_body(body)


def test_the_refusal_names_what_is_allowed() -> None:
    with pytest.raises(TemplateError) as refused:
        validate_body("{担当者}")
    assert all(f"{{{name}}}" in str(refused.value) for name in PLACEHOLDERS)


def test_titles_are_one_trimmed_line() -> None:
    assert validate_line("  あいさつ ", what="題名") == "あいさつ"
    with pytest.raises(TemplateError, match="題名は1行"):
        validate_line("一行目\n二行目", what="題名")
    with pytest.raises(TemplateError, match="入力してください"):
        validate_line("　 ", what="題名")  # an ideographic space is blank too


def test_expansion_fills_every_placeholder_for_this_counsellor() -> None:
    calendar = hours.build_calendar(
        [HoursRuleV1(kind="weekly", weekday=1, starts=time(18), ends=time(21))]
    )
    tuesday_evening = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)  # 19:30 JST, open
    values = placeholder_values(staff_name="相談員 一郎", now=tuesday_evening, calendar=calendar)
    assert values == {
        "相談員名": "相談員 一郎",
        "受付時間": "12月1日（火）18:00〜21:00",
        "次回の相談日": "12月8日（火）18:00〜21:00",
    }
    text = expand("担当の{相談員名}です。次は{次回の相談日}。", values)
    assert text == "担当の相談員 一郎です。次は12月8日（火）18:00〜21:00。"
    # Outside the hours, 受付時間 is the next opening.
    monday = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    later = placeholder_values(staff_name="x", now=monday, calendar=calendar)
    assert later["受付時間"] == later["次回の相談日"] == "12月1日（火）18:00〜21:00"


def test_every_demo_template_is_valid() -> None:
    for template in DEMO_TEMPLATES:
        validate_body(template.body)
        assert len(template.title) <= 40


def test_only_supervisors_and_admins_edit_templates() -> None:
    from uuid import uuid4

    assert can_edit_templates(Viewer(uuid4(), "supervisor"))
    assert can_edit_templates(Viewer(uuid4(), "admin"))
    assert not can_edit_templates(Viewer(uuid4(), "counsellor"))


# --- the API ------------------------------------------------------------------------


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "admin")
    yield client
    await client.aclose()


def _draft(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "折り返しの案内",
        "category": "案内",
        "body": "{相談員名}が続けてお返事します。",
        "sort_order": 5,
    } | overrides


async def test_counsellors_get_the_seeded_templates_filled_in_for_them(
    counsellor1: httpx.AsyncClient,
) -> None:
    response = await counsellor1.get(URL)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["can_edit"] is False
    by_title = {t["title"]: t for t in data["items"]}
    greeting = by_title["はじめのあいさつ"]
    assert greeting["body"].startswith("こんにちは。担当の{相談員名}です。")
    assert greeting["text"].startswith(
        f"こんにちは。担当の{STAFF['counsellor1'].display_name}です。"
    )
    assert "{" not in by_title["終わりのあいさつ"]["text"]
    assert [p["name"] for p in data["placeholders"]] == list(PLACEHOLDERS)


async def test_a_supervisor_creates_edits_retires_and_restores_with_history(
    supervisor: httpx.AsyncClient, counsellor1: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    created = await supervisor.post(URL, json=_draft(), headers=CSRF)
    assert created.status_code == 201, created.text
    template = created.json()
    tid = template["template_id"]
    assert template["version"] == 1 and template["retired"] is False
    assert template["text"] == f"{STAFF['supervisor'].display_name}が続けてお返事します。"
    assert template["updated_by_name"] == STAFF["supervisor"].display_name

    edited = await supervisor.put(
        f"{URL}/{tid}", json=_draft(body="少しお待ちください。", version=1), headers=CSRF
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["body"] == "少しお待ちください。"
    # An edit made from the old version is refused, not silently applied over the new one.
    stale = await supervisor.put(
        f"{URL}/{tid}", json=_draft(body="古い版から", version=1), headers=CSRF
    )
    assert stale.status_code == 409 and "他の人が先に更新" in stale.json()["detail"]

    retired = await admin.post(f"{URL}/{tid}/retire", headers=CSRF)
    assert retired.status_code == 200 and retired.json()["retired"] is True
    assert tid not in [t["template_id"] for t in (await counsellor1.get(URL)).json()["items"]]
    everything = (await supervisor.get(URL, params={"include_retired": "true"})).json()["items"]
    assert tid in [t["template_id"] for t in everything]

    restored = await supervisor.post(f"{URL}/{tid}/restore", headers=CSRF)
    assert restored.json()["retired"] is False and restored.json()["version"] == 4
    assert tid in [t["template_id"] for t in (await counsellor1.get(URL)).json()["items"]]

    history = (await supervisor.get(f"{URL}/{tid}/history")).json()
    assert [(h["version"], h["retired"]) for h in history] == [
        (4, False),
        (3, True),
        (2, False),
        (1, False),
    ]
    assert history[-1]["body"] == "{相談員名}が続けてお返事します。"  # nothing lost
    assert history[1]["saved_by_name"] == STAFF["admin"].display_name

    me = (await supervisor.get("/api/me")).json()
    entries = (
        await admin.get(
            "/api/admin/access-log", params={"action": "change", "staff_id": me["staff_id"]}
        )
    ).json()["entries"]
    mine = [e for e in entries if e["target_id"] == tid]
    assert {e["target_kind"] for e in mine} == {"template"}
    assert [e["status"] for e in mine] == [200, 409, 200]  # restore, stale edit, edit


async def test_counsellors_may_not_change_templates_or_see_retired_ones(
    counsellor1: httpx.AsyncClient, supervisor: httpx.AsyncClient
) -> None:
    tid = (await supervisor.post(URL, json=_draft(), headers=CSRF)).json()["template_id"]
    attempts = [
        await counsellor1.post(URL, json=_draft(), headers=CSRF),
        await counsellor1.put(f"{URL}/{tid}", json=_draft(version=1), headers=CSRF),
        await counsellor1.post(f"{URL}/{tid}/retire", headers=CSRF),
        await counsellor1.post(f"{URL}/{tid}/restore", headers=CSRF),
        await counsellor1.get(f"{URL}/{tid}/history"),
        await counsellor1.get(URL, params={"include_retired": "true"}),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert "スーパーバイザーと管理者のみ" in response.json()["detail"]
    after = (await supervisor.get(f"{URL}/{tid}/history")).json()
    assert len(after) == 1


async def test_templates_need_a_login(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get(URL)).status_code == 401
    assert (await anonymous.post(URL, json=_draft(), headers=CSRF)).status_code == 401


async def test_changes_need_the_csrf_header(supervisor: httpx.AsyncClient) -> None:
    response = await supervisor.post(URL, json=_draft())
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("draft", "says"),
    [
        (_draft(title=""), "題名: 入力してください"),
        (_draft(title="  "), "題名: 入力してください"),
        (_draft(title="あ" * 41), "題名: 40文字以内"),
        (_draft(category=""), "分類: 入力してください"),
        (_draft(body="あ" * 2001), "本文: 2000文字以内"),
        (_draft(body="担当の{担当者}です"), "本文: 使えない差し込み {担当者} があります"),
        (_draft(body="{相談員名"), "本文: 「{」「}」は差し込み"),
        (_draft(sort_order=-1), "並び順: 数値の範囲"),
        (_draft(color="red"), "不明な項目"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(
    supervisor: httpx.AsyncClient, draft: dict[str, Any], says: str
) -> None:
    before = len((await supervisor.get(URL, params={"include_retired": "true"})).json()["items"])
    response = await supervisor.post(URL, json=draft, headers=CSRF)
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"]
    after = len((await supervisor.get(URL, params={"include_retired": "true"})).json()["items"])
    assert after == before


async def test_a_bad_edit_keeps_the_saved_version(supervisor: httpx.AsyncClient) -> None:
    tid = (await supervisor.post(URL, json=_draft(), headers=CSRF)).json()["template_id"]
    bad = await supervisor.put(
        f"{URL}/{tid}", json=_draft(body="{受付時間}と{予約番号}", version=1), headers=CSRF
    )
    assert bad.status_code == 422 and "{予約番号}" in bad.json()["detail"]
    history = (await supervisor.get(f"{URL}/{tid}/history")).json()
    assert [h["version"] for h in history] == [1]


async def test_an_unknown_template_is_404(supervisor: httpx.AsyncClient) -> None:
    from uuid import uuid4

    missing = uuid4()
    assert (await supervisor.post(f"{URL}/{missing}/retire", headers=CSRF)).status_code == 404
    assert (
        await supervisor.put(f"{URL}/{missing}", json=_draft(version=1), headers=CSRF)
    ).status_code == 404
    assert (await supervisor.get(f"{URL}/{missing}/history")).status_code == 404
