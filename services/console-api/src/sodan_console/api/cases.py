"""The case list, a case's conversation, replies and closing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, get_args
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sodan_shared.crypto import ClientCipher, KeyDestroyedError, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.console import (
    EmergencyModeAudited,
    EmergencyModeAuditedV1,
    EmergencyModeSet,
    EmergencyModeSetV1,
    MediaViewed,
    MediaViewedV1,
)
from sodan_shared.events.line import (
    LoadingRequested,
    LoadingRequestedV1,
    MarkReadRequested,
    MarkReadRequestedV1,
    PersonalDataKind,
    PushRequested,
    PushRequestedV1,
    StickerRef,
)
from sodan_shared.logging import get_logger
from sodan_shared.media_store import MEDIA_PURPOSE

from sodan_console import access_log
from sodan_console.api.case_list import annotate, check_labels_exist, list_filter
from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.api.schemas import (
    Accepted,
    CaseDetail,
    CaseLogEntry,
    CasePublic,
    CasesPublic,
    CloseRequestPublic,
    EmergencyModeIn,
    IntakePublic,
    LocationPublic,
    MediaPublic,
    MessagePublic,
    PersonalDataRefusal,
    PersonalDataSpan,
    ReplyIn,
    ScoreReason,
    StickerPublic,
    TypingOut,
)
from sodan_console.case_filters import CaseListFilter
from sodan_console.chat_signals import (
    newest_client_message,
    reads_for_viewer,
    should_signal_typing,
)
from sodan_console.cursor import BadCursorError, CaseCursor
from sodan_console.db import access_log as access_log_db
from sodan_console.db import karte as karte_db
from sodan_console.db import lifecycle, queries
from sodan_console.db.tables import outbox
from sodan_console.policy import (
    CaseFacts,
    alerts_viewer,
    can_act_on_case,
    can_decide_close,
    can_hold_or_hand_over,
    can_label_case,
    can_switch_emergency_mode,
    can_view_case,
    client_label,
)
from sodan_console.reply_guard import PersonalDataWarning, check_reply
from sodan_console.state import ConsoleState
from sodan_console.stickers import catalogue

log = get_logger(__name__)
router = APIRouter(prefix="/api/cases", tags=["cases"])

TEXT_PURPOSE = "message.text"
HANDOVER_NOTE_PURPOSE = "handover.note"
QUICK_REPLIES_PURPOSE = "quick_replies"
INTAKE_GENDER_PURPOSE = "intake.gender_identity"
STICKER_LABEL = "［スタンプ］"
CASE_NOT_FOUND = "相談が見つかりません"


def _case_public(row: Any, staff: Staff) -> CasePublic:
    facts = CaseFacts(status=row.status, assigned_to=row.assigned_to)
    return CasePublic(
        case_id=row.case_id,
        client_label=client_label(row.client_no),
        status=row.status,
        urgency=row.urgency,
        opened_at=row.opened_at,
        assigned_to=row.assigned_to,
        assignee_name=row.assignee_name,
        assigned_at=row.assigned_at,
        closed_at=row.closed_at,
        last_message_at=row.last_message_at,
        can_act=row.status != "closed" and can_act_on_case(staff.viewer, facts),
        urgent_alert=alerts_viewer(staff.viewer, facts, urgency=row.urgency),
        unanswered=row.status == "assigned"
        and row.unanswered_assignment_at is not None
        and row.unanswered_assignment_at == row.assigned_at,
        emergency_mode=bool(getattr(row, "emergency_mode", False)),
        can_switch_emergency_mode=can_switch_emergency_mode(staff.viewer),
        can_hold=can_hold_or_hand_over(staff.viewer, facts),
        can_hand_over=can_hold_or_hand_over(staff.viewer, facts),
        attention=row.attention,
        previous_case_id=row.previous_case_id,
        outcome=row.outcome,
        topics=list(row.topics or []),
        close_request=_close_request(row.close_request),
        can_decide_close=row.close_request is not None
        and row.status != "closed"
        and can_decide_close(staff.viewer),
        survey_answer=row.survey_answer,
        in_intake=row.status == "queued" and row.intake == "running",
        channel=row.channel,
        can_label=can_label_case(staff.viewer, facts),
    )


def _intake_public(row: Any, cipher: ClientCipher | None) -> IntakePublic | None:
    """The questionnaire's answers for the case detail; the free text opened here only."""
    if row.intake is None:
        return None
    gender = None
    if row.intake_gender_identity is not None and cipher is not None:
        try:
            gender = cipher.open(INTAKE_GENDER_PURPOSE, row.intake_gender_identity)
        except SealedValueError:
            log.warning("console.intake_unreadable", case_id=str(row.case_id))
    return IntakePublic(
        status=row.intake,
        consent=row.intake_consent,
        age_group=row.intake_age_group,
        region=row.intake_region,
        gender_identity=gender,
    )


