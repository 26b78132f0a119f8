"""Units of work: each handler's single transaction (idempotency, state, outbox).

Every function here runs one transaction: it records the input event as
processed (a redelivery then changes nothing), applies the decision from
:mod:`sodan_routing.assignment`, and writes each event to emit into the outbox
in the same transaction. It returns how many events it queued, so the caller
knows whether to wake the outbox relay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from sodan_shared.closing import (
    CLIENT_ENDED,
    SURVEY_ANSWERS,
    ClosingCategories,
    categories_problem,
)
from sodan_shared.crypto import ClientCipher, Keyring
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.console import (
    ReplaceHours,
    StaffPresenceChanged,
    UpdateAutoText,
    UpdateClosingCategories,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import (
    MessageReceived,
    PushRequested,
    PushRequestedV1,
    ReplyRequested,
    ReplyRequestedV1,
)
from sodan_shared.events.routing import (
    AutoTextChanged,
    AutoTextChangedV1,
    CaseAssigned,
    CaseAssignedV1,
    CaseClosed,
    CaseClosedV1,
    CaseHoldChanged,
    CaseHoldChangedV1,
    CaseIntakeFinished,
    CaseIntakeFinishedV1,
    CaseOpened,
    CaseOpenedV1,
    CaseReopened,
    CaseReopenedV1,
    CaseReturnedToQueue,
    CaseReturnedToQueueV1,
    CaseSurveyAnswered,
    CaseSurveyAnsweredV1,
    CaseSurveySent,
    CaseSurveySentV1,
    CaseUnanswered,
    CaseUnansweredV1,
    CaseUrgencyChanged,
    CaseUrgencyChangedV1,
    ClosingCategoriesChanged,
    ClosingCategoriesChangedV1,
    CongestionChanged,
    CongestionChangedV1,
    HoursChanged,
    HoursChangedV1,
)
from sodan_shared.events.triage import URGENCY_RANK, MessageScored
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_routing import congestion, hours, intake, lifecycle, texts
from sodan_routing.assignment import (
    Counsellor,
    QueuedCase,
    free_slots,
    plan_assignments,
    presence_requeues_cases,
    raised_urgency,
)
from sodan_routing.congestion import Answered, Finished
from sodan_routing.db import queries
from sodan_routing.db.tables import outbox, processed_events
from sodan_routing.settings import RoutingSettings
from sodan_routing.supervision import assignment_paused

log = get_logger(__name__)

Sessions = async_sessionmaker[AsyncSession]

MESSAGES_CONSUMER = "routing-messages"
SCORES_CONSUMER = "routing-scores"
STAFF_CONSUMER = "routing-staff"
PUSHES_CONSUMER = "routing-pushes"
AUTO_TEXTS_CONSUMER = "routing-auto-texts"
HOURS_CONSUMER = "routing-hours"
CATEGORIES_CONSUMER = "routing-closing-categories"
# desk-wide events (congestion) belong to no LINE channel
DESK_CHANNEL = "system"
# a closing notice later than this after closing would only confuse
CLOSED_NOTICE_WITHIN = timedelta(hours=1)
_DESK_NS = UUID("6f1d0c2e-3b7a-5c1e-9d4f-2a8b7c6d5e4f")


@dataclass
class Desk:
    """What every unit of work needs: the database, the keyring (to seal automatic
    texts for the client), and the settings (hours, thresholds, contacts)."""

    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    settings: RoutingSettings

    async def ciphers(self, client_ids: Iterable[UUID]) -> dict[UUID, ClientCipher]:
        """The clients' ciphers, fetched before a transaction opens: fetching one inside
        would hold the counsellor locks while waiting for a second pooled connection.
        Unknown or erased clients are left out (nobody to tell)."""
        found: dict[UUID, ClientCipher] = {}
        for client_id in set(client_ids):
            try:
                found[client_id] = await self.keyring.cipher(client_id)
            except LookupError:
                continue
        return found


def _now() -> datetime:
    return datetime.now(UTC)


async def _assign_queued(
    session: AsyncSession,
    *,
    cause: Envelope[Any] | None,
    now: datetime,
    desk_open: bool = True,
    critical_cap: int = 0,
    staff: list[Counsellor] | None = None,
) -> int:
    """Give queued cases to free counsellors. Counsellor rows are locked first (by the
    caller or here: locking again only reads them), queued cases with SKIP LOCKED.
    Outside consultation hours nothing is assigned: the queue waits for the opening; in
    manual pick-up mode neither: counsellors choose. `staff`: the caller's locked rows,
    when nothing in its transaction changed a load since (saves reading them again)."""
    if not desk_open:
        return 0
    if staff is None:
        staff = await queries.lock_counsellors(session)
    slots = free_slots(staff)
    if slots == 0:  # the usual answer while people wait: nobody free
        return 0
    if assignment_paused(await queries.assignment_mode(session)):
        return 0  # manual pick-up: counsellors choose (sodan_routing.controls)
    # a 緊急 case held back by the cap lets a few cases behind it use the free slots
    queued = await queries.lock_queued_cases(session, limit=slots + (5 if critical_cap else 0))
    emitted = 0
    for item in plan_assignments(queued, staff, now=now, critical_cap=critical_cap):
        row = await queries.assign_case(
            session, case_id=item.case_id, counsellor_id=item.counsellor_id, at=now
        )
        if row is None:  # cannot happen under our locks; never emit what did not happen
            continue
        event_id = (
            uuid5(cause.id, f"assigned:{item.case_id}")
            if cause is not None
            else uuid5(item.case_id, f"assigned:{row.queued_at.isoformat()}")
        )
        await add_to_outbox(
            session,
            outbox,
            CaseAssigned.new(
                channel=row.channel,
                caused_by=cause,
                event_id=event_id,
                payload=CaseAssignedV1(
                    case_id=row.case_id, client_id=row.client_id, counsellor_id=item.counsellor_id
                ),
            ),
        )
        log.info("case.assigned", case_id=str(row.case_id), counsellor_id=str(item.counsellor_id))
        emitted += 1
    return emitted


def _opened(
    case: queries.CaseRow,
    *,
    cause: Envelope[Any],
    first_message: UUID,
    opens_at: datetime | None = None,
    previous_case_id: UUID | None = None,
    in_intake: bool = False,
) -> CaseOpened:
    assert case.client_no is not None
    return CaseOpened.new(
        channel=case.channel,
        caused_by=cause,
        event_id=uuid5(cause.id, "opened"),
        payload=CaseOpenedV1(
            case_id=case.case_id,
            client_id=case.client_id,
            client_no=case.client_no,
            first_message_event_id=first_message,
            urgency=case.urgency,
            queued_at=case.queued_at,
            opens_at=opens_at,
            previous_case_id=previous_case_id,
            intake=in_intake,
        ),
    )


# --- hours and automatic notices -------------------------------------------------


@dataclass(frozen=True)
class Hours:
    calendar: hours.Calendar
    now: datetime
    open: bool
    current: hours.Session | None  # None when closed or always open
    next: hours.Session | None

    @property
    def opening_key(self) -> str:
        """Names the current opening (notices go out once per opening)."""
        return self.current.starts.isoformat() if self.current else "always"

    @property
    def closed_period_key(self) -> str:
        """Names the closed period until the next opening."""
        return self.next.starts.isoformat() if self.next else "none"


async def _hours(session: AsyncSession, desk: Desk, now: datetime) -> Hours:
    calendar = await queries.load_calendar(session, always_open=desk.settings.always_open)
    current = None if calendar.always_open else hours.current_session(now, calendar)
    return Hours(
        calendar=calendar,
        now=now,
        open=calendar.always_open or current is not None,
        current=current,
        next=None if calendar.always_open else hours.next_opening(now, calendar),
    )


def _values(desk: Desk, h: Hours, *, wait_s: float | None = None) -> dict[str, str]:
    return {
        "next_opening": hours.format_session(h.next),
        "closes_at": hours.format_time(h.current.ends) if h.current else "",
        "estimated_wait": congestion.wait_phrase(wait_s),
        "phone": desk.settings.routing_phone,
        "emergency": "\n".join(desk.settings.routing_emergency_contacts),
        "terms_url": desk.settings.routing_terms_url,
    }


def _text(stored: dict[str, str], key: texts.AutoTextKey, values: dict[str, str]) -> str:
    try:
        return texts.render(key, stored.get(key, texts.DEFAULT_TEXTS[key]), values)
    except (KeyError, ValueError):  # edited around validation (SQL): the default still works
        log.error("auto_text.unusable", key=key)
        return texts.render(key, texts.DEFAULT_TEXTS[key], values)


@dataclass(frozen=True)
class Notice:
    case_id: UUID
    channel: str
    client_id: UUID
    kind: str  # also the auto text key, except the extra out_of_hours marker
    key: str


async def _notify(
    session: AsyncSession,
    desk: Desk,
    notice: Notice,
    *,
    text: str,
    cause: Envelope[Any] | None,
    ciphers: Mapping[UUID, ClientCipher],
    reply_token: str | None = None,
    also: tuple[tuple[str, str], ...] = (),
    quick_replies: list[dict[str, str]] | None = None,
    now: datetime,
) -> int:
    """Queue one automatic message to the client, once per (case, kind, key) however
    many replicas or redeliveries try; `also` marks other notices as given."""
    cipher = ciphers.get(notice.client_id)
    if cipher is None:  # unknown or erased client (or not fetched yet: the next sweep)
        log.info("notice.skipped", case_id=str(notice.case_id), kind=notice.kind)
        return 0
    if not await queries.add_notice(
        session, case_id=notice.case_id, kind=notice.kind, key=notice.key, at=now
    ):
        return 0
    for kind, key in also:
        await queries.add_notice(session, case_id=notice.case_id, kind=kind, key=key, at=now)
    reply_id = (
        uuid5(cause.id, f"notice:{notice.kind}")
        if cause is not None
        else uuid5(notice.case_id, f"notice:{notice.kind}:{notice.key}")
    )
    await add_to_outbox(
        session,
        outbox,
        ReplyRequested.new(
            channel=notice.channel,
            caused_by=cause,
            event_id=reply_id,
            payload=ReplyRequestedV1(
                reply_id=reply_id,
                client_id=notice.client_id,
                case_id=notice.case_id,
                reply_token=reply_token,
                texts=[cipher.seal("message.text", text)],
                origin="system",
                quick_replies=cipher.seal("quick_replies", json.dumps(quick_replies))
                if quick_replies
                else None,
            ),
        ),
    )
    log.info("notice.requested", case_id=str(notice.case_id), kind=notice.kind)
    return 1


@dataclass(frozen=True)
class Load:
    """The queue and staff as congestion sees them at one moment."""

    waiting: list[queries.Waiting]
    staff: list[Any]
    measures: congestion.Measures
    level: congestion.Level
    waits: dict[object, float | None]


def _estimate(
    desk: Desk,
    h: Hours,
    queued: list[QueuedCase],
    staff: list[Counsellor],
    finished: list[Finished],
    answered: list[Answered],
) -> tuple[congestion.Measures, congestion.Level, dict[object, float | None]]:
    s = desk.settings
    measures = congestion.measure(
        queued=queued,
        counsellors=staff,
        finished=finished,
        answered=answered,
        now=h.now,
        default_handling_s=s.routing_default_handling_min * 60,
    )
    handling = measures.avg_handling_s or s.routing_default_handling_min * 60
    waits = congestion.waits(queued, staff, handling_s=handling)
    return measures, congestion.level_of(measures, s.thresholds), waits


async def _load(session: AsyncSession, desk: Desk, h: Hours) -> Load:
    s, now = desk.settings, h.now
    since = congestion.window_start(now, s.routing_measure_window_min)
    # reminders are counted per opening (always open: per case)
    counted_from = h.current.starts if h.current else datetime.min.replace(tzinfo=UTC)
    waiting = await queries.waiting_cases(session, reminders_since=counted_from)
    staff = await queries.lock_counsellors(session)
    finished = await queries.finished_since(session, since=since)
    answered = await queries.answered_since(session, since=since)
    measures, level, waits = _estimate(
        desk, h, [w.case for w in waiting], staff, finished, answered
    )
    return Load(waiting=waiting, staff=staff, measures=measures, level=level, waits=waits)


async def _outlook(
    session: AsyncSession, desk: Desk, h: Hours, *, staff: list[Counsellor] | None
) -> tuple[congestion.Level, dict[object, float | None]]:
    """The level and the waits a queued client is told: the queue, the staff and the
    handling times only (what each case was told and first-response times, which the
    sweep's measures need, change neither)."""
    queued = await queries.queued_cases(session)
    if staff is None:
        staff = await queries.lock_counsellors(session)
    since = congestion.window_start(h.now, desk.settings.routing_measure_window_min)
    finished = await queries.finished_since(session, since=since)
    _, level, waits = _estimate(desk, h, queued, staff, finished, [])
    return level, waits


async def _greet_queued(
    session: AsyncSession,
    desk: Desk,
    case: queries.CaseRow,
    h: Hours,
    *,
    cause: Envelope[Any] | None,
    ciphers: Mapping[UUID, ClientCipher],
    reply_token: str | None = None,
    staff: list[Counsellor] | None = None,
) -> int:
    """A client whose case waits hears why: closed (next opening and emergency
    contacts), 受付停止 (phone line), or the estimated wait. Once per closed period
    or opening, however many messages they send: a client told already costs one
    look-up, not a new estimate over the whole queue. `staff`: as for _assign_queued."""
    told = ("out_of_hours",) if not h.open else ("queued", "suspended")
    key = h.closed_period_key if not h.open else h.opening_key
    if await queries.notice_given(session, case_id=case.case_id, kinds=told, key=key):
        return 0
    stored = await queries.load_auto_texts(session)
    token = reply_token
    if not h.open:
        notice = Notice(case.case_id, case.channel, case.client_id, "out_of_hours", key)
        return await _notify(
            session,
            desk,
            notice,
            text=_text(stored, "out_of_hours", _values(desk, h)),
            cause=cause,
            ciphers=ciphers,
            reply_token=token,
            now=h.now,
        )
    level, waits = await _outlook(session, desk, h, staff=staff)
    wait = waits.get(case.case_id)
    kind: texts.AutoTextKey = "suspended" if level == "suspended" else "queued"
    return await _notify(
        session,
        desk,
        Notice(case.case_id, case.channel, case.client_id, kind, key),
        text=_text(stored, kind, _values(desk, h, wait_s=wait)),
        cause=cause,
        ciphers=ciphers,
        reply_token=token,
        # a client told about 受付停止 is not told the wait as well, and vice versa
        also=(("queued" if kind == "suspended" else "suspended", key),),
        now=h.now,
    )


async def _close(
    session: AsyncSession,
    case: queries.CaseRow,
    *,
    cause: Envelope[Any],
    closed_by: UUID | None,
    outcome: str | None,
    now: datetime,
    desk_open: bool,
    critical_cap: int,
    topics: list[str] | None = None,
) -> int:
    """Close the case, emit CaseClosed, give the freed slot to the next queued case."""
    answers = await queries.intake_of(session, case_id=case.case_id)
    emitted = 0
    if answers.step is not None:  # closed while answering: the questionnaire ends with it
        emitted += await _finish_intake(
            session,
            case,
            intake.Answers(answers.consent, answers.age_group, answers.region),
            outcome="closed",
            cause=cause,
            queue=False,
        )
    await queries.close_case(session, case_id=case.case_id, at=now)
    await add_to_outbox(
        session,
        outbox,
        CaseClosed.new(
            channel=case.channel,
            caused_by=cause,
            event_id=uuid5(cause.id, "closed"),
            payload=CaseClosedV1(
                case_id=case.case_id,
                client_id=case.client_id,
                closed_by=closed_by,
                outcome=outcome,
                topics=list(topics or []),
                age_group=answers.age_group,
                region=answers.region,
                gender_identity=answers.gender_report,
            ),
        ),
    )
    log.info("case.closed", case_id=str(case.case_id), staff_id=str(closed_by))
    return (
        emitted
        + 1
        + await _assign_queued(
            session, cause=cause, now=now, desk_open=desk_open, critical_cap=critical_cap
        )
    )


async def _client_ends(
    session: AsyncSession,
    event: MessageReceived,
    now: datetime,
    *,
    desk_open: bool,
    critical_cap: int,
) -> int:
    """The client's end word closes their open case; without one it opens nothing."""
    p = event.payload
    case = await queries.lock_open_case_of_client(session, client_id=p.client_id)
    if case is None or not case.announced or case.status == "closed":
        log.info("routing.end_word_without_case", client_id=str(p.client_id))
        return 0
    await queries.record_message(
        session, case_id=case.case_id, message_event_id=event.id, sent_at=p.sent_at
    )
    return await _close(
        session,
        case,
        cause=event,
        closed_by=None,
        outcome=CLIENT_ENDED,
        now=now,
        desk_open=desk_open,
        critical_cap=critical_cap,
    )


async def _resume_on_reply(
    session: AsyncSession, case: queries.CaseRow, *, cause: MessageReceived, now: datetime
) -> int:
    """The client answered a case on hold (保留): it is its counsellor's to answer again."""
    assert case.assigned_to is not None
    await queries.set_hold(session, case_id=case.case_id, on_hold=False, at=now)
    await add_to_outbox(
        session,
        outbox,
        CaseHoldChanged.new(
            channel=case.channel,
            caused_by=cause,
            event_id=uuid5(cause.id, "resumed"),
            payload=CaseHoldChangedV1(
                case_id=case.case_id,
                client_id=case.client_id,
                counsellor_id=case.assigned_to,
                on_hold=False,
                by="client",
            ),
        ),
    )
    log.info("case.resumed_by_client", case_id=str(case.case_id))
    return 1


async def _after_close(
    session: AsyncSession,
    desk: Desk,
    event: MessageReceived,
    last: queries.CaseRow,
    *,
    placeholder: queries.CaseRow | None,
    h: Hours,
    ciphers: Mapping[UUID, ClientCipher],
) -> int | None:
    """A client without an open case writes: the answer to their after-survey, or a
    message within the reopen window (the same case again). None: neither, a new case."""
    p, now, s = event.payload, h.now, desk.settings
    if last.intake_outcome == "declined":  # agreeing later starts a new case, never this one
        return None
    answer = lifecycle.survey_answer(
        _client_text(event, ciphers),
        sent_at=last.survey_sent_at,
        answered=last.survey_answer,
        now=now,
        within_min=s.routing_survey_within_min,
    )
    if answer is None and not lifecycle.reopens(
        last.closed_at, now=now, within_min=s.routing_reopen_within_min
    ):
        return None
    urgency = last.urgency
    if placeholder is not None:  # a triage score got here first and opened a case
        if URGENCY_RANK[placeholder.urgency] > URGENCY_RANK[urgency]:
            urgency = placeholder.urgency
        await queries.absorb_placeholder(session, placeholder=placeholder, into=last.case_id)
    if answer is not None:
        await queries.record_message(
            session, case_id=last.case_id, message_event_id=event.id, sent_at=p.sent_at
        )
        await queries.record_survey_answer(session, case_id=last.case_id, answer=answer)
        await add_to_outbox(
            session,
            outbox,
            CaseSurveyAnswered.new(
                channel=last.channel,
                caused_by=event,
                event_id=uuid5(event.id, "survey_answered"),
                payload=CaseSurveyAnsweredV1(
                    case_id=last.case_id, client_id=last.client_id, answer=answer
                ),
            ),
        )
        log.info("case.survey_answered", case_id=str(last.case_id))
        return 1
    return await _reopen(session, desk, event, last, urgency=urgency, h=h, ciphers=ciphers)


async def _reopen(
    session: AsyncSession,
    desk: Desk,
    event: MessageReceived,
    last: queries.CaseRow,
    *,
    urgency: str,
    h: Hours,
    ciphers: Mapping[UUID, ClientCipher],
) -> int:
    """The same case again: straight back to its counsellor when they could take it
    now, otherwise into the queue with its urgency."""
    p, now = event.payload, h.now
    cap = desk.settings.routing_max_critical_per_counsellor
    staff = await queries.lock_counsellors(session)
    before = next((c for c in staff if c.staff_id == last.assigned_to), None)
    to = (
        last.assigned_to
        if h.open and lifecycle.can_return_to(before, urgency=urgency, critical_cap=cap)
        else None
    )
    case = await queries.reopen_case(session, case_id=last.case_id, to=to, urgency=urgency, at=now)
    await queries.record_message(
        session, case_id=case.case_id, message_event_id=event.id, sent_at=p.sent_at
    )
    await add_to_outbox(
        session,
        outbox,
        CaseReopened.new(
            channel=case.channel,
            caused_by=event,
            event_id=uuid5(event.id, "reopened"),
            payload=CaseReopenedV1(
                case_id=case.case_id,
                client_id=case.client_id,
                message_event_id=event.id,
                previous_counsellor_id=last.assigned_to,
                urgency=urgency,
            ),
        ),
    )
    emitted = 1
    log.info("case.reopened", case_id=str(case.case_id), back_to_counsellor=to is not None)
    if to is not None:
        await add_to_outbox(
            session,
            outbox,
            CaseAssigned.new(
                channel=case.channel,
                caused_by=event,
                event_id=uuid5(event.id, f"assigned:{case.case_id}"),
                payload=CaseAssignedV1(
                    case_id=case.case_id, client_id=case.client_id, counsellor_id=to
                ),
            ),
        )
        return emitted + 1
    emitted += await _assign_queued(
        session, cause=event, now=now, desk_open=h.open, critical_cap=cap
    )
    again = await queries.lock_case(session, case_id=case.case_id)
    if again is not None and again.status == "queued":
        emitted += await _greet_queued(session, desk, again, h, cause=event, ciphers=ciphers)
    return emitted


async def send_survey(
    session: AsyncSession,
    desk: Desk,
    case: queries.CaseRow,
    *,
    cause: Envelope[Any],
    cipher: ClientCipher | None,
    now: datetime,
) -> int:
    """The after-survey: one question (an editable automatic text) with its answers as
    quick-reply buttons; the answer is recorded, it never reopens the case."""
    if cipher is None:  # erased or unknown client: nobody to ask
        log.info("case.survey_skipped", case_id=str(case.case_id))
        return 0
    stored = await queries.load_auto_texts(session)
    question = texts.render("survey", stored["survey"], _values_for_survey(desk))
    buttons = [{"label": a, "text": a} for a in SURVEY_ANSWERS]
    push_id = uuid5(cause.id, "survey")
    await add_to_outbox(
        session,
        outbox,
        PushRequested.new(
            channel=case.channel,
            caused_by=cause,
            event_id=push_id,
            payload=PushRequestedV1(
                push_id=push_id,
                client_id=case.client_id,
                case_id=case.case_id,
                texts=[cipher.seal("message.text", question)],
                origin="system",
                quick_replies=cipher.seal("quick_replies", json.dumps(buttons, ensure_ascii=False)),
            ),
        ),
    )
    await queries.mark_survey_sent(session, case_id=case.case_id, at=now)
    await add_to_outbox(
        session,
        outbox,
        CaseSurveySent.new(
            channel=case.channel,
            caused_by=cause,
            event_id=uuid5(cause.id, "survey_sent"),
            payload=CaseSurveySentV1(case_id=case.case_id, client_id=case.client_id),
        ),
    )
    log.info("case.survey_sent", case_id=str(case.case_id))
    return 2


def _values_for_survey(desk: Desk) -> dict[str, str]:
    return {
        "phone": desk.settings.routing_phone,
        "emergency": "\n".join(desk.settings.routing_emergency_contacts),
    }


# --- the intake questionnaire (事前アンケート) ---------------------------------------

# A case this urgent never waits behind the questionnaire.
URGENT_LEVELS = frozenset({"high", "critical"})
# CaseClosed.outcome when the client declined the terms
INTAKE_DECLINED = "intake_declined"
GENDER_PURPOSE = "intake.gender_identity"


def _intake_applies(desk: Desk, case: queries.CaseRow, h: Hours) -> bool:
    """A new case is asked the questionnaire only while the desk is open (closed: the
    out-of-hours reply goes instead, and nobody is asked at the opening) and while
    nothing says the client is in danger."""
    return (
        desk.settings.routing_intake_enabled
        and h.open
        and case.status == "queued"
        and case.urgency not in URGENT_LEVELS
    )


def _client_text(event: MessageReceived, ciphers: Mapping[UUID, ClientCipher]) -> str | None:
    """The message's text, read only to understand an answer (questionnaire, after-survey);
    never logged or stored."""
    p = event.payload
    cipher = ciphers.get(p.client_id)
    if p.kind != "text" or p.text is None or cipher is None:
        return None
    try:
        return cipher.open("message.text", p.text)
    except ValueError:  # SealedValueError: not for this key
        return None


async def _ask(
    session: AsyncSession,
    desk: Desk,
    case: queries.CaseRow,
    h: Hours,
    step: intake.Step,
    *,
    retry: bool,
    cause: MessageReceived,
    ciphers: Mapping[UUID, ClientCipher],
) -> int:
    stored = await queries.load_auto_texts(session)
    key: texts.AutoTextKey = intake.QUESTIONS[step].text_key  # type: ignore[assignment]
    text = _text(stored, key, _values(desk, h))
    if retry:
        text = _text(stored, "intake_retry", _values(desk, h)) + "\n" + text
    return await _notify(
        session,
        desk,
        Notice(case.case_id, case.channel, case.client_id, key, str(cause.id)),
        text=text,
        cause=cause,
        ciphers=ciphers,
        reply_token=cause.payload.reply_token,
        quick_replies=intake.quick_replies(step),
        now=h.now,
    )


async def _finish_intake(
    session: AsyncSession,
    case: queries.CaseRow,
    answers: intake.Answers,
    *,
    outcome: intake.Outcome,
    cause: Envelope[Any] | None,
    queue: bool,
    cipher: ClientCipher | None = None,
    personal_data: bool = False,
) -> int:
    """Record the end of the questionnaire and tell the console (answers, アンケート中
    no more); a case to serve joins the queue."""
    gender = answers.gender_identity
    sealed = cipher.seal(GENDER_PURPOSE, gender) if gender is not None and cipher else None
    await queries.finish_intake(
        session,
        case_id=case.case_id,
        outcome=outcome,
        consent=answers.consent,
        age_group=answers.age_group,
        region=answers.region,
        gender_identity=sealed,
        gender_report=intake.reportable_gender_identity(answers, personal_data=personal_data),
        queue=queue,
    )
    await add_to_outbox(
        session,
        outbox,
        CaseIntakeFinished.new(
            channel=case.channel,
            caused_by=cause,
            event_id=uuid5(cause.id, "intake")
            if cause is not None
            else uuid5(case.case_id, "intake-timeout"),
            payload=CaseIntakeFinishedV1(
                case_id=case.case_id,
                client_id=case.client_id,
                outcome=outcome,
                consent=answers.consent,
                age_group=answers.age_group,
                region=answers.region,
                gender_identity=sealed,
            ),
        ),
    )
    log.info("case.intake_finished", case_id=str(case.case_id), outcome=outcome)
    return 1


async def _intake_step(
    session: AsyncSession,
    desk: Desk,
    case: queries.CaseRow,
    h: Hours,
    *,
    event: MessageReceived,
    text: str | None,
    ciphers: Mapping[UUID, ClientCipher],
    first: bool,
) -> int:
    """Start the questionnaire on a new case, or take the client's next message as the
    answer to the question asked: ask the next one, or end it (queue, or close on a
    declined consent)."""
    if first:
        nxt = intake.start(text)
    else:
        row = await queries.intake_of(session, case_id=case.case_id)
        if row.step is None:  # cannot happen: status 'intake' always has a step
            return 0
        state = intake.State(
            step=row.step,  # type: ignore[arg-type]
            retried=row.retried,
            answers=intake.Answers(row.consent, row.age_group, row.region),
        )
        nxt = intake.answer(state, text)
    a = nxt.answers
    if nxt.ask is not None:
        await queries.save_intake(
            session,
            case_id=case.case_id,
            step=nxt.ask,
            retried=nxt.retry,
            consent=a.consent,
            age_group=a.age_group,
            region=a.region,
            at=h.now,
        )
        return await _ask(
            session, desk, case, h, nxt.ask, retry=nxt.retry, cause=event, ciphers=ciphers
        )
    assert nxt.outcome is not None
    declined = nxt.outcome == "declined"
    emitted = await _finish_intake(
        session,
        case,
        a,
        outcome=nxt.outcome,
        cause=event,
        queue=not declined,
        cipher=ciphers.get(case.client_id),
        personal_data=bool(event.payload.personal_data),
    )
    stored = await queries.load_auto_texts(session)
    if declined:
        emitted += await _notify(
            session,
            desk,
            Notice(case.case_id, case.channel, case.client_id, "intake_declined", str(event.id)),
            text=_text(stored, "intake_declined", _values(desk, h)),
            cause=event,
            ciphers=ciphers,
            reply_token=event.payload.reply_token,
            quick_replies=intake.consent_again(),
            now=h.now,
        )
        closing = await queries.lock_case(session, case_id=case.case_id)
        assert closing is not None
        emitted += await _close(
            session,
            closing,
            cause=event,
            closed_by=None,
            outcome=INTAKE_DECLINED,
            now=h.now,
            desk_open=h.open,
            critical_cap=desk.settings.routing_max_critical_per_counsellor,
        )
    elif nxt.outcome == "completed":
        emitted += await _notify(
            session,
            desk,
            Notice(case.case_id, case.channel, case.client_id, "intake_done", str(event.id)),
            text=_text(stored, "intake_done", _values(desk, h)),
            cause=event,
            ciphers=ciphers,
            reply_token=event.payload.reply_token,
            now=h.now,
        )
    return emitted


async def _intake_timeouts(session: AsyncSession, desk: Desk, h: Hours) -> int:
    """A client who stopped answering is queued anyway: never trapped in the questionnaire."""
    timeout = timedelta(minutes=desk.settings.routing_intake_timeout_min)
    emitted = 0
    for case in await queries.lock_stale_intakes(session, asked_before=h.now - timeout):
        row = await queries.intake_of(session, case_id=case.case_id)
        answers = intake.Answers(row.consent, row.age_group, row.region)
        emitted += await _finish_intake(
            session, case, answers, outcome="timeout", cause=None, queue=True
        )
    return emitted


async def handle_message_received(desk: Desk, event: MessageReceived) -> int:
    """The client's open case gets the message; a client without one gets a queued case.
    A case left waiting tells the client why (hours, congestion), once."""
    p = event.payload
    now = _now()
    ciphers = await desk.ciphers([p.client_id])
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=MESSAGES_CONSUMER
        ):
            return 0
        # lock order: counsellors, then cases. Nothing below changes a counsellor's load
        # before the assignment attempt (the intake's paths read them again), so this
        # snapshot serves it.
        staff: list[Counsellor] | None = await queries.lock_counsellors(session)
        h = await _hours(session, desk, now)
        if p.ends_conversation:
            return await _client_ends(
                session,
                event,
                now,
                desk_open=h.open,
                critical_cap=desk.settings.routing_max_critical_per_counsellor,
            )
        emitted = 0
        previous: UUID | None = None
        current = await queries.lock_open_case_of_client(session, client_id=p.client_id)
        if current is None or not current.announced:
            last = await queries.lock_latest_closed_case(session, client_id=p.client_id)
            if last is not None:
                handled = await _after_close(
                    session, desk, event, last, placeholder=current, h=h, ciphers=ciphers
                )
                if handled is not None:
                    return handled
                previous = last.case_id
        inserted = None
        if current is None:
            inserted = await queries.insert_case_if_none_open(
                session,
                case_id=uuid5(event.id, "case"),
                channel=event.channel,
                client_id=p.client_id,
                client_no=p.client_no,
                queued_at=p.sent_at,
                first_message_event_id=event.id,
            )
        case = inserted or current
        if case is None:  # a racing opener got there first
            case = await queries.lock_open_case_of_client(session, client_id=p.client_id)
        assert case is not None  # inserted above or open already
        in_intake = False
        # Announced once: by the message that opened it, or the first message of a case
        # a score opened (a later message whose score opened it must not announce again)
        if inserted is not None or not case.announced:
            in_intake = _intake_applies(desk, case, h)
            if not case.announced:  # opened by an early score: now we know the client
                case = await queries.announce_case(
                    session,
                    case_id=case.case_id,
                    client_no=p.client_no,
                    first_message_event_id=event.id,
                    sent_at=p.sent_at,
                )
            opens_at = None if h.open or h.next is None else h.next.starts
            if previous is not None:
                await queries.set_previous_case(session, case_id=case.case_id, previous=previous)
            await add_to_outbox(
                session,
                outbox,
                _opened(
                    case,
                    cause=event,
                    first_message=event.id,
                    opens_at=opens_at,
                    previous_case_id=previous,
                    in_intake=in_intake,
                ),
            )
            emitted += 1
            log.info("case.opened", case_id=str(case.case_id), client_id=str(p.client_id))
        await queries.record_message(
            session, case_id=case.case_id, message_event_id=event.id, sent_at=p.sent_at
        )
        if case.status == "on_hold":
            emitted += await _resume_on_reply(session, case, cause=event, now=now)
        elif in_intake or case.status == "intake":
            text = _client_text(event, ciphers)
            emitted += await _intake_step(
                session, desk, case, h, event=event, text=text, ciphers=ciphers, first=in_intake
            )
            staff = None  # a declined consent closes the case and refills a slot
            case = await queries.lock_case(session, case_id=case.case_id)
            assert case is not None
        if case.status == "queued":
            assigned = await _assign_queued(
                session,
                cause=event,
                now=now,
                desk_open=h.open,
                critical_cap=desk.settings.routing_max_critical_per_counsellor,
                staff=staff,
            )
            emitted += assigned
            if assigned:  # loads changed, and maybe this case's status
                staff = None
                again = await queries.lock_case(session, case_id=case.case_id)
                assert again is not None
                case = again
            if case.status == "queued":
                emitted += await _greet_queued(
                    session,
                    desk,
                    case,
                    h,
                    cause=event,
                    ciphers=ciphers,
                    reply_token=p.reply_token,
                    staff=staff,
                )
    return emitted


