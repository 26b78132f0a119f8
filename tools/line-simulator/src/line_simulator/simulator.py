"""The simulator's composition root and the things a simulated user can do."""

from __future__ import annotations

from typing import Any

import httpx

from line_simulator import webhook
from line_simulator.delivery import WebhookSender
from line_simulator.faults import FaultBook
from line_simulator.schemas import DeliveryRecord, UserMessage
from line_simulator.settings import SimulatorSettings
from line_simulator.state import MediaRef, SimulatorState
from line_simulator.webhook import MEDIA_TYPES, Event


def event_for_message(user_id: str, sent: UserMessage) -> Event:
    """The webhook event LINE produces when a user sends ``sent``."""
    if sent.type == "text":
        return webhook.make_text_event(
            user_id=user_id, text=sent.text or "", quoted_message_id=sent.quoted_message_id
        )
    if sent.type == "sticker":
        return webhook.make_sticker_event(
            user_id=user_id, package_id=sent.package_id, sticker_id=sent.sticker_id
        )
    if sent.type == "location":
        return webhook.make_location_event(
            user_id=user_id,
            latitude=sent.latitude,
            longitude=sent.longitude,
            title=sent.title,
            address=sent.address,
        )
    return webhook.make_media_event(
        sent.type,
        user_id=user_id,
        duration_ms=sent.duration_ms,
        file_name=sent.file_name,
        file_size=sent.file_size,
    )


class Simulator:
    """Owns state, faults and the webhook client; one per app."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.state = SimulatorState(settings)
        self.faults = FaultBook()
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(limits=httpx.Limits(max_connections=200))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def reset(self) -> None:
        self.state.reset()
        self.faults.clear()

    @property
    def _sender(self) -> WebhookSender:
        if self._http is None:
            raise RuntimeError("simulator not started: run it inside the app lifespan")
        return WebhookSender(
            self._http,
            destination=self.settings.bot_user_id,
            channel_secret=self.settings.channel_secret,
        )

    # ---- user actions: each becomes one webhook event ---------------------

    async def send_message(self, user_id: str, sent: UserMessage) -> DeliveryRecord:
        event = event_for_message(user_id, sent)
        message = event["message"]
        if sent.type in MEDIA_TYPES and not sent.content_expired:
            ref = MediaRef(sent.type, file_name=sent.file_name, size=sent.file_size)
            self.state.remember_media(message["id"], ref)
        return await self._dispatch(user_id, event, shown=message)

    async def follow(self, user_id: str) -> DeliveryRecord:
        was_blocked = self.state.set_following(user_id, True)
        event = webhook.make_follow_event(user_id=user_id, is_unblocked=was_blocked)
        return await self._dispatch(user_id, event)

    async def unfollow(self, user_id: str) -> DeliveryRecord:
        self.state.set_following(user_id, False)
        return await self._dispatch(user_id, webhook.make_unfollow_event(user_id=user_id))

    async def postback(
        self, user_id: str, data: str, params: dict[str, str] | None = None
    ) -> DeliveryRecord:
        event = webhook.make_postback_event(user_id=user_id, data=data, params=params)
        return await self._dispatch(user_id, event, shown={"data": data})

    async def unsend(self, user_id: str, message_id: str) -> DeliveryRecord:
        event = webhook.make_unsend_event(user_id=user_id, message_id=message_id)
        return await self._dispatch(user_id, event, shown={"messageId": message_id})

    async def redeliver(self, webhook_event_id: str) -> DeliveryRecord | None:
        """LINE sends an event again, however long ago it was delivered (``isRedelivery``).

        This is what happens when our 200 was lost on the way back: LINE cannot
        tell that we already have it. None when the event is unknown.
        """
        event = self.state.event(webhook_event_id)
        if event is None:
            return None
        record = await self._sender.deliver(
            webhook.as_redelivery(event), self.state.config.model_copy()
        )
        self.state.record_delivery(record)
        return record

    async def _dispatch(
        self, user_id: str, event: Event, shown: dict[str, Any] | None = None
    ) -> DeliveryRecord:
        self.state.remember_event(event)
        if token := event.get("replyToken"):
            self.state.issue_reply_token(token, user_id)
        entry = self.state.record_sent(user_id, event_type=event["type"], message=shown)
        message = event.get("message") or {}
        if read_token := message.get("markAsReadToken"):
            self.state.issue_read_token(
                read_token, user_id, seq=entry.seq, message_id=str(message.get("id"))
            )
        record = await self._sender.deliver(event, self.state.config.model_copy())
        self.state.record_delivery(record)
        self.state.attach_delivery(entry, record)
        return record
