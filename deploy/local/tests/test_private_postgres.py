from __future__ import annotations

import os
import stat

import psycopg
from sodan_devstack.postgres import PrivatePostgres, to_libpq_url


def test_the_private_cluster_runs_unprivileged_and_serves_the_sodan_database(
    private_postgres: PrivatePostgres,
) -> None:
    pg = private_postgres
    assert pg.is_running()
    with psycopg.connect(to_libpq_url(pg.url), connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT current_database(), current_setting('server_encoding')"
        ).fetchone()
        assert row == ("sodan", "UTF8")
        if os.geteuid() == 0:
            # the server process does not run as root
            owner = pg.data_dir.stat().st_uid
            assert owner != 0
    assert stat.S_IMODE(pg.data_dir.stat().st_mode) in (0o700, 0o750)


def test_bootstrapping_again_reuses_the_running_cluster(private_postgres: PrivatePostgres) -> None:
    messages: list[str] = []
    assert private_postgres.bootstrap(messages.append) is False
    assert any("already running" in m for m in messages)
