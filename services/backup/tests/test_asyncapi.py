from sodan_backup.main import ASYNCAPI_PATH, generate_asyncapi


def test_committed_asyncapi_matches_the_code() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == generate_asyncapi(), (
        "services/backup/asyncapi.yaml is stale: run `sodan-backup asyncapi` and commit it"
    )
