"""Where the dev stack keeps things: the repo root and the `.run/` state dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def find_repo_root(start: Path) -> Path:
    """The nearest directory at or above `start` that holds `uv.lock` (the workspace root)."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "uv.lock").is_file():
            return candidate
    raise RuntimeError(
        f"no uv.lock found at or above {start}: run sodan-dev inside the sodan repository "
        "or set SODAN_DEV_STATE_DIR"
    )


@dataclass(frozen=True)
class StateLayout:
    """Every path under the state dir, in one place."""

    state_dir: Path

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids(self) -> Path:
        return self.state_dir / "pids"

    @property
    def nats(self) -> Path:
        return self.state_dir / "nats"

    @property
    def pg(self) -> Path:
        return self.state_dir / "pg"

    @property
    def backup(self) -> Path:
        return self.state_dir / "backup"

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.env"

    @property
    def stack_env_file(self) -> Path:
        """The environment the running stack gave its services (for `sodan-dev env`)."""
        return self.state_dir / "stack.env"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.pids / f"{name}.json"

    def create(self) -> None:
        for directory in (self.state_dir, self.logs, self.pids, self.nats, self.backup):
            directory.mkdir(parents=True, exist_ok=True)
