"""The LINE channels this ingress serves, by the id in the webhook path.

The foundation configures one channel from settings; the registry keeps the
lookup by id so several channels can be added without touching the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from sodan_ingress.quiet_hours import QuietHours, parse_quiet_hours
from sodan_ingress.settings import IngressSettings


@dataclass(frozen=True)
class Channel:
    channel_id: str
    secret: SecretStr
    access_token: SecretStr
    quiet_hours: QuietHours | None = None


class ChannelRegistry:
    def __init__(self, channels: list[Channel]) -> None:
        self._by_id = {c.channel_id: c for c in channels}

    @classmethod
    def from_settings(cls, settings: IngressSettings) -> ChannelRegistry:
        return cls(
            [
                Channel(
                    channel_id=settings.line_channel_id,
                    secret=settings.line_channel_secret,
                    access_token=settings.line_channel_access_token,
                    quiet_hours=parse_quiet_hours(settings.ingress_quiet_hours),
                )
            ]
        )

    def get(self, channel_id: str) -> Channel | None:
        return self._by_id.get(channel_id)

    def all(self) -> list[Channel]:
        return list(self._by_id.values())
