"""`sodan-deadletter`: look at dead letters and send them back once the cause is fixed.

A dead letter is a message one consumer kept failing on (see ``deadletter``).
Replaying republishes the original event to its original subject under a new
Nats-Msg-Id; every consumer is idempotent by event id, so those that had
already processed it skip it and only the one that failed does the work. The
dead letter is then removed (the backup archive keeps its copy). Nothing here
prints message content: ids, subjects, consumers and exception type names only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from sodan_shared.deadletter import (
    CONSUMER_HEADER,
    DEAD_LETTER_PREFIX,
    ORIGINAL_MSG_ID_HEADER,
    REASON_HEADER,
    STREAM_HEADER,
    SUBJECT_HEADER,
)
from sodan_shared.nats import connect
from sodan_shared.settings import SodanSettings
from sodan_shared.subjects import DEADLETTER

_DEAD_LETTER_HEADERS = (
    CONSUMER_HEADER,
    ORIGINAL_MSG_ID_HEADER,
    REASON_HEADER,
    STREAM_HEADER,
    SUBJECT_HEADER,
    "Nats-Msg-Id",
)


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    at: datetime | None
    subject: str
    stream: str
    consumer: str
    reason: str
    msg_id: str | None

    @classmethod
    def from_raw(cls, raw: RawStreamMsg) -> DeadLetter:
        headers = raw.headers or {}
        subject = raw.subject or ""
        return cls(
            seq=int(raw.seq or 0),
            at=raw.time,
            subject=headers.get(SUBJECT_HEADER, subject.removeprefix(DEAD_LETTER_PREFIX)),
            stream=headers.get(STREAM_HEADER, "?"),
            consumer=headers.get(CONSUMER_HEADER, "?"),
            reason=headers.get(REASON_HEADER, "?"),
            msg_id=headers.get(ORIGINAL_MSG_ID_HEADER),
        )


def replay_headers(headers: dict[str, str] | None, *, dead_letter_seq: int) -> dict[str, str]:
    """The original headers (trace context included) without the dead-letter ones,
    and a Nats-Msg-Id of its own so a replay run twice publishes once."""
    kept = {k: v for k, v in (headers or {}).items() if k not in _DEAD_LETTER_HEADERS}
    original = (headers or {}).get(ORIGINAL_MSG_ID_HEADER, "")
    kept["Nats-Msg-Id"] = f"replay:{dead_letter_seq}:{original}"
    return kept


async def _raw_dead_letters(js: JetStreamContext, *, limit: int) -> list[RawStreamMsg]:
    found: list[RawStreamMsg] = []
    seq = 1
    while len(found) < limit:
        try:
            raw = await js.get_msg(
                DEADLETTER.name, seq=seq, subject=f"{DEAD_LETTER_PREFIX}>", next=True
            )
        except NotFoundError:
            break
        found.append(raw)
        seq = int(raw.seq or seq) + 1
    return found


async def list_dead_letters(js: JetStreamContext, *, limit: int = 1000) -> list[DeadLetter]:
    return [DeadLetter.from_raw(raw) for raw in await _raw_dead_letters(js, limit=limit)]


async def replay(
    js: JetStreamContext, *, seqs: Sequence[int] | None, consumer: str | None = None
) -> list[DeadLetter]:
    """Republish the chosen dead letters (all when ``seqs`` is None), then remove them."""
    wanted = set(seqs) if seqs is not None else None
    done: list[DeadLetter] = []
    for raw in await _raw_dead_letters(js, limit=100_000):
        letter = DeadLetter.from_raw(raw)
        if wanted is not None and letter.seq not in wanted:
            continue
        if consumer is not None and letter.consumer != consumer:
            continue
        await js.publish(
            letter.subject,
            raw.data or b"",
            headers=replay_headers(raw.headers, dead_letter_seq=letter.seq),
            timeout=5.0,
        )
        await js.delete_msg(DEADLETTER.name, letter.seq)
        done.append(letter)
    return done


def _print(letters: Sequence[DeadLetter], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([asdict(d) for d in letters], default=str, ensure_ascii=False, indent=2))
        return
    if not letters:
        print("no dead letters")
        return
    print(f"{'seq':>6}  {'when (UTC)':19}  {'consumer':28}  {'reason':32}  subject")
    for d in letters:
        when = d.at.strftime("%Y-%m-%d %H:%M:%S") if d.at else "?"
        print(f"{d.seq:>6}  {when:19}  {d.consumer:28}  {d.reason:32}  {d.subject}")


async def _run(settings: SodanSettings, args: argparse.Namespace) -> int:
    nc = await connect(settings.nats_url)
    try:
        js = nc.jetstream()
        if args.command == "list":
            _print(await list_dead_letters(js, limit=args.limit), as_json=args.json)
            return 0
        seqs = None if args.all else args.seq
        replayed = await replay(js, seqs=seqs, consumer=args.consumer)
        missing = sorted(set(seqs or ()) - {d.seq for d in replayed})
        for d in replayed:
            print(f"replayed {d.seq} to {d.subject} (was failing in {d.consumer})")
        if missing:
            print(f"not found (already replayed?): {', '.join(map(str, missing))}")
        return 1 if missing else 0
    finally:
        await nc.close()


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sodan-deadletter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("list", help="the dead letters, oldest first (no content)")
    show.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    show.add_argument("--limit", type=int, default=1000)
    again = commands.add_parser(
        "replay", help="republish to the original subject, then remove the dead letter"
    )
    again.add_argument("seq", type=int, nargs="*", help="dead-letter sequence numbers (list)")
    again.add_argument("--all", action="store_true", help="every dead letter")
    again.add_argument("--consumer", help="only those of this consumer")
    args = parser.parse_args(argv)
    if args.command == "replay" and not args.seq and not args.all:
        parser.error("name the dead letters to replay (sequence numbers) or pass --all")
    if args.command == "replay" and args.seq and args.all:
        parser.error("either sequence numbers or --all, not both")
    return asyncio.run(_run(SodanSettings(service_name="deadletter"), args))
