from __future__ import annotations

from pathlib import Path

import pytest
from sodan_devstack.layout import StateLayout, find_repo_root


def test_repo_root_is_the_nearest_dir_with_uv_lock(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("")
    nested = tmp_path / "services" / "x"
    nested.mkdir(parents=True)
    assert find_repo_root(nested) == tmp_path.resolve()


def test_no_uv_lock_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SODAN_DEV_STATE_DIR"):
        find_repo_root(tmp_path)


def test_layout_creates_its_dirs(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path / ".run")
    layout.create()
    assert layout.logs.is_dir() and layout.pids.is_dir() and layout.backup.is_dir()
    assert layout.log_file("ingress") == tmp_path / ".run" / "logs" / "ingress.log"
