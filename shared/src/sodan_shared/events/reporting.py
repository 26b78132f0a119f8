"""Events produced by the reporting service."""

from __future__ import annotations

from pydantic import Field

from sodan_shared.events.envelope import Envelope, Payload


class MonthlyReportReadyV1(Payload):
    month: str = Field(description="YYYY-MM (Japan time)")
    channels: list[str] = Field(description="Channels with a report; '' is all channels together")
    cases: int = Field(description="Cases opened in the month, all channels")


class MonthlyReportReady(Envelope[MonthlyReportReadyV1]):
    """Last month's report was produced (on the 1st, Japan time): admins can review and send it."""

    TYPE = "report.monthly_ready"
