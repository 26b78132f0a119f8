"""Every /api endpoint, called as every role: refused where it must be, not refused
where it must not be.

The table below lists each endpoint once, with what each caller gets. A new
endpoint fails `test_every_api_route_is_in_the_table` until it has its line, so
nobody can add one without deciding who may call it.

Columns: anonymous (no session); counsellor (counsellor1, whose case the sweep's
case is); other (counsellor2: somebody else's case); supervisor; admin.
``OK`` means the call must get past authorization: neither 401, 403 nor 404 (a
dummy body may still earn 400/409/422, and 503 where the service behind it, e.g.
reporting, is not running). A number is the exact refusal expected.

Requests are valid-shaped on purpose: FastAPI validates a body before the
handler's own role check runs, so an invalid body would hide a missing 403
behind a 422. Where an allowed call would change something real, the body is
chosen so the handler refuses it after the role check (e.g. a blank auto-text).

Adding an endpoint: one ``r(...)`` line in TABLE (with ``json=``/``params=`` for a
valid-shaped request); a new path parameter needs a value in ``Sweep`` (the
failure names it). ``fresh=True`` runs the call in a session of its own, for
calls that end or alter the caller's session or account.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import nats
import pytest
from console_support import (
    CSRF,
    STAFF,
    eventually,
    make_case_assigned,
    make_case_opened,
    new_client,
    served_console,
)
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sodan_console.api.deps import SESSION_COOKIE, require_csrf_header
from sodan_console.auth import new_session_token, token_digest
from sodan_console.db import queries
from sodan_console.main import create_app
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_devstack.nats import free_port
from sodan_shared.db import transaction
from sodan_shared.events.line import MediaStored, MediaStoredV1
from sodan_shared.media_store import MEDIA_BUCKET, MEDIA_PURPOSE, media_object_name, media_store
from sodan_shared.nats import ensure_streams, publish_event
from sodan_shared.testing.factories import make_message_received
from totp_support import Person, make_staff

OK = "ok"
Expect = int | str
ROLES = ("anonymous", "counsellor", "other", "supervisor", "admin")
# Demo staff playing each role (anonymous has no session).
LOGIN_OF = {
    "counsellor": "counsellor1",
    "other": "counsellor2",
    "supervisor": "supervisor",
    "admin": "admin",
}
# The catch-all that answers 404 for unknown /api paths is not an endpoint.
NOT_ENDPOINTS = {"api_not_found"}


@dataclass(frozen=True)
class Actor:
    role: str
    login: str
    password: str
    client: httpx.AsyncClient


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, Expect]
    json: Any = None  # a body, or a function of the calling Actor giving one
    params: dict[str, str] | None = None
    # Called by a throwaway staff member of the role in a session of their own
    # (login, logout and one's own settings must not disturb the shared sessions).
    fresh: bool = False
    # Path parameters taken from another field of the Sweep than their own name.
    at: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def r(
    method: str,
    path: str,
    anonymous: Expect,
    counsellor: Expect,
    other: Expect,
    supervisor: Expect,
    admin: Expect,
    **kw: Any,
) -> Row:
    expect = dict(zip(ROLES, (anonymous, counsellor, other, supervisor, admin), strict=True))
    return Row(method, path, expect, **kw)


def _own_login(actor: Actor) -> dict[str, str]:
    return {"login": actor.login, "password": actor.password}


NO_SUCH_OUTCOME = "（存在しない対応結果）"
# What the sweep creates, by name: a duplicate label name is refused after the role check
SWEEP_LABEL = f"権限の確認-{uuid4().hex[:6]}"
SWEEP_TEMPLATE = "権限の確認（スイープ）"

# fmt: off
TABLE: list[Row] = [
    #  method  path                                           anon counsellor other sv   admin
    r("POST",   "/api/login",                                  OK,  OK,  OK,  OK,  OK, json=_own_login, fresh=True),
    r("POST",   "/api/logout",                                 OK,  OK,  OK,  OK,  OK, fresh=True),
    r("GET",    "/api/me",                                     401, OK,  OK,  OK,  OK),
    r("PUT",    "/api/me/presence",                            401, OK,  OK,  OK,  OK, json={"presence": "away"}, fresh=True),
    r("POST",   "/api/me/totp/setup",                          401, OK,  OK,  OK,  OK, fresh=True),
    r("POST",   "/api/me/totp/confirm",                        401, OK,  OK,  OK,  OK, json={"code": "000000"}, fresh=True),
    r("GET",    "/api/desk",                                   401, OK,  OK,  OK,  OK),
    r("GET",    "/api/stream",                                 401, OK,  OK,  OK,  OK),
    r("GET",    "/api/stickers",                               401, OK,  OK,  OK,  OK),
    r("GET",    "/api/closing-options",                        401, OK,  OK,  OK,  OK),
    r("GET",    "/api/assignment-mode",                        401, OK,  OK,  OK,  OK),
    r("GET",    "/api/cases",                                  401, OK,  OK,  OK,  OK),
    r("GET",    "/api/cases/{case_id}",                        401, OK,  403, OK,  OK, params={"mark_read": "false"}),
    r("POST",   "/api/cases/{case_id}/replies",                401, OK,  403, OK,  403, json={"text": "権限の確認です"}),
    r("POST",   "/api/cases/{case_id}/replies/{message_id}/resend", 401, OK, 403, OK, 403, at={"message_id": "reply_id"}),
    r("POST",   "/api/cases/{case_id}/typing",                 401, OK,  403, OK,  403),
    r("PUT",    "/api/cases/{case_id}/emergency-mode",         401, 403, 403, OK,  403, json={"enabled": False}),
    r("GET",    "/api/cases/{case_id}/media/{message_id}",     401, OK,  403, OK,  OK),
    r("POST",   "/api/cases/{case_id}/close",                  401, OK,  403, OK,  403, json={"outcome": NO_SUCH_OUTCOME}),
    r("POST",   "/api/cases/{case_id}/close-decision",         401, 403, 403, OK,  403, json={"approve": True}),
    r("POST",   "/api/cases/{case_id}/hold",                   401, OK,  403, 403, 403, json={"hold": False}),
    r("GET",    "/api/cases/{case_id}/handover-targets",       401, OK,  403, 403, 403),
    r("POST",   "/api/cases/{case_id}/hand-over",              401, OK,  403, 403, 403, json={"to_staff_id": str(uuid4())}),
    r("POST",   "/api/cases/{case_id}/pick",                   401, OK,  403, OK,  403),
    r("POST",   "/api/cases/{case_id}/reassign",               401, 403, 403, OK,  403, json=lambda _a: {"to_staff_id": str(STAFF["counsellor1"].staff_id)}),
    r("POST",   "/api/cases/{case_id}/take-over",              401, 403, 403, OK,  403),
    r("GET",    "/api/staff",                                  401, 403, 403, OK,  OK),
    r("PUT",    "/api/staff/{staff_id}/capacity",              401, 403, 403, OK,  403, json={"capacity": 2}),
    r("PUT",    "/api/assignment-mode",                        401, 403, 403, OK,  403, json={"mode": "auto"}),
    r("GET",    "/api/handbacks",                              401, 403, 403, OK,  OK),
    r("GET",    "/api/lexicon",                                401, 403, 403, OK,  OK),
    r("GET",    "/api/lexicon/history",                        401, 403, 403, OK,  OK),
    r("PUT",    "/api/lexicon",                                401, 403, 403, OK,  OK, json={"lexicon": {}, "base_version": "sweep", "comment": "権限の確認"}),
    r("GET",    "/api/auto-texts",                             401, 403, 403, OK,  OK),
    r("PUT",    "/api/auto-texts/{key}",                       401, 403, 403, OK,  OK, json={"body": " "}),
    r("GET",    "/api/hours",                                  401, 403, 403, OK,  OK),
    r("POST",   "/api/hours/preview",                          401, 403, 403, OK,  OK, json={"rules": []}),
    r("PUT",    "/api/hours",                                  401, 403, 403, OK,  OK, json={"rules": []}),
    r("GET",    "/api/reports/monthly",                        401, 403, 403, OK,  OK, params={"month": "2026-01"}),
    r("GET",    "/api/reports/final",                          401, 403, 403, OK,  OK, params={"from": "2026-01-01", "to": "2026-01-31"}),
    r("PUT",    "/api/reports/monthly/analysis",               401, 403, 403, OK,  OK, json={"month": "2026-01", "text": "権限の確認"}),
    r("GET",    "/api/admin/access-log",                       401, 403, 403, 403, OK),
    r("GET",    "/api/admin/access-log.csv",                   401, 403, 403, 403, OK),
    r("GET",    "/api/admin/staff",                            401, 403, 403, 403, OK),
    r("POST",   "/api/admin/staff/{staff_id}/disable",         401, 403, 403, 403, OK, at={"staff_id": "admin_target"}),
    r("POST",   "/api/admin/staff/{staff_id}/enable",          401, 403, 403, 403, OK, at={"staff_id": "admin_target"}),
    r("DELETE", "/api/admin/staff/{staff_id}/sessions",        401, 403, 403, 403, OK, at={"staff_id": "admin_target"}),
    r("POST",   "/api/admin/staff/{staff_id}/totp/reset",      401, 403, 403, 403, OK, at={"staff_id": "admin_target"}),
    r("POST",   "/api/admin/staff/{staff_id}/unlock",          401, 403, 403, 403, OK, at={"staff_id": "admin_target"}),
    # スタッフ管理 and アカウント設定
    r("POST",   "/api/admin/staff",                            401, 403, 403, 403, OK, json={"login": "counsellor1", "display_name": "重複", "role": "counsellor"}),
    r("PATCH",  "/api/admin/staff/{staff_id}",                 401, 403, 403, 403, OK, json={"display_name": "権限の確認"}, at={"staff_id": "admin_target"}),
    r("POST",   "/api/admin/staff/{staff_id}/password/reset",  401, 403, 403, 403, OK, at={"staff_id": "admin_target"}),
    r("GET",    "/api/me/account",                             401, OK,  OK,  OK,  OK),
    r("GET",    "/api/me/logins",                              401, OK,  OK,  OK,  OK),
    r("POST",   "/api/me/password",                            401, OK,  OK,  OK,  OK, json=lambda a: {"current_password": a.password, "new_password": a.password}, fresh=True),
    r("POST",   "/api/me/totp/renew",                          401, OK,  OK,  OK,  OK, json=lambda a: {"password": a.password}, fresh=True),
    r("POST",   "/api/me/totp/renew/confirm",                  401, OK,  OK,  OK,  OK, json={"code": "000000"}, fresh=True),
    # 相談者カルテ and ケースメモ: a client counsellor2 never handled is not found
    r("GET",    "/api/clients/{client_id}/record",             401, OK,  404, OK,  OK),
    r("PUT",    "/api/clients/{client_id}/record",             401, OK,  404, OK,  OK, json={"version": 999999}),
    r("GET",    "/api/cases/{case_id}/notes",                  401, OK,  403, OK,  OK),
    r("POST",   "/api/cases/{case_id}/notes",                  401, OK,  403, OK,  403, json={"text": "権限の確認メモ"}),
    # 定型文
    r("GET",    "/api/reply-templates",                        401, OK,  OK,  OK,  OK),
    r("POST",   "/api/reply-templates",                        401, 403, 403, OK,  OK, json={"title": SWEEP_TEMPLATE, "category": "確認", "body": "権限の確認です"}),
    r("PUT",    "/api/reply-templates/{template_id}",          401, 403, 403, OK,  OK, json={"title": SWEEP_TEMPLATE, "category": "確認", "body": "権限の確認です", "version": 999}),
    r("POST",   "/api/reply-templates/{template_id}/retire",   401, 403, 403, OK,  OK),
    r("POST",   "/api/reply-templates/{template_id}/restore",  401, 403, 403, OK,  OK),
    r("GET",    "/api/reply-templates/{template_id}/history",  401, 403, 403, OK,  OK),
    # ラベル and チャネル
    r("GET",    "/api/labels",                                 401, OK,  OK,  OK,  OK),
    r("POST",   "/api/labels",                                 401, 403, 403, OK,  OK, json={"name": SWEEP_LABEL}),
    r("PUT",    "/api/labels/{label_id}",                      401, 403, 403, OK,  OK, json={"name": SWEEP_LABEL}),
    r("PUT",    "/api/cases/{case_id}/labels/{label_id}",      401, OK,  403, OK,  403),
    r("DELETE", "/api/cases/{case_id}/labels/{label_id}",      401, OK,  403, OK,  403),
    r("GET",    "/api/channels",                               401, OK,  OK,  OK,  OK),
    r("GET",    "/api/admin/channels",                         401, 403, 403, 403, OK),
    r("PUT",    "/api/admin/channels/{channel}",               401, 403, 403, 403, OK, json={}),
    # 対応結果・相談内容, and the monthly report's notice
    r("GET",    "/api/closing-categories",                     401, 403, 403, OK,  OK),
    r("PUT",    "/api/closing-categories",                     401, 403, 403, OK,  OK, json={"outcomes": ["その他", "その他"], "topics": ["家族"]}),
    r("GET",    "/api/reports/produced",                       401, 403, 403, OK,  OK),
]
# fmt: on


# POSTs that change nothing, so need no CSRF header (a cross-site page cannot read the answer).
NO_CSRF_NEEDED = {("POST", "/api/hours/preview"): "a preview of a draft calendar; nothing is saved"}


def api_endpoints(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Every endpoint under /api/ by (method, path), however the routers are nested."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazy included routers: app.routes is flat
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    found = {}
    for context in contexts:
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute) or not context.path.startswith("/api/"):
            continue
        if context.name in NOT_ENDPOINTS:
            continue
        for method in context.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found[(method, context.path)] = route
    return found


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    return set(api_endpoints(app))


def test_every_api_route_is_in_the_table() -> None:
    app = create_app(ConsoleSettings(nats_url="nats://127.0.0.1:4222", _env_file=None))
    routes = api_routes(app)
    listed = [row.key for row in TABLE]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    missing = sorted(routes - set(listed))
    assert not missing, "routes without a line in TABLE (decide who may call them): " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    stale = sorted(set(listed) - routes)
    assert not stale, "TABLE lists routes that do not exist: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )
    for row in TABLE:
        if "{case_id}" not in row.path and "{client_id}" not in row.path:
            # 'other' differs from 'counsellor' only about somebody else's case (or client)
            assert row.expect["other"] == row.expect["counsellor"], row.key


def test_every_state_changing_endpoint_requires_the_csrf_header() -> None:
    app = create_app(ConsoleSettings(nats_url="nats://127.0.0.1:4222", _env_file=None))
    unguarded = sorted(
        f"{method} {path}"
        for (method, path), route in api_endpoints(app).items()
        if method != "GET"
        and (method, path) not in NO_CSRF_NEEDED
        and require_csrf_header not in {d.call for d in route.dependant.dependencies}
    )
    assert not unguarded, "add dependencies=[Csrf] to: " + ", ".join(unguarded)


# --- the live sweep ----------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class Sweep:
    url: str
    state: ConsoleState
    case_id: str
    message_id: str
    key: str
    staff_id: str  # whose capacity a supervisor sets
    admin_target: str  # whom the admin disables, enables, logs out, resets
    client_id: str  # the case's client (相談者カルテ)
    reply_id: str  # a counsellor's reply in the case (not failed: a resend is refused with 409)
    label_id: str
    template_id: str
    channel: str
    actors: dict[str, Actor]
    # Per role, a staff member of its own for the `fresh` rows (anonymous: a
    # counsellor's credentials without a session, for the login row).
    throwaway: dict[str, Person]

    def path_for(self, row: Row) -> str:
        values = {
            "case_id": self.case_id,
            "message_id": self.message_id,
            "key": self.key,
            "staff_id": self.staff_id,
            "client_id": self.client_id,
            "label_id": self.label_id,
            "template_id": self.template_id,
            "channel": self.channel,
        }
        values.update({param: str(getattr(self, name)) for param, name in row.at.items()})
        try:
            return row.path.format(**values)
        except KeyError as exc:
            raise AssertionError(
                f"{row.method} {row.path}: no value for path parameter {exc}; add one to Sweep"
            ) from None


async def _logged_in(url: str, login: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=30.0)
    response = await client.post(
        "/api/login", json={"login": login, "password": password}, headers=CSRF
    )
    assert response.status_code == 200, response.text
    return client


async def _case_with_stored_media(
    state: ConsoleState, nats_url: str, watcher: httpx.AsyncClient
) -> tuple[str, str, str]:
    """A case assigned to counsellor1, with one stored (sealed) image in it."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        identity, cipher = await new_client(state.keyring)
        text = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
        opened = make_case_opened(identity=identity, first_message_id=text.id)
        assigned = make_case_assigned(opened, counsellor_id=STAFF["counsellor1"].staff_id)
        image = make_message_received(
            cipher=cipher, client_no=identity.client_no, text=None, kind="image", media="pending"
        )
        for event in (text, opened, assigned, image):
            await publish_event(js, event)
        p = image.payload
        name = media_object_name(p.client_id, p.line_message_id)
        await (await media_store(js)).put(name, cipher.seal_bytes(MEDIA_PURPOSE, PNG))
        stored = MediaStored.new(
            channel="demo",
            caused_by=image,
            payload=MediaStoredV1(
                client_id=p.client_id,
                message_event_id=image.id,
                line_message_id=p.line_message_id,
                kind=p.kind,
                bucket=MEDIA_BUCKET,
                object_name=name,
                content_type="image/png",
                size=len(PNG),
                sha256=hashlib.sha256(PNG).hexdigest(),
            ),
        )
        await publish_event(js, stored)
    finally:
        await nc.drain()
    case_id = str(opened.payload.case_id)

    async def ready() -> bool:
        response = await watcher.get(f"/api/cases/{case_id}", params={"mark_read": "false"})
        if response.status_code != 200:
            return False
        detail = response.json()
        media = [m for m in detail["messages"] if m["message_id"] == str(image.id)]
        return (
            detail["case"]["status"] == "assigned"
            and bool(media)
            and (media[0]["media"] or {}).get("status") == "stored"
        )

    await eventually(ready, what="the assigned case with its stored image")
    return case_id, str(image.id), str(identity.client_id)


