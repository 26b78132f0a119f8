"""Triage settings (env prefix ``SODAN_``)."""

from __future__ import annotations

from pydantic import Field
from sodan_shared.settings import SodanSettings


class TriageSettings(SodanSettings):
    service_name: str = "triage"
    triage_batch_size: int = Field(default=20, ge=1, le=500, description="Messages per pull")
