"""Supervisors' lexicon edits: validate, version, record, publish live, audit.

One replica handles each command (a shared durable consumer), once (processed
events). The history row and the audit (or refusal) event are written in one
transaction, the event through the outbox, so an accepted edit is never left
unaudited. The new content is put into the bucket with the revision it was
checked against, last inside that transaction: two edits racing each other
cannot both win, and an edit that did not reach the bucket leaves no history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid5

from nats.js import JetStreamContext
from pydantic import ValidationError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.console import UpdateLexicon
from sodan_shared.events.triage import (
    LexiconChanged,
    LexiconChangedV1,
    LexiconRejected,
    LexiconRejectedV1,
)
from sodan_shared.lexicon import (
    LEXICON_KEY,
    Lexicon,
    describe_errors,
    lexicon_bucket,
    lexicon_diff,
    parse_lexicon,
)
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_triage.db import queries
from sodan_triage.db.tables import outbox, processed_events

log = get_logger(__name__)


def version_name(number: int, at: datetime) -> str:
    """``v7-20261126``: a counter people can say aloud, and the day it was made."""
    return f"v{number}-{at:%Y%m%d}"


def validate_edit(
    content: dict[str, Any], *, version: str, base_version: str | None, current: Lexicon
) -> Lexicon | str:
    """The new lexicon, or why it is refused (pure)."""
    if base_version is not None and base_version != current.version:
        return (
            f"辞書は開いた後にほかの人が更新しています（編集した版 {base_version}、"
            f"現在の版 {current.version}）。再読み込みしてから、もう一度変更してください"
        )
    try:
        return Lexicon.model_validate({**content, "version": version})
    except ValidationError as exc:
        return describe_errors(exc)


async def apply_update(
    command: UpdateLexicon,
    *,
    sessions: async_sessionmaker[AsyncSession],
    js: JetStreamContext,
    consumer: str,
) -> bool:
    """Apply or refuse one edit; True when an event was queued in the outbox."""
    p = command.payload
    kv = await lexicon_bucket(js)
    async with transaction(sessions) as session:
        if not await first_time(session, processed_events, event_id=command.id, consumer=consumer):
            log.info("triage.lexicon_update_replayed", command_id=str(command.id))
            return False
        entry = await kv.get(LEXICON_KEY)
        assert entry.value is not None
        current = parse_lexicon(entry.value)
        version = version_name(await queries.next_version_number(session), datetime.now(UTC))
        outcome = validate_edit(
            p.lexicon, version=version, base_version=p.base_version, current=current
        )
        if isinstance(outcome, str):
            await add_to_outbox(
                session,
                outbox,
                LexiconRejected.new(
                    channel=command.channel,
                    caused_by=command,
                    event_id=uuid5(command.id, "rejected"),
                    payload=LexiconRejectedV1(
                        command_id=command.id, staff_id=p.staff_id, reason=outcome
                    ),
                ),
            )
            log.info("triage.lexicon_update_rejected", staff_id=str(p.staff_id), reason=outcome)
            return True
        diff = lexicon_diff(current, outcome)
        await queries.add_history(
            session,
            version=version,
            content=outcome.model_dump(mode="json"),
            staff_id=p.staff_id,
            comment=p.comment,
            command_id=command.id,
        )
        await add_to_outbox(
            session,
            outbox,
            LexiconChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "changed"),
                payload=LexiconChangedV1(
                    command_id=command.id,
                    staff_id=p.staff_id,
                    version=version,
                    previous_version=current.version,
                    comment=p.comment,
                    **diff.model_dump(),
                ),
            ),
        )
        # Last, inside the transaction: if another edit landed since we read the bucket
        # this fails and rolls everything back (the command is redelivered and re-read).
        await kv.update(LEXICON_KEY, outcome.model_dump_json().encode(), last=entry.revision)
    log.info(
        "triage.lexicon_updated",
        version=version,
        previous_version=current.version,
        staff_id=str(p.staff_id),
        added=len(diff.added),
        removed=len(diff.removed),
        changed=len(diff.changed),
    )
    return True
