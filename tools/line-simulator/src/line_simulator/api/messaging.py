"""The Messaging API endpoints our services call through line-bot-sdk v3.

Checks run in LINE's order as far as it shows from outside: authentication,
then (injected) rate limits, then the retry key, then the body.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from line_simulator.api.deps import LineError, SimulatorDep
from line_simulator.media import content_for
from line_simulator.schemas import FaultSpec
from line_simulator.state import AcceptedRequest
from line_simulator.validation import (
    LOADING_SECONDS,
    UUID,
    error_body,
    invalid_property_message,
    validate_messages,
)

log = logging.getLogger(__name__)

AUTH_REQUIRED = (
    "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"
)
AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)
NOT_FOUND = {"message": "Not found"}


def require_access_token(
    sim: SimulatorDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    if not authorization or not authorization.startswith("Bearer "):
        raise LineError(401, {"message": AUTH_REQUIRED})
    if authorization.removeprefix("Bearer ").strip() != sim.settings.channel_access_token:
        raise LineError(401, {"message": AUTH_FAILED})


router = APIRouter(prefix="/v2/bot", dependencies=[Depends(require_access_token)])


def request_id_of(request: Request) -> str:
    rid: str = request.state.line_request_id
    return rid


async def suffer_fault(sim: SimulatorDep, endpoint: str) -> FaultSpec | None:
    """Apply an injected fault before the request is handled.

    A fault with ``after_delivery`` is returned instead so the handler can do
    the work first and then fail, like a LINE answer lost on the way back.
    """
    fault = sim.faults.take(endpoint)
    if fault is None:
        return None
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is not None and not fault.after_delivery:
        raise LineError(fault.status)
    return fault


def fail_after_delivery(fault: FaultSpec | None) -> None:
    if fault is not None and fault.after_delivery and fault.status is not None:
        raise LineError(fault.status)


async def json_body(request: Request) -> tuple[bytes, dict[str, Any]]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LineError(400, {"message": "The request body could not be parsed as JSON"}) from None
    if not isinstance(body, dict):
        raise LineError(400, {"message": "The request body must be a JSON object"})
    return raw, body


def _check_notification_flag(body: dict[str, Any]) -> bool:
    flag = body.get("notificationDisabled", False)
    if not isinstance(flag, bool):
        raise LineError(400, error_body([("notificationDisabled", "must be a boolean")]))
    return flag


def _check_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if problems := validate_messages(messages):
        raise LineError(400, error_body(problems))
    assert isinstance(messages, list)
    return messages


def _already_accepted(accepted: AcceptedRequest) -> LineError:
    return LineError(
        409,
        {"message": "The retry key is already accepted", "sentMessages": accepted.sent_messages},
        headers={"x-line-accepted-request-id": accepted.request_id},
    )


@router.post("/message/push")
async def push_message(
    request: Request,
    sim: SimulatorDep,
    x_line_retry_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    fault = await suffer_fault(sim, "push")
    if x_line_retry_key is not None:
        if not UUID.match(x_line_retry_key):
            raise LineError(400, {"message": "The value of the retry key is invalid"})
        if accepted := sim.state.accepted_request(x_line_retry_key):
            raise _already_accepted(accepted)
    raw, body = await json_body(request)
    to = body.get("to")
    if not isinstance(to, str) or sim.state.user(to) is None:
        raise LineError(400, {"message": invalid_property_message(raw, "to")})
    accepted = _deliver(request, sim, to, body, via="push", retry_key=x_line_retry_key)
    fail_after_delivery(fault)
    return {"sentMessages": accepted.sent_messages}


@router.post("/message/reply")
async def reply_message(request: Request, sim: SimulatorDep) -> dict[str, Any]:
    fault = await suffer_fault(sim, "reply")
    _, body = await json_body(request)
    _check_messages(body)  # before the token is spent, so a bad body can be fixed and resent
    token = body.get("replyToken")
    user_id = sim.state.consume_reply_token(token) if isinstance(token, str) else None
    if user_id is None or sim.state.user(user_id) is None:
        raise LineError(400, {"message": "Invalid reply token"})
    accepted = _deliver(request, sim, user_id, body, via="reply", retry_key=None)
    fail_after_delivery(fault)
    return {"sentMessages": accepted.sent_messages}


def _deliver(
    request: Request,
    sim: SimulatorDep,
    user_id: str,
    body: dict[str, Any],
    *,
    via: Literal["push", "reply"],
    retry_key: str | None,
) -> AcceptedRequest:
    messages = _check_messages(body)
    request_id = request_id_of(request)
    accepted = sim.state.deliver_to_user(
        user_id,
        messages,
        via=via,
        request_id=request_id,
        retry_key=retry_key,
        notification_disabled=_check_notification_flag(body),
    )
    # Another request with the same retry key won the race.
    if accepted.request_id != request_id:
        raise _already_accepted(accepted)
    log.info("messaging.%s request_id=%s messages=%d", via, request_id, len(messages))
    return accepted


@router.post("/chat/loading/start", status_code=202)
async def start_loading(request: Request, sim: SimulatorDep) -> dict[str, Any]:
    await suffer_fault(sim, "loading")
    raw, body = await json_body(request)
    chat_id = body.get("chatId")
    if not isinstance(chat_id, str) or sim.state.user(chat_id) is None:
        raise LineError(400, {"message": invalid_property_message(raw, "chatId")})
    seconds = body.get("loadingSeconds", 20)
    if seconds not in LOADING_SECONDS or isinstance(seconds, bool):
        raise LineError(
            400, error_body([("loadingSeconds", "must be a multiple of 5 between 5 and 60")])
        )
    sim.state.start_loading(chat_id, seconds)
    return {}


@router.post("/chat/markAsRead")
async def mark_as_read(request: Request, sim: SimulatorDep) -> dict[str, Any]:
    """By token (markAsReadToken from a message event): that message and all before it."""
    await suffer_fault(sim, "mark_read")
    raw, body = await json_body(request)
    token = body.get("markAsReadToken")
    if not isinstance(token, str) or not token:
        raise LineError(400, {"message": invalid_property_message(raw, "markAsReadToken")})
    if not sim.state.mark_read(token):
        raise LineError(400, {"message": "Invalid markAsReadToken"})
    return {}


@router.get("/message/{message_id}/content")
async def get_message_content(message_id: str, sim: SimulatorDep) -> Response:
    await suffer_fault(sim, "content")
    ref = sim.state.media(message_id)
    if ref is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    content_type, content = content_for(message_id, ref)
    return Response(content, media_type=content_type)


@router.get("/message/{message_id}/content/transcoding")
async def get_transcoding_status(message_id: str, sim: SimulatorDep) -> dict[str, str]:
    # Media is "ready" at once: the simulator has nothing to transcode.
    if sim.state.media(message_id) is None:
        raise LineError(404, NOT_FOUND)
    return {"status": "succeeded"}


@router.get("/profile/{user_id}")
async def get_profile(user_id: str, sim: SimulatorDep) -> dict[str, str]:
    await suffer_fault(sim, "profile")
    user = sim.state.user(user_id)
    # LINE hides the profile of a user who blocked the account.
    if user is None or not user.following:
        raise LineError(404, NOT_FOUND)
    return {"userId": user.user_id, "displayName": user.display_name, "language": user.language}


@router.get("/info")
async def get_bot_info(sim: SimulatorDep) -> dict[str, str]:
    return {
        "userId": sim.settings.bot_user_id,
        "basicId": "@sodan-sim",
        "displayName": "相談窓口（シミュレーター）",
        "chatMode": "chat",
        "markAsReadMode": "manual",
    }
