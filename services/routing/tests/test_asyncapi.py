from sodan_routing.main import ASYNCAPI_PATH, asyncapi_document


def test_committed_asyncapi_document_matches_the_code() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == asyncapi_document(), (
        "services/routing/asyncapi.yaml is stale: run `sodan-routing asyncapi` and commit it"
    )
