"""Triage's message topology: text messages in, urgency scores out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid5

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker, PullSub
from nats.js import JetStreamContext
from sodan_shared.crypto import KeyDestroyedError, Keyring, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.events.console import UpdateLexicon
from sodan_shared.events.line import MessageReceived
from sodan_shared.events.triage import (
    LexiconChanged,
    LexiconRejected,
    MessageScored,
    MessageScoredV1,
    UrgencyMatch,
)
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream, publish_event
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import Database
from sodan_shared.subjects import (
    LEXICON_CHANGED,
    LEXICON_REJECTED,
    MESSAGE_RECEIVED,
    MESSAGE_SCORED,
    UPDATE_LEXICON,
)

from sodan_triage.context import level_with_context
from sodan_triage.db import queries
from sodan_triage.lexicon import Level
from sodan_triage.lexicon_admin import apply_update
from sodan_triage.live import LiveLexicon
from sodan_triage.scoring import Scored

log = get_logger(__name__)

DURABLE = "triage-messages"
LEXICON_DURABLE = "triage-lexicon"


@dataclass
class TriageDeps:
    """What the handlers need; filled in at startup by ``main.create_app``."""

    lexicon: LiveLexicon
    context_window: timedelta
    context_messages: int
    keyring: Keyring | None = None
    js: JetStreamContext | None = None
    db: Database | None = None
    relay: OutboxRelay | None = None


def scored_event(
    received: MessageReceived, scored: Scored, level: Level | None = None
) -> MessageScored:
    """The score of one message, with an id derived from it so a replay dedups."""
    return MessageScored.new(
        channel=received.channel,
        caused_by=received,
        event_id=uuid5(received.id, "scored"),
        payload=MessageScoredV1(
            message_event_id=received.id,
            client_id=received.payload.client_id,
            line_message_id=received.payload.line_message_id,
            level=level or scored.level,
            base_level=scored.level,
            score=scored.score,
            matches=[
                UrgencyMatch(
                    term_id=m.term_id,
                    category=m.category,
                    weight=m.weight,
                    negated=m.negated,
                    subject=m.subject,
                    hedged=m.hedged,
                    spans=list(m.spans),
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
    broker.publisher(
        LEXICON_REJECTED.name,
        stream=jstream(LEXICON_REJECTED.stream),
        description="A supervisor's lexicon edit was refused, and why; nothing changed "
        "(through the outbox)",
        schema=LexiconRejected,
    )
    broker.publisher(
        LEXICON_CHANGED.name,
        stream=jstream(LEXICON_CHANGED.stream),
        description="Audit: a new lexicon version is live (who, why, term ids changed; "
        "through the outbox)",
        schema=LexiconChanged,
    )

    @broker.subscriber(
        UPDATE_LEXICON.name,
        stream=jstream(UPDATE_LEXICON.stream),
        durable=LEXICON_DURABLE,
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        description="A supervisor's edited lexicon: validated, versioned, recorded, made live",
    )
    async def on_update_lexicon(event: UpdateLexicon) -> None:
        assert deps.db is not None and deps.js is not None, "app not started"
        queued = await apply_update(
            event, sessions=deps.db.sessions, js=deps.js, consumer=LEXICON_DURABLE
        )
        if queued and deps.relay is not None:
            deps.relay.wake()

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
        scored = deps.lexicon.scorer.score(text)
        assert deps.db is not None
        async with transaction(deps.db.sessions) as session:
            recent = await queries.recent_levels(
                session,
                client_id=p.client_id,
                message_event_id=event.id,
                since=p.sent_at - deps.context_window,
                until=p.sent_at,
                limit=deps.context_messages,
            )
            # the message's own level is remembered, so context never feeds on itself
            await queries.record_score(
                session,
                message_event_id=event.id,
                client_id=p.client_id,
                level=scored.level,
                score=scored.score,
                sent_at=p.sent_at,
                prune_before=p.sent_at - deps.context_window,
            )
        level = level_with_context(scored.level, recent)
        await publish_event(deps.js, scored_event(event, scored, level))
        log.info(
            "triage.scored",
            message_event_id=str(event.id),
            client_id=str(p.client_id),
            level=level,
            base_level=scored.level,
            score=scored.score,
            terms=[m.term_id for m in scored.matches],
            lexicon_version=scored.lexicon_version,
        )
