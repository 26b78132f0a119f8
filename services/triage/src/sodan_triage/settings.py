"""Triage settings (env prefix ``SODAN_``)."""

from __future__ import annotations

from pydantic import Field
from sodan_shared.settings import SodanSettings


class TriageSettings(SodanSettings):
    service_name: str = "triage"
    triage_batch_size: int = Field(default=20, ge=1, le=500, description="Messages per pull")
    triage_context_minutes: int = Field(
        default=60, ge=0, le=24 * 60, description="How far back a client's messages give context"
    )
    triage_context_messages: int = Field(
        default=5, ge=0, le=50, description="At most this many earlier messages give context"
    )
