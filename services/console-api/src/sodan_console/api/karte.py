"""The 相談者カルテ (client record) and ケースメモ (case notes).

A record is the newest of its saved versions; a save names the version it edited
and a stale one is refused (409), so two counsellors never overwrite each other
silently. Notes are append-only; their author corrects one by adding a version.
Everything describing the client is sealed with the client's key: once the key
is destroyed the record reads as erased. Reads and changes are in the access log
(access_log.READS and the change middleware).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, status
from sodan_shared.crypto import ClientCipher, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger

from sodan_console.api.cases import HANDOVER_NOTE_PURPOSE, _cipher_or_none, _visible_case
from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.api.schemas import (
    CaseNoteIn,
    CaseNotePublic,
    CaseNotesPublic,
    CaseNoteVersionPublic,
    ClientRecordIn,
    ClientRecordPublic,
    HandoverNotePublic,
    PastCasePublic,
)
from sodan_console.db import karte as db
from sodan_console.db import queries
from sodan_console.karte import (
    CAUTIONS_PURPOSE,
    CHARACTERISTICS_PURPOSE,
    FLAGS,
    FLAGS_PURPOSE,
    MAX_CAUTIONS,
    MAX_CHARACTERISTICS,
    MAX_NOTE,
    NOTE_PURPOSE,
    STALE_RECORD,
    in_list_order,
    next_record_version,
)
from sodan_console.policy import (
    CaseFacts,
    ClientFacts,
    can_add_case_note,
    can_correct_case_note,
    can_edit_client_record,
    can_read_case_notes,
    can_read_client_record,
    client_label,
)
from sodan_console.state import ConsoleState

log = get_logger(__name__)
clients_router = APIRouter(prefix="/api/clients", tags=["karte"])
notes_router = APIRouter(prefix="/api/cases", tags=["karte"])

RECORD_NOT_FOUND = "相談者が見つかりません"
ERASED = "この相談者のデータは消去されています（鍵がありません）"


async def _facts(state: ConsoleState, staff: Staff, client_id: UUID) -> ClientFacts:
    async with state.db.sessions() as session:
        holds, ever = await db.viewer_facts(session, client_id=client_id, staff_id=staff.staff_id)
    return ClientFacts(holds_open_case=holds, ever_assigned=ever)


async def _readable_client(state: ConsoleState, staff: Staff, client_id: UUID) -> ClientFacts:
    """404 alike for an unknown client and one the viewer never handled."""
    facts = await _facts(state, staff, client_id)
    if not can_read_client_record(staff.viewer, facts):
        raise HTTPException(status.HTTP_404_NOT_FOUND, RECORD_NOT_FOUND)
    async with state.db.sessions() as session:
        if not await db.client_exists(session, client_id=client_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, RECORD_NOT_FOUND)
    return facts


def _open(cipher: ClientCipher | None, purpose: str, sealed: str | None) -> str | None:
    """The plain text, '' for nothing stored, None when it cannot be opened."""
    if sealed is None:
        return ""
    if cipher is None:
        return None
    try:
        return cipher.open(purpose, sealed)
    except SealedValueError:
        log.warning("console.karte_unreadable", purpose=purpose)
        return None


def _notes_public(
    rows: Sequence[Any], cipher: ClientCipher | None, staff: Staff, *, may_add: set[UUID]
) -> list[CaseNotePublic]:
    """Group versions by note: the latest reads as the note, the rest as its history.
    ``may_add``: the cases the viewer may add to (and so correct their own notes in)."""
    by_note: dict[UUID, list[Any]] = {}
    for row in rows:
        by_note.setdefault(row.note_id, []).append(row)
    notes = []
    for versions in by_note.values():
        versions.sort(key=lambda r: r.version)
        first, latest = versions[0], versions[-1]
        text = _open(cipher, NOTE_PURPOSE, latest.body)
        notes.append(
            CaseNotePublic(
                note_id=latest.note_id,
                case_id=latest.case_id,
                version=latest.version,
                text=text,
                unreadable=text is None,
                author_id=first.staff_id,
                author_name=first.staff_name,
                first_written_at=first.written_at,
                written_at=latest.written_at,
                history=[
                    CaseNoteVersionPublic(
                        version=v.version,
                        text=_open(cipher, NOTE_PURPOSE, v.body),
                        written_at=v.written_at,
                    )
                    for v in versions[:-1]
                ],
                can_correct=first.staff_id == staff.staff_id
                and latest.case_id in may_add
                and text is not None,
            )
        )
    notes.sort(key=lambda n: (n.first_written_at, str(n.note_id)))
    return notes


async def _record(
    state: ConsoleState, staff: Staff, client_id: UUID, facts: ClientFacts
) -> ClientRecordPublic:
    async with state.db.sessions() as session:
        latest = await db.latest_record(session, client_id=client_id)
        number = await db.client_no(session, client_id=client_id)
        past = await db.client_cases(session, client_id=client_id)
        case_ids = [c.case_id for c in past]
        names = await db.counsellors_of(session, case_ids=case_ids)
        handovers = await db.handover_notes(session, case_ids=case_ids)
        note_rows = await db.notes(session, client_id=client_id)
    cipher = await _cipher_or_none(state, client_id)
    unreadable = cipher is None and (latest is not None or bool(note_rows) or bool(handovers))
    fields: dict[str, Any] = {}
    if latest is not None:
        characteristics = _open(cipher, CHARACTERISTICS_PURPOSE, latest.characteristics)
        cautions = _open(cipher, CAUTIONS_PURPOSE, latest.cautions)
        flags_json = _open(cipher, FLAGS_PURPOSE, latest.flags)
        if characteristics is None or cautions is None or flags_json is None:
            unreadable = True
        else:
            fields = {
                "characteristics": characteristics,
                "cautions": cautions,
                # a flag dropped from the list since is not shown (nor saved back)
                "flags": in_list_order(json.loads(flags_json)) if flags_json else [],
            }
    may_add = {
        c.case_id
        for c in past
        if can_add_case_note(staff.viewer, CaseFacts(c.status, c.assigned_to))
    }
    notes = _notes_public(note_rows, cipher, staff, may_add=may_add)
    cases = [
        PastCasePublic(
            case_id=c.case_id,
            status=c.status,
            urgency=c.urgency,
            opened_at=c.opened_at,
            closed_at=c.closed_at,
            counsellors=names.get(c.case_id, []),
            outcome=c.outcome,
            topics=list(c.topics or []),
            survey_answer=c.survey_answer,
            notes=[n for n in notes if n.case_id == c.case_id],
            handovers=[
                HandoverNotePublic(
                    at=h.at,
                    staff_name=h.staff_name,
                    other_staff_name=h.other_staff_name,
                    note=_open(cipher, HANDOVER_NOTE_PURPOSE, h.note) or None,
                )
                for h in handovers
                if h.case_id == c.case_id
            ],
        )
        for c in past
    ]
    return ClientRecordPublic(
        client_id=client_id,
        client_label=client_label(number),
        **fields,
        version=latest.version if latest is not None else 0,
        updated_at=latest.updated_at if latest is not None else None,
        updated_by_name=latest.updated_by_name if latest is not None else None,
        unreadable=unreadable,
        can_edit=can_edit_client_record(staff.viewer, facts) and cipher is not None,
        flag_options=list(FLAGS),
        max_characteristics=MAX_CHARACTERISTICS,
        max_cautions=MAX_CAUTIONS,
        cases=cases,
    )


@clients_router.get("/{client_id}/record")
async def get_record(client_id: UUID, staff: CurrentStaff, state: StateDep) -> ClientRecordPublic:
    """The 相談者カルテ with every past case of the client (recorded as a read)."""
    facts = await _readable_client(state, staff, client_id)
    return await _record(state, staff, client_id, facts)


@clients_router.put("/{client_id}/record", dependencies=[Csrf])
async def put_record(
    client_id: UUID, body: ClientRecordIn, staff: CurrentStaff, state: StateDep
) -> ClientRecordPublic:
    """Save an edit of the version it started from; 409 when someone saved in between."""
    facts = await _readable_client(state, staff, client_id)
    if not can_edit_client_record(staff.viewer, facts):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "カルテを編集できるのは、この相談者の相談を担当中の相談員とスーパーバイザーです",
        )
    cipher = await _cipher_or_none(state, client_id)
    if cipher is None:
        raise HTTPException(status.HTTP_409_CONFLICT, ERASED)
    async with transaction(state.db.sessions) as session:
        latest = await db.latest_record(session, client_id=client_id)
        version = next_record_version(latest.version if latest else 0, body.version)
        saved = version is not None and await db.add_record_version(
            session,
            client_id=client_id,
            version=version,
            characteristics=cipher.seal(CHARACTERISTICS_PURPOSE, body.characteristics),
            cautions=cipher.seal(CAUTIONS_PURPOSE, body.cautions),
            flags=cipher.seal(
                FLAGS_PURPOSE, json.dumps(in_list_order(body.flags), ensure_ascii=False)
            ),
            at=datetime.now(UTC),
            staff_id=staff.staff_id,
        )
    if not saved:
        raise HTTPException(status.HTTP_409_CONFLICT, STALE_RECORD)
    log.info("console.client_record_saved", client_id=str(client_id), version=version)
    return await _record(state, staff, client_id, facts)


async def _notes_case(state: ConsoleState, staff: Staff, case_id: UUID) -> Any:
    """The case if the viewer may read its notes: whoever can view it, or whoever can
    read its client's record (which lists them anyway); else 404/403 like the case."""
    try:
        return await _visible_case(state, staff, case_id)
    except HTTPException as refused:
        if refused.status_code != status.HTTP_403_FORBIDDEN:
            raise
        async with state.db.sessions() as session:
            row = await queries.get_case(session, case_id=case_id)
        if row is None:
            raise
        facts = await _facts(state, staff, row.client_id)
        if not can_read_case_notes(staff.viewer, CaseFacts(row.status, row.assigned_to), facts):
            raise
        return row


