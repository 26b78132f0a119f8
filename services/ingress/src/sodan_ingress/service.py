"""The running pieces of one ingress process, built once by ``create_app``."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from uuid import UUID

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore
from sodan_shared.crypto import Keyring
from sodan_shared.media_store import media_store
from sodan_shared.nats import ensure_streams
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import Database
from sqlalchemy.ext.asyncio import AsyncEngine

from sodan_ingress.channels import ChannelRegistry
from sodan_ingress.content_api import LineContent
from sodan_ingress.db.tables import outbox
from sodan_ingress.line_api import LinePusher
from sodan_ingress.rejections import RejectionAudit
from sodan_ingress.settings import IngressSettings


class NotConnectedError(RuntimeError):
    """NATS is not connected yet; the caller answers 503."""


class RecentIds:
    """A bounded set, oldest use forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[UUID, None] = OrderedDict()
        self._size = size

    def __contains__(self, item: UUID) -> bool:
        if item in self._ids:
            self._ids.move_to_end(item)
            return True
        return False

    def add(self, item: UUID) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)


@dataclass
class Ingress:
    settings: IngressSettings
    channels: ChannelRegistry
    db: Database
    keyring: Keyring
    broker: NatsBroker
    pusher: LinePusher
    content: LineContent
    # Clients whose ingress.clients row is committed (rows are never deleted): their
    # webhooks skip the INSERT ... ON CONFLICT. Forgetting one only costs that insert.
    remembered: RecentIds = field(default_factory=RecentIds)
    rejections: RejectionAudit = field(init=False)
    nc: Client | None = None
    _js: JetStreamContext | None = None
    _relay: OutboxRelay | None = field(default=None, repr=False)
    _media: ObjectStore | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.rejections = RejectionAudit(
            window_s=self.settings.ingress_rejection_window_s,
            max_kinds=self.settings.ingress_rejection_kinds,
        )

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise NotConnectedError("not connected to NATS")
        return self._js

    @cached_property
    def autocommit(self) -> AsyncEngine:
        """The same pool, no BEGIN/COMMIT round trips: for work done in one statement."""
        return self.db.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def media(self) -> ObjectStore:
        """Emergency-mode media, sealed (see sodan_shared.media_store)."""
        if self._media is None:
            raise NotConnectedError("not connected to NATS")
        return self._media

    def wake_relay(self) -> None:
        if self._relay is not None:
            self._relay.wake()

    async def start(self) -> None:
        # Streams exist before the subscriber binds its durable consumer.
        self.nc = await self.broker.connect()
        self._js = self.nc.jetstream()
        await ensure_streams(self._js)
        self._media = await media_store(self._js)
        self._relay = OutboxRelay(self.db.sessions, outbox, self._js)
        self._relay.start()
        self.rejections.start(self._js)
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        if self._relay is not None:
            await self._relay.stop()
        await self.rejections.stop()
        await self.pusher.close()
        await self.content.close()
        await self.db.dispose()
