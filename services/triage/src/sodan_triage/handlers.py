"""Triage's message topology: text messages in, urgency scores out."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid5

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker, PullSub
from nats.js import JetStreamContext
from sodan_shared.crypto import KeyDestroyedError, Keyring, SealedValueError
from sodan_shared.events.line import MessageReceived
from sodan_shared.events.triage import MessageScored, MessageScoredV1, UrgencyMatch
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream, publish_event
from sodan_shared.subjects import MESSAGE_RECEIVED, MESSAGE_SCORED

from sodan_triage.scoring import Scored, Scorer

log = get_logger(__name__)

DURABLE = "triage-messages"


@dataclass
class TriageDeps:
    """What the handlers need; filled in at startup by ``main.create_app``."""

    scorer: Scorer
    keyring: Keyring | None = None
    js: JetStreamContext | None = None


def scored_event(received: MessageReceived, scored: Scored) -> MessageScored:
    """The score of one message, with an id derived from it so a replay dedups."""
    return MessageScored.new(
        channel=received.channel,
        caused_by=received,
        event_id=uuid5(received.id, "scored"),
        payload=MessageScoredV1(
            message_event_id=received.id,
            client_id=received.payload.client_id,
            line_message_id=received.payload.line_message_id,
            level=scored.level,
            score=scored.score,
            matches=[
                UrgencyMatch(
                    term_id=m.term_id,
                    category=m.category,
                    weight=m.weight,
                    negated=m.negated,
                    subject=m.subject,
                    hedged=m.hedged,
                )
                for m in scored.matches
            ],
            lexicon_version=scored.lexicon_version,
        ),
    )


def register_handlers(broker: NatsBroker, deps: TriageDeps, *, batch_size: int = 20) -> None:
    broker.publisher(
        MESSAGE_SCORED.name,
        stream=jstream(MESSAGE_SCORED.stream),
        description="The urgency score of a client's text message (lexicon term ids, no text)",
        schema=MessageScored,
    )

    @broker.subscriber(
        MESSAGE_RECEIVED.name,
        stream=jstream(MESSAGE_RECEIVED.stream),
        durable=DURABLE,
        pull_sub=PullSub(batch_size=batch_size, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="Scores every text message a client sends; other kinds are skipped",
    )
    async def on_message_received(event: MessageReceived) -> None:
        p = event.payload
        if p.kind != "text" or p.text is None:
            log.info("triage.skipped_non_text", message_event_id=str(event.id), kind=p.kind)
            return
        assert deps.keyring is not None and deps.js is not None, "app not started"
        try:
            text = (await deps.keyring.cipher(p.client_id)).open("message.text", p.text)
        except KeyDestroyedError:
            # the client was erased: there is nothing left to score, and retrying cannot help
            log.info("triage.client_erased", message_event_id=str(event.id))
            return
        except (LookupError, SealedValueError) as exc:
            log.error(
                "triage.unreadable_message",
                message_event_id=str(event.id),
                client_id=str(p.client_id),
                reason=type(exc).__name__,
            )
            return
        scored = deps.scorer.score(text)
        await publish_event(deps.js, scored_event(event, scored))
        log.info(
            "triage.scored",
            message_event_id=str(event.id),
            client_id=str(p.client_id),
            level=scored.level,
            score=scored.score,
            terms=[m.term_id for m in scored.matches],
        )