async def handle_message_scored(desk: Desk, event: MessageScored) -> int:
    """Raise the urgency of the message's case (never lower it). A case this urgent
    stops its questionnaire and joins the queue at once."""
    p = event.payload
    now = _now()
    if URGENCY_RANK[p.level] == 0:
        # the lowest level raises nothing and opens nothing (a case opened for it would
        # be the one its message opens): recorded as processed, no desk lock, no case
        async with transaction(desk.sessions) as session:
            await first_time(session, processed_events, event_id=event.id, consumer=SCORES_CONSUMER)
        return 0
    intake_on = desk.settings.routing_intake_enabled and p.level in URGENT_LEVELS
    ciphers = await desk.ciphers([p.client_id]) if intake_on else {}
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=SCORES_CONSUMER
        ):
            return 0
        # nothing below changes a counsellor's load before the assignment attempt
        staff = await queries.lock_counsellors(session)
        case = await queries.lock_case_of_message(session, message_event_id=p.message_event_id)
        if case is None:
            # the score overtook its message: open (unannounced) or join the client's case
            case = await queries.insert_case_if_none_open(
                session,
                case_id=uuid5(p.message_event_id, "case"),
                channel=event.channel,
                client_id=p.client_id,
                client_no=None,
                queued_at=event.occurred_at,
                first_message_event_id=None,
            ) or await queries.lock_open_case_of_client(session, client_id=p.client_id)
        if case is None or case.status == "closed":
            log.info("routing.score_for_closed_case", message_event_id=str(p.message_event_id))
            return 0
        level = raised_urgency(case.urgency, p.level)
        if level is None:
            return 0
        await queries.set_urgency(session, case_id=case.case_id, urgency=level, score=p.score)
        emitted = 0
        if case.announced:  # an unannounced case reports its urgency in CaseOpened
            await add_to_outbox(
                session,
                outbox,
                CaseUrgencyChanged.new(
                    channel=case.channel,
                    caused_by=event,
                    event_id=uuid5(event.id, "urgency"),
                    payload=CaseUrgencyChangedV1(
                        case_id=case.case_id,
                        client_id=case.client_id,
                        urgency=level,
                        score=p.score,
                        cause_message_event_id=p.message_event_id,
                    ),
                ),
            )
            emitted += 1
        log.info("case.urgency_raised", case_id=str(case.case_id), urgency=level)
        stopped = False
        if case.status == "intake" and level in URGENT_LEVELS:
            row = await queries.intake_of(session, case_id=case.case_id)
            answers = intake.Answers(row.consent, row.age_group, row.region)
            emitted += await _finish_intake(
                session, case, answers, outcome="urgent", cause=event, queue=True
            )
            case = await queries.lock_case(session, case_id=case.case_id)
            assert case is not None
            stopped = True
        if case.status == "queued" and case.announced:
            h = await _hours(session, desk, now)
            assigned = await _assign_queued(
                session,
                cause=event,
                now=now,
                desk_open=h.open,
                critical_cap=desk.settings.routing_max_critical_per_counsellor,
                staff=staff,
            )
            emitted += assigned
            if stopped:  # the questions stop: tell the client they are heard
                waiting = (
                    await queries.lock_case(session, case_id=case.case_id) if assigned else case
                )
                if waiting is not None and waiting.status == "queued":
                    emitted += await _greet_queued(
                        session,
                        desk,
                        waiting,
                        h,
                        cause=event,
                        ciphers=ciphers,
                        staff=None if assigned else staff,
                    )
    return emitted


