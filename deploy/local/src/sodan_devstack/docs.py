"""Generates the parts of docs/architecture.md that the code already says, and
whole documents such as the console API's OpenAPI description.

The subjects, streams, tables and API are read from the code itself, so the
documents cannot drift: `make docs` rewrites them and a test fails when they
are out of date.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings
from sqlalchemy import MetaData

SERVICE_TABLE_MODULES: dict[str, str] = {
    "ingress": "sodan_ingress.db.tables",
    "triage": "sodan_triage.db.tables",
    "routing": "sodan_routing.db.tables",
    "console-api": "sodan_console.db.tables",
    "reporting": "sodan_reporting.db.tables",
    "backup": "sodan_backup.db.tables",
    "shared keyring": "sodan_shared.crypto",
}

_BLOCK = re.compile(
    r"(<!-- generated:(?P<name>[a-z-]+) -->\n).*?(<!-- /generated:(?P=name) -->)", re.DOTALL
)


def subjects_markdown() -> str:
    from sodan_shared.subjects import ALL_SUBJECTS, STREAMS

    lines = ["| stream | subjects | what it holds |", "|---|---|---|"]
    lines += [f"| `{s.name}` | `{' '.join(s.subjects)}` | {s.description} |" for s in STREAMS]
    lines += ["", "| subject | stream | event | version |", "|---|---|---|---|"]
    for subject in ALL_SUBJECTS:
        event = subject.event
        lines.append(
            f"| `{subject.name}` | {subject.stream.name} | `{event.__name__}` "
            f"(`{event.TYPE}`) | {event.VERSION} |"
        )
    return "\n".join(lines) + "\n"


def _metadatas(module_name: str) -> list[MetaData]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return []
    return [value for value in vars(module).values() if isinstance(value, MetaData)]


def tables_markdown() -> str:
    lines = ["| owner | table | columns |", "|---|---|---|"]
    for owner, module_name in SERVICE_TABLE_MODULES.items():
        for metadata in _metadatas(module_name):
            for table in metadata.sorted_tables:
                columns = ", ".join(column.name for column in table.columns)
                lines.append(f"| {owner} | `{table.fullname}` | {columns} |")
    return "\n".join(lines) + "\n"


SERVICE_SETTINGS_MODULES: dict[str, str] = {
    "ingress": "sodan_ingress.settings",
    "triage": "sodan_triage.settings",
    "routing": "sodan_routing.settings",
    "console-api": "sodan_console.settings",
    "reporting": "sodan_reporting.settings",
    "backup": "sodan_backup.settings",
    "line simulator": "line_simulator.settings",
    "dev stack": "sodan_devstack.settings",
}


def _settings_classes(module_name: str) -> list[type[BaseSettings]]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return []
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseSettings)
        and value.__module__ == module_name
    ]


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "(required)"
    default = field.get_default(call_default_factory=True)
    if isinstance(default, SecretStr):
        return "(demo value; set in production)"
    return f"`{default}`" if default not in ("", None) else "(empty)"


def _settings_rows(owner: str, cls: type[BaseSettings], skip: set[str]) -> list[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    rows = []
    for name, field in cls.model_fields.items():
        if name in skip:
            continue
        env = f"{prefix}{name}".upper()
        meaning = (field.description or "").replace("|", "/")
        rows.append(f"| {owner} | `{env}` | {_default_text(field)} | {meaning} |")
    return rows


def settings_markdown() -> str:
    """Every environment variable each service reads, with its default."""
    from sodan_shared.settings import LineChannelSettings, SodanSettings

    common = set(SodanSettings.model_fields)
    line = set(LineChannelSettings.model_fields)
    lines = ["| who | variable | default | meaning |", "|---|---|---|---|"]
    lines += _settings_rows("every service", SodanSettings, {"service_name"})
    lines += _settings_rows("services that call LINE", LineChannelSettings, common)
    for owner, module_name in SERVICE_SETTINGS_MODULES.items():
        for cls in _settings_classes(module_name):
            lines += _settings_rows(owner, cls, line | {"service_name"})
    return "\n".join(lines) + "\n"


def render(document: str) -> str:
    generators = {
        "subjects": subjects_markdown,
        "tables": tables_markdown,
        "settings": settings_markdown,
    }

    def replace(match: re.Match[str]) -> str:
        return match.group(1) + generators[match.group("name")]() + match.group(3)

    return _BLOCK.sub(replace, document)


GENERATED_DOCS = ("architecture.md", "operations.md")


def console_openapi_json() -> str:
    """The console API as the app itself describes it (the page and the client use it)."""
    module = importlib.import_module("sodan_console.main")
    settings = importlib.import_module("sodan_console.settings").ConsoleSettings
    # Fixed settings: the document must not depend on the machine's environment.
    app = module.create_app(settings(nats_url="nats://127.0.0.1:4222", _env_file=None))
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2) + "\n"


# Whole files under docs/, written by a generator.
GENERATED_FILES: dict[str, Callable[[], str]] = {"console-openapi.json": console_openapi_json}


def write_generated(path: Path, generate: Callable[[], str]) -> bool:
    """Write a generated file; True when it changed."""
    new = generate()
    if path.exists() and path.read_text(encoding="utf-8") == new:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def update(path: Path) -> bool:
    """Rewrite the generated blocks; True when the file changed."""
    old = path.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
