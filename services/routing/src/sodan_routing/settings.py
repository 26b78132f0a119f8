"""Routing settings (env prefix ``SODAN_``)."""

from __future__ import annotations

from pydantic import Field
from sodan_shared.settings import SodanSettings


class RoutingSettings(SodanSettings):
    service_name: str = "routing"
    routing_sweep_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="How often each replica retries assigning queued cases (safety net for "
        "races that no event would otherwise revisit)",
    )
