"""`sodan-dev`: run the whole sodan stack locally (`up`), and `stop`, `status`, `env` it."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

import httpx

from sodan_devstack.docs import GENERATED_DOCS, GENERATED_FILES, write_generated
from sodan_devstack.docs import update as update_docs
from sodan_devstack.envfiles import (
    ensure_secrets,
    format_env_file,
    format_exports,
    load_operator_env,
    parse_env_file,
    write_private_file,
)
from sodan_devstack.layout import StateLayout, find_repo_root
from sodan_devstack.nats import NatsServer, nats_server_binary
from sodan_devstack.pidfiles import (
    PidRecord,
    command_line,
    is_alive,
    read_record,
    read_records,
    terminate,
    write_record,
)
from sodan_devstack.postgres import (
    PostgresError,
    PrivatePostgres,
    UseConfigured,
    UsePrivate,
    choose_pg_base_dir,
    choose_postgres,
    configured_database_url,
    create_database,
    ensure_system_user,
    locate_or_install_binaries,
    port_in_use,
    probe_database,
    redact_url,
    traversable_by_others,
)
from sodan_devstack.services import (
    PREPARE_STEPS,
    SERVICE_PORT_DEFAULTS,
    ServiceSpec,
    child_env,
    missing_executables,
    service_specs,
    stack_variables,
)
from sodan_devstack.settings import DevStackSettings
from sodan_devstack.supervisor import (
    COLOURS,
    Child,
    Console,
    RestartPolicy,
    Supervisor,
    pump,
)

SUPERVISOR = "supervisor"
NATS = "nats"
POSTGRES = "postgres"


class StackError(RuntimeError):
    """A problem the person running the stack can fix; printed without a traceback."""


# --- composition -----------------------------------------------------------------------------


def locate_root() -> Path:
    for start in (Path.cwd(), Path(__file__).parent):
        try:
            return find_repo_root(start)
        except RuntimeError:
            continue
    return Path.cwd()


def apply_operator_env(root: Path) -> None:
    """Fill os.environ from `<root>/.env` without overriding what is already set."""
    merged = load_operator_env(root / ".env", os.environ)
    for key, value in merged.items():
        os.environ.setdefault(key, value)


def layout_for(settings: DevStackSettings, root: Path) -> StateLayout:
    state_dir = settings.state_dir or root / ".run"
    return StateLayout(state_dir.resolve())


def bin_dir_for(settings: DevStackSettings) -> Path:
    return settings.bin_dir or Path(sys.executable).parent


# --- up ----------------------------------------------------------------------------------------


def check_executables(specs: Sequence[ServiceSpec], bin_dir: Path, *, prepare: bool) -> None:
    names = [s.executable for s in specs]
    packages = {s.executable: s.package for s in specs}
    if prepare:
        names = [p.executable for p in PREPARE_STEPS] + names
        packages.update({p.executable: p.package for p in PREPARE_STEPS})
    lines = missing_executables(names, bin_dir, packages)
    if lines:
        skippable = sorted({s.name for s in specs if not (bin_dir / s.executable).exists()})
        hint = " ".join(f"--skip {name}" for name in skippable)
        raise StackError(
            "some service executables are missing:\n"
            + "\n".join(lines)
            + f"\nTo run the rest anyway: sodan-dev up {hint}"
        )


def check_ports_free(specs: Sequence[ServiceSpec], env: Mapping[str, str], nats_port: int) -> None:
    """Fail before starting anything if a port the stack needs is taken."""
    wanted = [("SODAN_DEV_NATS_PORT", nats_port, "4222 is often a system NATS")]
    wanted += [(s.port_key, int(env[s.port_key]), "") for s in specs if s.port_key]
    busy = [
        f"  {key}={port} is already in use{f' ({why})' if why else ''}"
        for key, port, why in wanted
        if port_in_use(port)
    ]
    if busy:
        raise StackError(
            "ports the dev stack needs are taken:\n"
            + "\n".join(busy)
            + "\nStop what uses them, or set those variables (in the environment or .env)."
        )


def start_nats(layout: StateLayout, port: int) -> NatsServer:
    nats = NatsServer(
        store_dir=layout.nats, port=port, log_file=layout.log_file(NATS), detach=True
    ).start()
    assert nats.pid is not None
    write_record(layout.pid_file(NATS), PidRecord(NATS, nats.pid, nats_server_binary()))
    return nats


def provide_postgres(
    settings: DevStackSettings,
    layout: StateLayout,
    root: Path,
    env: Mapping[str, str],
    say: Callable[[str], None],
    started: list[PrivatePostgres],
) -> str:
    """The database URL for the services; a private cluster is appended to `started`."""
    configured = configured_database_url(env)
    probe = None
    if configured is not None:
        probe, detail = probe_database(configured)
        if detail:
            say(f"DATABASE_URL {redact_url(configured)}: {probe.value} ({detail.splitlines()[0]})")
    choice = choose_postgres(configured_url=configured, probe=probe)
    if isinstance(choice, UseConfigured):
        if choice.create_database and create_database(choice.url):
            say(f"created the database named in {redact_url(choice.url)}")
        say(f"using the configured database {redact_url(choice.url)}")
        return choice.url
    assert isinstance(choice, UsePrivate)
    say(f"running a private PostgreSQL: {choice.reason}")
    bin_dir = locate_or_install_binaries(say)
    user = None
    if os.geteuid() == 0:
        user = ensure_system_user(settings.pg_user, say)
    base_dir = choose_pg_base_dir(
        preferred=layout.pg,
        repo_root=root,
        needs_other_user=user is not None,
        reachable=traversable_by_others(layout.pg.parent),
        fallback_parent=settings.pg_fallback_parent,
    )
    if base_dir != layout.pg:
        say(
            f"{layout.pg.parent} is not reachable by user {user!r} (a parent directory lacks "
            f"o+x), so PostgreSQL's data lives in {base_dir} instead"
        )
    pg = PrivatePostgres(bin_dir=bin_dir, base_dir=base_dir, port=settings.pg_port, user=user)
    started.append(pg)
    pg.bootstrap(say)
    write_record(
        layout.pid_file(POSTGRES),
        PidRecord(POSTGRES, postmaster_pid(pg) or 0, "postgres", pg.describe()),
    )
    return pg.url


def postmaster_pid(pg: PrivatePostgres) -> int | None:
    try:
        return int((pg.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def run_prepare(
    env: Mapping[str, str], bin_dir: Path, root: Path, layout: StateLayout, console: Console
) -> None:
    for step in PREPARE_STEPS:
        argv = [str(bin_dir / step.executable), *step.args]
        console.say(f"running {step.executable} {' '.join(step.args)}")
        process = subprocess.Popen(  # noqa: S603 - our own executable
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=root,
            start_new_session=True,
        )
        try:
            assert process.stdout is not None
            pump(process.stdout, "prepare", "37", console, layout.log_file("prepare"))
            code = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if code != 0:
            raise StackError(
                f"{step.executable} {' '.join(step.args)} failed with exit code {code} "
                f"(output above and in {layout.log_file('prepare')})"
            )


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code < 500
    except httpx.HTTPError:
        return False


def this_month_in_japan() -> str:
    return datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m")


def banner(env: Mapping[str, str], layout: StateLayout, pg_log: Path | None,
           not_up: Sequence[str]) -> str:  # fmt: skip
    console_url = f"http://127.0.0.1:{env['SODAN_CONSOLE_PORT']}/"
    lines = [
        "",
        "=" * 72,
        "  sodan 開発環境が起動しました / the sodan dev stack is up",
        "=" * 72,
        f"  相談員コンソール  Console        {console_url}",
        f"  LINE シミュレータ LINE simulator http://127.0.0.1:{env['SODAN_SIM_PORT']}/",
        f"  Webhook (ingress)                {env['SODAN_SIM_WEBHOOK_URL']}",
        f"  集計・報告 Reporting             http://127.0.0.1:{env['SODAN_REPORTING_PORT']}"
        f"/api/reports/summary?month={this_month_in_japan()}",
        f"  NATS                             {env['SODAN_NATS_URL']}",
        f"  データベース Database            {redact_url(env['SODAN_DATABASE_URL'])}",
        f"  ログ Logs                        {layout.logs}/<service>.log",
    ]
    if pg_log is not None:
        lines.append(f"  PostgreSQL ログ log              {pg_log}")
    lines += [
        '  別端末で1サービスだけ動かす / run one service by hand:  eval "$(uv run sodan-dev env)"',
    ]
    if not_up:
        lines.append(
            "  まだ応答なし / not answering yet: " + ", ".join(not_up) + " — see their logs"
        )
    lines += ["", "  Ctrl-C で停止 / Ctrl-C to stop  (別端末から / from another terminal: make stop)",
              "=" * 72, ""]  # fmt: skip
    return "\n".join(lines) + "\n"


class Interrupted(Exception):
    pass


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def up(settings: DevStackSettings, root: Path, skip: Sequence[str]) -> int:
    console = Console()
    layout = layout_for(settings, root)
    say = console.say

    running = read_record(layout.pid_file(SUPERVISOR))
    if running is not None and is_alive(running):
        raise StackError(
            f"the dev stack is already running (pid {running.pid}); stop it with `sodan-dev stop`"
        )
    stop_leftovers(layout, settings, say)
    layout.create()

    env0 = {**SERVICE_PORT_DEFAULTS, **os.environ}
    unknown = set(skip) - {s.name for s in service_specs(env0)}
    if unknown:
        raise StackError(f"unknown service(s) to skip: {', '.join(sorted(unknown))}")
    specs = [s for s in service_specs(env0) if s.name not in skip]
    prepare = "console" not in skip
    bin_dir = bin_dir_for(settings)
    check_executables(specs, bin_dir, prepare=prepare)
    check_ports_free(specs, env0, settings.nats_port)

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _raise_interrupted)
    write_record(
        layout.pid_file(SUPERVISOR),
        PidRecord(SUPERVISOR, os.getpid(), command_line(os.getpid()) or "python"),
    )

    nats: NatsServer | None = None
    private_pg: list[PrivatePostgres] = []
    supervisor: Supervisor | None = None
    try:
        secrets, created = ensure_secrets(layout.secrets_file)
        say(("generated" if created else "using") + f" the dev master key in {layout.secrets_file}")
        say(f"starting NATS (JetStream, fsync always) on 127.0.0.1:{settings.nats_port}")
        nats = start_nats(layout, settings.nats_port)
        database_url = provide_postgres(settings, layout, root, os.environ, say, private_pg)
        env = child_env(
            os.environ,
            nats_url=nats.url,
            database_url=database_url,
            secrets=secrets,
            backup_dir=layout.backup,
            bin_dir=bin_dir,
        )
        write_private_file(layout.stack_env_file, format_env_file(stack_variables(env)))
        if prepare:
            run_prepare(env, bin_dir, root, layout, console)
        children = [
            Child(
                name=spec.name,
                argv=[str(bin_dir / spec.executable), *spec.args],
                env=env,
                cwd=root,
                log_path=layout.log_file(spec.name),
                pid_path=layout.pid_file(spec.name),
                colour=COLOURS[i % len(COLOURS)],
                console=console,
            )
            for i, spec in enumerate(specs)
        ]
        policy = RestartPolicy(
            quick_crash_seconds=settings.quick_crash_seconds,
            max_quick_crashes=settings.max_quick_crashes,
        )
        supervisor = Supervisor(children, policy, console)
        say("starting " + ", ".join(spec.name for spec in specs))
        supervisor.start_all()
        pending = [spec.health_url for spec in specs if spec.health_url]
        names = {spec.health_url: spec.name for spec in specs}
        deadline = time.monotonic() + settings.health_timeout
        next_check = 0.0
        announced = False
        while True:
            supervisor.tick()
            now = time.monotonic()
            if not announced and now >= next_check:
                pending = [url for url in pending if not healthy(url)]
                next_check = now + 1.0
                if not pending or now >= deadline:
                    pg_log = private_pg[0].log_file if private_pg else None
                    console.raw(banner(env, layout, pg_log, [names[u] for u in pending]))
                    announced = True
            if all(child.gave_up for child in children) and children:
                raise StackError("every service has given up; stopping")
            time.sleep(0.2)
    except Interrupted as why:
        say(f"{why}: stopping the dev stack…")
        return 0
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        shutdown(layout, settings, supervisor, nats, private_pg, say)


def shutdown(
    layout: StateLayout,
    settings: DevStackSettings,
    supervisor: Supervisor | None,
    nats: NatsServer | None,
    private_pg: list[PrivatePostgres],
    say: Callable[[str], None],
) -> None:
    if supervisor is not None:
        killed = supervisor.stop_all(settings.stop_timeout)
        if killed:
            say(f"killed after {settings.stop_timeout:.0f}s: {', '.join(killed)}")
    if nats is not None:
        nats.stop()
        layout.pid_file(NATS).unlink(missing_ok=True)
    for pg in private_pg:
        say("stopping PostgreSQL")
        try:
            pg.stop()
        except PostgresError as error:
            say(str(error))
        layout.pid_file(POSTGRES).unlink(missing_ok=True)
    layout.pid_file(SUPERVISOR).unlink(missing_ok=True)
    say("stopped")


# --- stop / status / env -----------------------------------------------------------------------


def stop_leftovers(
    layout: StateLayout, settings: DevStackSettings, say: Callable[[str], None]
) -> bool:
    """Stop what an earlier stack left behind (its supervisor died). Services first, then
    NATS, then PostgreSQL. Returns whether anything was found."""
    found = False
    records = [r for r in read_records(layout.pids) if r.name not in (SUPERVISOR, POSTGRES)]
    records.sort(key=lambda r: r.name == NATS)
    for record in records:
        if is_alive(record):
            found = True
            say(f"stopping left-over {record.name} (pid {record.pid})")
            terminate(record, timeout=settings.stop_timeout)
        layout.pid_file(record.name).unlink(missing_ok=True)
    pg_record = read_record(layout.pid_file(POSTGRES))
    if pg_record is not None:
        pg = PrivatePostgres.from_description(pg_record.extra)
        if pg.is_running():
            found = True
            say(f"stopping left-over PostgreSQL in {pg.data_dir}")
            pg.stop()
        layout.pid_file(POSTGRES).unlink(missing_ok=True)
    return found


def stop(settings: DevStackSettings, root: Path) -> int:
    layout = layout_for(settings, root)
    console = Console()
    record = read_record(layout.pid_file(SUPERVISOR))
    if record is not None and is_alive(record):
        console.say(f"asking the dev stack (pid {record.pid}) to stop…")
        # It stops its children (up to stop_timeout), NATS and PostgreSQL, then exits.
        killed = terminate(record, timeout=settings.stop_timeout + 50)
        if killed:
            console.say("it did not stop in time and was killed; cleaning up after it")
    found = stop_leftovers(layout, settings, console.say)
    layout.pid_file(SUPERVISOR).unlink(missing_ok=True)
    if record is None and not found:
        console.say("nothing was running")
    else:
        console.say("stopped")
    return 0


def status(settings: DevStackSettings, root: Path) -> int:
    layout = layout_for(settings, root)
    records = read_records(layout.pids)
    if not records:
        print("sodan dev stack: not running")
        return 3
    sup = next((r for r in records if r.name == SUPERVISOR), None)
    state = "running" if sup is not None and is_alive(sup) else "NOT running (left-overs below)"
    print(f"sodan dev stack: {state}  (state dir {layout.state_dir})")
    env = read_stack_env(layout)
    urls = {s.name: s.health_url for s in service_specs({**SERVICE_PORT_DEFAULTS, **env})}
    for record in records:
        if record.name == SUPERVISOR:
            continue
        if record.name == POSTGRES:
            pg = PrivatePostgres.from_description(record.extra)
            alive = pg.is_running()
            where = f"127.0.0.1:{pg.port} data {pg.data_dir}"
        else:
            alive = is_alive(record)
            url = urls.get(record.name)
            up_now = url is not None and alive and healthy(url)
            where = (url + (" (answers)" if up_now else " (not answering)")) if url else ""
        print(f"  {record.name:<10} pid {record.pid:<8} {'up' if alive else 'DOWN':<5} {where}")
    recorded = {record.name for record in records}
    if sup is not None and is_alive(sup):
        for name in urls:
            if name not in recorded:
                print(f"  {name:<10} {'':<12} DOWN  (skipped, restarting or given up: see "
                      f"{layout.log_file(name)})")  # fmt: skip
    return 0 if sup is not None and is_alive(sup) else 1


def read_stack_env(layout: StateLayout) -> dict[str, str]:
    try:
        return parse_env_file(layout.stack_env_file.read_text(encoding="utf-8"))
    except OSError:
        return {}


def print_env(settings: DevStackSettings, root: Path) -> int:
    layout = layout_for(settings, root)
    values = read_stack_env(layout)
    if not values:
        print(f"no dev stack environment in {layout.stack_env_file}: run `sodan-dev up` first",
              file=sys.stderr)  # fmt: skip
        return 1
    record = read_record(layout.pid_file(SUPERVISOR))
    if record is None or not is_alive(record):
        print("# note: the dev stack is not running; these are its last values", file=sys.stderr)
    sys.stdout.write(format_exports(values))
    return 0


# --- entry point -----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="sodan-dev", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser("up", help="run the whole stack in the foreground")
    up_cmd.add_argument(
        "--skip", action="append", default=[], metavar="SERVICE",
        help="do not run this service (repeatable), e.g. one whose executable is missing",
    )  # fmt: skip
    commands.add_parser("stop", help="stop a running stack (from another terminal)")
    commands.add_parser("status", help="show what runs")
    commands.add_parser("env", help="print the running stack's environment as export lines")
    commands.add_parser(
        "docs", help="regenerate the generated blocks of docs/*.md and docs/console-openapi.json"
    )
    return top


def cli(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    root = locate_root()
    apply_operator_env(root)
    settings = DevStackSettings()
    try:
        if args.command == "up":
            code = up(settings, root, args.skip)
        elif args.command == "stop":
            code = stop(settings, root)
        elif args.command == "status":
            code = status(settings, root)
        elif args.command == "docs":
            for name in GENERATED_DOCS:
                changed = update_docs(root / "docs" / name)
                print(f"docs/{name} " + ("updated" if changed else "already current"))
            for name, generate in GENERATED_FILES.items():
                changed = write_generated(root / "docs" / name, generate)
                print(f"docs/{name} " + ("updated" if changed else "already current"))
            code = 0
        else:
            code = print_env(settings, root)
    except (StackError, PostgresError) as error:
        print(f"sodan-dev: {error}", file=sys.stderr)
        code = 1
    raise SystemExit(code)


if __name__ == "__main__":
    cli()
