from sodan_triage.main import ASYNCAPI_PATH, asyncapi_document


def test_committed_asyncapi_document_matches_the_code() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == asyncapi_document(), (
        "services/triage/asyncapi.yaml is stale: run `sodan-triage asyncapi` and commit it"
    )
