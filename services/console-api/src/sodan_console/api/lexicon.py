"""The urgency lexicon for supervisors: read the live one, save an edit.

console-api validates with the same model triage uses (422 with every problem,
nothing sent), then sends the edit as a command and waits briefly for triage's
answer: applied with a new version, refused with a reason, or still pending.
Counsellors may not read or edit it (403): the word list is a safety tool.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from nats.js.errors import KeyNotFoundError
from pydantic import BaseModel, Field, ValidationError
from sodan_shared.db import transaction
from sodan_shared.events.console import UpdateLexicon, UpdateLexiconV1
from sodan_shared.events.triage import LexiconChanged
from sodan_shared.lexicon import LEXICON_KEY, Lexicon, describe_errors, lexicon_bucket
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream, publish_event
from sodan_shared.subjects import LEXICON_CHANGED, LEXICON_REJECTED, UPDATE_LEXICON

from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.db import queries
from sodan_console.state import ConsoleState

log = get_logger(__name__)
router = APIRouter(prefix="/api/lexicon", tags=["lexicon"])

# How long a save waits for triage's answer before saying "pending".
ANSWER_WAIT_S = 5.0


def declare_publisher(broker: NatsBroker) -> None:
    """For the AsyncAPI document: the command this router sends."""
    broker.publisher(
        UPDATE_LEXICON.name,
        stream=jstream(UPDATE_LEXICON.stream),
        description="Command to triage: a supervisor saves an edited urgency lexicon",
        schema=UpdateLexicon,
    )


class LexiconEdit(BaseModel):
    lexicon: dict[str, Any] = Field(description="The whole lexicon as edited")
    base_version: str = Field(min_length=1, max_length=64, description="The version edited")
    comment: str = Field(min_length=1, max_length=500, description="Why (kept in the audit)")


class LexiconSaved(BaseModel):
    status: Literal["applied", "pending"]
    command_id: UUID
    version: str | None = None


def _require_supervisor(staff: Staff) -> None:
    if staff.role not in ("supervisor", "admin"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "辞書の閲覧・編集はスーパーバイザーのみできます"
        )


async def _current(state: ConsoleState) -> tuple[dict[str, Any], int]:
    kv = await lexicon_bucket(state.broker.connection.jetstream())
    try:
        entry = await kv.get(LEXICON_KEY)
    except KeyNotFoundError:
        entry = None
    if entry is None or entry.value is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "辞書がまだありません（triage が一度も起動していません）",
        )
    data: dict[str, Any] = json.loads(entry.value)
    return data, entry.revision or 0


@router.get("")
async def get_lexicon(staff: CurrentStaff, state: StateDep) -> dict[str, Any]:
    _require_supervisor(staff)
    data, revision = await _current(state)
    return {"lexicon": data, "revision": revision}


def _invalid(detail: str, errors: list[str]) -> JSONResponse:
    return JSONResponse(
        status_code=422, content={"detail": detail, "errors": errors[:50]}, headers=None
    )


class LexiconChange(BaseModel):
    version: str
    previous_version: str
    at: str
    staff_name: str
    comment: str
    added: list[str]
    removed: list[str]
    changed: list[str]
    settings_changed: bool


@router.get("/history")
async def lexicon_history(
    staff: CurrentStaff, state: StateDep, limit: int = 50
) -> list[LexiconChange]:
    """Accepted edits, newest first, from the audit stream (who, why, which term ids)."""
    _require_supervisor(staff)
    limit = max(1, min(limit, 200))
    js = state.broker.connection.jetstream()
    sub = await js.subscribe(
        LEXICON_CHANGED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    events: list[LexiconChanged] = []
    try:
        info = await sub.consumer_info()
        empty = not info.num_pending and not (info.delivered and info.delivered.consumer_seq)
        while not empty:
            msg = await sub.next_msg(timeout=5)
            events.append(LexiconChanged.model_validate_json(msg.data))
            if not msg.metadata.num_pending:
                break
    finally:
        await sub.unsubscribe()
    events = events[::-1][:limit]
    async with transaction(state.db.sessions) as session:
        names = {}
        for staff_id in {e.payload.staff_id for e in events}:
            row = await queries.staff_by_id(session, staff_id=staff_id)
            names[staff_id] = row.display_name if row is not None else "（不明な職員）"
    return [
        LexiconChange(
            version=e.payload.version,
            previous_version=e.payload.previous_version,
            at=e.occurred_at.isoformat(),
            staff_name=names[e.payload.staff_id],
            comment=e.payload.comment,
            added=e.payload.added,
            removed=e.payload.removed,
            changed=e.payload.changed,
            settings_changed=e.payload.settings_changed,
        )
        for e in events
    ]


@router.put("", dependencies=[Csrf], response_model=LexiconSaved)
async def put_lexicon(
    edit: LexiconEdit, staff: CurrentStaff, state: StateDep
) -> LexiconSaved | JSONResponse:
    _require_supervisor(staff)
    try:
        Lexicon.model_validate({**edit.lexicon, "version": edit.base_version})
    except ValidationError as exc:
        problems = describe_errors(exc).split("; ")
        return _invalid("辞書に誤りがあるため保存できません: " + problems[0], problems)
    command = UpdateLexicon.new(
        channel=state.settings.line_channel_id,
        payload=UpdateLexiconV1(
            lexicon=edit.lexicon,
            base_version=edit.base_version,
            staff_id=staff.staff_id,
            comment=edit.comment,
        ),
    )
    nc = state.broker.connection
    answers: asyncio.Queue[Msg] = asyncio.Queue()

    async def collect(msg: Msg) -> None:
        await answers.put(msg)

    # subscribe before sending, so the answer cannot slip past
    subs = [
        await nc.subscribe(LEXICON_CHANGED.name, cb=collect),
        await nc.subscribe(LEXICON_REJECTED.name, cb=collect),
    ]
    try:
        await publish_event(nc.jetstream(), command)
        log.info("console.lexicon_update_sent", staff_id=str(staff.staff_id))
        try:
            async with asyncio.timeout(ANSWER_WAIT_S):
                while True:
                    msg = await answers.get()
                    answer = json.loads(msg.data)
                    if answer.get("causation_id") != str(command.id):
                        continue
                    if msg.subject == LEXICON_REJECTED.name:
                        reason = str(answer["payload"]["reason"])
                        return _invalid("辞書を保存できませんでした: " + reason, [reason])
                    return LexiconSaved(
                        status="applied",
                        command_id=command.id,
                        version=answer["payload"]["version"],
                    )
        except TimeoutError:
            return LexiconSaved(status="pending", command_id=command.id)
    finally:
        for sub in subs:
            await sub.unsubscribe()