def _close_request(stored: Any) -> CloseRequestPublic | None:
    if not stored:
        return None
    try:
        return CloseRequestPublic.model_validate(stored)
    except ValidationError:
        return None


def _score_reasons(stored: Any) -> list[ScoreReason]:
    reasons = []
    for item in stored or []:
        try:
            reasons.append(ScoreReason.model_validate(item))
        except ValidationError:
            continue  # a newer triage's shape: skip it rather than break the chat
    return reasons


def _personal_data(stored: Any) -> list[PersonalDataKind]:
    # Only kinds this version knows: a newer ingress' kind must not break the chat.
    known = set(get_args(PersonalDataKind))
    return [k for k in (stored or []) if k in known]


def _sticker_parts(stored: str | None) -> tuple[str, str] | None:
    """A sticker as the messages table keeps it: 'package/sticker' (not validated:
    a client's sticker LINE described oddly must not break the chat)."""
    if not stored:
        return None
    package_id, _, sticker_id = stored.partition("/")
    return package_id, sticker_id


def _sticker_ref(stored: str | None) -> StickerRef | None:
    parts = _sticker_parts(stored)
    return None if parts is None else StickerRef(package_id=parts[0], sticker_id=parts[1])


def _sticker_label(stored: str | None) -> str | None:
    parts = _sticker_parts(stored)
    if parts is None:
        return None
    known = catalogue().by_ref(*parts)
    return f"{STICKER_LABEL}{known.label}" if known else STICKER_LABEL


# Served inline (shown as <img>); anything else is a download, so a file LINE
# labelled text/html or image/svg+xml can never run in the console's origin.
INLINE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _media_public(row: Any, case_id: UUID | None) -> MediaPublic | None:
    media_status = getattr(row, "media_status", None)
    if media_status not in ("pending", "stored", "failed"):
        return None
    url = None
    if media_status == "stored" and case_id is not None:
        url = f"/api/cases/{case_id}/media/{row.message_id}"
    return MediaPublic(
        status=media_status,
        content_type=row.media_content_type,
        size=row.media_size,
        error=row.media_error,
        url=url,
    )


def _location_public(row: Any, cipher: ClientCipher | None) -> LocationPublic | None:
    sealed = getattr(row, "location", None)
    if sealed is None or cipher is None:
        return None
    try:
        place = json.loads(cipher.open("message.location", sealed))
    except (SealedValueError, ValueError):
        return None
    return LocationPublic.model_validate(place)


def _message_public(
    row: Any, cipher: ClientCipher | None, *, viewing_case: UUID | None = None
) -> MessagePublic:
    text: str | None = None
    buttons: list[str] = []
    unreadable = False
    if row.body is not None or row.quick_replies is not None:
        if cipher is None:
            unreadable = True
        else:
            try:
                if row.body is not None:
                    text = cipher.open(TEXT_PURPOSE, row.body)
                if row.quick_replies is not None:
                    stored = json.loads(cipher.open(QUICK_REPLIES_PURPOSE, row.quick_replies))
                    buttons = [str(b["label"]) for b in stored]
            except SealedValueError:
                unreadable = True
    return MessagePublic(
        message_id=row.message_id,
        case_id=row.case_id,
        direction=row.direction,
        kind=row.kind or "unknown",
        text=text,
        unreadable=unreadable,
        sent_at=row.sent_at,
        urgency=row.urgency,
        matched_terms=list(row.matched_terms or []),
        personal_data=_personal_data(row.personal_data),
        score_reasons=_score_reasons(row.score_reasons),
        late=bool(row.late),
        delivery=row.delivery,
        delivery_error=row.delivery_error,
        staff_name=row.staff_name,
        automatic=bool(row.automatic),
        media=_media_public(row, viewing_case),
        location=_location_public(row, cipher),
        sticker_label=_sticker_label(row.sticker),
        quick_replies=buttons,
    )


async def _cipher_or_none(state: ConsoleState, client_id: UUID) -> ClientCipher | None:
    try:
        return await state.keyring.cipher(client_id)
    except KeyDestroyedError:
        return None  # the client was erased: their texts are gone for good
    except LookupError:
        log.warning("console.client_key_missing", client_id=str(client_id))
        return None