async def handle_staff_presence(desk: Desk, event: StaffPresenceChanged) -> int:
    """Record presence; an offline counsellor's cases go back to the queue; assign."""
    p = event.payload
    now = _now()
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=STAFF_CONSUMER
        ):
            return 0
        await queries.lock_counsellors(session)
        applied = await queries.upsert_counsellor(
            session,
            staff_id=p.staff_id,
            role=p.role,
            presence=p.presence,
            capacity=p.capacity,
            at=event.occurred_at,
        )
        if not applied:
            log.info("routing.stale_presence_ignored", staff_id=str(p.staff_id))
            return 0
        emitted = 0
        if presence_requeues_cases(p.presence):
            for case in await queries.lock_assigned_cases_of(session, staff_id=p.staff_id):
                await queries.requeue_case(session, case_id=case.case_id)
                await add_to_outbox(
                    session,
                    outbox,
                    CaseReturnedToQueue.new(
                        channel=case.channel,
                        caused_by=event,
                        event_id=uuid5(event.id, f"requeued:{case.case_id}"),
                        payload=CaseReturnedToQueueV1(
                            case_id=case.case_id,
                            client_id=case.client_id,
                            previous_counsellor_id=p.staff_id,
                            reason="counsellor_unavailable",
                        ),
                    ),
                )
                emitted += 1
                log.info("case.requeued", case_id=str(case.case_id), counsellor_id=str(p.staff_id))
        h = await _hours(session, desk, now)
        emitted += await _assign_queued(
            session,
            cause=event,
            now=now,
            desk_open=h.open,
            critical_cap=desk.settings.routing_max_critical_per_counsellor,
        )
    return emitted


