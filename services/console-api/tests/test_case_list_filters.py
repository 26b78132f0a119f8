"""The case list's filters, labels and channel names (issue: 一覧の絞り込みとラベル).

Cases are projected straight through the projection functions, each test in
channels of its own so the shared session database's other cases never match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from console_support import CSRF, STAFF, logged_in
from fastapi import FastAPI
from sodan_console.case_filters import CaseListFilter, FilterError, parse_assignee
from sodan_console.cursor import BadCursorError, CaseCursor
from sodan_console.db import queries
from sodan_console.policy import (
    CaseFacts,
    Viewer,
    can_label_case,
    can_manage_labels,
    can_name_channels,
)
from sodan_console.state import ConsoleState
from sodan_shared.db import transaction
from sodan_shared.hours import JST

C1 = STAFF["counsellor1"].staff_id
C2 = STAFF["counsellor2"].staff_id

# --- pure rules --------------------------------------------------------------------


def test_the_filter_fingerprint_ignores_order_and_repeats_but_not_values() -> None:
    one = CaseListFilter(urgencies=("high", "critical"), channels=("a", "b"), label_ids=(2, 1))
    same = CaseListFilter(
        urgencies=("critical", "high", "high"), channels=("b", "a"), label_ids=(1, 2)
    )
    other = CaseListFilter(urgencies=("critical",), channels=("a", "b"), label_ids=(1, 2))
    assert one.fingerprint() == same.fingerprint() != other.fingerprint()
    assert CaseListFilter().fingerprint() != CaseListFilter(assignee="me").fingerprint()


def test_dates_are_jst_days_and_the_end_day_is_included() -> None:
    flt = CaseListFilter(opened_from=date(2026, 1, 10), opened_to=date(2026, 1, 10))
    assert flt.opened_since == datetime(2026, 1, 10, tzinfo=JST)
    assert flt.opened_until == datetime(2026, 1, 11, tzinfo=JST)
    assert flt.opened_since.astimezone(UTC) == datetime(2026, 1, 9, 15, tzinfo=UTC)
    with pytest.raises(FilterError, match="終了日は開始日以降"):
        CaseListFilter(opened_from=date(2026, 1, 11), opened_to=date(2026, 1, 10))


def test_assignee_is_me_unassigned_or_a_staff_id() -> None:
    someone = uuid4()
    assert parse_assignee("me") == "me" and parse_assignee("unassigned") == "unassigned"
    assert parse_assignee(str(someone)) == someone and parse_assignee("") is None
    with pytest.raises(FilterError, match="担当者"):
        parse_assignee("bob")
    assert CaseListFilter(assignee="me").assignee_for(someone) == someone


def test_the_cursor_carries_its_filters_and_old_cursors_still_decode() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    cursor = CaseCursor(3, at, uuid4(), "abc123")
    assert CaseCursor.decode(cursor.encode()) == cursor
    old = CaseCursor(3, at, cursor.case_id).encode()
    assert CaseCursor.decode(old).filters == ""
    with pytest.raises(BadCursorError):
        CaseCursor.decode("WzEsMiwzLDQsNV0")  # [1,2,3,4,5]


def test_labels_are_kept_by_supervisors_and_admins_and_attached_by_who_acts() -> None:
    me, other = uuid4(), uuid4()
    counsellor, sv, admin = (
        Viewer(me, "counsellor"),
        Viewer(other, "supervisor"),
        Viewer(other, "admin"),
    )
    assert can_manage_labels(sv) and can_manage_labels(admin) and not can_manage_labels(counsellor)
    assert can_label_case(counsellor, CaseFacts("assigned", me))
    assert not can_label_case(counsellor, CaseFacts("assigned", other))
    assert not can_label_case(counsellor, CaseFacts("queued", None))
    assert can_label_case(sv, CaseFacts("queued", None))
    assert can_name_channels(admin) and not can_name_channels(sv)


# --- the API -----------------------------------------------------------------------


@dataclass
class Desk:
    channel: str
    other_channel: str
    ids: dict[str, str]

    def names(self, page: dict[str, Any]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[c["case_id"]] for c in page["items"] if c["case_id"] in by_id]


async def _case(
    state: ConsoleState,
    *,
    channel: str,
    urgency: str,
    opened: datetime,
    assigned_to: UUID | None = None,
    closed: bool = False,
) -> str:
    case_id, client_id = uuid4(), uuid4()
    async with transaction(state.db.sessions) as session:
        await queries.case_opened(
            session,
            case_id=case_id,
            client_id=client_id,
            client_no=int(uuid4().int % 900000),
            channel=channel,
            urgency=urgency,
            queued_at=opened,
            event_at=opened,
            first_message_id=uuid4(),
        )
        if assigned_to is not None:
            await queries.case_assigned(
                session,
                case_id=case_id,
                client_id=client_id,
                channel=channel,
                counsellor_id=assigned_to,
                event_at=opened,
            )
        if closed:
            await queries.case_closed(
                session, case_id=case_id, client_id=client_id, channel=channel, event_at=opened
            )
    return str(case_id)


def _jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=JST)


@pytest.fixture
async def desk(state: ConsoleState) -> Desk:
    channel, other = f"t{uuid4().hex[:12]}", f"u{uuid4().hex[:12]}"
    ids = {
        "queued_critical": await _case(
            state, channel=channel, urgency="critical", opened=_jst(10, 9)
        ),
        "c1_high": await _case(
            state, channel=channel, urgency="high", opened=_jst(11, 23, 30), assigned_to=C1
        ),
        "c2_normal": await _case(
            state, channel=channel, urgency="normal", opened=_jst(12, 0, 10), assigned_to=C2
        ),
        "c1_closed": await _case(
            state,
            channel=channel,
            urgency="medium",
            opened=_jst(12, 10),
            assigned_to=C1,
            closed=True,
        ),
        "queued_normal": await _case(state, channel=channel, urgency="normal", opened=_jst(9, 10)),
        "elsewhere": await _case(state, channel=other, urgency="high", opened=_jst(10, 12)),
    }
    return Desk(channel, other, ids)


async def _get(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/cases", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_filter_narrows_the_list_in_urgency_then_wait_order(
    supervisor: httpx.AsyncClient, desk: Desk
) -> None:
    ch = desk.channel
    assert desk.names(await _get(supervisor, channel=ch)) == [
        "queued_critical",
        "c1_high",
        "queued_normal",
        "c2_normal",
    ]
    assert desk.names(await _get(supervisor, channel=ch, status="closed")) == ["c1_closed"]
    assert desk.names(await _get(supervisor, channel=ch, urgency="normal")) == [
        "queued_normal",
        "c2_normal",
    ]
    assert desk.names(await _get(supervisor, channel=ch, assignee=str(C1))) == ["c1_high"]
    assert desk.names(
        await _get(supervisor, channel=ch, assignee=str(C1), status=["assigned", "closed"])
    ) == ["c1_high", "c1_closed"]
    assert desk.names(await _get(supervisor, channel=ch, assignee="unassigned")) == [
        "queued_critical",
        "queued_normal",
    ]
    assert desk.names(await _get(supervisor, channel=ch, assignee="me")) == []
    both = await _get(supervisor, channel=[ch, desk.other_channel], urgency=["high", "critical"])
    assert desk.names(both) == ["queued_critical", "elsewhere", "c1_high"]


async def test_dates_are_the_desks_days_in_jst(supervisor: httpx.AsyncClient, desk: Desk) -> None:
    ch = desk.channel
    # 23:30 JST on the 11th is the 11th (14:30 UTC), 00:10 JST on the 12th the 12th
    eleventh = await _get(supervisor, channel=ch, **{"from": "2026-01-11", "to": "2026-01-11"})
    assert desk.names(eleventh) == ["c1_high"]
    twelfth = await _get(
        supervisor, channel=ch, status=["assigned", "closed"], **{"from": "2026-01-12"}
    )
    assert desk.names(twelfth) == ["c1_closed", "c2_normal"]
    until_tenth = await _get(supervisor, channel=ch, to="2026-01-10")
    assert desk.names(until_tenth) == ["queued_critical", "queued_normal"]


async def test_filters_combine_and_the_cursor_pages_through_them(
    supervisor: httpx.AsyncClient, desk: Desk
) -> None:
    params: dict[str, Any] = {"channel": desk.channel, "status": ["queued", "assigned", "closed"]}
    seen: list[str] = []
    page = await _get(supervisor, limit=2, **params)
    while True:
        seen += desk.names(page)
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
        page = await _get(supervisor, limit=2, cursor=cursor, **params)
    assert seen == ["queued_critical", "c1_high", "c1_closed", "queued_normal", "c2_normal"]
    first = await _get(supervisor, limit=2, **params)
    other_filters = await supervisor.get(
        "/api/cases", params={**params, "urgency": "high", "cursor": first["next_cursor"]}
    )
    assert other_filters.status_code == 400
    assert other_filters.json()["detail"].startswith("カーソルは別の絞り込み条件")
    # the same filters spelled in another order keep the cursor valid
    reordered = await supervisor.get(
        "/api/cases",
        params={
            "status": ["closed", "assigned", "queued"],
            "channel": desk.channel,
            "limit": 2,
            "cursor": first["next_cursor"],
        },
    )
    assert reordered.status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"from": "2026-02-30"}, 422, "受付日（開始）: 日付は YYYY-MM-DD の形式で指定してください"),
        ({"to": "昨日"}, 422, "受付日（終了）: 日付は YYYY-MM-DD の形式で指定してください"),
        (
            {"from": "2026-01-12", "to": "2026-01-11"},
            422,
            "受付日: 終了日は開始日以降にしてください",
        ),
        ({"assignee": "bob"}, 422, "担当者: 'me'・'unassigned' または職員IDを指定してください"),
        ({"label": "x1"}, 422, "ラベル: ラベルIDは数字で指定してください"),
        ({"label": "987654321"}, 422, "ラベル: 存在しないラベルです（ID 987654321）"),
        ({"urgency": "panic"}, 422, "緊急度: 選択肢の中から指定してください"),
        ({"channel": "c" * 65}, 422, "チャネル: 64文字以内で指定してください"),
    ],
)
async def test_bad_filters_get_a_clear_japanese_error(
    supervisor: httpx.AsyncClient, params: dict[str, str], status: int, detail: str
) -> None:
    response = await supervisor.get("/api/cases", params=params)
    assert response.status_code == status
    assert response.json()["detail"] == detail


async def test_an_unknown_channel_is_an_empty_list_not_an_error(
    supervisor: httpx.AsyncClient,
) -> None:
    # a channel may simply have no cases yet; an unknown label id is a mistake (422 above)
    assert (await _get(supervisor, channel="never-seen"))["items"] == []


async def test_filters_never_widen_what_a_counsellor_sees(
    app: FastAPI, supervisor: httpx.AsyncClient, desk: Desk
) -> None:
    label = await _new_label(supervisor)
    for name in ("c1_high", "c2_normal", "c1_closed"):
        attached = await supervisor.put(f"/api/cases/{desk.ids[name]}/labels/{label}", headers=CSRF)
        assert attached.status_code == 200
    c2 = await logged_in(app, "counsellor2")
    try:
        everything = {
            "status": ["queued", "assigned", "on_hold", "closed"],
            "channel": desk.channel,
        }
        assert desk.names(await _get(c2, **everything)) == [
            "queued_critical",
            "queued_normal",
            "c2_normal",
        ]
        assert desk.names(await _get(c2, assignee=str(C1), **everything)) == []
        assert desk.names(await _get(c2, label=label, **everything)) == ["c2_normal"]
        assert desk.names(await _get(c2, status="closed", channel=desk.channel)) == []
        assert desk.names(await _get(c2, assignee="me", **everything)) == ["c2_normal"]
    finally:
        await c2.aclose()
    sv = await _get(supervisor, label=label, status=["assigned", "closed"], channel=desk.channel)
    assert desk.names(sv) == ["c1_high", "c1_closed", "c2_normal"]


# --- labels ------------------------------------------------------------------------


async def _new_label(client: httpx.AsyncClient, colour: str = "blue") -> int:
    response = await client.post(
        "/api/labels", json={"name": f"要フォロー{uuid4().hex[:6]}", "colour": colour}, headers=CSRF
    )
    assert response.status_code == 201, response.text
    return int(response.json()["label_id"])


async def test_supervisors_and_admins_keep_the_label_set_counsellors_cannot(
    app: FastAPI, supervisor: httpx.AsyncClient, counsellor1: httpx.AsyncClient
) -> None:
    name = f"継続{uuid4().hex[:6]}"
    made = await supervisor.post(
        "/api/labels", json={"name": f" {name} ", "colour": "green"}, headers=CSRF
    )
    assert made.status_code == 201 and made.json()["name"] == name
    label_id = made.json()["label_id"]
    fullwidth = name.replace("継続", "継続").translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789abcdef"}
    )
    twin = await supervisor.post("/api/labels", json={"name": fullwidth}, headers=CSRF)
    assert twin.status_code == 409 and twin.json()["detail"] == "同じ名前のラベルがすでにあります"
    refused = await counsellor1.post("/api/labels", json={"name": "相談員の"}, headers=CSRF)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "ラベルの編集はスーパーバイザー・管理者のみできます"
    renamed = await counsellor1.put(f"/api/labels/{label_id}", json={"name": "x"}, headers=CSRF)
    assert renamed.status_code == 403
    bad_colour = await supervisor.post(
        "/api/labels", json={"name": "色", "colour": "#ff0000"}, headers=CSRF
    )
    blank = await supervisor.post("/api/labels", json={"name": "   "}, headers=CSRF)
    no_csrf = await supervisor.post("/api/labels", json={"name": "CSRFなし"})
    too_long = await supervisor.post("/api/labels", json={"name": "あ" * 41}, headers=CSRF)
    assert too_long.status_code == 422
    assert too_long.json()["detail"] == "名前: 40文字以内で入力してください"
    assert bad_colour.json()["detail"] == "色: 選択肢の中から指定してください"
    assert bad_colour.status_code == 422 and blank.status_code == 422
    assert blank.json()["detail"].endswith("入力してください")
    assert no_csrf.status_code == 403
    admin = await logged_in(app, "admin")
    try:
        retired = await admin.put(
            f"/api/labels/{label_id}",
            json={"name": name, "colour": "green", "retired": True},
            headers=CSRF,
        )
        assert retired.status_code == 200 and retired.json()["retired"] is True
        missing = await admin.put("/api/labels/99999999", json={"name": "なし"}, headers=CSRF)
        assert missing.status_code == 404
    finally:
        await admin.aclose()
    listed = (await counsellor1.get("/api/labels")).json()
    assert any(x["label_id"] == label_id and x["retired"] for x in listed)


async def test_who_acts_on_a_case_attaches_labels_shown_on_the_row_and_in_the_chat(
    supervisor: httpx.AsyncClient,
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    desk: Desk,
) -> None:
    label = await _new_label(supervisor, "red")
    own, others, queued = desk.ids["c1_high"], desk.ids["c2_normal"], desk.ids["queued_critical"]
    attached = await counsellor1.put(f"/api/cases/{own}/labels/{label}", headers=CSRF)
    assert attached.status_code == 200
    assert [x["label_id"] for x in attached.json()] == [label]
    again = await counsellor1.put(f"/api/cases/{own}/labels/{label}", headers=CSRF)
    assert again.status_code == 200 and len(again.json()) == 1
    not_mine = await counsellor1.put(f"/api/cases/{others}/labels/{label}", headers=CSRF)
    assert not_mine.status_code == 403
    in_queue = await counsellor2.put(f"/api/cases/{queued}/labels/{label}", headers=CSRF)
    assert in_queue.status_code == 403
    assert (
        in_queue.json()["detail"] == "ラベルを付けられるのは担当の相談員またはスーパーバイザーです"
    )
    unknown = await counsellor1.put(f"/api/cases/{own}/labels/99999999", headers=CSRF)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "ラベルが見つかりません"
    bad_id = await counsellor1.put(f"/api/cases/{own}/labels/0", headers=CSRF)
    assert bad_id.status_code == 422

    row = (await _get(counsellor1, channel=desk.channel, label=label))["items"]
    assert [r["case_id"] for r in row] == [own]
    assert row[0]["labels"][0]["colour"] == "red" and row[0]["can_label"] is True
    detail = (await counsellor1.get(f"/api/cases/{own}")).json()["case"]
    assert [x["label_id"] for x in detail["labels"]] == [label]
    assert detail["channel"] == desk.channel

    removed = await counsellor1.delete(f"/api/cases/{own}/labels/{label}", headers=CSRF)
    assert removed.status_code == 200 and removed.json() == []
    assert (await _get(counsellor1, channel=desk.channel, label=label))["items"] == []


async def test_a_retired_label_stays_on_its_cases_but_cannot_be_attached_again(
    supervisor: httpx.AsyncClient, desk: Desk
) -> None:
    label = await _new_label(supervisor)
    case_id = desk.ids["c2_normal"]
    assert (
        await supervisor.put(f"/api/cases/{case_id}/labels/{label}", headers=CSRF)
    ).status_code == 200
    name = next(
        x["name"] for x in (await supervisor.get("/api/labels")).json() if x["label_id"] == label
    )
    await supervisor.put(f"/api/labels/{label}", json={"name": name, "retired": True}, headers=CSRF)
    kept = (await _get(supervisor, channel=desk.channel, label=label))["items"]
    assert [c["case_id"] for c in kept] == [case_id] and kept[0]["labels"][0]["retired"] is True
    other = desk.ids["c1_high"]
    refused = await supervisor.put(f"/api/cases/{other}/labels/{label}", headers=CSRF)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "使用を終了したラベルは新しく付けられません"


# --- channels ----------------------------------------------------------------------


async def test_admins_name_channels_and_the_list_shows_the_name(
    app: FastAPI, supervisor: httpx.AsyncClient, counsellor1: httpx.AsyncClient, desk: Desk
) -> None:
    admin = await logged_in(app, "admin")
    try:
        saved = await admin.put(
            f"/api/admin/channels/{desk.channel}",
            json={"display_name": "みえ にじいろ相談", "note": "本番アカウント（2026年度）"},
            headers=CSRF,
        )
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert body["display_name"] == "みえ にじいろ相談"
        assert (body["total"], body["open"], body["closed"]) == (5, 4, 1)
        overview = (await admin.get("/api/admin/channels")).json()
        seen = {c["channel"] for c in overview}
        assert {desk.channel, desk.other_channel} <= seen
        bad = await admin.put("/api/admin/channels/bad%20id", json={}, headers=CSRF)
        too_long = await admin.put(
            f"/api/admin/channels/{desk.channel}", json={"display_name": "あ" * 61}, headers=CSRF
        )
        assert bad.status_code == 422 and too_long.status_code == 422
        assert too_long.json()["detail"] == "表示名: 60文字以内で入力してください"
    finally:
        await admin.aclose()
    assert (await supervisor.get("/api/admin/channels")).status_code == 403
    refused = await supervisor.put(
        f"/api/admin/channels/{desk.channel}", json={"display_name": "x"}, headers=CSRF
    )
    assert (
        refused.status_code == 403
        and refused.json()["detail"] == "チャネルの設定は管理者のみできます"
    )
    names = {
        c["channel"]: c["display_name"] for c in (await counsellor1.get("/api/channels")).json()
    }
    assert names[desk.channel] == "みえ にじいろ相談" and names[desk.other_channel] is None
    row = (await _get(counsellor1, channel=desk.channel))["items"][0]
    assert row["channel_name"] == "みえ にじいろ相談"


async def test_label_and_channel_changes_are_in_the_access_log(
    app: FastAPI, supervisor: httpx.AsyncClient, desk: Desk
) -> None:
    label = await _new_label(supervisor)
    await supervisor.put(f"/api/cases/{desk.ids['c1_high']}/labels/{label}", headers=CSRF)
    admin = await logged_in(app, "admin")
    try:
        page = (await admin.get("/api/admin/access-log", params={"action": "change"})).json()
    finally:
        await admin.aclose()
    paths = {(e["path"], e["target_kind"], e["target_id"]) for e in page["entries"]}
    assert ("/api/cases/{case_id}/labels/{label_id}", "case", desk.ids["c1_high"]) in paths
    assert any(p == "/api/labels" for p, _, _ in paths)
