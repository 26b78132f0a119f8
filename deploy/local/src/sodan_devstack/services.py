"""What the dev stack runs, and the environment it gives each service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SIMULATOR_URL = "http://127.0.0.1:{port}"
DEMO_WEBHOOK_PATH = "/line/webhook/demo"

# Defaults an operator may override (in the environment or .env).
SERVICE_PORT_DEFAULTS: dict[str, str] = {
    "SODAN_CONSOLE_PORT": "8000",
    "SODAN_INGRESS_PORT": "8001",
    "SODAN_REPORTING_PORT": "8003",
    "SODAN_SIM_PORT": "8090",
}


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # short name, used for the output prefix, log file and pid file
    executable: str  # console script in the venv's bin
    args: tuple[str, ...]
    health_url: str | None  # GET answers < 500 once the service is up
    package: str  # the workspace folder that provides the executable (for error messages)
    port_key: str | None = None  # the variable naming the port it listens on, if any


@dataclass(frozen=True)
class PrepareStep:
    executable: str
    args: tuple[str, ...]
    package: str


PREPARE_STEPS: tuple[PrepareStep, ...] = (
    PrepareStep("sodan-console", ("migrate",), "services/console-api"),
    PrepareStep("sodan-console", ("seed-demo",), "services/console-api"),
)


def service_specs(env: Mapping[str, str]) -> list[ServiceSpec]:
    """The services in start order; health URLs follow the ports in `env`."""

    def health(port_key: str, path: str) -> str:
        return f"http://127.0.0.1:{env[port_key]}{path}"

    return [
        ServiceSpec(
            "ingress", "sodan-ingress", ("run",), health("SODAN_INGRESS_PORT", "/healthz"),
            "services/ingress", "SODAN_INGRESS_PORT",
        ),
        ServiceSpec("triage", "sodan-triage", ("run",), None, "services/triage"),
        ServiceSpec("routing", "sodan-routing", ("run",), None, "services/routing"),
        ServiceSpec(
            "console", "sodan-console", ("run",), health("SODAN_CONSOLE_PORT", "/healthz"),
            "services/console-api", "SODAN_CONSOLE_PORT",
        ),
        ServiceSpec(
            "reporting", "sodan-reporting", ("run",), health("SODAN_REPORTING_PORT", "/healthz"),
            "services/reporting", "SODAN_REPORTING_PORT",
        ),
        ServiceSpec("backup", "sodan-backup", ("run",), None, "services/backup"),
        ServiceSpec(
            "line-sim", "sodan-line-sim", ("serve",), health("SODAN_SIM_PORT", "/"),
            "tools/line-simulator", "SODAN_SIM_PORT",
        ),
    ]  # fmt: skip


def child_env(
    base: Mapping[str, str],
    *,
    nats_url: str,
    database_url: str,
    secrets: Mapping[str, str],
    backup_dir: Path,
    bin_dir: Path,
) -> dict[str, str]:
    """The environment every service gets.

    The stack's own facts (environment name, NATS, database) always win; everything else
    is a default the operator's environment or `.env` may override.
    """
    env = dict(base)
    for key, value in secrets.items():
        env.setdefault(key, value)
    for key, value in SERVICE_PORT_DEFAULTS.items():
        env.setdefault(key, value)
    simulator = SIMULATOR_URL.format(port=env["SODAN_SIM_PORT"])
    env.setdefault("SODAN_LINE_API_BASE", simulator)
    env.setdefault("SODAN_LINE_DATA_API_BASE", simulator)
    env.setdefault(
        "SODAN_SIM_WEBHOOK_URL", f"http://127.0.0.1:{env['SODAN_INGRESS_PORT']}{DEMO_WEBHOOK_PATH}"
    )
    env.setdefault("SODAN_BACKUP_DIR", str(backup_dir))
    env.setdefault("SODAN_LOG_FORMAT", "console")
    env["SODAN_ENVIRONMENT"] = "development"
    env["SODAN_NATS_URL"] = nats_url
    env["SODAN_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    path = env.get("PATH", "")
    if str(bin_dir) not in path.split(":"):
        env["PATH"] = f"{bin_dir}:{path}" if path else str(bin_dir)
    return env


def stack_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The part of a child environment worth showing (`sodan-dev env`): every SODAN_* one."""
    return {
        key: value
        for key, value in env.items()
        if key.startswith("SODAN_") and not key.startswith("SODAN_DEV_")
    }


def missing_executables(names: list[str], bin_dir: Path, packages: Mapping[str, str]) -> list[str]:
    """One readable line per executable that is not in `bin_dir`."""
    lines = []
    for name in dict.fromkeys(names):
        if not (bin_dir / name).exists():
            lines.append(
                f"  {name}: not in {bin_dir} — {packages[name]} does not provide it yet "
                f"(its pyproject needs [project.scripts] {name} = ...; then "
                "`uv sync --all-packages`)"
            )
    return lines
