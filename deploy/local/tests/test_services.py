from __future__ import annotations

from pathlib import Path

from sodan_devstack.services import (
    child_env,
    missing_executables,
    service_specs,
    stack_variables,
)

BIN = Path("/repo/.venv/bin")


def _env(base: dict[str, str]) -> dict[str, str]:
    return child_env(
        base,
        nats_url="nats://127.0.0.1:4223",
        database_url="postgresql+psycopg://postgres@127.0.0.1:5433/sodan",
        secrets={"SODAN_MASTER_KEYS": "k1:abc", "SODAN_MASTER_KEY_ID": "k1"},
        backup_dir=Path("/repo/.run/backup"),
        bin_dir=BIN,
    )


def test_services_get_the_whole_dev_environment() -> None:
    env = _env({"PATH": "/usr/bin"})
    assert env["SODAN_ENVIRONMENT"] == "development"
    assert env["SODAN_NATS_URL"] == "nats://127.0.0.1:4223"
    assert env["SODAN_DATABASE_URL"] == "postgresql+psycopg://postgres@127.0.0.1:5433/sodan"
    assert env["SODAN_MASTER_KEYS"] == "k1:abc" and env["SODAN_MASTER_KEY_ID"] == "k1"
    assert env["SODAN_LINE_API_BASE"] == "http://127.0.0.1:8090"
    assert env["SODAN_LINE_DATA_API_BASE"] == "http://127.0.0.1:8090"
    assert env["SODAN_CONSOLE_PORT"] == "8000"
    assert env["SODAN_INGRESS_PORT"] == "8001"
    assert env["SODAN_REPORTING_PORT"] == "8003"
    assert env["SODAN_SIM_PORT"] == "8090"
    assert env["SODAN_SIM_WEBHOOK_URL"] == "http://127.0.0.1:8001/line/webhook/demo"
    assert env["SODAN_BACKUP_DIR"] == "/repo/.run/backup"
    assert env["SODAN_LOG_FORMAT"] == "console"
    assert env["PATH"] == "/repo/.venv/bin:/usr/bin"


def test_line_credentials_are_left_to_the_operator() -> None:
    assert "SODAN_LINE_CHANNEL_SECRET" not in _env({})
    assert _env({"SODAN_LINE_CHANNEL_SECRET": "real"})["SODAN_LINE_CHANNEL_SECRET"] == "real"


def test_the_operator_overrides_defaults_but_not_the_stack_facts() -> None:
    env = _env(
        {
            "SODAN_LINE_API_BASE": "https://api.line.me",
            "SODAN_INGRESS_PORT": "9001",
            "SODAN_MASTER_KEYS": "k9:own",
            "SODAN_NATS_URL": "nats://elsewhere:4222",
            "SODAN_ENVIRONMENT": "production",
        }
    )
    assert env["SODAN_LINE_API_BASE"] == "https://api.line.me"
    assert env["SODAN_LINE_DATA_API_BASE"] == "http://127.0.0.1:8090"
    assert env["SODAN_SIM_WEBHOOK_URL"] == "http://127.0.0.1:9001/line/webhook/demo"
    assert env["SODAN_MASTER_KEYS"] == "k9:own"
    assert env["SODAN_NATS_URL"] == "nats://127.0.0.1:4223"
    assert env["SODAN_ENVIRONMENT"] == "development"


def test_health_urls_follow_the_ports() -> None:
    specs = {s.name: s for s in service_specs(_env({"SODAN_CONSOLE_PORT": "18000"}))}
    assert specs["console"].health_url == "http://127.0.0.1:18000/healthz"
    assert specs["ingress"].health_url == "http://127.0.0.1:8001/healthz"
    assert specs["reporting"].health_url == "http://127.0.0.1:8003/healthz"
    assert specs["line-sim"].health_url == "http://127.0.0.1:8090/"
    assert specs["triage"].health_url is None
    assert [s.executable for s in specs.values()] == [
        "sodan-ingress", "sodan-triage", "sodan-routing", "sodan-console",
        "sodan-reporting", "sodan-backup", "sodan-line-sim",
    ]  # fmt: skip


def test_only_sodan_variables_are_shown_and_not_the_dev_stack_knobs() -> None:
    shown = stack_variables({"SODAN_A": "1", "SODAN_DEV_PG_PORT": "1", "HOME": "/root"})
    assert shown == {"SODAN_A": "1"}


def test_a_missing_executable_names_the_package_that_should_provide_it(tmp_path: Path) -> None:
    (tmp_path / "sodan-triage").write_text("")
    lines = missing_executables(
        ["sodan-triage", "sodan-console", "sodan-console"],
        tmp_path,
        {"sodan-triage": "services/triage", "sodan-console": "services/console-api"},
    )
    assert len(lines) == 1
    assert "sodan-console" in lines[0] and "services/console-api" in lines[0]
