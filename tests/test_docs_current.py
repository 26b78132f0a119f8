"""Generated documentation must match the code it describes."""

from pathlib import Path

from sodan_devstack.docs import render

ROOT = Path(__file__).resolve().parents[1]


def test_architecture_doc_lists_the_subjects_and_tables_the_code_has() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert render(doc) == doc, "docs/architecture.md is stale: run `make docs` and commit it"
