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
    PickCase,
    ReassignCase,
    ReplaceHours,
    SetAssignmentMode,
    StaffPresenceChanged,
    UpdateAutoText,
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
    CASE_CLOSED,
    CASE_OPENED,
    CASE_REQUEUED,
    CASE_URGENCY_CHANGED,
    CLOSE_CASE,
    CONGESTION_CHANGED,
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
    Subject,
)

from sodan_routing import controls, service

log = get_logger(__name__)

_PUBLISHED: tuple[tuple[Subject, str], ...] = (
    (CASE_OPENED, "A client's first message opened a queued case"),
    (
        CASE_ASSIGNED,
        "A case was given to a counsellor: automatically (most urgent, then longest waiting), "
        "picked by the counsellor (manual mode), or reassigned / taken over by a supervisor",
    ),
    (CASE_URGENCY_CHANGED, "A triage score raised a case's urgency"),
    (CASE_CLOSED, "A counsellor closed a case"),
    (CASE_REQUEUED, "An offline counsellor's case went back to the queue"),
    (
        CONGESTION_CHANGED,
        "The desk's congestion level (通常/混雑/受付停止) or open state changed, with the "
        "live measures",
    ),
    (
        REPLY_REQUESTED,
        "Automatic messages to a waiting client: out of hours, estimated wait, reminder, "
        "受付停止, closing soon, closed",
    ),
    (AUTO_TEXT_CHANGED, "A supervisor's edit of an automatic text: applied, or refused and why"),
    (HOURS_CHANGED, "A supervisor's new consultation calendar: applied, or refused and why"),
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
        description="Opens a case for a client without one, or adds the message to it",
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
        description="Raises the urgency of the scored message's case (never lowers it)",
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
        durable=service.CLOSE_CONSUMER,
        pull_sub=pull(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Closes a case on a counsellor's command and refills their free slot",
    )
    async def on_close_case(command: CloseCase) -> None:
        desk, relay = deps.ready()
        if await service.handle_close_case(desk, command):
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