async def _notes(state: ConsoleState, staff: Staff, row: Any) -> CaseNotesPublic:
    facts = CaseFacts(row.status, row.assigned_to)
    async with state.db.sessions() as session:
        rows = await db.notes(session, case_ids=[row.case_id])
    cipher = await _cipher_or_none(state, row.client_id)
    may_add = {row.case_id} if can_add_case_note(staff.viewer, facts) else set()
    return CaseNotesPublic(
        items=_notes_public(rows, cipher, staff, may_add=may_add),
        can_add=bool(may_add) and cipher is not None,
        max_length=MAX_NOTE,
    )


@notes_router.get("/{case_id}/notes")
async def list_notes(case_id: UUID, staff: CurrentStaff, state: StateDep) -> CaseNotesPublic:
    """The case's ケースメモ, each with its earlier versions (recorded as a read)."""
    row = await _notes_case(state, staff, case_id)
    return await _notes(state, staff, row)


@notes_router.post("/{case_id}/notes", status_code=status.HTTP_201_CREATED, dependencies=[Csrf])
async def add_note(
    case_id: UUID, body: CaseNoteIn, staff: CurrentStaff, state: StateDep
) -> CaseNotesPublic:
    """Add a note, or (its author only) a corrected version of one: nothing is overwritten."""
    row = await _notes_case(state, staff, case_id)
    facts = CaseFacts(row.status, row.assigned_to)
    if not can_add_case_note(staff.viewer, facts):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "メモを書けるのは担当の相談員とスーパーバイザーです"
        )
    cipher = await _cipher_or_none(state, row.client_id)
    if cipher is None:
        raise HTTPException(status.HTTP_409_CONFLICT, ERASED)
    note_id, version = uuid4(), 1
    if body.corrects is not None:
        async with state.db.sessions() as session:
            versions = await db.note_versions(session, note_id=body.corrects)
        if not versions or versions[0].case_id != row.case_id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "訂正するメモが見つかりません")
        if not can_correct_case_note(staff.viewer, facts, author_id=versions[0].staff_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "メモを訂正できるのは書いた本人だけです")
        note_id, version = body.corrects, versions[-1].version + 1
    async with transaction(state.db.sessions) as session:
        added = await db.add_note_version(
            session,
            note_id=note_id,
            version=version,
            case_id=row.case_id,
            client_id=row.client_id,
            staff_id=staff.staff_id,
            at=datetime.now(UTC),
            body=cipher.seal(NOTE_PURPOSE, body.text),
        )
    if not added:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "このメモはたった今訂正されました。最新の内容を確認してください",
        )
    log.info("console.case_note_added", case_id=str(case_id), version=version)
    return await _notes(state, staff, row)
