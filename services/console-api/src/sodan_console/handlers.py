"""Stream consumers building the console's projections (cases, clients, messages).

Each handler: record the event id (idempotency) and apply it in one transaction;
FastStream acks after return, an exception nacks and JetStream redelivers.
Projections are upserts so events may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID, uuid5

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker, NatsMessage, PullSub
from pydantic import ValidationError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import first_time
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import (
    ClientFollowed,
    ClientUnfollowed,
    MediaFetchFailed,
    MediaStored,
    MessageReceived,
    MessageUnsent,
    PushResult,
    ReplyRequested,
)
from sodan_shared.events.routing import (
    AssignmentModeChanged,
    AssignmentRefused,
    AutoTextChanged,
    CaseAssigned,
    CaseClosed,
    CaseCloseDeclined,
    CaseCloseRequested,
    CaseCommandRefused,
    CaseHandedOver,
    CaseHoldChanged,
    CaseIntakeFinished,
    CaseOpened,
    CaseReopened,
    CaseReturnedToQueue,
    CaseSurveyAnswered,
    CaseSurveySent,
    CaseUnanswered,
    CaseUrgencyChanged,
    ClosingCategoriesChanged,
    CongestionChanged,
    HoursChanged,
)
from sodan_shared.events.triage import MessageScored, UrgencyMatch
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream
from sodan_shared.subjects import (
    ALL_SUBJECTS,
    AUTO_TEXT_CHANGED,
    CASES,
    CLIENT_FOLLOWED,
    CLIENT_UNFOLLOWED,
    CLOSE_CASE,
    CLOSING_CATEGORIES_CHANGED,
    DECIDE_CLOSE,
    EMERGENCY_MODE_AUDITED,
    EMERGENCY_MODE_SET,
    HAND_OVER_CASE,
    HOLD_CASE,
    HOURS_CHANGED,
    LOADING_REQUESTED,
    MARK_READ_REQUESTED,
    MEDIA_FETCH_FAILED,
    MEDIA_STORED,
    MEDIA_VIEWED,
    MESSAGE_RECEIVED,
    MESSAGE_SCORED,
    MESSAGE_UNSENT,
    PICK_CASE,
    PUSH_REQUESTED,
    PUSH_RESULT,
    REASSIGN_CASE,
    REPLACE_HOURS,
    REPLY_REQUESTED,
    SET_ASSIGNMENT_MODE,
    STAFF_CAPACITY_SET,
    STAFF_PRESENCE_CHANGED,
    UPDATE_AUTO_TEXT,
    UPDATE_CLOSING_CATEGORIES,
)

from sodan_console.db import lifecycle, queries, supervision
from sodan_console.db.tables import processed_events
from sodan_console.state import ConsoleState

log = get_logger(__name__)

MESSAGES_CONSUMER = "console-messages"
SCORES_CONSUMER = "console-scores"
CASES_CONSUMER = "console-cases"
PUSH_RESULTS_CONSUMER = "console-push-results"
UNSEND_CONSUMER = "console-unsend"
AUTOMATIC_CONSUMER = "console-automatic-messages"
FOLLOWS_CONSUMER = "console-follows"
UNFOLLOWS_CONSUMER = "console-unfollows"
MEDIA_STORED_CONSUMER = "console-media-stored"
MEDIA_FAILED_CONSUMER = "console-media-failed"
AUTO_TEXTS_CONSUMER = "console-auto-texts"
HOURS_CONSUMER = "console-hours"
CATEGORIES_CONSUMER = "console-closing-categories"

CASE_SUBJECTS = {s.name: s for s in ALL_SUBJECTS if s.stream is CASES}


def consumer_of_subject() -> dict[str, str]:
    """Which durable consumer projects each subject (the live feed waits for it)."""
    return {
        MESSAGE_RECEIVED.name: MESSAGES_CONSUMER,
        MESSAGE_SCORED.name: SCORES_CONSUMER,
        PUSH_RESULT.name: PUSH_RESULTS_CONSUMER,
        MESSAGE_UNSENT.name: UNSEND_CONSUMER,
        REPLY_REQUESTED.name: AUTOMATIC_CONSUMER,
        CLIENT_FOLLOWED.name: FOLLOWS_CONSUMER,
        CLIENT_UNFOLLOWED.name: UNFOLLOWS_CONSUMER,
        MEDIA_STORED.name: MEDIA_STORED_CONSUMER,
        MEDIA_FETCH_FAILED.name: MEDIA_FAILED_CONSUMER,
        AUTO_TEXT_CHANGED.name: AUTO_TEXTS_CONSUMER,
        HOURS_CHANGED.name: HOURS_CONSUMER,
        **dict.fromkeys(CASE_SUBJECTS, CASES_CONSUMER),
    }


def automatic_message_ids(command_id: UUID, count: int) -> list[UUID]:
    """One chat line per text of a system command, with ids stable across redeliveries."""
    return [uuid5(command_id, f"text-{i}") for i in range(count)]


def score_reasons(matches: Sequence[UrgencyMatch]) -> list[dict[str, Any]]:
    """Why a message scored, for the counsellor: each matched category once (not
    negated), whether it was about someone else or put at a distance, and where in
    the message it was written (offsets, to highlight). Never words."""
    reasons: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for m in matches:
        if m.negated:
            continue
        key = (m.category, m.subject, m.hedged)
        reason = reasons.setdefault(
            key, {"category": m.category, "subject": m.subject, "hedged": m.hedged, "spans": []}
        )
        reason["spans"] = sorted({*map(tuple, reason["spans"]), *m.spans})
    return list(reasons.values())


def _pull() -> PullSub[Literal[False]]:
    return PullSub(batch_size=20, timeout=1.0)


def declare_publishers(broker: NatsBroker) -> None:
    """What console-api emits (through its outbox), declared for the AsyncAPI document."""
    for subject, description in (
        (
            PUSH_REQUESTED,
            "A counsellor's reply (text, sticker, quick replies), sealed; push_id is the console "
            "message id",
        ),
        (STAFF_PRESENCE_CHANGED, "A staff member became available, away, on a break or offline"),
        (
            CLOSE_CASE,
            "Command to routing: close a case with the closing form (outcome, topics, "
            "after-survey); a counsellor's close of a 緊急 case asks a supervisor",
        ),
        (
            HOLD_CASE,
            "Command to routing: the assigned counsellor puts a case on hold or resumes it",
        ),
        (
            HAND_OVER_CASE,
            "Command to routing: a counsellor hands their case to a colleague or back to the "
            "queue, with a sealed staff-only note",
        ),
        (
            DECIDE_CLOSE,
            "Command to routing: a supervisor confirms or declines closing a 緊急 case",
        ),
        (
            EMERGENCY_MODE_SET,
            "Command to ingress: a supervisor switched a case's emergency mode on or off",
        ),
        (
            EMERGENCY_MODE_AUDITED,
            "Audit: who switched emergency mode for which case, on or off, and why (sealed)",
        ),
        (MEDIA_VIEWED, "Audit: a staff member opened a client's stored media"),
        (LOADING_REQUESTED, "The counsellor is typing: show LINE's loading animation (throttled)"),
        (
            MARK_READ_REQUESTED,
            "The assigned counsellor opened the case: 既読 up to the newest client message shown",
        ),
        (UPDATE_AUTO_TEXT, "Command to routing: a supervisor edits an automatic text"),
        (REPLACE_HOURS, "Command to routing: a supervisor saves the consultation calendar"),
        (
            UPDATE_CLOSING_CATEGORIES,
            "Command to routing: a supervisor edits the closing form's 対応結果/相談内容 lists",
        ),
        (
            SET_ASSIGNMENT_MODE,
            "Command to routing: a supervisor switches automatic assignment / manual pick-up",
        ),
        (PICK_CASE, "Command to routing: a counsellor picks a queued case (manual pick-up)"),
        (
            REASSIGN_CASE,
            "Command to routing: a supervisor reassigns a case, or takes it over themselves",
        ),
        (
            STAFF_CAPACITY_SET,
            "Audit: a supervisor changed a staff member's capacity (concurrent chats)",
        ),
    ):
        broker.publisher(
            subject.name,
            stream=jstream(subject.stream),
            description=description,
            schema=subject.event,
        )


def register_handlers(broker: NatsBroker, state: ConsoleState) -> None:
    declare_publishers(broker)
    sessions = state.db.sessions

    @broker.subscriber(
        MESSAGE_RECEIVED.name,
        stream=jstream(MESSAGE_RECEIVED.stream),
        durable=MESSAGES_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Store each client message (still sealed) for the chat view",
    )
    async def on_message_received(event: MessageReceived) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=MESSAGES_CONSUMER
            ):
                return
            await queries.upsert_client(
                session,
                client_id=p.client_id,
                client_no=p.client_no,
                channel=event.channel,
                seen_at=p.sent_at,
            )
            # The ciphertext is stored as it arrived: same client key, same purpose.
            stored = await queries.upsert_inbound_message(
                session,
                message_id=event.id,
                client_id=p.client_id,
                line_message_id=p.line_message_id,
                kind=p.kind,
                body=p.text,
                sent_at=p.sent_at,
                personal_data=list(p.personal_data),
                late=p.late,
                media_status=p.media,
                location=p.location,
            )
            if stored:
                await queries.note_client_message(
                    session, client_id=p.client_id, client_no=p.client_no, at=p.sent_at
                )
        if stored:
            log.info("console.message_stored", event_id=str(event.id), client_id=str(p.client_id))
        else:
            log.info("console.message_already_unsent", event_id=str(event.id))

    @broker.subscriber(
        MEDIA_STORED.name,
        stream=jstream(MEDIA_STORED.stream),
        durable=MEDIA_STORED_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Emergency mode: a client's media is stored (sealed) and can be shown",
    )
    async def on_media_stored(event: MediaStored) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=MEDIA_STORED_CONSUMER
            ):
                return
            await queries.record_media(
                session,
                message_id=p.message_event_id,
                client_id=p.client_id,
                line_message_id=p.line_message_id,
                status="stored",
                content_type=p.content_type,
                size=p.size,
                object_name=p.object_name,
            )
        log.info("console.media_stored", message_id=str(p.message_event_id))

    @broker.subscriber(
        MEDIA_FETCH_FAILED.name,
        stream=jstream(MEDIA_FETCH_FAILED.stream),
        durable=MEDIA_FAILED_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Emergency mode: a client's media could not be fetched (取得失敗)",
    )
    async def on_media_failed(event: MediaFetchFailed) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=MEDIA_FAILED_CONSUMER
            ):
                return
            await queries.record_media(
                session,
                message_id=p.message_event_id,
                client_id=p.client_id,
                line_message_id=p.line_message_id,
                status="failed",
                error=p.reason,
            )
        log.info("console.media_failed", message_id=str(p.message_event_id), reason=p.reason)

    @broker.subscriber(
        MESSAGE_SCORED.name,
        stream=jstream(MESSAGE_SCORED.stream),
        durable=SCORES_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Attach triage's urgency level and matched lexicon terms to a message",
    )
    async def on_message_scored(event: MessageScored) -> None:
        p = event.payload
        terms = [m.term_id for m in p.matches if not m.negated]
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=SCORES_CONSUMER
            ):
                return
            stored = await queries.upsert_message_score(
                session,
                message_id=p.message_event_id,
                client_id=p.client_id,
                line_message_id=p.line_message_id,
                urgency=p.level,
                matched_terms=terms,
                score_reasons=score_reasons(p.matches),
            )
        log.info(
            "console.message_scored" if stored else "console.score_of_unsent_message",
            message_id=str(p.message_event_id),
            level=p.level,
        )

    @broker.subscriber(
        MESSAGE_UNSENT.name,
        stream=jstream(MESSAGE_UNSENT.stream),
        durable=UNSEND_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="The client unsent a message (送信取消): delete it, and keep it from coming back",
    )
    async def on_message_unsent(event: MessageUnsent) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=UNSEND_CONSUMER
            ):
                return
            deleted = await queries.unsend_message(
                session,
                client_id=p.client_id,
                line_message_id=p.line_message_id,
                unsent_at=p.sent_at,
            )
        log.info(
            "console.message_unsent",
            event_id=str(event.id),
            client_id=str(p.client_id),
            deleted=deleted,
        )

    @broker.subscriber(
        REPLY_REQUESTED.name,
        stream=jstream(REPLY_REQUESTED.stream),
        durable=AUTOMATIC_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Show what the system answered a client (the refused-media notice, wait "
        "notices, the intake questions with their buttons) in the chat",
    )
    async def on_reply_requested(event: ReplyRequested) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=AUTOMATIC_CONSUMER
            ):
                return
            await queries.add_automatic_messages(
                session,
                push_id=p.reply_id,
                message_ids=automatic_message_ids(p.reply_id, len(p.texts)),
                client_id=p.client_id,
                case_id=p.case_id,
                bodies=list(p.texts),
                sent_at=event.occurred_at,
                quick_replies=p.quick_replies,
            )
        log.info("console.automatic_message", reply_id=str(p.reply_id), client_id=str(p.client_id))

    async def follow_changed(
        event: ClientFollowed | ClientUnfollowed, *, consumer: str, blocked: bool, line: str
    ) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=consumer
            ):
                return
            await queries.client_follow_changed(
                session,
                event_id=event.id,
                client_id=p.client_id,
                client_no=p.client_no,
                channel=event.channel,
                blocked=blocked,
                line=line,
                at=p.sent_at,
            )
        log.info("console.follow_changed", client_id=str(p.client_id), line=line)

    @broker.subscriber(
        CLIENT_FOLLOWED.name,
        stream=jstream(CLIENT_FOLLOWED.stream),
        durable=FOLLOWS_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="The client added or unblocked the account: a line in the chat, replies allowed",
    )
    async def on_client_followed(event: ClientFollowed) -> None:
        line = "unblocked" if event.payload.is_unblocked else "followed"
        await follow_changed(event, consumer=FOLLOWS_CONSUMER, blocked=False, line=line)

    @broker.subscriber(
        CLIENT_UNFOLLOWED.name,
        stream=jstream(CLIENT_UNFOLLOWED.stream),
        durable=UNFOLLOWS_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="The client blocked the account (ブロック): a line in the chat, replies refused",
    )
    async def on_client_unfollowed(event: ClientUnfollowed) -> None:
        await follow_changed(event, consumer=UNFOLLOWS_CONSUMER, blocked=True, line="blocked")

    @broker.subscriber(
        CASES.subjects[0],
        stream=jstream(CASES),
        durable=CASES_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Project the case lifecycle decided by routing: "
        + ", ".join(sorted(CASE_SUBJECTS)),
    )
    async def on_case_event(msg: NatsMessage) -> None:
        subject = msg.raw_message.subject
        known = CASE_SUBJECTS.get(subject)
        if known is None:
            # A case subject this version does not know (e.g. a newer .v2): skip it
            # rather than block the consumer; a later version replays the stream.
            log.warning("console.case_subject_unknown", subject=subject)
            return
        try:
            event = known.event.model_validate_json(msg.body)
        except ValidationError:
            log.error("console.case_event_invalid", subject=subject)
            return
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=CASES_CONSUMER
            ):
                return
            await _apply_case_event(session, event)
        log.info("console.case_projected", event_id=str(event.id), type=event.type)

    @broker.subscriber(
        AUTO_TEXT_CHANGED.name,
        stream=jstream(AUTO_TEXT_CHANGED.stream),
        durable=AUTO_TEXTS_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Keep the automatic texts as routing applied them, and its latest answer",
    )
    async def on_auto_text_changed(event: AutoTextChanged) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=AUTO_TEXTS_CONSUMER
            ):
                return
            await supervision.auto_text_outcome(
                session,
                key=p.key,
                outcome=p.outcome,
                body=p.body,
                error=p.error,
                staff_id=p.staff_id,
                command_id=p.command_id,
                at=event.occurred_at,
            )
        log.info("console.auto_text_projected", key=p.key, outcome=p.outcome)

    @broker.subscriber(
        HOURS_CHANGED.name,
        stream=jstream(HOURS_CHANGED.stream),
        durable=HOURS_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Keep the consultation calendar as routing applied it, and its latest answer",
    )
    async def on_hours_changed(event: HoursChanged) -> None:
        p = event.payload
        rules = (
            [r.model_dump(mode="json", exclude_none=True) for r in p.calendar]
            if p.calendar is not None
            else None
        )
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=HOURS_CONSUMER
            ):
                return
            await supervision.hours_outcome(
                session,
                outcome=p.outcome,
                rules=rules,
                error=p.error,
                staff_id=p.staff_id,
                command_id=p.command_id,
                at=event.occurred_at,
            )
        log.info("console.hours_projected", outcome=p.outcome)

    @broker.subscriber(
        CLOSING_CATEGORIES_CHANGED.name,
        stream=jstream(CLOSING_CATEGORIES_CHANGED.stream),
        durable=CATEGORIES_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Keep the closing form's lists as routing applied them, and its latest answer",
    )
    async def on_closing_categories_changed(event: ClosingCategoriesChanged) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=CATEGORIES_CONSUMER
            ):
                return
            await supervision.closing_categories_outcome(
                session,
                outcome=p.outcome,
                outcomes=p.outcomes,
                topics=p.topics,
                error=p.error,
                staff_id=p.staff_id,
                command_id=p.command_id,
                at=event.occurred_at,
            )
        log.info("console.closing_categories_projected", outcome=p.outcome)

    @broker.subscriber(
        PUSH_RESULT.name,
        stream=jstream(PUSH_RESULT.stream),
        durable=PUSH_RESULTS_CONSUMER,
        pull_sub=_pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Mark a counsellor's reply as delivered or failed",
    )
    async def on_push_result(event: PushResult) -> None:
        p = event.payload
        async with transaction(sessions) as session:
            if not await first_time(
                session, processed_events, event_id=event.id, consumer=PUSH_RESULTS_CONSUMER
            ):
                return
            await queries.record_push_result(
                session, push_id=p.push_id, status=p.status, error=p.error
            )
        log.info("console.push_result", push_id=str(p.push_id), status=p.status)


async def _apply_case_event(session: Any, event: Envelope[Any]) -> None:
    at = event.occurred_at
    if isinstance(event, CaseOpened):
        p = event.payload
        await queries.case_opened(
            session,
            case_id=p.case_id,
            client_id=p.client_id,
            client_no=p.client_no,
            channel=event.channel,
            urgency=p.urgency,
            queued_at=p.queued_at,
            event_at=at,
            first_message_id=p.first_message_event_id,
            previous_case_id=p.previous_case_id,
            intake=p.intake,
        )
    elif isinstance(event, CaseIntakeFinished):
        i = event.payload
        await queries.case_intake_finished(
            session,
            case_id=i.case_id,
            client_id=i.client_id,
            channel=event.channel,
            outcome=i.outcome,
            consent=i.consent,
            age_group=i.age_group,
            region=i.region,
            gender_identity=i.gender_identity,
            event_at=at,
        )
    elif isinstance(event, CaseAssigned):
        a = event.payload
        await queries.case_assigned(
            session,
            case_id=a.case_id,
            client_id=a.client_id,
            channel=event.channel,
            counsellor_id=a.counsellor_id,
            event_at=at,
        )
    elif isinstance(event, CaseReturnedToQueue):
        r = event.payload
        await queries.case_returned_to_queue(
            session, case_id=r.case_id, client_id=r.client_id, channel=event.channel, event_at=at
        )
        if r.reason == "counsellor_unavailable":
            # one notice per presence change, however many cases it returned
            await supervision.add_handback(
                session,
                cause_id=event.causation_id or event.id,
                counsellor_id=r.previous_counsellor_id,
                reason=r.reason,
                at=at,
            )
    elif isinstance(event, CaseUrgencyChanged):
        u = event.payload
        await queries.case_urgency_changed(
            session,
            case_id=u.case_id,
            client_id=u.client_id,
            channel=event.channel,
            urgency=u.urgency,
            event_at=at,
        )
    elif isinstance(event, CaseClosed):
        c = event.payload
        await queries.case_closed(
            session,
            case_id=c.case_id,
            client_id=c.client_id,
            channel=event.channel,
            event_at=at,
            outcome=c.outcome,
            topics=c.topics,
        )
        await lifecycle.log_entry(
            session,
            entry_id=event.id,
            case_id=c.case_id,
            kind="closed",
            at=at,
            staff_id=c.closed_by,
            data={"outcome": c.outcome, "topics": list(c.topics)},
        )
    elif isinstance(
        event, CaseUnanswered | CongestionChanged | AssignmentModeChanged | AssignmentRefused
    ):
        await _apply_desk_event(session, event)
    else:
        await _apply_lifecycle_event(session, event)


async def _apply_lifecycle_event(session: Any, event: Envelope[Any]) -> None:
    """保留, 転送, reopening, close requests, refusals, the after-survey: the case's
    state and a line in its staff-only timeline."""
    at = event.occurred_at
    p = event.payload
    data: dict[str, Any] = {}
    staff_id: UUID | None = None
    other: UUID | None = None
    note: str | None = None
    if isinstance(event, CaseReopened):
        await lifecycle.case_reopened(session, case_id=p.case_id, urgency=p.urgency, event_at=at)
        other = p.previous_counsellor_id
    elif isinstance(event, CaseHoldChanged):
        by_client = p.by == "client"
        await lifecycle.case_hold_changed(
            session, case_id=p.case_id, on_hold=p.on_hold, by_client=by_client
        )
        staff_id = None if by_client else p.counsellor_id
        data = {"on_hold": p.on_hold, "by": p.by}
    elif isinstance(event, CaseHandedOver):
        await lifecycle.case_handed_over(
            session, case_id=p.case_id, to=p.to_counsellor_id, event_at=at
        )
        staff_id, other, note = p.from_counsellor_id, p.to_counsellor_id, p.note
    elif isinstance(event, CaseCloseRequested):
        data = {"outcome": p.outcome, "topics": list(p.topics), "send_survey": p.send_survey}
        await lifecycle.set_close_request(
            session,
            case_id=p.case_id,
            request={**data, "staff_id": str(p.staff_id), "requested_at": at.isoformat()},
        )
        staff_id = p.staff_id
    elif isinstance(event, CaseCloseDeclined):
        await lifecycle.set_close_request(session, case_id=p.case_id, request=None)
        staff_id, other = p.staff_id, p.requested_by
    elif isinstance(event, CaseCommandRefused):
        await lifecycle.set_attention(session, case_id=p.case_id, attention="refused")
        staff_id = p.staff_id
        data = {"command": p.command, "reason": p.reason}
    elif isinstance(event, CaseSurveySent):
        pass
    elif isinstance(event, CaseSurveyAnswered):
        await lifecycle.survey_answered(session, case_id=p.case_id, answer=p.answer)
        data = {"answer": p.answer}
    else:
        log.warning("console.case_event_unhandled", type=event.type)
        return
    await lifecycle.log_entry(
        session,
        entry_id=event.id,
        case_id=p.case_id,
        kind=event.type.removeprefix("case."),
        at=at,
        staff_id=staff_id,
        other_staff_id=other,
        note=note,
        data=data,
    )


async def _apply_desk_event(session: Any, event: Envelope[Any]) -> None:
    at = event.occurred_at
    if isinstance(event, CaseUnanswered):
        await queries.case_unanswered(
            session, case_id=event.payload.case_id, assigned_at=event.payload.assigned_at
        )
    elif isinstance(event, CongestionChanged):
        d = event.payload
        await queries.desk_status_changed(
            session,
            channel=event.channel,
            values={
                "level": d.level,
                "desk_open": d.desk_open,
                "queue_length": d.queue_length,
                "active_counsellors": d.active_counsellors,
                "free_capacity": d.free_capacity,
                "next_wait_s": d.next_wait_s,
                "next_opening": d.next_opening,
            },
            at=at,
        )
    elif isinstance(event, AssignmentModeChanged):
        m = event.payload
        await supervision.assignment_mode_changed(session, mode=m.mode, staff_id=m.staff_id, at=at)
    elif isinstance(event, AssignmentRefused):
        pass  # answered to the one who asked (api/supervision.py); nothing to project
    else:
        log.warning("console.case_event_unhandled", type=event.type)
