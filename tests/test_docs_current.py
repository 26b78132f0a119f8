"""Generated documentation must match the code it describes."""

from pathlib import Path

import pytest
from sodan_devstack.docs import GENERATED_DOCS, GENERATED_FILES, render

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", GENERATED_DOCS)
def test_generated_docs_match_the_code(name: str) -> None:
    doc = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert render(doc) == doc, f"docs/{name} is stale: run `make docs` and commit it"


@pytest.mark.parametrize("name", GENERATED_FILES)
def test_generated_files_match_the_code(name: str) -> None:
    current = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert GENERATED_FILES[name]() == current, (
        f"docs/{name} is stale: run `make docs` and commit it"
    )
