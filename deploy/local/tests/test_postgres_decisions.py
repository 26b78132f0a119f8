from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sodan_devstack.postgres import (
    Probe,
    UseConfigured,
    UsePrivate,
    as_user,
    choose_pg_base_dir,
    choose_postgres,
    configured_database_url,
    find_pg_bin_dir,
    private_database_url,
    redact_url,
    server_config,
    to_libpq_url,
    to_sqlalchemy_url,
    traversable_by_others,
)


def test_sodan_database_url_is_preferred_over_database_url() -> None:
    env = {"DATABASE_URL": "postgresql://a/x", "SODAN_DATABASE_URL": "postgresql://b/y"}
    assert configured_database_url(env) == "postgresql://b/y"
    assert configured_database_url({"DATABASE_URL": "postgresql://a/x"}) == "postgresql://a/x"
    assert configured_database_url({"DATABASE_URL": "  "}) is None


@pytest.mark.parametrize(
    "url",
    ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+asyncpg://u@h/db"],
)
def test_every_postgres_url_becomes_the_psycopg_form(url: str) -> None:
    assert to_sqlalchemy_url(url) == "postgresql+psycopg://u@h/db"
    assert to_libpq_url(url) == "postgresql://u@h/db"


def test_a_non_postgres_url_is_refused_without_showing_the_password() -> None:
    with pytest.raises(ValueError, match=r"\*\*\*") as error:
        to_sqlalchemy_url("mysql://u:secret@h/db")
    assert "secret" not in str(error.value)


def test_passwords_are_redacted_for_printing() -> None:
    assert redact_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_the_private_url_is_what_every_service_expects() -> None:
    assert private_database_url(5433) == "postgresql+psycopg://postgres@127.0.0.1:5433/sodan"


def test_no_configured_database_means_a_private_cluster() -> None:
    assert isinstance(choose_postgres(configured_url=None, probe=None), UsePrivate)


def test_a_configured_database_that_answers_is_used() -> None:
    choice = choose_postgres(configured_url="postgresql://u@h/db", probe=Probe.ANSWERS)
    assert choice == UseConfigured("postgresql+psycopg://u@h/db", create_database=False)


def test_a_configured_server_without_the_database_gets_it_created() -> None:
    choice = choose_postgres(configured_url="postgresql://u@h/db", probe=Probe.MISSING_DATABASE)
    assert choice == UseConfigured("postgresql+psycopg://u@h/db", create_database=True)


def test_a_configured_database_that_does_not_answer_falls_back_to_private() -> None:
    choice = choose_postgres(configured_url="postgresql://u:pw@h/db", probe=Probe.UNREACHABLE)
    assert isinstance(choice, UsePrivate)
    assert "does not answer" in choice.reason and "pw" not in choice.reason


def _fake_bin(root: Path, version: str) -> Path:
    bin_dir = root / version / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        (bin_dir / name).write_text("")
    return bin_dir


def test_the_newest_server_binaries_win(tmp_path: Path) -> None:
    dirs = [_fake_bin(tmp_path, v) for v in ("9.6", "15", "13")]
    assert find_pg_bin_dir(dirs, which=lambda _: None) == tmp_path / "15" / "bin"


def test_binaries_on_path_are_the_fallback(tmp_path: Path) -> None:
    bin_dir = _fake_bin(tmp_path, "x")
    found = find_pg_bin_dir([], which=lambda name: str(bin_dir / name))
    assert found == bin_dir.resolve()
    assert find_pg_bin_dir([], which=lambda _: None) is None


def _stat_with_modes(modes: dict[Path, int]) -> Callable[[Path], os.stat_result]:
    def fake_stat(path: Path) -> os.stat_result:
        if path not in modes:
            raise FileNotFoundError(path)
        return os.stat_result((stat.S_IFDIR | modes[path], 0, 0, 0, 0, 0, 0, 0, 0, 0))

    return fake_stat


def test_a_dir_is_traversable_only_if_every_ancestor_has_o_x() -> None:
    open_modes = {Path("/"): 0o755, Path("/work"): 0o755, Path("/work/main"): 0o755}
    closed = {**open_modes, Path("/work"): 0o700}
    target = Path("/work/main/.run")  # not created yet: ignored
    assert traversable_by_others(target, _stat_with_modes(open_modes))
    assert not traversable_by_others(target, _stat_with_modes(closed))


def test_the_data_dir_moves_only_when_another_user_cannot_reach_it() -> None:
    preferred = Path("/home/me/sodan/.run/pg")
    common = {"preferred": preferred, "repo_root": Path("/home/me/sodan"),
              "fallback_parent": Path("/var/tmp")}  # fmt: skip
    assert choose_pg_base_dir(needs_other_user=False, reachable=False, **common) == preferred
    assert choose_pg_base_dir(needs_other_user=True, reachable=True, **common) == preferred
    moved = choose_pg_base_dir(needs_other_user=True, reachable=False, **common)
    assert moved.parent.parent == Path("/var/tmp")
    assert moved.parent.name.startswith("sodan-") and moved.name == "pg"
    other_repo = choose_pg_base_dir(
        needs_other_user=True, reachable=False, **{**common, "repo_root": Path("/elsewhere")}
    )
    assert other_repo != moved


def test_commands_run_as_another_user_through_runuser_or_su() -> None:
    assert as_user(["initdb", "-D", "/d"], None, runuser="/sbin/runuser") == ["initdb", "-D", "/d"]
    assert as_user(["initdb", "-D", "/d"], "pg", runuser="/sbin/runuser") == [
        "/sbin/runuser", "-u", "pg", "--", "initdb", "-D", "/d",
    ]  # fmt: skip
    assert as_user(["initdb", "-D", "/a b"], "pg", runuser=None) == [
        "su", "pg", "-s", "/bin/sh", "-c", "initdb -D '/a b'",
    ]  # fmt: skip


def test_server_listens_on_loopback_and_drops_a_socket_path_that_is_too_long() -> None:
    short = server_config(port=5433, socket_dir=Path("/w/.run/pg/socket"))
    assert "port = 5433" in short and "listen_addresses = '127.0.0.1'" in short
    assert "unix_socket_directories = '/w/.run/pg/socket'" in short
    long = server_config(port=5433, socket_dir=Path("/x" * 60))
    assert "unix_socket_directories = ''" in long
