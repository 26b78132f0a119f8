"""``POST /line/webhook[/{channel_id}]``: verify, then publish, then answer.

Order matters: channel, signature header, bounded body, signature, parse. No
byte of an unverified body is parsed, stored or logged. Without a channel id in
the path the channel is the one whose secret signed the body, and the parsed
``destination`` must then be that channel's bot user id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sodan_shared.logging import get_logger
from starlette.requests import ClientDisconnect

from sodan_ingress.api.deps import IngressDep
from sodan_ingress.channels import Channel
from sodan_ingress.intake import IntakeUnavailableError, accept_events
from sodan_ingress.rejections import RejectReason
from sodan_ingress.service import Ingress
from sodan_ingress.webhook import WebhookBody, error_detail, signature_is_valid

log = get_logger(__name__)

router = APIRouter()

SIGNATURE_HEADER = "x-line-signature"
# The channel named in audit entries for a path-less webhook no secret matched.
UNMATCHED = "unmatched"


class BodyTooLargeError(Exception):
    pass


def problem(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, refused as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def reject(
    ingress: Ingress,
    *,
    channel_id: str,
    reason: RejectReason,
    source_address: str | None,
    body_size: int | None,
) -> JSONResponse:
    """A webhook that failed authentication: 401 at once, audited by the window
    (see sodan_ingress.rejections), so a flood of forgeries stays cheap."""
    ingress.rejections.record(
        channel=channel_id, reason=reason, source_address=source_address, body_size=body_size
    )
    return problem(401, "invalid_signature", "X-Line-Signature is missing or does not match")


@router.post("/line/webhook/{channel_id}", summary="LINE webhook for one channel")
async def receive_webhook(channel_id: str, request: Request, ingress: IngressDep) -> JSONResponse:
    channel = ingress.channels.get(channel_id)
    if channel is None:
        return problem(404, "unknown_channel", "No LINE channel is configured with this id")
    return await _receive(request, ingress, channel=channel)


@router.post("/line/webhook", summary="LINE webhook; the channel is found by its signature")
async def receive_webhook_any_channel(request: Request, ingress: IngressDep) -> JSONResponse:
    return await _receive(request, ingress, channel=None)


async def _receive(request: Request, ingress: Ingress, *, channel: Channel | None) -> JSONResponse:
    source = request.client.host if request.client else None
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return reject(
            ingress,
            channel_id=channel.channel_id if channel else UNMATCHED,
            reason="missing_signature",
            source_address=source,
            body_size=None,
        )
    limit = ingress.settings.ingress_max_body_bytes
    channel_id = channel.channel_id if channel else UNMATCHED
    try:
        body = await read_body(request, limit=limit)
    except BodyTooLargeError:
        log.warning("webhook.too_large", channel=channel_id, limit=limit, source_address=source)
        return problem(413, "body_too_large", f"The body exceeds {limit} bytes")
    except ClientDisconnect:
        return problem(400, "client_disconnected", "The body was not received completely")
    if channel is None:
        channel = ingress.channels.signed_by(body, signature)
    elif not signature_is_valid(body, channel.secret.get_secret_value(), signature):
        channel = None
    if channel is None:
        return reject(
            ingress,
            channel_id=channel_id,
            reason="bad_signature",
            source_address=source,
            body_size=len(body),
        )
    try:
        parsed = WebhookBody.model_validate_json(body)
    except ValidationError as exc:
        log.warning("webhook.malformed", channel=channel.channel_id, errors=exc.error_count())
        return problem(
            400,
            "malformed_body",
            "The body is not a LINE webhook body",
            detail=error_detail(exc.errors(include_input=False, include_url=False)),
        )
    if not channel.is_destination(parsed.destination):
        # Signed with this channel's secret yet addressed to another account: a
        # configuration mistake (wrong bot_user_id or secret), not something to accept.
        log.error("webhook.wrong_destination", channel=channel.channel_id)
        return problem(
            400,
            "wrong_destination",
            "The body's destination is not this channel's bot user id; check SODAN_LINE_CHANNELS",
        )
    try:
        accepted = await accept_events(ingress, channel=channel.channel_id, events=parsed.events)
    except IntakeUnavailableError:
        return problem(503, "unavailable", "Temporarily unable to accept events; retry later")
    return JSONResponse({"accepted": accepted}, status_code=200)