@pytest.fixture(scope="module")
async def sweep(seeded: ConsoleSettings, nats_url: str) -> AsyncIterator[Sweep]:
    settings = seeded.model_copy(
        # nothing listens there: reports answer 503 instead of reaching a stray service
        update={"console_reporting_url": f"http://127.0.0.1:{free_port()}"}
    )
    async with served_console(settings) as (url, state):
        actors = {"anonymous": Actor("anonymous", "", "", httpx.AsyncClient(base_url=url))}
        for role, login in LOGIN_OF.items():
            password = STAFF[login].password
            actors[role] = Actor(role, login, password, await _logged_in(url, login, password))
        try:
            case_id, message_id, client_id = await _case_with_stored_media(
                state, nats_url, actors["counsellor"].client
            )
            supervisor = actors["supervisor"].client
            label = await supervisor.post("/api/labels", json={"name": SWEEP_LABEL}, headers=CSRF)
            template = await supervisor.post(
                "/api/reply-templates",
                json={"title": SWEEP_TEMPLATE, "category": "確認", "body": "権限の確認です"},
                headers=CSRF,
            )
            assert label.status_code == template.status_code == 201, (label.text, template.text)
            reply = await actors["counsellor"].client.post(
                f"/api/cases/{case_id}/replies", json={"text": "権限の確認の返信"}, headers=CSRF
            )
            assert reply.status_code == 202, reply.text
            from sodan_shared.auto_texts import AUTO_TEXT_KEYS

            yield Sweep(
                url=url,
                state=state,
                case_id=case_id,
                message_id=message_id,
                key=AUTO_TEXT_KEYS[0],
                staff_id=str((await make_staff(state, "counsellor")).staff_id),
                admin_target=str((await make_staff(state, "counsellor")).staff_id),
                client_id=client_id,
                reply_id=reply.json()["message"]["message_id"],
                label_id=str(label.json()["label_id"]),
                template_id=template.json()["template_id"],
                channel="demo",
                actors=actors,
                throwaway={
                    role: await make_staff(
                        state, "counsellor" if role in ("anonymous", "other") else role
                    )
                    for role in ROLES
                },
            )
            # what the sweep made must not show in later tests' template pickers
            editor = actors["supervisor"].client
            made = await editor.get("/api/reply-templates", params={"include_retired": "true"})
            for item in made.json()["items"]:
                if item["title"] == SWEEP_TEMPLATE and not item["retired"]:
                    await editor.post(
                        f"/api/reply-templates/{item['template_id']}/retire", headers=CSRF
                    )
        finally:
            for actor in actors.values():
                await actor.client.aclose()