async def handle_push_requested(desk: Desk, event: PushRequested) -> int:
    """A counsellor's first message to an assigned case: its first-response time."""
    p = event.payload
    if p.origin != "counsellor" or p.case_id is None:
        return 0
    async with transaction(desk.sessions) as session:
        await queries.record_staff_message(session, case_id=p.case_id, at=event.occurred_at)
        if await queries.set_first_response(session, case_id=p.case_id, at=event.occurred_at):
            log.info("case.first_response", case_id=str(p.case_id))
    return 0


# --- supervisors' edits: automatic texts and the calendar -------------------------


async def handle_update_auto_text(desk: Desk, command: UpdateAutoText) -> int:
    """Apply a valid text; refuse an invalid one saying why. Either way an audit event."""
    p = command.payload
    try:
        body: str | None = texts.validate(
            p.key, p.body, forbidden_words=desk.settings.routing_forbidden_words
        )
        error = None
    except texts.AutoTextError as exc:
        body, error = None, str(exc)
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=AUTO_TEXTS_CONSUMER
        ):
            return 0
        if body is not None:
            await queries.save_auto_text(
                session, key=p.key, body=body, by=p.staff_id, at=command.occurred_at
            )
        await add_to_outbox(
            session,
            outbox,
            AutoTextChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "auto_text"),
                payload=AutoTextChangedV1(
                    key=p.key,
                    staff_id=p.staff_id,
                    outcome="refused" if body is None else "applied",
                    error=error,
                    body=body,
                    command_id=command.id,
                ),
            ),
        )
    log.info("auto_text.changed", key=p.key, applied=body is not None)
    return 1


