"""PostgreSQL for the dev stack: the operator's database if it answers, else a private cluster.

Decisions (which database, where the data dir goes, which binaries, how to run as another
user) are plain functions; `PrivatePostgres` does the process plumbing with them.
"""

from __future__ import annotations

import enum
import hashlib
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_DATABASE = "sodan"
SUPERUSER = "postgres"
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"


# --- URLs ----------------------------------------------------------------------------------


def configured_database_url(env: Mapping[str, str]) -> str | None:
    """The operator's database, if any: SODAN_DATABASE_URL first, then DATABASE_URL."""
    for key in ("SODAN_DATABASE_URL", "DATABASE_URL"):
        value = env.get(key, "").strip()
        if value:
            return value
    return None


def to_sqlalchemy_url(url: str) -> str:
    """`postgres://`, `postgresql://` or `postgresql+driver://` -> `postgresql+psycopg://`."""
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"postgres(ql)?(\+\w+)?", scheme):
        raise ValueError(f"not a PostgreSQL URL: {redact_url(url)}")
    return f"postgresql+psycopg://{rest}"


def to_libpq_url(url: str) -> str:
    """The same URL in the form libpq (psycopg.connect) accepts."""
    return "postgresql://" + to_sqlalchemy_url(url).partition("://")[2]


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or SUPERUSER


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def private_database_url(port: int, database: str = DEFAULT_DATABASE) -> str:
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{database}"


# --- which database ------------------------------------------------------------------------


class Probe(enum.Enum):
    ANSWERS = "answers"
    MISSING_DATABASE = "missing database"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class UseConfigured:
    url: str
    create_database: bool


@dataclass(frozen=True)
class UsePrivate:
    reason: str


PostgresChoice = UseConfigured | UsePrivate


def choose_postgres(*, configured_url: str | None, probe: Probe | None) -> PostgresChoice:
    """Use the operator's database when it answers (creating the named database if it is
    missing), otherwise run a private cluster."""
    if configured_url is None:
        return UsePrivate("no DATABASE_URL / SODAN_DATABASE_URL set")
    if probe is Probe.ANSWERS:
        return UseConfigured(to_sqlalchemy_url(configured_url), create_database=False)
    if probe is Probe.MISSING_DATABASE:
        return UseConfigured(to_sqlalchemy_url(configured_url), create_database=True)
    return UsePrivate(f"the configured database {redact_url(configured_url)} does not answer")


def probe_database(url: str, *, timeout: int = 3) -> tuple[Probe, str]:
    """Try to connect; tell apart "the server answers but the database is missing"."""
    try:
        with psycopg.connect(to_libpq_url(url), connect_timeout=timeout, autocommit=True):
            return Probe.ANSWERS, ""
    except (psycopg.Error, ValueError) as error:
        message = str(error).strip()
        if getattr(error, "sqlstate", None) == "3D000" or (
            "database" in message and "does not exist" in message
        ):
            return Probe.MISSING_DATABASE, message
        return Probe.UNREACHABLE, message


