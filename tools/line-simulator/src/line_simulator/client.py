"""Async client for the control API, used by end-to-end tests and benchmarks.

Example::

    async with SimulatorClient("http://127.0.0.1:8090") as sim:
        user = await sim.create_user("山田")
        await sim.send_text(user.user_id, "相談したいです")
        replies = await sim.wait_for_inbox(user.user_id, 1)
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, Literal

import httpx
from pydantic import TypeAdapter

from line_simulator.schemas import (
    DeliveryRecord,
    FaultEndpoint,
    FaultPublic,
    InboxEntry,
    RuntimeConfig,
    Stats,
    TimelineEntry,
    UserPublic,
)

_INBOX = TypeAdapter(list[InboxEntry])
_USERS = TypeAdapter(list[UserPublic])
_DELIVERIES = TypeAdapter(list[DeliveryRecord])
_FAULTS = TypeAdapter(list[FaultPublic])
_TIMELINE = TypeAdapter(list[TimelineEntry])


class SimulatorClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        # Sends wait for redeliveries to finish, hence the generous timeout.
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def __aenter__(self) -> SimulatorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    # ---- users -----------------------------------------------------------

    async def create_user(self, display_name: str | None = None) -> UserPublic:
        body = {"display_name": display_name} if display_name else {}
        return UserPublic.model_validate(await self._call("POST", "/sim/users", json=body))

    async def list_users(self) -> list[UserPublic]:
        return _USERS.validate_python(await self._call("GET", "/sim/users"))

    async def get_user(self, user_id: str) -> UserPublic:
        return UserPublic.model_validate(await self._call("GET", f"/sim/users/{user_id}"))

    # ---- what users do (each returns the webhook delivery record) ---------

    async def send_message(self, user_id: str, **message: Any) -> DeliveryRecord:
        """Any message kind: ``send_message(uid, type="file", file_name="a.pdf")``."""
        data = await self._call("POST", f"/sim/users/{user_id}/messages", json=message)
        return DeliveryRecord.model_validate(data)

    async def send_text(
        self, user_id: str, text: str, *, quoted_message_id: str | None = None
    ) -> DeliveryRecord:
        return await self.send_message(user_id, text=text, quoted_message_id=quoted_message_id)

    async def send_sticker(
        self, user_id: str, *, package_id: str = "446", sticker_id: str = "1988"
    ) -> DeliveryRecord:
        return await self.send_message(
            user_id, type="sticker", package_id=package_id, sticker_id=sticker_id
        )

    async def send_media(
        self,
        user_id: str,
        media_type: Literal["image", "video", "audio", "file"] = "image",
        **details: Any,
    ) -> DeliveryRecord:
        """``details``: e.g. ``file_name``/``file_size`` for a file. The content API
        serves ``line_simulator.media.content_for`` bytes for it until it expires."""
        return await self.send_message(user_id, type=media_type, **details)

    async def expire_content(self, message_id: str) -> None:
        """LINE no longer keeps this message's content: the content API answers 404."""
        await self._call("DELETE", f"/sim/media/{message_id}")

    async def send_location(
        self, user_id: str, *, latitude: float = 35.681236, longitude: float = 139.767125
    ) -> DeliveryRecord:
        return await self.send_message(
            user_id, type="location", latitude=latitude, longitude=longitude
        )

    async def follow(self, user_id: str) -> DeliveryRecord:
        data = await self._call("POST", f"/sim/users/{user_id}/follow")
        return DeliveryRecord.model_validate(data)

    async def unfollow(self, user_id: str) -> DeliveryRecord:
        data = await self._call("POST", f"/sim/users/{user_id}/unfollow")
        return DeliveryRecord.model_validate(data)

    async def postback(
        self, user_id: str, data: str, *, params: dict[str, str] | None = None
    ) -> DeliveryRecord:
        body = {"data": data, "params": params}
        record = await self._call("POST", f"/sim/users/{user_id}/postback", json=body)
        return DeliveryRecord.model_validate(record)

    async def unsend(self, user_id: str, message_id: str) -> DeliveryRecord:
        body = {"message_id": message_id}
        record = await self._call("POST", f"/sim/users/{user_id}/unsend", json=body)
        return DeliveryRecord.model_validate(record)

    # ---- what users received ---------------------------------------------

    async def inbox(self, user_id: str, *, since: int | None = None) -> list[InboxEntry]:
        params = {"since": since} if since is not None else {}
        data = await self._call("GET", f"/sim/users/{user_id}/inbox", params=params)
        return _INBOX.validate_python(data)

    async def wait_for_inbox(
        self,
        user_id: str,
        count: int,
        *,
        timeout: float = 10.0,
        interval: float = 0.05,
        since: int | None = None,
    ) -> list[InboxEntry]:
        """Poll until the user has received ``count`` messages (after ``since``)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = await self.inbox(user_id, since=since)
            if len(entries) >= count:
                return entries
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"user received {len(entries)} of {count} messages within {timeout}s"
                )
            await asyncio.sleep(interval)

    async def timeline(self, user_id: str, *, limit: int = 200) -> list[TimelineEntry]:
        data = await self._call("GET", f"/sim/users/{user_id}/timeline", params={"limit": limit})
        return _TIMELINE.validate_python(data)

    async def deliveries(
        self, *, user_id: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        params: dict[str, Any] = {"limit": limit}
        if user_id:
            params["user_id"] = user_id
        return _DELIVERIES.validate_python(
            await self._call("GET", "/sim/deliveries", params=params)
        )

    async def redeliver(self, webhook_event_id: str) -> DeliveryRecord:
        """LINE sends an earlier event again (``isRedelivery: true``, same ids)."""
        data = await self._call("POST", f"/sim/deliveries/{webhook_event_id}/redeliver")
        return DeliveryRecord.model_validate(data)

    # ---- control -----------------------------------------------------------

    async def reset(self) -> None:
        await self._call("POST", "/sim/reset")

    async def add_fault(
        self,
        endpoint: FaultEndpoint,
        *,
        status: int | None = None,
        delay_ms: int | None = None,
        count: int | None = 1,
        after_delivery: bool = False,
    ) -> list[FaultPublic]:
        body = {
            "endpoint": endpoint,
            "status": status,
            "delay_ms": delay_ms,
            "count": count,
            "after_delivery": after_delivery,
        }
        return _FAULTS.validate_python(await self._call("POST", "/sim/faults", json=body))

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/sim/faults")

    async def configure(self, **changes: Any) -> RuntimeConfig:
        """Change ``webhook_url``, ``redelivery_attempts``, ``redelivery_backoff_s``,
        ``webhook_timeout_s`` or ``reply_token_lifetime_s`` until the next reset."""
        return RuntimeConfig.model_validate(await self._call("PATCH", "/sim/config", json=changes))

    async def stats(self) -> Stats:
        return Stats.model_validate(await self._call("GET", "/sim/stats"))

    async def wait_until_ready(self, *, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self._call("GET", "/healthz")
                return
            except httpx.HTTPError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.05)
