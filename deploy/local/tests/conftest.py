from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sodan_devstack.nats import free_port
from sodan_devstack.postgres import (
    PrivatePostgres,
    choose_pg_base_dir,
    debian_bin_dirs,
    ensure_system_user,
    find_pg_bin_dir,
    traversable_by_others,
)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A throwaway PostgreSQL cluster on a free port, run as an unprivileged user when we
    are root — the same code path `sodan-dev up` takes. Never touches a system cluster."""
    bin_dir = find_pg_bin_dir(debian_bin_dirs())
    assert bin_dir is not None, "PostgreSQL server binaries missing: make system-deps installs them"
    user = ensure_system_user("sodan-pg", lambda _: None) if os.geteuid() == 0 else None
    # pytest's tmp dirs are 0700, so the cluster goes where the other user can reach it —
    # the fallback `sodan-dev up` uses when the state dir is not traversable.
    parent = Path(tempfile.mkdtemp(prefix="sodan-devstack-test-", dir="/var/tmp"))
    parent.chmod(0o755)
    preferred = Path(tempfile.mkdtemp(prefix="sodan-devstack-test-")) / "pg"
    base_dir = choose_pg_base_dir(
        preferred=preferred,
        repo_root=preferred.parent,
        needs_other_user=user is not None,
        reachable=traversable_by_others(preferred.parent),
        fallback_parent=parent,
    )
    pg = PrivatePostgres(bin_dir=bin_dir, base_dir=base_dir, port=free_port(), user=user)
    try:
        pg.bootstrap(lambda _: None)
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(parent, ignore_errors=True)
        shutil.rmtree(preferred.parent, ignore_errors=True)
