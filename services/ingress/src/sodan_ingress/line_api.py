"""Calls to the LINE Messaging API with line-bot-sdk v3's async client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    MarkMessagesAsReadByTokenRequest,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from sodan_ingress.channels import Channel

REQUEST_ID_HEADER = "x-line-request-id"


@dataclass(frozen=True)
class LineAnswer:
    """What LINE said; status 0 means no answer (timeout, connection refused)."""

    status: int
    request_id: str | None = None
    body: bytes | str | None = None


class LinePusher:
    """One SDK client per channel, created on first use inside the event loop."""

    def __init__(self, *, api_base: str, timeout_s: float) -> None:
        self._api_base = api_base
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clients: dict[str, AsyncApiClient] = {}

    def _api(self, channel: Channel) -> AsyncMessagingApi:
        client = self._clients.get(channel.channel_id)
        if client is None:
            config = Configuration(
                host=channel.api_base or self._api_base,
                access_token=channel.access_token.get_secret_value(),
            )
            client = AsyncApiClient(config)
            self._clients[channel.channel_id] = client
        return AsyncMessagingApi(client)

    async def _call(self, call: Callable[[], Awaitable[Any]]) -> LineAnswer:
        try:
            response = await call()
        except ApiException as exc:
            headers = exc.headers or {}
            return LineAnswer(
                status=int(exc.status or 0),
                request_id=headers.get(REQUEST_ID_HEADER),
                body=exc.body,
            )
        except (TimeoutError, aiohttp.ClientError):
            return LineAnswer(status=0)
        headers = response.headers or {}
        return LineAnswer(status=response.status_code, request_id=headers.get(REQUEST_ID_HEADER))

    async def push(
        self,
        *,
        channel: Channel,
        to: str,
        messages: list[Message],
        notification_disabled: bool,
        retry_key: UUID,
    ) -> LineAnswer:
        request = PushMessageRequest(
            to=to, messages=messages, notificationDisabled=notification_disabled
        )
        return await self._call(
            lambda: self._api(channel).push_message_with_http_info(
                request, x_line_retry_key=str(retry_key), _request_timeout=self._timeout
            )
        )

    async def reply(
        self,
        *,
        channel: Channel,
        reply_token: str,
        messages: list[Message],
        notification_disabled: bool,
    ) -> LineAnswer:
        """Answer with a reply token (LINE offers no retry key for replies)."""
        request = ReplyMessageRequest(
            replyToken=reply_token, messages=messages, notificationDisabled=notification_disabled
        )
        return await self._call(
            lambda: self._api(channel).reply_message_with_http_info(
                request, _request_timeout=self._timeout
            )
        )

    async def show_loading(self, *, channel: Channel, chat_id: str, seconds: int) -> LineAnswer:
        """LINE's loading animation in the client's 1:1 chat (shown only while they look)."""
        request = ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=seconds)
        return await self._call(
            lambda: self._api(channel).show_loading_animation_with_http_info(
                request, _request_timeout=self._timeout
            )
        )

    async def mark_read(self, *, channel: Channel, token: str) -> LineAnswer:
        """既読 for the message the token came with and every earlier one."""
        request = MarkMessagesAsReadByTokenRequest(markAsReadToken=token)
        return await self._call(
            lambda: self._api(channel).mark_messages_as_read_by_token_with_http_info(
                request, _request_timeout=self._timeout
            )
        )

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