async def _visible_case(state: ConsoleState, staff: Staff, case_id: UUID) -> Any:
    async with state.db.sessions() as session:
        row = await queries.get_case(session, case_id=case_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, CASE_NOT_FOUND)
    facts = CaseFacts(row.status, row.assigned_to)
    if not can_view_case(staff.viewer, facts) and staff.role == "counsellor":
        # a case this counsellor once had (handed over, reassigned): read-only
        async with state.db.sessions() as session:
            once = await karte_db.was_assigned(
                session, case_id=row.case_id, staff_id=staff.staff_id
            )
        facts = CaseFacts(row.status, row.assigned_to, once_assigned=once)
    if not can_view_case(staff.viewer, facts):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "この相談を表示する権限がありません")
    return row


async def _actionable_case(state: ConsoleState, staff: Staff, case_id: UUID) -> Any:
    row = await _visible_case(state, staff, case_id)
    if not can_act_on_case(staff.viewer, CaseFacts(row.status, row.assigned_to)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "担当の相談員またはスーパーバイザーのみ操作できます",
        )
    if row.status == "closed":
        raise HTTPException(status.HTTP_409_CONFLICT, "この相談はすでに終了しています")
    return row


@router.get("")
async def list_cases(
    staff: CurrentStaff,
    state: StateDep,
    filters: Annotated[CaseListFilter, Depends(list_filter)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
) -> CasesPublic:
    try:
        after = CaseCursor.decode(cursor) if cursor else None
    except BadCursorError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "カーソルの形式が正しくありません"
        ) from None
    if after is not None and after.filters != filters.fingerprint():
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "カーソルは別の絞り込み条件のものです。一覧を読み込み直してください",
        )
    page = limit or state.settings.console_case_page_size
    async with state.db.sessions() as session:
        await check_labels_exist(session, filters.label_ids)
        query = queries.case_list_query(
            viewer=staff.viewer,
            statuses=filters.statuses,
            urgencies=filters.urgencies,
            after=after,
            limit=page + 1,
            assigned=filters.assignee_for(staff.staff_id),
            channels=filters.channels,
            opened_since=filters.opened_since,
            opened_until=filters.opened_until,
            label_ids=filters.label_ids,
        )
        rows = await queries.list_cases(session, query)
        items = await annotate(session, [_case_public(r, staff) for r in rows[:page]])
    next_cursor = None
    if len(rows) > page:
        last = rows[page - 1]
        next_cursor = CaseCursor(
            last.urgency_rank, last.opened_at, last.case_id, filters.fingerprint()
        ).encode()
    return CasesPublic(items=items, next_cursor=next_cursor)


@router.get("/{case_id}")
async def get_case(
    case_id: UUID,
    staff: CurrentStaff,
    state: StateDep,
    mark_read: Annotated[bool, Query(description="False: the console tab is hidden")] = True,
) -> CaseDetail:
    row = await _visible_case(state, staff, case_id)
    async with state.db.sessions() as session:
        rows = await queries.client_messages(
            session, client_id=row.client_id, limit=state.settings.console_chat_history_limit
        )
        blocked = await queries.client_blocked(session, client_id=row.client_id)
        entries = await lifecycle.entries(session, case_id=row.case_id)
        [labelled] = await annotate(session, [_case_public(row, staff)])
    cipher = await _cipher_or_none(state, row.client_id)
    case = labelled.model_copy(
        update={"client_blocked": blocked, "intake": _intake_public(row, cipher)}
    )
    if case.close_request is not None:
        async with state.db.sessions() as session:
            names = await lifecycle.staff_names(session, [case.close_request.staff_id])
        case.close_request.staff_name = names.get(case.close_request.staff_id)
    if mark_read and reads_for_viewer(
        viewer_id=staff.staff_id, assigned_to=row.assigned_to, status=row.status
    ):
        newest = newest_client_message(rows)
        sent_at = next((m.sent_at for m in rows if m.message_id == newest), None)
        await _mark_read(state, row, newest, sent_at)
        if row.attention is not None:  # seen now: the list stops pointing at it
            async with transaction(state.db.sessions) as session:
                await lifecycle.clear_attention(session, case_id=row.case_id)
    return CaseDetail(
        case=case,
        messages=[_message_public(m, cipher, viewing_case=row.case_id) for m in rows],
        log=[_log_entry(e, cipher) for e in entries],
        client_id=row.client_id,
    )


