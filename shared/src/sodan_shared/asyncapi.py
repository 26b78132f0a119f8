"""Generated AsyncAPI documents: the message contract, never hand-written."""

from __future__ import annotations

from pathlib import Path

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI


def asyncapi_yaml(broker: NatsBroker, *, title: str, description: str) -> str:
    spec = AsyncAPI(
        broker, title=title, version="1", description=description, schema_version="3.0.0"
    )
    return spec.to_specification().to_yaml()


def write_if_changed(path: Path, content: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return False
    path.write_text(content, encoding="utf-8")
    return True
