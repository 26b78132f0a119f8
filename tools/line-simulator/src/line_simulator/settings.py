"""Simulator settings: environment prefix ``SODAN_SIM_``, read only when constructed.

The channel secret and access token fall back to the ones the services use
(``SODAN_LINE_CHANNEL_*``) so `make run` needs a single pair of values.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_CHANNEL_SECRET = "sodan-demo-channel-secret"  # noqa: S105 - documented demo value
DEMO_CHANNEL_ACCESS_TOKEN = "sodan-demo-channel-access-token"  # noqa: S105
# A fixed bot id so webhook bodies are stable across runs; any U + 32 hex works.
DEMO_BOT_USER_ID = "Ua2d4d6e51f5372a7c7d0ff3f3187734b"


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SODAN_SIM_", extra="ignore", frozen=True, populate_by_name=True
    )

    host: str = "127.0.0.1"
    port: int = 8090
    webhook_url: str = "http://127.0.0.1:8001/line/webhook/demo"
    channel_secret: str = Field(
        default=DEMO_CHANNEL_SECRET,
        validation_alias=AliasChoices(
            "channel_secret", "SODAN_SIM_CHANNEL_SECRET", "SODAN_LINE_CHANNEL_SECRET"
        ),
    )
    channel_access_token: str = Field(
        default=DEMO_CHANNEL_ACCESS_TOKEN,
        validation_alias=AliasChoices(
            "channel_access_token",
            "SODAN_SIM_CHANNEL_ACCESS_TOKEN",
            "SODAN_LINE_CHANNEL_ACCESS_TOKEN",
        ),
    )
    bot_user_id: str = Field(default=DEMO_BOT_USER_ID, pattern=r"^U[0-9a-f]{32}$")

    # Redeliveries after the first attempt; LINE retries for much longer, but
    # tests and demos want a failure reported within seconds.
    redelivery_attempts: int = Field(default=5, ge=0)
    redelivery_backoff_s: list[float] = Field(default_factory=lambda: [0.2, 0.5, 1.0, 2.0, 4.0])
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    reply_token_lifetime_s: float = Field(default=60.0, gt=0)

    # Bounds that keep memory flat during long benchmarks.
    max_users: int = Field(default=100_000, ge=1)
    inbox_limit: int = Field(default=1_000, ge=1)
    delivery_log_limit: int = Field(default=10_000, ge=1)
    token_limit: int = Field(default=200_000, ge=1)

    log_level: str = "INFO"