def _log_entry(row: Any, cipher: ClientCipher | None) -> CaseLogEntry:
    note = None
    if row.note is not None and cipher is not None:
        try:
            note = cipher.open(HANDOVER_NOTE_PURPOSE, row.note)
        except SealedValueError:
            note = None
    return CaseLogEntry(
        entry_id=row.entry_id,
        kind=row.kind,
        at=row.at,
        staff_name=row.staff_name,
        other_staff_name=row.other_staff_name,
        note=note,
        data=dict(row.data or {}),
    )


async def _mark_read(
    state: ConsoleState, row: Any, newest: UUID | None, sent_at: datetime | None
) -> None:
    """Ask ingress for 既読 once per new newest client message the counsellor saw."""
    if newest is None or sent_at is None:
        return
    command = MarkReadRequested.new(
        channel=row.channel,
        # Per case: a client's message can be the newest shown in two of their cases.
        event_id=uuid5(newest, f"mark-read:{row.case_id}"),
        payload=MarkReadRequestedV1(
            client_id=row.client_id, case_id=row.case_id, up_to_message_event_id=newest
        ),
    )
    async with transaction(state.db.sessions) as session:
        if not await queries.note_case_read(
            session,
            case_id=row.case_id,
            up_to_message_id=newest,
            up_to_sent_at=sent_at,
            at=datetime.now(UTC),
        ):
            return
        await add_to_outbox(session, outbox, command)
    state.wake_relay()
    log.info("console.mark_read_requested", case_id=str(row.case_id), message_id=str(newest))


def _personal_data_refusal(warning: PersonalDataWarning) -> JSONResponse:
    refusal = PersonalDataRefusal(
        detail=warning.message,
        personal_data=warning.kinds,
        spans=[PersonalDataSpan(kind=s.kind, start=s.start, end=s.end) for s in warning.spans],
    )
    return JSONResponse(status_code=status.HTTP_409_CONFLICT, content=refusal.model_dump())


def _confirmations(
    request: Request, staff: Staff, case_id: UUID, warning: PersonalDataWarning | None
) -> list[access_log.Entry]:
    """The access-log entries of a confirmed warning: one per kind, never the text."""
    if warning is None:
        return []
    address, agent = access_log.client_of(request)
    return [
        access_log.Entry(
            action=access_log.PERSONAL_DATA_CONFIRMED,
            staff_id=staff.staff_id,
            method=request.method,
            path=request.scope["route"].path,
            target_kind="case",
            target_id=str(case_id),
            status=status.HTTP_202_ACCEPTED,
            reason=kind,
            client_addr=address,
            user_agent=agent,
        )
        for kind in warning.kinds
    ]


@router.post(
    "/{case_id}/replies",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Csrf],
    response_model=Accepted,
    responses={409: {"model": PersonalDataRefusal}},
)
async def reply(
    case_id: UUID, body: ReplyIn, staff: CurrentStaff, state: StateDep, request: Request
) -> Accepted | JSONResponse:
    row = await _actionable_case(state, staff, case_id)
    warning = check_reply(body.text)
    if warning is not None and not body.confirm_personal_data:
        log.info("console.reply_personal_data_held", case_id=str(case_id), kinds=warning.kinds)
        return _personal_data_refusal(warning)
    async with state.db.sessions() as session:
        if await queries.client_blocked(session, client_id=row.client_id):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "相談者がこのアカウントをブロックしているため送信できません",
            )
    cipher = await _cipher_or_none(state, row.client_id)
    if cipher is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "この相談者には送信できません（鍵がありません）"
        )
    sealed = cipher.seal(TEXT_PURPOSE, body.text) if body.text is not None else None
    sticker = catalogue().by_key(body.sticker) if body.sticker is not None else None
    buttons = [{"label": b.label, "text": b.text} for b in body.quick_replies]
    sealed_buttons = (
        cipher.seal(QUICK_REPLIES_PURPOSE, json.dumps(buttons, ensure_ascii=False))
        if buttons
        else None
    )
    message_id = uuid4()
    now = datetime.now(UTC)
    push = PushRequested.new(
        channel=row.channel,
        event_id=uuid5(message_id, "push-requested"),
        payload=PushRequestedV1(
            push_id=message_id,
            client_id=row.client_id,
            case_id=row.case_id,
            texts=[sealed] if sealed is not None else [],
            sticker=sticker.ref if sticker is not None else None,
            quick_replies=sealed_buttons,
            origin="counsellor",
            staff_id=staff.staff_id,
        ),
    )
    stored_sticker = f"{sticker.package_id}/{sticker.sticker_id}" if sticker else None
    async with transaction(state.db.sessions) as session:
        await queries.add_outbound_message(
            session,
            message_id=message_id,
            client_id=row.client_id,
            case_id=row.case_id,
            body=sealed,
            staff_id=staff.staff_id,
            sent_at=now,
            sticker=stored_sticker,
            quick_replies=sealed_buttons,
        )
        await add_to_outbox(session, outbox, push)
        # In the reply's own transaction: no confirmed send without its record.
        for entry in _confirmations(request, staff, row.case_id, warning):
            await access_log_db.append(session, entry)
    state.wake_relay()
    if warning is not None:
        log.info("console.reply_personal_data_confirmed", case_id=str(case_id), kinds=warning.kinds)
    log.info("console.reply_queued", case_id=str(case_id), push_id=str(message_id))
    return Accepted(
        message=MessagePublic(
            message_id=message_id,
            case_id=row.case_id,
            direction="out",
            kind="text" if body.text is not None else "sticker",
            text=body.text,
            sent_at=now,
            urgency=None,
            matched_terms=[],
            delivery="pending",
            staff_name=staff.display_name,
            sticker_label=_sticker_label(stored_sticker),
            quick_replies=[b.label for b in body.quick_replies],
        )
    )


