"""The access log (spec 4(1)(イ)): what is recorded, and the middleware that records it.

Logins and logouts are recorded by their endpoints (api/me.py). Everything else is
recorded here, once per request, by one middleware: every state-changing request
(POST/PUT/PATCH/DELETE under /api/) of a logged-in staff member, and the reads of
case and client records (相談者カルテ, ケースメモ) listed in ``READS``.

When: right after the endpoint has produced its response and before it is sent, in
a transaction of its own (a change's own transaction has already committed; a
refused request still gets its entry). A failed write is never silent: it is
logged as ``console.access_log_write_failed`` at error level with every field of
the entry (ids only), so an operator's log collection keeps it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request, Response
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger

from sodan_console.db import access_log as db

log = get_logger(__name__)

CHANGE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Recorded by the endpoints themselves (they know the reason of a failure).
OWN_RECORDS = frozenset({"/api/login", "/api/logout"})
# Reads of records worth an entry: route template -> action.
READS = {
    "/api/cases": "case.list",
    "/api/cases/{case_id}": "case.read",
    "/api/cases/{case_id}/media/{message_id}": "case.media",
    "/api/admin/access-log": "access_log.read",
    "/api/admin/access-log.csv": "access_log.export",
    "/api/clients/{client_id}/record": "client_record.read",
    "/api/cases/{case_id}/notes": "case_notes.read",
}
# Path parameters that name what a request was about (never anything else).
TARGETS = (
    ("case_id", "case"),
    ("client_id", "client"),
    ("staff_id", "staff"),
    ("key", "setting"),
    ("template_id", "template"),
    ("label_id", "label"),
    ("channel", "channel"),
)
LOGIN_DIGEST_CHARS = 12
USER_AGENT_CHARS = 200

ACTIONS = (
    "login.succeeded",
    "login.failed",
    "logout",
    "case.list",
    "case.read",
    "case.media",
    "change",
    "access_log.read",
    "access_log.export",
    "reply.personal_data_confirmed",
    "client_record.read",
    "case_notes.read",
)
# A counsellor sent a reply despite the personal-data warning: one entry per kind
# found (the kind in ``reason``), never the text (written by api/cases.py).
PERSONAL_DATA_CONFIRMED = "reply.personal_data_confirmed"
FAILURE_REASONS = (
    "unknown_login",
    "wrong_password",
    "disabled",
    "wrong_totp",
    "totp_required",
    "locked",
)


@dataclass(frozen=True)
class Entry:
    action: str
    staff_id: UUID | None = None
    login: str | None = None
    method: str | None = None
    path: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    status: int | None = None
    reason: str | None = None
    client_addr: str | None = None
    user_agent: str | None = None


def login_digest(login: str) -> str:
    """An attempted login that matches no staff member is kept only as a short digest:
    repeated attempts against one name can be told apart, but what was typed (perhaps a
    password in the wrong field, perhaps someone's name) is not stored."""
    return "sha256:" + hashlib.sha256(login.encode()).hexdigest()[:LOGIN_DIGEST_CHARS]


def failure_reason(*, known: bool, disabled: bool) -> str:
    if not known:
        return "unknown_login"
    return "disabled" if disabled else "wrong_password"


def action_for(method: str, template: str) -> str | None:
    """The action a request is recorded as, or None when it is not recorded."""
    if not template.startswith("/api/") or template in OWN_RECORDS:
        return None
    if method in CHANGE_METHODS:
        return "change"
    if method == "GET":
        return READS.get(template)
    return None


def target_of(path_params: dict[str, Any]) -> tuple[str | None, str | None]:
    for name, kind in TARGETS:
        if name in path_params:
            return kind, str(path_params[name])[:64]
    return None, None


def client_of(request: Request) -> tuple[str | None, str | None]:
    """The client's address (uvicorn already applied the trusted proxy headers:
    ``proxy_headers`` with ``--forwarded-allow-ips``) and a truncated user agent."""
    address = request.client.host if request.client else None
    agent = request.headers.get("user-agent")
    return address, agent[:USER_AGENT_CHARS] if agent else None


async def record(request: Request, entry: Entry) -> None:
    state = request.app.state.console
    try:
        async with transaction(state.db.sessions) as session:
            await db.append(session, entry)
    except Exception:
        log.exception(
            "console.access_log_write_failed",
            **{k: str(v) if v is not None else None for k, v in entry.__dict__.items()},
        )


def mark_staff(request: Request, staff_id: UUID) -> None:
    """Called by the auth dependency: who made this request."""
    request.state.access_staff_id = staff_id


def mark_target(request: Request, kind: str, target_id: object) -> None:
    """What a request was about when its path does not say (a newly created record)."""
    request.state.access_target = (kind, str(target_id)[:64])


async def access_log_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    staff_id: UUID | None = getattr(request.state, "access_staff_id", None)
    if template is None or staff_id is None:
        return response
    action = action_for(request.method, template)
    if action is None:
        return response
    kind, target = target_of(request.scope.get("path_params", {}))
    if target is None:
        kind, target = getattr(request.state, "access_target", (None, None))
    address, agent = client_of(request)
    await record(
        request,
        Entry(
            action=action,
            staff_id=staff_id,
            method=request.method,
            path=template,
            target_kind=kind,
            target_id=target,
            status=response.status_code,
            client_addr=address,
            user_agent=agent,
        ),
    )
    return response