async def handle_update_closing_categories(desk: Desk, command: UpdateClosingCategories) -> int:
    """Use valid lists for closings from now on; refuse invalid ones saying why."""
    p = command.payload
    error = categories_problem(p.outcomes, p.topics)
    lists = None if error else ClosingCategories(tuple(p.outcomes), tuple(p.topics))
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=CATEGORIES_CONSUMER
        ):
            return 0
        if lists is not None:
            await queries.save_closing_categories(
                session, lists=lists, by=p.staff_id, at=command.occurred_at
            )
        await add_to_outbox(
            session,
            outbox,
            ClosingCategoriesChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "closing_categories"),
                payload=ClosingCategoriesChangedV1(
                    staff_id=p.staff_id,
                    outcome="refused" if lists is None else "applied",
                    error=error,
                    outcomes=list(lists.outcomes) if lists else None,
                    topics=list(lists.topics) if lists else None,
                    command_id=command.id,
                ),
            ),
        )
    log.info("closing_categories.changed", applied=lists is not None)
    return 1


async def handle_replace_hours(desk: Desk, command: ReplaceHours) -> int:
    """Replace the calendar if every rule makes sense; otherwise keep it and say why."""
    p = command.payload
    try:
        calendar: hours.Calendar | None = hours.build_calendar(p.rules)
        error = None
    except ValueError as exc:
        calendar, error = None, str(exc)
    async with transaction(desk.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=command.id, consumer=HOURS_CONSUMER
        ):
            return 0
        if calendar is not None:
            await queries.replace_hours_rules(
                session, [r.model_dump(exclude_none=True) for r in p.rules]
            )
        nxt = hours.next_opening(_now(), calendar) if calendar is not None else None
        await add_to_outbox(
            session,
            outbox,
            HoursChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "hours"),
                payload=HoursChangedV1(
                    staff_id=p.staff_id,
                    outcome="refused" if calendar is None else "applied",
                    error=error,
                    rules=len(p.rules) if calendar is not None else 0,
                    next_opening=nxt.starts if nxt else None,
                    command_id=command.id,
                    calendar=p.rules if calendar is not None else None,
                ),
            ),
        )
    log.info("hours.changed", applied=calendar is not None, rules=len(p.rules))
    return 1


