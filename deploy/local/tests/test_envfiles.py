from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from sodan_devstack.envfiles import (
    ensure_secrets,
    format_exports,
    load_operator_env,
    merge_operator_env,
    parse_env_file,
)


def test_env_file_reads_key_values_comments_quotes_and_export() -> None:
    text = "# comment\n\nA=1\nexport B = two words \nC='quoted # not a comment'\nD=\"x\"\nE=\n"
    assert parse_env_file(text) == {
        "A": "1",
        "B": "two words",
        "C": "quoted # not a comment",
        "D": "x",
        "E": "",
    }


def test_env_file_rejects_a_line_without_equals() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_env_file("A=1\nnonsense\n")


def test_the_environment_wins_over_the_env_file() -> None:
    merged = merge_operator_env({"A": "from-env"}, {"A": "from-file", "B": "file-only"})
    assert merged == {"A": "from-env", "B": "file-only"}


def test_a_missing_env_file_changes_nothing(tmp_path: Path) -> None:
    assert load_operator_env(tmp_path / ".env", {"X": "1"}) == {"X": "1"}


def test_secrets_are_generated_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    first, created = ensure_secrets(path)
    again, created_again = ensure_secrets(path)

    assert created and not created_again
    assert again == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first["SODAN_MASTER_KEY_ID"] == "k1"
    key_id, _, key = first["SODAN_MASTER_KEYS"].partition(":")
    assert key_id == "k1"
    assert len(base64.b64decode(key)) == 32


def test_exports_are_shell_quoted() -> None:
    assert format_exports({"B": "two words", "A": "x"}) == "export A=x\nexport B='two words'\n"
