"""Reporting settings (env prefix ``SODAN_``)."""

from __future__ import annotations

from pydantic import Field
from sodan_shared.settings import SodanSettings


class ReportingSettings(SodanSettings):
    service_name: str = "reporting"
    # Staff authentication for the report API belongs to console-api (later);
    # until then the API listens on loopback only.
    reporting_host: str = Field(default="127.0.0.1", description="Bind address of the report API")
    reporting_port: int = Field(default=8003, ge=1, le=65535)
    reporting_suppress_below: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Report cells with a count from 1 to this minus 1 show as 「N未満」 (1: off)",
    )
    reporting_chromium_path: str = Field(
        default="/usr/bin/chromium", description="Chromium that renders report PDFs"
    )
    reporting_monthly_job: bool = Field(
        default=True, description="Produce last month's report on the 1st (Japan time)"
    )
    reporting_job_interval_s: float = Field(
        default=900.0, gt=0, description="How often the monthly job checks whether it is due"
    )