# --- the periodic sweep ------------------------------------------------------------


async def _hours_notices(
    session: AsyncSession,
    desk: Desk,
    h: Hours,
    load: Load,
    ciphers: Mapping[UUID, ClientCipher],
) -> int:
    """Closing soon, closed, and wait reminders for cases still queued."""
    s = desk.settings
    if h.calendar.always_open and not load.waiting:
        return 0
    stored = await queries.load_auto_texts(session)
    emitted = 0
    if h.open and hours.closing_soon(h.now, h.calendar, s.routing_closing_soon_min):
        assert h.current is not None
        text = _text(stored, "closing_soon", _values(desk, h))
        for w in load.waiting:
            notice = Notice(w.case.case_id, w.channel, w.client_id, "closing_soon", h.opening_key)
            emitted += await _notify(
                session, desk, notice, text=text, cause=None, ciphers=ciphers, now=h.now
            )
    elif not h.open:
        closed_at = hours.last_closing(h.now, h.calendar)
        if closed_at is not None and h.now - closed_at < CLOSED_NOTICE_WITHIN:
            text = _text(stored, "closed", _values(desk, h))
            for w in load.waiting:
                if w.case.queued_at >= closed_at:
                    continue  # came after closing: the out-of-hours message is theirs
                notice = Notice(
                    w.case.case_id, w.channel, w.client_id, "closed", closed_at.isoformat()
                )
                emitted += await _notify(
                    session,
                    desk,
                    notice,
                    text=text,
                    cause=None,
                    ciphers=ciphers,
                    # writing again before the opening brings no out-of-hours message too
                    also=(("out_of_hours", h.closed_period_key),),
                    now=h.now,
                )
    if h.open:
        reminder_after = timedelta(minutes=s.routing_wait_reminder_after_min)
        since = h.current.starts if h.current else congestion.window_start(h.now, 24 * 60)
        for w in load.waiting:
            last = max(w.last_notice_at or w.case.queued_at, since)
            if w.reminders >= s.routing_wait_reminders or h.now - last < reminder_after:
                continue
            if w.last_notice_at is None:
                continue  # never told anything (e.g. an erased client): no reminder either
            wait = load.waits.get(w.case.case_id)
            notice = Notice(
                w.case.case_id,
                w.channel,
                w.client_id,
                "wait_reminder",
                f"{h.opening_key}#{w.reminders + 1}",
            )
            emitted += await _notify(
                session,
                desk,
                notice,
                text=_text(stored, "wait_reminder", _values(desk, h, wait_s=wait)),
                cause=None,
                ciphers=ciphers,
                now=h.now,
            )
    return emitted


