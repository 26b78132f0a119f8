"""The live lexicon: read from NATS KV, swapped in place when a supervisor edits it.

Every replica watches the same key, so one edit reaches all of them within
moments and without a restart. The shipped default seeds the key only when the
bucket has none (first start of a deployment).
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import ValidationError
from sodan_shared.lexicon import LEXICON_KEY, lexicon_bucket, parse_lexicon
from sodan_shared.logging import get_logger
from sodan_shared.runtime import cancel_and_wait

from sodan_triage.scoring import Scorer

log = get_logger(__name__)


class LiveLexicon:
    """Holds the current :class:`Scorer`; handlers read ``.scorer`` per message."""

    def __init__(self, default_text: str) -> None:
        self._default_text = default_text
        # used only until start() has read the bucket (and by pure tests)
        self.scorer = Scorer(parse_lexicon(default_text))
        self.kv: KeyValue | None = None
        self._watcher: KeyValue.KeyWatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    @property
    def version(self) -> str:
        return self.scorer.lexicon.version

    async def start(self, js: JetStreamContext) -> None:
        self.kv = await lexicon_bucket(js)
        with contextlib.suppress(KeyWrongLastSequenceError):
            await self.kv.create(LEXICON_KEY, self._default_text.encode())
            log.info("triage.lexicon_seeded", version=self.version)
        self._watcher = await self.kv.watch(LEXICON_KEY)
        # the current value (then the end-of-initial-values marker) before the first score
        await self._apply(await self._watcher.updates(timeout=10))  # type: ignore[no-untyped-call]
        self._task = asyncio.create_task(self._follow(), name="lexicon-watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.stop()  # type: ignore[no-untyped-call]
        await cancel_and_wait(self._task)

    async def wait_for_version(self, version: str, timeout: float = 10.0) -> None:
        """Until this replica scores with ``version`` (tests, tools)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.version == version)

    async def _follow(self) -> None:
        # A watch that ends or fails (NATS gone for long) is started again: a replica
        # silently stuck on an old version is worse than a log line per retry.
        while True:
            try:
                if self._watcher is None:
                    assert self.kv is not None
                    self._watcher = await self.kv.watch(LEXICON_KEY)
                async for entry in self._watcher:
                    await self._apply(entry)
                return  # stop() ended the iteration
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("triage.lexicon_watch_restarting", error=type(exc).__name__)
                self._watcher = None
                await asyncio.sleep(1.0)

    async def _apply(self, entry: KeyValue.Entry | None) -> None:
        if entry is None or entry.value is None or entry.operation in (KV_DEL, KV_PURGE):
            return
        try:
            lexicon = parse_lexicon(entry.value)
        except (ValidationError, ValueError) as exc:
            # triage validates every edit before it is put, so this is someone writing
            # to the bucket by hand: keep scoring with what we have
            log.error("triage.lexicon_invalid_in_kv", revision=entry.revision, error=str(exc))
            return
        if lexicon.version != self.version:
            self.scorer = Scorer(lexicon)
            log.info("triage.lexicon_loaded", version=lexicon.version, revision=entry.revision)
        async with self._changed:
            self._changed.notify_all()