@router.post(
    "/{case_id}/replies/{message_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Csrf],
)
async def resend_reply(
    case_id: UUID, message_id: UUID, staff: CurrentStaff, state: StateDep
) -> Accepted:
    """送信失敗 → 再送: the same message again, with the same push id, which is LINE's
    retry key: if the first attempt did reach LINE after all, LINE does not deliver it
    twice. Anyone who may act on the case may resend."""
    row = await _actionable_case(state, staff, case_id)
    async with transaction(state.db.sessions) as session:
        failed = await queries.take_failed_reply(session, message_id=message_id, case_id=case_id)
        if failed is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "このメッセージは見つかりません")
        if failed.delivery != "failed":
            raise HTTPException(
                status.HTTP_409_CONFLICT, "再送できるのは送信に失敗したメッセージだけです"
            )
        push = PushRequested.new(
            channel=row.channel,
            payload=PushRequestedV1(
                push_id=message_id,
                client_id=row.client_id,
                case_id=row.case_id,
                texts=[failed.body] if failed.body is not None else [],
                sticker=_sticker_ref(failed.sticker),
                quick_replies=failed.quick_replies,
                origin="counsellor",
                staff_id=failed.staff_id,
                resend=True,
            ),
        )
        await add_to_outbox(session, outbox, push)
    state.wake_relay()
    log.info("console.reply_resent", case_id=str(case_id), push_id=str(message_id))
    return Accepted()


@router.post("/{case_id}/typing", dependencies=[Csrf])
async def typing(case_id: UUID, staff: CurrentStaff, state: StateDep) -> TypingOut:
    """The counsellor is typing: LINE's loading animation for the client, throttled."""
    row = await _actionable_case(state, staff, case_id)
    now = datetime.now(UTC)
    settings = state.settings
    if not should_signal_typing(
        last_signalled=state.typing_signalled.get(row.case_id),
        now=now,
        throttle_s=settings.console_typing_throttle_s,
        # opened_at: the projection may not have the message time yet.
        last_client_message_at=row.last_message_at or row.opened_at,
        window_s=settings.console_typing_window_s,
    ):
        return TypingOut(signalled=False)
    _remember_typing(state, row.case_id, now)
    command = LoadingRequested.new(
        channel=row.channel,
        payload=LoadingRequestedV1(
            client_id=row.client_id, case_id=row.case_id, seconds=settings.console_typing_seconds
        ),
    )
    async with transaction(state.db.sessions) as session:
        await add_to_outbox(session, outbox, command)
    state.wake_relay()
    return TypingOut(signalled=True)


def _remember_typing(state: ConsoleState, case_id: UUID, now: datetime) -> None:
    horizon = now - timedelta(seconds=state.settings.console_typing_throttle_s)
    for old in [k for k, at in state.typing_signalled.items() if at < horizon]:
        del state.typing_signalled[old]
    state.typing_signalled[case_id] = now


