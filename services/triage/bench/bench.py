"""Triage throughput beside the raw matcher's rate, measured in one run (``make bench``).

Three figures over the evaluation messages (repeated):

1. raw matcher: pyahocorasick over already-normalised text with the lexicon's
   keys; the floor no scoring can beat, measured here as the baseline;
2. pure scoring: ``Scorer.score`` (normalisation, cues, combination), one process;
3. end to end: MessageReceived published on a private nats-server, through a
   running triage app (decrypt, score, context in PostgreSQL, publish) until
   every MessageScored has arrived.

Prints messages/s and each figure's ratio to the raw matcher. Not a test: it
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ahocorasick  # type: ignore[import-not-found]
from sodan_devstack.nats import NatsServer
from sodan_shared.crypto import Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.events.triage import MessageScored
from sodan_shared.logging import configure_logging
from sodan_shared.nats import connect, ensure_streams, publish_event
from sodan_shared.settings import DEMO_MASTER_KEYS
from sodan_shared.subjects import MESSAGE_SCORED
from sodan_shared.testing.factories import make_message_received
from sodan_shared.testing.infra import fresh_database, postgres_admin_url
from sodan_triage.lexicon import load_lexicon
from sodan_triage.main import compose, migrate
from sodan_triage.normalise import normalise
from sodan_triage.scoring import Scorer
from sodan_triage.settings import TriageSettings

EVAL = Path(__file__).resolve().parents[1] / "eval"


def messages() -> list[str]:
    texts = []
    for split in ("tuning", "heldout"):
        with (EVAL / f"{split}.jsonl").open(encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    return texts


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def raw_matcher(texts: list[str], rounds: int) -> float:
    lexicon = load_lexicon()
    automaton = ahocorasick.Automaton()
    for term in lexicon.terms:
        for pattern in term.patterns:
            automaton.add_word(normalise(pattern), term.id)
    automaton.make_automaton()
    normalised = [normalise(t) for t in texts]
    start = time.perf_counter()
    found = 0
    for _ in range(rounds):
        for text in normalised:
            for _match in automaton.iter(text):
                found += 1
    return rate(len(normalised) * rounds, time.perf_counter() - start)


def pure_scoring(texts: list[str], rounds: int) -> float:
    scorer = Scorer(load_lexicon())
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            scorer.score(text)
    return rate(len(texts) * rounds, time.perf_counter() - start)


async def end_to_end(texts: list[str], count: int, clients: int) -> float:
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_admin_url(Path(tmp) / "pg") as admin,
        fresh_database(admin) as database_url,
    ):
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        try:
            return await _through_nats(server.url, database_url, texts, count, clients)
        finally:
            server.stop()


async def _through_nats(
    nats_url: str, database_url: str, texts: list[str], count: int, clients: int
) -> float:
    migrate(database_url)
    engine = create_engine(database_url)
    keyring = Keyring(session_factory(engine), MasterKeys(DEMO_MASTER_KEYS))
    ciphers: list[tuple[Any, int]] = []
    for i in range(clients):
        identity = await keyring.ensure_client(channel="demo", line_user_id=f"Ubench{i:06d}")
        ciphers.append((await keyring.cipher(identity.client_id), identity.client_no))
    events = []
    for i in range(count):
        cipher, client_no = ciphers[i % clients]
        events.append(
            make_message_received(cipher=cipher, client_no=client_no, text=texts[i % len(texts)])
        )
    nc = await connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js)
    settings = TriageSettings(
        nats_url=nats_url, database_url=database_url, environment="test", log_level="WARNING"
    )
    app, _, _ = compose(settings)
    await app.start()
    done = asyncio.Event()
    seen: set[str] = set()

    async def on_scored(msg: Any) -> None:
        seen.add(MessageScored.model_validate_json(msg.data).id.hex)
        if len(seen) >= count:
            done.set()

    await nc.subscribe(MESSAGE_SCORED.name, cb=on_scored)
    try:
        start = time.perf_counter()
        await asyncio.gather(*(publish_event(js, event) for event in events))
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - start
    finally:
        await app.stop()
        await nc.drain()
        await engine.dispose()
    return rate(count, elapsed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="passes over the messages")
    parser.add_argument("--e2e", type=int, default=2000, help="messages end to end")
    parser.add_argument("--clients", type=int, default=50, help="distinct clients end to end")
    ns = parser.parse_args(argv)
    configure_logging(service="triage-bench", level="WARNING", fmt="console")
    texts = messages()
    print(f"triage bench: {len(texts)} evaluation messages, lexicon {load_lexicon().version}")
    raw = raw_matcher(texts, ns.rounds)
    pure = pure_scoring(texts, ns.rounds)
    e2e = asyncio.run(end_to_end(texts, ns.e2e, ns.clients))
    print(f"{'':<38}{'msgs/s':>12}{'share of raw':>14}{'raw is x faster':>17}")
    for name, value in (
        ("raw Aho-Corasick matcher (baseline)", raw),
        ("pure scoring, one process", pure),
        (f"end to end through NATS ({ns.e2e} msgs)", e2e),
    ):
        print(f"{name:<38}{value:>12,.0f}{value / raw:>14.2%}{raw / value:>17,.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
