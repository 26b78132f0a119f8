"""The service's AsyncAPI document, in a stable order.

FastStream keeps subscribers in a WeakSet, so the order of channels in
``sodan_shared.asyncapi.asyncapi_yaml`` changes between processes; the
committed document must not, so every mapping is sorted here.
"""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI


def _sorted(mapping: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if mapping is None else dict(sorted(mapping.items()))


def stable_asyncapi_yaml(broker: NatsBroker, *, title: str, description: str) -> str:
    spec: Any = AsyncAPI(
        broker, title=title, version="1", description=description, schema_version="3.0.0"
    ).to_specification()
    update: dict[str, Any] = {
        "channels": _sorted(spec.channels),
        "operations": _sorted(spec.operations),
    }
    if spec.components is not None:
        update["components"] = spec.components.model_copy(
            update={
                "messages": _sorted(spec.components.messages),
                "schemas": _sorted(spec.components.schemas),
            }
        )
    text: str = spec.model_copy(update=update).to_yaml()
    return text
