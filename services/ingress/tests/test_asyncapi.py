from __future__ import annotations

from sodan_ingress.main import ASYNCAPI_PATH, render_asyncapi


def test_committed_asyncapi_matches_the_code() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == render_asyncapi(), (
        "services/ingress/asyncapi.yaml is stale: run `sodan-ingress asyncapi` and commit it"
    )