async def _actor_for(sweep: Sweep, row: Row, role: str) -> tuple[Actor, bool]:
    """The caller, and whether its client is the call's own (to close afterwards)."""
    if not row.fresh:
        return sweep.actors[role], False
    person = sweep.throwaway[role]
    client = httpx.AsyncClient(base_url=sweep.url, timeout=30.0)
    if role != "anonymous":
        # A session of its own, made directly: a login per call would cost an argon2 hash.
        token = new_session_token()
        now = datetime.now(UTC)
        async with transaction(sweep.state.db.sessions) as session:
            await queries.create_session(
                session,
                token_hash=token_digest(token),
                staff_id=person.staff_id,
                now=now,
                expires_at=now + timedelta(hours=1),
                enrol_only=False,
            )
        client.cookies.set(SESSION_COOKIE, token)
    return Actor(role, person.login, person.password, client), True


async def _call(sweep: Sweep, row: Row, role: str) -> tuple[int, str]:
    actor, own = await _actor_for(sweep, row, role)
    body = row.json(actor) if callable(row.json) else row.json
    try:
        return await _exchange(sweep, row, actor, body)
    except httpx.HTTPError as exc:  # reported with its row, beside every other mismatch
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        if own:
            await actor.client.aclose()


async def _exchange(sweep: Sweep, row: Row, actor: Actor, body: Any) -> tuple[int, str]:
    async with actor.client.stream(
        row.method,
        sweep.path_for(row),
        json=body,
        params=row.params,
        headers=CSRF,
        timeout=30.0,
    ) as response:
        # /api/stream never ends: the status line is all the sweep needs
        if response.status_code >= 400:
            await response.aread()
            return response.status_code, response.text[:200]
        return response.status_code, ""


def _verdict(expected: Expect, status: int) -> bool:
    if expected == OK:
        refused = status in (401, 403, 404)
        broken = status >= 500 and status != 503
        return not refused and not broken
    return status == expected


async def test_every_endpoint_refuses_exactly_whom_the_table_says(sweep: Sweep) -> None:
    calls: list[tuple[Row, str]] = [(row, role) for row in TABLE for role in ROLES]
    limit = asyncio.Semaphore(32)

    async def one(row: Row, role: str) -> tuple[int, str]:
        async with limit:
            return await _call(sweep, row, role)

    # Together: the few calls that wait for routing's answer (none runs here) overlap.
    results = await asyncio.gather(*(one(row, role) for row, role in calls))
    failures = [
        f"{row.method} {row.path} as {role}: expected "
        f"{'not refused' if row.expect[role] == OK else row.expect[role]}, got {status} {detail}"
        for (row, role), (status, detail) in zip(calls, results, strict=True)
        if not _verdict(row.expect[role], status)
    ]
    assert not failures, "\n".join(failures)
