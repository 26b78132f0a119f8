"""Downloads from LINE's content API (``GET {data api}/v2/bot/message/{id}/content``).

aiohttp directly rather than line-bot-sdk's ``AsyncMessagingApiBlob``: the SDK
pins that endpoint's host to https://api-data.line.me (it ignores the
configured host, so neither the simulator nor an egress proxy is reachable)
and reads the whole body into memory, where we must stop at the size limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from sodan_ingress.channels import Channel


@dataclass(frozen=True)
class Content:
    """What LINE answered; status 0: no answer (timeout, connection refused)."""

    status: int
    content_type: str | None = None
    data: bytes | None = None
    too_large: bool = False


class LineContent:
    def __init__(self, *, data_api_base: str, timeout_s: float, max_bytes: int) -> None:
        self._base = data_api_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def fetch(self, *, channel: Channel, message_id: str) -> Content:
        base = (channel.data_api_base or self._base).rstrip("/")
        url = f"{base}/v2/bot/message/{quote(message_id, safe='')}/content"
        headers = {"Authorization": f"Bearer {channel.access_token.get_secret_value()}"}
        try:
            async with self._http().get(url, headers=headers) as response:
                if response.status != 200:
                    return Content(status=response.status)
                content_type = response.headers.get("Content-Type", "application/octet-stream")
                if (response.content_length or 0) > self._max_bytes:
                    return Content(status=200, content_type=content_type, too_large=True)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > self._max_bytes:
                        return Content(status=200, content_type=content_type, too_large=True)
                    chunks.append(chunk)
                return Content(status=200, content_type=content_type, data=b"".join(chunks))
        except (TimeoutError, aiohttp.ClientError):
            return Content(status=0)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
