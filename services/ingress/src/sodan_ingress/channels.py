"""The LINE channels (official accounts) this ingress serves.

Each has its own secret, token and quiet hours. A webhook names its channel in
the path, or, on the path-less URL, is matched by whose secret signed it; the
body's ``destination`` is then checked against the channel's bot user id.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from pydantic import SecretStr

from sodan_ingress.quiet_hours import QuietHours, parse_quiet_hours
from sodan_ingress.settings import IngressSettings
from sodan_ingress.webhook import signature_is_valid


@dataclass(frozen=True)
class Channel:
    channel_id: str
    secret: SecretStr
    access_token: SecretStr
    quiet_hours: QuietHours | None = None
    bot_user_id: str | None = None
    api_base: str | None = None
    data_api_base: str | None = None

    def is_destination(self, destination: str | None) -> bool:
        """False only when both sides are known and differ (a misrouted webhook)."""
        if not destination or not self.bot_user_id:
            return True
        # compare_digest refuses non-ASCII str, and the body's destination is anyone's
        return hmac.compare_digest(destination.encode(), self.bot_user_id.encode())


class ChannelRegistry:
    def __init__(self, channels: list[Channel]) -> None:
        self._by_id = {c.channel_id: c for c in channels}

    @classmethod
    def from_settings(cls, settings: IngressSettings) -> ChannelRegistry:
        return cls(
            [
                Channel(
                    channel_id=config.id,
                    secret=config.secret,
                    access_token=config.access_token,
                    quiet_hours=parse_quiet_hours(
                        settings.ingress_quiet_hours
                        if config.quiet_hours is None
                        else config.quiet_hours
                    ),
                    bot_user_id=config.bot_user_id,
                    api_base=config.api_base,
                    data_api_base=config.data_api_base,
                )
                for config in settings.channel_configs
            ]
        )

    def get(self, channel_id: str) -> Channel | None:
        return self._by_id.get(channel_id)

    def signed_by(self, body: bytes, signature: str) -> Channel | None:
        """The channel whose secret produced ``signature`` over ``body``, if any.

        Every channel is tried (no early exit) so timing says nothing about which
        secrets exist; secrets are unique, so at most one matches.
        """
        found: Channel | None = None
        for channel in self._by_id.values():
            if signature_is_valid(body, channel.secret.get_secret_value(), signature):
                found = channel
        return found

    def all(self) -> list[Channel]:
        return list(self._by_id.values())
