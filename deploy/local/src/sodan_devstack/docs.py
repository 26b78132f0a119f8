"""Generates the parts of docs/architecture.md that the code already says.

The subjects, streams and tables are read from the code itself, so the
document cannot drift: `make docs` rewrites the generated blocks and a test
fails when they are out of date.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

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


def render(document: str) -> str:
    generators = {"subjects": subjects_markdown, "tables": tables_markdown}

    def replace(match: re.Match[str]) -> str:
        return match.group(1) + generators[match.group("name")]() + match.group(3)

    return _BLOCK.sub(replace, document)


def update(path: Path) -> bool:
    """Rewrite the generated blocks; True when the file changed."""
    old = path.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
