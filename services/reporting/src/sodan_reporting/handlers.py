"""FastStream subscribers: one durable pull consumer per subject the reports count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker, PullSub
from faststream.nats.subscriber.usecases import LogicSubscriber
from sodan_shared.events.line import MessageReceived, PushRequested, PushResult
from sodan_shared.events.routing import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseSurveyAnswered,
    CaseSurveySent,
    CaseUrgencyChanged,
)
from sodan_shared.events.triage import MessageScored
from sodan_shared.nats import jstream
from sodan_shared.subjects import (
    CASE_ASSIGNED,
    CASE_CLOSED,
    CASE_OPENED,
    CASE_SURVEY_ANSWERED,
    CASE_SURVEY_SENT,
    CASE_URGENCY_CHANGED,
    MESSAGE_RECEIVED,
    MESSAGE_SCORED,
    PUSH_REQUESTED,
    PUSH_RESULT,
    Subject,
)

from sodan_reporting.projector import Projector


@dataclass(frozen=True)
class Consumer:
    subject: Subject
    durable: str


MESSAGES_IN = Consumer(MESSAGE_RECEIVED, "reporting-messages-received")
SCORES = Consumer(MESSAGE_SCORED, "reporting-messages-scored")
PUSHES = Consumer(PUSH_REQUESTED, "reporting-push-requested")
PUSH_RESULTS = Consumer(PUSH_RESULT, "reporting-push-results")
OPENED = Consumer(CASE_OPENED, "reporting-cases-opened")
ASSIGNED = Consumer(CASE_ASSIGNED, "reporting-cases-assigned")
URGENCY = Consumer(CASE_URGENCY_CHANGED, "reporting-cases-urgency")
CLOSED = Consumer(CASE_CLOSED, "reporting-cases-closed")
SURVEYS_SENT = Consumer(CASE_SURVEY_SENT, "reporting-surveys-sent")
SURVEYS_ANSWERED = Consumer(CASE_SURVEY_ANSWERED, "reporting-surveys-answered")

CONSUMERS: tuple[Consumer, ...] = (
    MESSAGES_IN,
    SCORES,
    PUSHES,
    PUSH_RESULTS,
    OPENED,
    ASSIGNED,
    URGENCY,
    CLOSED,
    SURVEYS_SENT,
    SURVEYS_ANSWERED,
)


def register_handlers(broker: NatsBroker, projector: Projector) -> None:
    def subscribe(consumer: Consumer, description: str) -> LogicSubscriber[Any]:
        return broker.subscriber(
            consumer.subject.name,
            stream=jstream(consumer.subject.stream),
            durable=consumer.durable,
            pull_sub=PullSub(batch_size=20, timeout=1.0),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            description=description,
        )

    @subscribe(MESSAGES_IN, "Counts messages in (by the Japan-time day sent) and new clients")
    async def on_message_received(event: MessageReceived) -> None:
        await projector.message_received(event, consumer=MESSAGES_IN.durable)

    @subscribe(SCORES, "Counts messages triage scored high or critical")
    async def on_message_scored(event: MessageScored) -> None:
        await projector.message_scored(event, consumer=SCORES.durable)

    @subscribe(PUSHES, "Counts pushes requested (counsellor replies and automatic messages)")
    async def on_push_requested(event: PushRequested) -> None:
        await projector.push_requested(event, consumer=PUSHES.durable)

    @subscribe(PUSH_RESULTS, "Counts pushes LINE delivered and pushes that failed")
    async def on_push_result(event: PushResult) -> None:
        await projector.push_result(event, consumer=PUSH_RESULTS.durable)

    @subscribe(OPENED, "Records when a case opened and counts it on that day")
    async def on_case_opened(event: CaseOpened) -> None:
        await projector.case_opened(event, consumer=OPENED.durable)

    @subscribe(ASSIGNED, "Records the first assignment (wait time) and the counsellors of a case")
    async def on_case_assigned(event: CaseAssigned) -> None:
        await projector.case_assigned(event, consumer=ASSIGNED.durable)

    @subscribe(URGENCY, "Keeps a case's highest urgency; counts urgent cases once")
    async def on_case_urgency_changed(event: CaseUrgencyChanged) -> None:
        await projector.case_urgency_changed(event, consumer=URGENCY.durable)

    @subscribe(CLOSED, "Records when a case closed and counts it on that day")
    async def on_case_closed(event: CaseClosed) -> None:
        await projector.case_closed(event, consumer=CLOSED.durable)

    @subscribe(SURVEYS_SENT, "Records that a closed case's client was sent the after-survey")
    async def on_survey_sent(event: CaseSurveySent) -> None:
        await projector.case_survey(event, consumer=SURVEYS_SENT.durable)

    @subscribe(SURVEYS_ANSWERED, "Records the client's after-survey answer")
    async def on_survey_answered(event: CaseSurveyAnswered) -> None:
        await projector.case_survey(event, consumer=SURVEYS_ANSWERED.durable)