async def _unanswered(session: AsyncSession, desk: Desk, now: datetime) -> int:
    """Alert supervisors, once per assignment, about a case its counsellor has not
    answered in time; optionally hand it back to the queue."""
    s = desk.settings
    requeue = s.routing_unanswered_requeue
    emitted = 0
    for item in await queries.lock_unanswered_cases(
        session, assigned_before=now - timedelta(minutes=s.routing_unanswered_after_min)
    ):
        case, key = item.case, item.assigned_at.isoformat()
        assert case.assigned_to is not None
        if not await queries.add_notice(
            session, case_id=case.case_id, kind="unanswered", key=key, at=now
        ):
            continue
        await add_to_outbox(
            session,
            outbox,
            CaseUnanswered.new(
                channel=case.channel,
                event_id=uuid5(case.case_id, f"unanswered:{key}"),
                payload=CaseUnansweredV1(
                    case_id=case.case_id,
                    client_id=case.client_id,
                    counsellor_id=case.assigned_to,
                    assigned_at=item.assigned_at,
                    waited_s=(now - item.assigned_at).total_seconds(),
                    returned_to_queue=requeue,
                ),
            ),
        )
        emitted += 1
        if requeue:
            await queries.requeue_case(session, case_id=case.case_id)
            await add_to_outbox(
                session,
                outbox,
                CaseReturnedToQueue.new(
                    channel=case.channel,
                    event_id=uuid5(case.case_id, f"requeued-unanswered:{key}"),
                    payload=CaseReturnedToQueueV1(
                        case_id=case.case_id,
                        client_id=case.client_id,
                        previous_counsellor_id=case.assigned_to,
                        reason="unanswered",
                    ),
                ),
            )
            emitted += 1
        log.warning("case.unanswered", case_id=str(case.case_id), requeued=requeue)
    return emitted


