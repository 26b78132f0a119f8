"""Routing's message topology: what it consumes, what it publishes.

Handlers only parse (FastStream validates the typed event), call the unit of
work in :mod:`sodan_routing.service`, and wake the outbox relay; returning acks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker, PullSub
from sodan_shared.events.console import (
    CloseCase,
    DecideClose,
    HandOverCase,
    HoldCase,
    PickCase,
    ReassignCase,
    ReplaceHours,
    SetAssignmentMode,
    StaffPresenceChanged,
    UpdateAutoText,
    UpdateClosingCategories,
)
from sodan_shared.events.line import MessageReceived, PushRequested
from sodan_shared.events.triage import MessageScored
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream
from sodan_shared.outbox import OutboxRelay
from sodan_shared.subjects import (
    ASSIGNMENT_MODE_CHANGED,
    ASSIGNMENT_REFUSED,
    AUTO_TEXT_CHANGED,
    CASE_ASSIGNED,
    CASE_CLOSE_DECLINED,
    CASE_CLOSE_REQUESTED,
    CASE_CLOSED,
    CASE_COMMAND_REFUSED,
    CASE_HANDED_OVER,
    CASE_HOLD_CHANGED,
    CASE_INTAKE_FINISHED,
    CASE_OPENED,
    CASE_REOPENED,
    CASE_REQUEUED,
    CASE_SURVEY_ANSWERED,
    CASE_SURVEY_SENT,
    CASE_URGENCY_CHANGED,
    CLOSE_CASE,
    CLOSING_CATEGORIES_CHANGED,
    CONGESTION_CHANGED,
    CRITICAL_CLOSE_AUDITED,
    DECIDE_CLOSE,
    HAND_OVER_CASE,
    HOLD_CASE,
    HOURS_CHANGED,
    MESSAGE_RECEIVED,
    MESSAGE_SCORED,
    PICK_CASE,
    PUSH_REQUESTED,
    REASSIGN_CASE,
    REPLACE_HOURS,
    REPLY_REQUESTED,
    SET_ASSIGNMENT_MODE,
    STAFF_PRESENCE_CHANGED,
    UPDATE_AUTO_TEXT,
    UPDATE_CLOSING_CATEGORIES,
    Subject,
)

from sodan_routing import casework, controls, service

log = get_logger(__name__)

_PUBLISHED: tuple[tuple[Subject, str], ...] = (
    (
        CASE_OPENED,
        "A client's first message opened a case: queued, or answering the intake "
        "questionnaire (intake=true) first",
    ),
    (
        CASE_INTAKE_FINISHED,
        "A case's intake questionnaire (事前アンケート) ended: the answers, and why it ended "
        "(completed, declined, urgent, not an answer, timeout, closed)",
    ),
    (
        CASE_ASSIGNED,
        "A case was given to a counsellor: automatically (most urgent, then longest waiting), "
        "picked by the counsellor (manual mode), or reassigned / taken over by a supervisor",
    ),
    (CASE_URGENCY_CHANGED, "A triage score raised a case's urgency"),
    (
        CASE_CLOSED,
        "A case closed: by its counsellor (outcome, topics), a supervisor, or the client",
    ),
    (
        CASE_REOPENED,
        "The client wrote within SODAN_ROUTING_REOPEN_WITHIN_MIN of the close: the same case "
        "is open again (back to its counsellor if free, else queued)",
    ),
    (
        CASE_HOLD_CHANGED,
        "保留: the counsellor put the case on hold, or resumed it (or the client's reply did)",
    ),
    (CASE_HANDED_OVER, "転送: a counsellor handed the case to a colleague or back to the queue"),
    (
        CASE_CLOSE_REQUESTED,
        "A counsellor asked to close a 緊急 case: waits for a supervisor's confirmation",
    ),
    (CASE_CLOSE_DECLINED, "A supervisor declined closing a 緊急 case: it stays open"),
    (CASE_COMMAND_REFUSED, "A staff command on a case could not be applied, and why"),
    (CASE_SURVEY_SENT, "The after-survey was sent to the client as the case closed"),
    (CASE_SURVEY_ANSWERED, "The client answered the after-survey (the case stays closed)"),
    (
        CRITICAL_CLOSE_AUDITED,
        "Audit: each step of closing a 緊急 case (requested, confirmed, declined, closed by "
        "a supervisor)",
    ),
    (
        PUSH_REQUESTED,
        "The after-survey's question with its answers as quick-reply buttons (sealed)",
    ),
    (CASE_REQUEUED, "An offline counsellor's case went back to the queue"),
    (
        CONGESTION_CHANGED,
        "The desk's congestion level (通常/混雑/受付停止) or open state changed, with the "
        "live measures",
    ),
    (
        REPLY_REQUESTED,
        "Automatic messages to a waiting client: out of hours, estimated wait, reminder, "
        "受付停止, closing soon, closed; the intake questions with their quick replies",
    ),
    (AUTO_TEXT_CHANGED, "A supervisor's edit of an automatic text: applied, or refused and why"),
    (HOURS_CHANGED, "A supervisor's new consultation calendar: applied, or refused and why"),
    (
        CLOSING_CATEGORIES_CHANGED,
        "A supervisor's edit of the closing form's 対応結果/相談内容 lists: applied, or refused "
        "and why",
    ),
    (
        ASSIGNMENT_MODE_CHANGED,
        "A supervisor switched the desk between automatic assignment and manual pick-up",
    ),
    (ASSIGNMENT_REFUSED, "A pick-up, reassignment or take-over that could not be done, and why"),
)


@dataclass
class RoutingDeps:
    """Filled in at startup by ``main.create_app``."""

    desk: service.Desk | None = None
    relay: OutboxRelay | None = None

    def ready(self) -> tuple[service.Desk, OutboxRelay]:
        assert self.desk is not None and self.relay is not None, "app not started"
        return self.desk, self.relay


def register_handlers(broker: NatsBroker, deps: RoutingDeps) -> None:
    for subject, description in _PUBLISHED:
        broker.publisher(
            subject.name,
            stream=jstream(subject.stream),
            description=description,
            schema=subject.event,
        )

    def pull() -> PullSub[Literal[False]]:
        return PullSub(batch_size=20, timeout=1.0)

    @broker.subscriber(
        MESSAGE_RECEIVED.name,
        stream=jstream(MESSAGE_RECEIVED.stream),
        durable=service.MESSAGES_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Opens a case for a client without one, or adds the message to it "
        "(while the case is in intake: the answer to the question asked)",
    )
    async def on_message_received(event: MessageReceived) -> None:
        desk, relay = deps.ready()
        if await service.handle_message_received(desk, event):
            relay.wake()

    @broker.subscriber(
        MESSAGE_SCORED.name,
        stream=jstream(MESSAGE_SCORED.stream),
        durable=service.SCORES_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Raises the urgency of the scored message's case (never lowers it); "
        "high or critical ends its intake questionnaire and queues it at once",
    )
    async def on_message_scored(event: MessageScored) -> None:
        desk, relay = deps.ready()
        if await service.handle_message_scored(desk, event):
            relay.wake()

    @broker.subscriber(
        STAFF_PRESENCE_CHANGED.name,
        stream=jstream(STAFF_PRESENCE_CHANGED.stream),
        durable=service.STAFF_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Tracks who is available; assigns queued cases, requeues on offline",
    )
    async def on_staff_presence_changed(event: StaffPresenceChanged) -> None:
        desk, relay = deps.ready()
        if await service.handle_staff_presence(desk, event):
            relay.wake()

    @broker.subscriber(
        CLOSE_CASE.name,
        stream=jstream(CLOSE_CASE.stream),
        durable=casework.CLOSE_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Closes a case on a counsellor's command and refills their free slot",
    )
    async def on_close_case(command: CloseCase) -> None:
        desk, relay = deps.ready()
        if await casework.handle_close_case(desk, command):
            relay.wake()

    @broker.subscriber(
        DECIDE_CLOSE.name,
        stream=jstream(DECIDE_CLOSE.stream),
        durable=casework.DECIDE_CLOSE_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="A supervisor confirms or declines a counsellor's request to close a 緊急 case",
    )
    async def on_decide_close(command: DecideClose) -> None:
        desk, relay = deps.ready()
        if await casework.handle_decide_close(desk, command):
            relay.wake()

    @broker.subscriber(
        HOLD_CASE.name,
        stream=jstream(HOLD_CASE.stream),
        durable=casework.HOLD_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="保留: the assigned counsellor puts a case on hold or resumes it",
    )
    async def on_hold_case(command: HoldCase) -> None:
        desk, relay = deps.ready()
        if await casework.handle_hold_case(desk, command):
            relay.wake()

    @broker.subscriber(
        HAND_OVER_CASE.name,
        stream=jstream(HAND_OVER_CASE.stream),
        durable=casework.HAND_OVER_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="転送: a counsellor hands their case to a colleague or back to the queue",
    )
    async def on_hand_over_case(command: HandOverCase) -> None:
        desk, relay = deps.ready()
        if await casework.handle_hand_over_case(desk, command):
            relay.wake()

    @broker.subscriber(
        PUSH_REQUESTED.name,
        stream=jstream(PUSH_REQUESTED.stream),
        durable=service.PUSHES_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Records a case's first counsellor message (first-response times)",
    )
    async def on_push_requested(event: PushRequested) -> None:
        desk, _ = deps.ready()
        await service.handle_push_requested(desk, event)

    @broker.subscriber(
        UPDATE_AUTO_TEXT.name,
        stream=jstream(UPDATE_AUTO_TEXT.stream),
        durable=service.AUTO_TEXTS_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Validates and applies a supervisor's edit of an automatic text",
    )
    async def on_update_auto_text(command: UpdateAutoText) -> None:
        desk, relay = deps.ready()
        if await service.handle_update_auto_text(desk, command):
            relay.wake()

    @broker.subscriber(
        UPDATE_CLOSING_CATEGORIES.name,
        stream=jstream(UPDATE_CLOSING_CATEGORIES.stream),
        durable=service.CATEGORIES_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Validates and applies a supervisor's edit of the closing form's lists",
    )
    async def on_update_closing_categories(command: UpdateClosingCategories) -> None:
        desk, relay = deps.ready()
        if await service.handle_update_closing_categories(desk, command):
            relay.wake()

    @broker.subscriber(
        REPLACE_HOURS.name,
        stream=jstream(REPLACE_HOURS.stream),
        durable=service.HOURS_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Validates and applies a supervisor's consultation calendar",
    )
    async def on_replace_hours(command: ReplaceHours) -> None:
        desk, relay = deps.ready()
        if await service.handle_replace_hours(desk, command):
            relay.wake()

    @broker.subscriber(
        SET_ASSIGNMENT_MODE.name,
        stream=jstream(SET_ASSIGNMENT_MODE.stream),
        durable=controls.MODE_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Switches automatic assignment off (manual pick-up) or back on",
    )
    async def on_set_assignment_mode(command: SetAssignmentMode) -> None:
        desk, relay = deps.ready()
        if await controls.handle_set_assignment_mode(desk, command):
            relay.wake()

    @broker.subscriber(
        PICK_CASE.name,
        stream=jstream(PICK_CASE.stream),
        durable=controls.PICK_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Gives a queued case to the counsellor who picked it, or says why not",
    )
    async def on_pick_case(command: PickCase) -> None:
        desk, relay = deps.ready()
        if await controls.handle_pick_case(desk, command):
            relay.wake()

    @broker.subscriber(
        REASSIGN_CASE.name,
        stream=jstream(REASSIGN_CASE.stream),
        durable=controls.REASSIGN_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Reassigns an open case (or lets a supervisor take it over), or says why not",
    )
    async def on_reassign_case(command: ReassignCase) -> None:
        desk, relay = deps.ready()
        if await controls.handle_reassign_case(desk, command):
            relay.wake()
