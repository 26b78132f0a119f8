"""In-memory world of the simulator: users, inboxes, tokens, deliveries.

Every public method takes the lock and never awaits, so handlers running on
the event loop (and tests poking from other threads) see consistent state.
Every collection is bounded so a long benchmark keeps a flat memory profile.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from line_simulator.schemas import (
    DeliveryRecord,
    InboxEntry,
    RuntimeConfig,
    Stats,
    TimelineEntry,
    UserPublic,
)
from line_simulator.settings import SimulatorSettings
from line_simulator.webhook import new_message_id, new_quote_token, new_user_id


class CapacityError(Exception):
    """The simulator refuses to grow past its configured bounds."""


@dataclass
class SimUser:
    user_id: str
    display_name: str
    language: str
    created_at: datetime
    inbox: deque[InboxEntry]
    sent: deque[TimelineEntry]
    following: bool = True
    received_count: int = 0
    loading_until: datetime | None = None
    loading_calls: int = 0
    read_marks: int = 0
    read_up_to_seq: int = 0
    read_up_to_message_id: str | None = None

    def public(self) -> UserPublic:
        return UserPublic(
            user_id=self.user_id,
            display_name=self.display_name,
            language=self.language,
            following=self.following,
            created_at=self.created_at,
            received_count=self.received_count,
            loading_until=self.loading_until,
            loading_calls=self.loading_calls,
            read_marks=self.read_marks,
            read_up_to_message_id=self.read_up_to_message_id,
        )


@dataclass(frozen=True)
class MediaRef:
    media_type: str
    file_name: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class AcceptedRequest:
    request_id: str
    sent_messages: list[dict[str, str]]


@dataclass
class Counters:
    webhooks_delivered: int = 0
    webhooks_failed: int = 0
    webhook_attempts: int = 0
    pushes: int = 0
    replies: int = 0
    messages_delivered: int = 0


def _bounded_put(store: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    store[key] = value
    while len(store) > limit:
        store.popitem(last=False)


def initial_config(settings: SimulatorSettings) -> RuntimeConfig:
    return RuntimeConfig(
        webhook_url=settings.webhook_url,
        redelivery_attempts=settings.redelivery_attempts,
        redelivery_backoff_s=list(settings.redelivery_backoff_s),
        webhook_timeout_s=settings.webhook_timeout_s,
        reply_token_lifetime_s=settings.reply_token_lifetime_s,
    )


@dataclass
class SimulatorState:
    settings: SimulatorSettings
    config: RuntimeConfig = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.config = initial_config(self.settings)
            self._users: dict[str, SimUser] = {}
            self._deliveries: deque[DeliveryRecord] = deque(maxlen=self.settings.delivery_log_limit)
            # token -> (user id, monotonic issue time)
            self._reply_tokens: OrderedDict[str, tuple[str, float]] = OrderedDict()
            # markAsReadToken -> (user id, timeline seq, LINE message id)
            self._read_tokens: OrderedDict[str, tuple[str, int, str]] = OrderedDict()
            self._retry_keys: OrderedDict[str, AcceptedRequest] = OrderedDict()
            self._media: OrderedDict[str, MediaRef] = OrderedDict()
            # webhookEventId -> the event as first sent, for a redelivery much later
            self._events: OrderedDict[str, dict[str, Any]] = OrderedDict()
            self._seq = 0
            self._counters = Counters()

    # ---- users -----------------------------------------------------------

    def add_user(self, *, display_name: str | None, language: str) -> SimUser:
        with self._lock:
            if len(self._users) >= self.settings.max_users:
                raise CapacityError(f"user limit {self.settings.max_users} reached")
            user_id = new_user_id()
            limit = self.settings.inbox_limit
            user = SimUser(
                user_id=user_id,
                display_name=display_name or f"利用者{len(self._users) + 1}",
                language=language,
                created_at=datetime.now(UTC),
                inbox=deque(maxlen=limit),
                sent=deque(maxlen=limit),
            )
            self._users[user_id] = user
            return user

    def user(self, user_id: str) -> SimUser | None:
        with self._lock:
            return self._users.get(user_id)

    def users(self) -> list[UserPublic]:
        with self._lock:
            return [u.public() for u in self._users.values()]

    def set_following(self, user_id: str, following: bool) -> bool:
        """Returns whether the user had blocked the account before this change."""
        with self._lock:
            user = self._users[user_id]
            was_blocked = not user.following
            user.following = following
            return was_blocked

    def start_loading(self, user_id: str, seconds: int) -> None:
        with self._lock:
            user = self._users[user_id]
            user.loading_until = datetime.now(UTC) + timedelta(seconds=seconds)
            user.loading_calls += 1

    def issue_read_token(self, token: str, user_id: str, *, seq: int, message_id: str) -> None:
        with self._lock:
            entry = (user_id, seq, message_id)
            _bounded_put(self._read_tokens, token, entry, self.settings.token_limit)

    def mark_read(self, token: str) -> bool:
        """Mark the token's message and every earlier one read; a token may be reused."""
        with self._lock:
            issued = self._read_tokens.get(token)
            if issued is None or issued[0] not in self._users:
                return False
            user_id, seq, message_id = issued
            user = self._users[user_id]
            user.read_marks += 1
            if seq > user.read_up_to_seq:
                user.read_up_to_seq, user.read_up_to_message_id = seq, message_id
            return True

    # ---- what users send -------------------------------------------------

    def record_sent(
        self, user_id: str, *, event_type: str, message: dict[str, Any] | None
    ) -> TimelineEntry:
        with self._lock:
            self._seq += 1
            entry = TimelineEntry(
                seq=self._seq,
                direction="sent",
                at=datetime.now(UTC),
                event_type=event_type,
                message=message,
            )
            self._users[user_id].sent.append(entry)
            return entry

    def attach_delivery(self, entry: TimelineEntry, record: DeliveryRecord) -> None:
        with self._lock:
            entry.delivery = record

    def issue_reply_token(self, token: str, user_id: str) -> None:
        with self._lock:
            entry = (user_id, time.monotonic())
            _bounded_put(self._reply_tokens, token, entry, self.settings.token_limit)

    def consume_reply_token(self, token: str) -> str | None:
        """The user the token replies to; a token works once and only while fresh."""
        with self._lock:
            issued = self._reply_tokens.pop(token, None)
            if issued is None:
                return None
            user_id, issued_at = issued
            if time.monotonic() - issued_at > self.config.reply_token_lifetime_s:
                return None
            return user_id

    def remember_media(self, message_id: str, ref: MediaRef) -> None:
        with self._lock:
            _bounded_put(self._media, message_id, ref, self.settings.token_limit)

    def media(self, message_id: str) -> MediaRef | None:
        with self._lock:
            return self._media.get(message_id)

    def remember_event(self, event: dict[str, Any]) -> None:
        with self._lock:
            _bounded_put(
                self._events, event["webhookEventId"], event, self.settings.delivery_log_limit
            )

    def event(self, webhook_event_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._events.get(webhook_event_id)

    def expire_media(self, message_id: str) -> bool:
        """LINE keeps content only for a while; afterwards the content API says 404."""
        with self._lock:
            return self._media.pop(message_id, None) is not None

    def record_delivery(self, record: DeliveryRecord) -> None:
        with self._lock:
            self._deliveries.append(record)
            self._counters.webhook_attempts += len(record.attempts)
            if record.outcome == "delivered":
                self._counters.webhooks_delivered += 1
            else:
                self._counters.webhooks_failed += 1

    def deliveries(self, *, user_id: str | None, limit: int) -> list[DeliveryRecord]:
        with self._lock:
            records = [d for d in self._deliveries if user_id in (None, d.user_id)]
        return records[-limit:]

    # ---- what the bot sends ----------------------------------------------

    def accepted_request(self, retry_key: str) -> AcceptedRequest | None:
        with self._lock:
            return self._retry_keys.get(retry_key)

    def deliver_to_user(
        self,
        user_id: str,
        messages: list[dict[str, Any]],
        *,
        via: Literal["push", "reply"],
        request_id: str,
        retry_key: str | None,
        notification_disabled: bool,
    ) -> AcceptedRequest:
        """Put messages in the inbox; with a retry key, at most once per key.

        Returns the earlier acceptance when the key was already used, so the
        caller answers 409 without delivering again.
        """
        with self._lock:
            if retry_key is not None and retry_key in self._retry_keys:
                return self._retry_keys[retry_key]
            user = self._users[user_id]
            sent = [
                self._append_inbox(user, m, via, request_id, retry_key, notification_disabled)
                for m in messages
            ]
            accepted = AcceptedRequest(request_id=request_id, sent_messages=sent)
            if retry_key is not None:
                _bounded_put(self._retry_keys, retry_key, accepted, self.settings.token_limit)
            self._count_request(via, len(messages))
            return accepted

    def _append_inbox(
        self,
        user: SimUser,
        message: dict[str, Any],
        via: Literal["push", "reply"],
        request_id: str,
        retry_key: str | None,
        notification_disabled: bool,
    ) -> dict[str, str]:
        sent = {"id": new_message_id(), "quoteToken": new_quote_token()}
        # LINE answers 200 to a user who blocked the account but drops the message.
        if not user.following:
            return sent
        self._seq += 1
        user.inbox.append(
            InboxEntry(
                seq=self._seq,
                message_id=sent["id"],
                via=via,
                request_id=request_id,
                retry_key=retry_key,
                notification_disabled=notification_disabled,
                received_at=datetime.now(UTC),
                message=message,
            )
        )
        user.received_count += 1
        user.loading_until = None  # LINE hides the loading animation on a new message
        return sent

    def _count_request(self, via: Literal["push", "reply"], n_messages: int) -> None:
        if via == "push":
            self._counters.pushes += 1
        else:
            self._counters.replies += 1
        self._counters.messages_delivered += n_messages

    def inbox(self, user_id: str, *, since: int | None) -> list[InboxEntry]:
        with self._lock:
            entries = list(self._users[user_id].inbox)
        return [e for e in entries if since is None or e.seq > since]

    def timeline(self, user_id: str, *, limit: int) -> list[TimelineEntry]:
        with self._lock:
            user = self._users[user_id]
            received = [
                TimelineEntry(
                    seq=e.seq,
                    direction="received",
                    at=e.received_at,
                    event_type="message",
                    message=e.message,
                    via=e.via,
                )
                for e in user.inbox
            ]
            read_up_to = user.read_up_to_seq
            sent = [e.model_copy(update={"read": e.seq <= read_up_to}) for e in user.sent]
        return sorted(sent + received, key=lambda e: e.seq)[-limit:]

    def stats(self) -> Stats:
        with self._lock:
            c = self._counters
            return Stats(
                users=len(self._users),
                webhooks_delivered=c.webhooks_delivered,
                webhooks_failed=c.webhooks_failed,
                webhook_attempts=c.webhook_attempts,
                pushes=c.pushes,
                replies=c.replies,
                messages_delivered=c.messages_delivered,
            )