@router.put("/{case_id}/emergency-mode", dependencies=[Csrf])
async def set_emergency_mode(
    case_id: UUID, body: EmergencyModeIn, staff: CurrentStaff, state: StateDep
) -> CasePublic:
    """緊急対応モード: from now on ingress fetches this client's media and stores them
    sealed. Supervisors only; every switch is audited with its reason."""
    if not can_switch_emergency_mode(staff.viewer):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "緊急対応モードの切り替えはスーパーバイザーのみ行えます"
        )
    row = await _visible_case(state, staff, case_id)
    if body.enabled and row.status == "closed":
        raise HTTPException(status.HTTP_409_CONFLICT, "終了した相談は緊急対応モードにできません")
    cipher = await _cipher_or_none(state, row.client_id)
    if cipher is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "この相談者のデータは消去されています（鍵がありません）"
        )
    now = datetime.now(UTC)
    command = EmergencyModeSet.new(
        channel=row.channel,
        occurred_at=now,
        payload=EmergencyModeSetV1(
            case_id=row.case_id,
            client_id=row.client_id,
            enabled=body.enabled,
            staff_id=staff.staff_id,
        ),
    )
    audit = EmergencyModeAudited.new(
        channel=row.channel,
        caused_by=command,
        occurred_at=now,
        payload=EmergencyModeAuditedV1(
            staff_id=staff.staff_id,
            staff_role=staff.role,
            case_id=row.case_id,
            client_id=row.client_id,
            enabled=body.enabled,
            reason=cipher.seal("emergency.reason", body.reason) if body.reason else None,
        ),
    )
    async with transaction(state.db.sessions) as session:
        await queries.set_emergency_mode(session, case_id=row.case_id, enabled=body.enabled, at=now)
        await add_to_outbox(session, outbox, command)
        await add_to_outbox(session, outbox, audit)
    state.wake_relay()
    log.info(
        "console.emergency_mode_set",
        case_id=str(case_id),
        staff_id=str(staff.staff_id),
        enabled=body.enabled,
    )
    return _case_public(await _visible_case(state, staff, case_id), staff)


@router.get("/{case_id}/media/{message_id}")
async def get_media(
    case_id: UUID, message_id: UUID, staff: CurrentStaff, state: StateDep
) -> Response:
    """A stored media item, decrypted for staff who may see the case; every view is
    audited. Never cached (Cache-Control: no-store)."""
    row = await _visible_case(state, staff, case_id)
    async with state.db.sessions() as session:
        item = await queries.media_message(session, message_id=message_id, client_id=row.client_id)
    if item is None or item.media_status != "stored" or item.media_object is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "メディアが見つかりません")
    try:
        cipher = await state.keyring.cipher(row.client_id)
    except KeyDestroyedError:
        raise HTTPException(status.HTTP_410_GONE, "この相談者のデータは消去されています") from None
    if state.media is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "メディアを読み出せません")
    try:
        sealed = (await state.media.get(item.media_object)).data or b""
    except NotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "メディアが見つかりません") from None
    try:
        content = cipher.open_bytes(MEDIA_PURPOSE, sealed)
    except SealedValueError:
        log.error("console.media_unreadable", message_id=str(message_id))
        raise HTTPException(status.HTTP_409_CONFLICT, "メディアを復号できません") from None
    viewed = MediaViewed.new(
        channel=row.channel,
        payload=MediaViewedV1(
            staff_id=staff.staff_id,
            staff_role=staff.role,
            case_id=row.case_id,
            client_id=row.client_id,
            message_id=message_id,
            kind=(item.kind or "unknown")[:16],
        ),
    )
    # Audited before a byte leaves: no view without its record.
    async with transaction(state.db.sessions) as session:
        await add_to_outbox(session, outbox, viewed)
    state.wake_relay()
    log.info("console.media_viewed", case_id=str(case_id), message_id=str(message_id))
    content_type = item.media_content_type or "application/octet-stream"
    inline = content_type in INLINE_IMAGE_TYPES
    disposition = "inline" if inline else f'attachment; filename="media-{message_id}"'
    return Response(
        content,
        media_type=content_type if inline else "application/octet-stream",
        headers={"Cache-Control": "no-store", "Content-Disposition": disposition},
    )


stickers_router = APIRouter(prefix="/api/stickers", tags=["cases"])


@stickers_router.get("")
async def list_stickers(_: CurrentStaff) -> list[StickerPublic]:
    """What the composer's sticker picker offers (labels only: no images are loaded)."""
    return [StickerPublic(key=s.key, label=s.label) for s in catalogue().stickers]
