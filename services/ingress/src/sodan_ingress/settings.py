"""Ingress settings: environment prefix ``SODAN_``, read only when constructed."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from sodan_shared.settings import LineChannelSettings


class IngressSettings(LineChannelSettings):
    service_name: str = "ingress"

    ingress_end_words: list[str] = Field(
        default=["終了", "終わり", "おわり", "相談を終了", "相談終了"],
        description="A message that is exactly one of these ends the conversation: the case "
        "closes and nothing more is pushed until the client writes again",
    )
    # Shown under every push and reply; neutral words, as they can show on a lock screen.
    ingress_end_quick_reply_label: str = Field(
        default="相談を終わる",
        max_length=20,
        description="Label of the quick-reply button that sends the first end word; "
        "empty: no button",
    )
    ingress_mark_as_read: bool = Field(
        default=True,
        description="Mark client messages read on LINE (既読) when their counsellor opens "
        "the case; only matters with Chat on in LINE Official Account Manager",
    )
    ingress_loading_max_age_s: float = Field(
        default=15.0,
        gt=0,
        description="A loading-animation command older than this is dropped (the typing is over)",
    )
    ingress_quiet_hours: str = Field(
        default="21:00-08:00",
        description="Japan-time window when pushes go out without a notification "
        "(notificationDisabled); empty: never",
    )
    ingress_host: str = "127.0.0.1"
    ingress_port: int = 8001
    ingress_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Webhook bodies above this get 413"
    )
    ingress_rejection_window_s: float = Field(
        default=10.0,
        gt=0,
        description="Forged webhooks of one kind after the first in this window are audited "
        "as one counted entry at its end",
    )
    ingress_rejection_kinds: int = Field(
        default=1000,
        ge=1,
        description="Sources told apart per audit window; the rest counted as one",
    )
    ingress_publish_timeout_s: float = Field(
        default=5.0, gt=0, description="Wait for JetStream's ack before answering LINE 503"
    )
    ingress_late_after_s: float = Field(
        default=3600.0,
        gt=0,
        description="Events whose LINE timestamp is older than this are flagged late (kept)",
    )
    ingress_mask_personal_data: bool = Field(
        default=False,
        description="Replace phone numbers, e-mails, addresses and My Numbers in the stored "
        "text with ＊＊＊ (they are flagged either way)",
    )

    ingress_media_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Emergency mode: larger media are not stored (a fetch failure is recorded)",
    )
    ingress_media_timeout_s: float = Field(
        default=120.0, gt=0, description="Emergency mode: one whole download from LINE"
    )

    # Push delivery: the n-th failed attempt waits push_retry_delays_s[n-1] before
    # the next one; after len(delays) + 1 attempts the push is reported failed.
    push_retry_delays_s: list[float] = Field(default_factory=lambda: [2.0, 10.0, 30.0, 60.0, 120.0])
    push_ack_wait_s: float = Field(
        default=60.0, gt=0, description="A push not acked within this is redelivered"
    )
    line_timeout_s: float = Field(default=10.0, gt=0, description="Per LINE API call")
    # Shown on lock screens too: says nothing about what the desk is for.
    ingress_refused_media_notice: str = Field(
        default=(
            "画像・動画・音声・ファイル・位置情報は受け取れません。"
            "お名前や連絡先など、個人が特定できる情報も送らないでください。"
            "文章でお話しください。"
        ),
        min_length=1,
        max_length=5000,
        description="Sent at once to a client who sent an image, video, audio, file or location",
    )

    @property
    def push_max_attempts(self) -> int:
        return len(self.push_retry_delays_s) + 1

    @field_validator("ingress_quiet_hours")
    @classmethod
    def _quiet_hours_parse(cls, value: str) -> str:
        from sodan_ingress.quiet_hours import parse_quiet_hours

        parse_quiet_hours(value)  # a clear error at start-up, not at the first push
        return value

    @model_validator(mode="after")
    def _channel_quiet_hours_parse(self) -> IngressSettings:
        from sodan_ingress.quiet_hours import parse_quiet_hours

        for config in self.channel_configs:
            if config.quiet_hours is not None:
                try:
                    parse_quiet_hours(config.quiet_hours)
                except ValueError as exc:
                    raise ValueError(f"channel {config.id!r}: {exc}") from exc
        return self
