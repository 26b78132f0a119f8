"""Settings every service shares; each service subclasses `SodanSettings`.

Values come only from the environment (prefix ``SODAN_``) or an env file, with
safe defaults for `make run`. Demo secrets are refused outside development.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_CHANNEL_SECRET = "sodan-demo-channel-secret"  # noqa: S105 - documented demo value
DEMO_CHANNEL_ACCESS_TOKEN = "sodan-demo-channel-access-token"  # noqa: S105
# A fixed, public development master key: fine for `make run` and tests, refused
# in production where the operator must provide SODAN_MASTER_KEYS.
DEMO_MASTER_KEYS = "demo:c29kYW4tZGVtby1tYXN0ZXIta2V5LWRvLW5vdC11c2U="


class SodanSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SODAN_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development", description="production refuses demo keys and credentials"
    )
    service_name: str = "sodan"
    instance_id: str = Field(default="", description="Replica name in logs; defaults to host:pid")

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS with JetStream")
    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/sodan",
        validation_alias=AliasChoices("SODAN_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL (psycopg 3); DATABASE_URL is accepted too",
    )
    db_pool_size: int = Field(
        default=5, description="Connections per process (and as many overflow)"
    )

    master_keys: SecretStr = Field(
        default=SecretStr(DEMO_MASTER_KEYS),
        description="Comma-separated key_id:base64(32 bytes); the active one wraps new keys",
    )
    master_key_id: str = Field(default="", description="Active master key id; default the first")

    max_deliveries: int = Field(
        default=5,
        ge=1,
        description="A message whose handler failed this many times goes to deadletter.<subject>",
    )
    redelivery_delays_s: list[float] = Field(
        default_factory=lambda: [1.0, 5.0, 30.0, 120.0],
        description="Pause before redelivering after the n-th failure (the last one repeats)",
    )

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = Field(
        default="json", description="json: one object per line; console: for a terminal"
    )
    otel_exporter: Literal["none", "console"] = Field(
        default="none", description="Where spans go; trace ids are in the logs either way"
    )

    @model_validator(mode="after")
    def _refuse_demo_secrets_in_production(self) -> SodanSettings:
        if self.environment == "production" and self.master_keys.get_secret_value() == (
            DEMO_MASTER_KEYS
        ):
            raise ValueError("SODAN_MASTER_KEYS must be set in production (demo key refused)")
        return self


class LineChannelConfig(BaseModel):
    """One LINE official account (channel) the desk answers on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$",
        description="Our name for the channel: its webhook URL is /line/webhook/<id>",
    )
    secret: SecretStr = Field(description="Channel secret (checks X-Line-Signature)")
    access_token: SecretStr = Field(description="Long-lived channel access token")
    bot_user_id: str | None = Field(
        default=None,
        pattern=r"^U[0-9a-f]{32}$",
        description="The account's user id, LINE's `destination`; checked when set",
    )
    quiet_hours: str | None = Field(
        default=None, description="Japan-time silent-push window; None: the service default"
    )
    api_base: str | None = Field(default=None, description="Messaging API base; None: default")
    data_api_base: str | None = Field(
        default=None, description="Content API base; None: the service default"
    )

    @model_validator(mode="after")
    def _credentials_present(self) -> LineChannelConfig:
        if not self.secret.get_secret_value() or not self.access_token.get_secret_value():
            raise ValueError(f"channel {self.id!r}: secret and access_token must not be empty")
        return self

    def uses_demo_credentials(self) -> bool:
        return (
            self.secret.get_secret_value() == DEMO_CHANNEL_SECRET
            or self.access_token.get_secret_value() == DEMO_CHANNEL_ACCESS_TOKEN
        )


class LineChannelSettings(SodanSettings):
    """The LINE channel credentials a service needs to talk to LINE.

    One channel comes from ``SODAN_LINE_CHANNEL_ID/SECRET/ACCESS_TOKEN``; a desk
    with several official accounts lists them all in ``SODAN_LINE_CHANNELS``
    (JSON), which then replaces the single one.
    """

    line_channel_id: str = Field(
        default="demo", description="Our name for the channel: /line/webhook/<id>"
    )
    line_channel_secret: SecretStr = SecretStr(DEMO_CHANNEL_SECRET)
    line_channel_access_token: SecretStr = SecretStr(DEMO_CHANNEL_ACCESS_TOKEN)
    line_channels: list[LineChannelConfig] = Field(
        default_factory=list,
        description='Several channels as JSON: [{"id", "secret", "access_token", '
        '"bot_user_id"?, "quiet_hours"?}]; when set, the three single-channel settings are unused',
    )
    line_api_base: str = Field(default="https://api.line.me", description="LINE Messaging API")
    line_data_api_base: str = Field(
        default="https://api-data.line.me", description="LINE content API (media downloads)"
    )

    @property
    def channel_configs(self) -> list[LineChannelConfig]:
        if self.line_channels:
            return list(self.line_channels)
        return [
            LineChannelConfig(
                id=self.line_channel_id,
                secret=self.line_channel_secret,
                access_token=self.line_channel_access_token,
            )
        ]

    @model_validator(mode="after")
    def _channels_consistent(self) -> LineChannelSettings:
        configs = self.channel_configs
        for what, values in (
            ("id", [c.id for c in configs]),
            ("secret", [c.secret.get_secret_value() for c in configs]),
            ("bot_user_id", [c.bot_user_id for c in configs if c.bot_user_id]),
        ):
            if len(set(values)) != len(values):
                # a shared secret would make a path-less webhook ambiguous
                raise ValueError(f"SODAN_LINE_CHANNELS: each channel needs its own {what}")
        return self

    @model_validator(mode="after")
    def _refuse_demo_line_credentials_in_production(self) -> LineChannelSettings:
        if self.environment == "production" and any(
            c.uses_demo_credentials() for c in self.channel_configs
        ):
            raise ValueError(
                "set SODAN_LINE_CHANNEL_SECRET and SODAN_LINE_CHANNEL_ACCESS_TOKEN "
                "(or SODAN_LINE_CHANNELS) to the channel's real credentials"
            )
        return self
