"""console-api settings (env prefix ``SODAN_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sodan_shared.settings import SodanSettings

StaffRole = Literal["counsellor", "supervisor", "admin"]


class ConsoleSettings(SodanSettings):
    service_name: str = "console-api"

    line_channel_id: str = Field(
        default="demo", description="The desk's LINE channel; stamped on staff events"
    )
    console_host: str = "127.0.0.1"
    console_port: int = 8000
    console_secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure (required behind HTTPS)"
    )
    console_session_idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    console_session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    console_presence_sweep_s: float = Field(
        default=60.0,
        ge=1,
        description="How often staff whose session ended (idle or expired) are set offline, "
        "so routing hands their cases back",
    )
    console_totp_required_for: list[StaffRole] | None = Field(
        default=None,
        description="Roles that must use a TOTP second factor (JSON list). Default: "
        "supervisor and admin in production, none in development/test (demo accounts); "
        "anyone who enrolled must always give a code",
    )
    console_totp_issuer: str = Field(
        default="sodan", description="Issuer shown in the authenticator app"
    )
    console_login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Failed logins within the window that lock a login"
    )
    console_login_failure_window_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="Window in which failed logins are counted"
    )
    console_login_lockout_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a login stays locked"
    )
    console_case_page_size: int = Field(default=50, ge=1, le=200)
    console_chat_history_limit: int = Field(default=500, ge=10, le=5000)
    console_typing_throttle_s: float = Field(
        default=20.0, ge=5, description="At most one loading animation per case this often"
    )
    console_typing_seconds: int = Field(
        default=20, ge=5, le=60, multiple_of=5, description="How long LINE shows it"
    )
    console_typing_window_s: float = Field(
        default=3600.0,
        gt=0,
        description="No loading animation when the client's last message is older than this",
    )
    console_reporting_url: str = Field(
        default="http://127.0.0.1:8003", description="The reporting service's API (reports page)"
    )

    @property
    def totp_required_roles(self) -> frozenset[str]:
        if self.console_totp_required_for is not None:
            return frozenset(self.console_totp_required_for)
        if self.environment == "production":
            return frozenset({"supervisor", "admin"})
        return frozenset()

    @property
    def console_url(self) -> str:
        return f"http://{self.console_host}:{self.console_port}/"
