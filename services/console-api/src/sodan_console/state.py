"""The objects one console-api process is built from (the composition root's output)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from faststream.nats import NatsBroker
from nats.js.object_store import ObjectStore
from sodan_shared.crypto import Keyring
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import Database

from sodan_console.live import Hub, LiveFeed
from sodan_console.settings import ConsoleSettings


@dataclass
class ConsoleState:
    settings: ConsoleSettings
    db: Database
    keyring: Keyring
    broker: NatsBroker
    hub: Hub = field(default_factory=Hub)
    relay: OutboxRelay | None = None
    feed: LiveFeed | None = None
    media: ObjectStore | None = None  # emergency-mode media, sealed (sodan_shared.media_store)
    # Per process: a lost throttle only means one extra loading animation.
    typing_signalled: dict[UUID, datetime] = field(default_factory=dict)

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()
