"""Generated AsyncAPI documents: the message contract, never hand-written."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI


def _stable_order(document: str) -> str:
    """FastStream keeps publishers in a WeakSet, so their order changes from run to
    run; sort the sections that list them so the committed file can be compared."""
    data: dict[str, Any] = yaml.safe_load(document)
    for key in ("channels", "operations"):
        if isinstance(data.get(key), dict):
            data[key] = dict(sorted(data[key].items()))
    components = data.get("components") or {}
    for key in ("messages", "schemas"):
        if isinstance(components.get(key), dict):
            components[key] = dict(sorted(components[key].items()))
    out = StringIO(newline="\n")
    yaml.dump(data, out, sort_keys=False, allow_unicode=True)
    return out.getvalue()


def asyncapi_yaml(broker: NatsBroker, *, title: str, description: str) -> str:
    spec = AsyncAPI(
        broker, title=title, version="1", description=description, schema_version="3.0.0"
    )
    return _stable_order(spec.to_specification().to_yaml())


def write_if_changed(path: Path, content: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return False
    path.write_text(content, encoding="utf-8")
    return True


def asyncapi_command(
    render: Callable[[], str], default_path: Path
) -> Callable[[Sequence[str]], int]:
    """The ``sodan-<service> asyncapi [PATH|-]`` command every service offers."""

    def command(args: Sequence[str]) -> int:
        content = render()
        if args and args[0] == "-":
            sys.stdout.write(content)
            return 0
        path = Path(args[0]) if args else default_path
        changed = write_if_changed(path, content)
        print(f"{path}: {'updated' if changed else 'unchanged'}")
        return 0

    return command
