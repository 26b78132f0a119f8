"""The dev stack's own knobs (env prefix SODAN_DEV_). Read only when `sodan-dev` runs."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DevStackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SODAN_DEV_", extra="ignore")

    state_dir: Path | None = Field(
        default=None, description="Where the stack keeps its state; default <repo root>/.run"
    )
    nats_port: int = Field(
        default=4223, description="Private nats-server port (4222 is often taken)"
    )
    pg_port: int = Field(default=5433, description="Private PostgreSQL port (5432 is often taken)")
    pg_user: str = Field(
        default="sodan-pg", description="Unprivileged user that runs PostgreSQL when we are root"
    )
    pg_fallback_parent: Path = Field(
        default=Path("/var/tmp"),  # noqa: S108 - a fixed parent, dirs below named per repo
        description="Parent of the PostgreSQL data dir when the state dir is not traversable",
    )
    bin_dir: Path | None = Field(
        default=None,
        description="Where the service executables are; default: beside sys.executable",
    )
    health_timeout: float = Field(
        default=90.0, description="Seconds to wait for the HTTP services before the banner"
    )
    stop_timeout: float = Field(default=10.0, description="Seconds between SIGTERM and SIGKILL")
    max_quick_crashes: int = Field(
        default=5, description="Give up on a service after this many quick crashes in a row"
    )
    quick_crash_seconds: float = Field(
        default=15.0, description="A service that dies sooner than this after starting crashed"
    )