async def _congestion(session: AsyncSession, desk: Desk, h: Hours, load: Load) -> int:
    """Announce the level (or the open state) when it changed; one replica does."""
    state = await queries.lock_desk_state(session)
    if state is not None and (state.level, state.desk_open) == (load.level, h.open):
        return 0
    seq = (state.seq if state else 0) + 1
    await queries.save_desk_state(session, level=load.level, desk_open=h.open, seq=seq, at=h.now)
    m = load.measures
    await add_to_outbox(
        session,
        outbox,
        CongestionChanged.new(
            channel=DESK_CHANNEL,
            event_id=uuid5(_DESK_NS, f"congestion:{seq}"),
            payload=CongestionChangedV1(
                level=load.level,
                previous_level=state.level if state else None,
                desk_open=h.open,
                queue_length=m.queue_length,
                active_counsellors=m.active_counsellors,
                capacity=m.capacity,
                free_capacity=m.free_capacity,
                avg_handling_s=m.avg_handling_s,
                avg_first_response_s=m.avg_first_response_s,
                longest_wait_s=m.longest_wait_s,
                next_wait_s=m.next_wait_s,
                window_min=desk.settings.routing_measure_window_min,
                next_opening=h.next.starts if h.next else None,
            ),
        ),
    )
    log.info("desk.congestion_changed", level=load.level, desk_open=h.open, queue=m.queue_length)
    return 1


async def sweep(desk: Desk) -> int:
    """Assign whatever is still queued while someone is free (races no event revisits);
    tell waiting clients about closing and long waits; announce congestion changes."""
    now = _now()
    async with desk.sessions() as session:
        waiting = await queries.queued_clients(session)
    ciphers = await desk.ciphers(waiting)
    async with transaction(desk.sessions) as session:
        await queries.lock_counsellors(session)
        h = await _hours(session, desk, now)
        emitted = await _unanswered(session, desk, now)
        emitted += await _intake_timeouts(session, desk, h)
        emitted += await _assign_queued(
            session,
            cause=None,
            now=now,
            desk_open=h.open,
            critical_cap=desk.settings.routing_max_critical_per_counsellor,
        )
        load = await _load(session, desk, h)
        emitted += await _congestion(session, desk, h, load)
        emitted += await _hours_notices(session, desk, h, load, ciphers)
    return emitted
