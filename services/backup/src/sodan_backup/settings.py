"""Backup settings (env prefix ``SODAN_``)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

from pydantic import Field, field_validator
from sodan_shared.settings import SodanSettings


class BackupSettings(SodanSettings):
    service_name: str = "backup"
    backup_dir: Path = Field(
        default=Path(".run/backup"),
        description="Where the archive and dumps go; relative paths resolve against the cwd",
    )
    backup_generations: int = Field(
        default=2, ge=2, description="Daily dumps kept (the specification requires at least 2)"
    )
    backup_daily_at: str = Field(default="03:00", description="HH:MM, Japan time, daily dump")
    backup_pg_dump: str = Field(
        default="", description="pg_dump path; default PATH, then newest /usr/lib/postgresql"
    )
    backup_schedule_enabled: bool = Field(
        default=True, description="Run the daily dump timer inside `run`"
    )

    @field_validator("backup_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("backup_daily_at")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError("SODAN_BACKUP_DAILY_AT must look like 03:00 (Japan time)")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    @property
    def daily_at(self) -> time:
        hours, minutes = self.backup_daily_at.split(":")
        return time(int(hours), int(minutes))

    @property
    def archive_dir(self) -> Path:
        return self.backup_dir / "archive"

    @property
    def dumps_dir(self) -> Path:
        return self.backup_dir / "dumps"