def create_database(url: str, *, timeout: int = 5) -> bool:
    """Create the database the URL names, via the server's `postgres` database.

    Returns True if it was created, False if it already existed.
    """
    name = database_name(url)
    admin = with_database(to_libpq_url(url), SUPERUSER)
    with psycopg.connect(admin, connect_timeout=timeout, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


# --- where the private cluster lives -------------------------------------------------------


def find_pg_bin_dir(
    candidates: Iterable[Path], which: Callable[[str], str | None] = shutil.which
) -> Path | None:
    """The newest Debian-style `/usr/lib/postgresql/<version>/bin` with initdb, else PATH's."""

    def version(bin_dir: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", bin_dir.parent.name)
        return tuple(int(d) for d in digits) or (0,)

    usable = [c for c in candidates if (c / "initdb").is_file() and (c / "pg_ctl").is_file()]
    if usable:
        return max(usable, key=version)
    initdb = which("initdb")
    if initdb and which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def debian_bin_dirs() -> list[Path]:
    return sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")))


def traversable_by_others(path: Path, stat_fn: Callable[[Path], os.stat_result] = os.stat) -> bool:
    """Whether an unrelated user can reach `path`: every existing ancestor has o+x."""
    for ancestor in (path, *path.parents):
        try:
            mode = stat_fn(ancestor).st_mode
        except FileNotFoundError:
            continue
        if not mode & stat.S_IXOTH:
            return False
    return True


def choose_pg_base_dir(
    *,
    preferred: Path,
    repo_root: Path,
    needs_other_user: bool,
    reachable: bool,
    fallback_parent: Path,
) -> Path:
    """`.run/pg` normally; when PostgreSQL runs as another user that cannot reach it, a dir
    under `fallback_parent` named after the repo root (so each checkout gets its own)."""
    if not needs_other_user or reachable:
        return preferred
    digest = hashlib.sha256(str(repo_root).encode()).hexdigest()[:12]
    return fallback_parent / f"sodan-{digest}" / "pg"


def as_user(argv: Sequence[str], user: str | None, *, runuser: str | None) -> list[str]:
    """The command line that runs `argv` as `user` (None: as ourselves)."""
    if user is None:
        return list(argv)
    if runuser:
        return [runuser, "-u", user, "--", *argv]
    return ["su", user, "-s", "/bin/sh", "-c", shlex.join(argv)]


def initdb_args(bin_dir: Path, data_dir: Path, *, with_locale: bool) -> list[str]:
    locale = ["--locale=C.UTF-8"] if with_locale else ["--no-locale"]
    return [
        str(bin_dir / "initdb"),
        f"--pgdata={data_dir}",
        f"--username={SUPERUSER}",
        "--auth=trust",
        "--encoding=UTF8",
        *locale,
    ]


# Unix socket paths are limited to ~107 bytes; leave room for "/.s.PGSQL.NNNNN".
MAX_SOCKET_DIR = 90


def server_config(*, port: int, socket_dir: Path) -> str:
    sockets = str(socket_dir) if len(str(socket_dir)) <= MAX_SOCKET_DIR else ""
    return (
        "# written by sodan-dev on every start\n"
        f"port = {port}\n"
        "listen_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{sockets}'\n"
        "max_connections = 200\n"
    )


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- the private cluster -------------------------------------------------------------------


class PostgresError(RuntimeError):
    pass


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_system_user(name: str, say: Callable[[str], None]) -> str:
    """An unprivileged user to run PostgreSQL as: `name` (created if needed), else nobody."""
    if user_exists(name):
        return name
    useradd = shutil.which("useradd")
    if useradd:
        say(f"creating system user {name!r} to run PostgreSQL (initdb refuses to run as root)")
        result = subprocess.run(  # noqa: S603 - fixed binary, our own arguments
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0 and user_exists(name):
            return name
        say(f"useradd failed ({result.stderr.strip()}); falling back to 'nobody'")
    return "nobody"


def install_postgres_with_apt(say: Callable[[str], None]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        say(f"PostgreSQL server binaries not found; running: {shlex.join(argv)}")
        if subprocess.run(argv, env=env, check=False).returncode != 0:  # noqa: S603
            raise PostgresError(f"{shlex.join(argv)} failed; install PostgreSQL by hand")


def locate_or_install_binaries(say: Callable[[str], None]) -> Path:
    found = find_pg_bin_dir(debian_bin_dirs())
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        install_postgres_with_apt(say)
        found = find_pg_bin_dir(debian_bin_dirs())
        if found:
            return found
    raise PostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them "
        "(Debian: `sudo apt-get install postgresql`), or set DATABASE_URL to a database "
        "that answers."
    )


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own: `base_dir/{data,socket,postgres.log}`."""

    bin_dir: Path
    base_dir: Path
    port: int
    user: str | None  # None: run as ourselves (we are not root)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def url(self) -> str:
        return private_database_url(self.port)

    def _run(self, argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = as_user(argv, self.user, runuser=shutil.which("runuser"))
        result = subprocess.run(  # noqa: S603 - our own binaries and arguments
            command, capture_output=True, text=True, check=False, cwd="/"
        )
        if check and result.returncode != 0:
            raise PostgresError(
                f"{Path(argv[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result

    def _give_to_user(self, path: Path) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def prepare_dirs(self) -> None:
        for directory in (self.base_dir, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            self._give_to_user(directory)
            directory.chmod(0o700)

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def init(self) -> None:
        """initdb (C.UTF-8 locale, falling back to --no-locale) and hook in our config file."""
        try:
            self._run(initdb_args(self.bin_dir, self.data_dir, with_locale=True))
        except PostgresError:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._run(initdb_args(self.bin_dir, self.data_dir, with_locale=False))
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\ninclude_if_exists = 'sodan-dev.conf'\n")

    def write_config(self) -> None:
        conf = self.data_dir / "sodan-dev.conf"
        conf.write_text(server_config(port=self.port, socket_dir=self.socket_dir))
        self._give_to_user(conf)
        log = self.log_file
        log.touch()
        self._give_to_user(log)

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        status = self._run(
            [str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False
        )
        return status.returncode == 0

    def start(self) -> None:
        self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "start",
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-w", "-t", "60",
            ]
        )  # fmt: skip

    def stop(self) -> None:
        if self.is_running():
            self._run(
                [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"]
            )

    def bootstrap(self, say: Callable[[str], None]) -> bool:
        """Create (first time), configure and start the cluster, and create the database.

        Returns False when the cluster was already running (left over), True when started.
        """
        self.prepare_dirs()
        if not self.initialized:
            say(f"initialising a private PostgreSQL cluster in {self.data_dir}")
            self.init()
        if self.is_running():
            say("the private PostgreSQL cluster is already running; using it")
            started = False
        else:
            if port_in_use(self.port):
                raise PostgresError(
                    f"port {self.port} is already in use, so the private PostgreSQL cannot "
                    "listen there: set SODAN_DEV_PG_PORT to a free port, or DATABASE_URL to a "
                    "database that answers"
                )
            self.write_config()
            say(f"starting PostgreSQL on 127.0.0.1:{self.port} (log: {self.log_file})")
            self.start()
            started = True
        if create_database(self.url):
            say(f"created database {DEFAULT_DATABASE!r}")
        return started

    def describe(self) -> dict[str, str | int | None]:
        return {
            "bin_dir": str(self.bin_dir),
            "base_dir": str(self.base_dir),
            "port": self.port,
            "user": self.user,
        }

    @classmethod
    def from_description(cls, description: Mapping[str, object]) -> PrivatePostgres:
        user = description.get("user")
        return cls(
            bin_dir=Path(str(description["bin_dir"])),
            base_dir=Path(str(description["base_dir"])),
            port=int(str(description["port"])),
            user=str(user) if user is not None else None,
        )


@contextmanager
def private_cluster(base_dir: Path) -> Iterator[PrivatePostgres]:
    """A throwaway cluster on a free port, removed after; the fault drills stop and
    start it (``pg.stop()``, ``pg.start()``) to play a database outage."""
    from sodan_devstack.nats import free_port

    def say(line: str) -> None:
        print(f"[tests] {line}", flush=True)

    bin_dir = locate_or_install_binaries(say)
    user = ensure_system_user("sodan-pg", say) if os.geteuid() == 0 else None
    if user is not None and not traversable_by_others(base_dir.parent):
        base_dir = choose_pg_base_dir(
            preferred=base_dir,
            repo_root=base_dir,
            needs_other_user=True,
            reachable=False,
            fallback_parent=Path("/var/tmp"),  # noqa: S108 - a per-checkout dir, removed after
        )
    pg = PrivatePostgres(bin_dir=bin_dir, base_dir=base_dir, port=free_port(), user=user)
    pg.bootstrap(say)
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(base_dir, ignore_errors=True)  # throwaway: never reused


@contextmanager
def private_cluster_for_tests(base_dir: Path) -> Iterator[str]:
    """A throwaway cluster for a test run where no PostgreSQL answers.

    Yields a libpq admin URL (database ``postgres``); the cluster is stopped after.
    """
    with private_cluster(base_dir) as pg:
        yield admin_url(pg)


def admin_url(pg: PrivatePostgres) -> str:
    """libpq URL of the cluster's ``postgres`` database, to create databases on."""
    return to_libpq_url(with_database(pg.url, "postgres"))
