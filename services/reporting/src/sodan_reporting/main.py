"""Composition root of the reporting service and its CLI."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry.sdk.trace import TracerProvider
from sodan_shared.asyncapi import asyncapi_command, asyncapi_yaml
from sodan_shared.crypto import migrate_keyring
from sodan_shared.db import transaction
from sodan_shared.db.migrations import upgrade
from sodan_shared.events.reporting import MonthlyReportReady
from sodan_shared.logging import get_logger
from sodan_shared.nats import jstream
from sodan_shared.outbox import OutboxRelay
from sodan_shared.runtime import (
    Database,
    broker_for,
    connect_and_declare,
    observe,
    service_cli,
)
from sodan_shared.subjects import MONTHLY_REPORT_READY

from sodan_reporting.api import include_routes
from sodan_reporting.days import BadPeriodError, parse_day, start_of_day
from sodan_reporting.db import queries
from sodan_reporting.db.tables import SCHEMA, outbox
from sodan_reporting.handlers import CONSUMERS, register_handlers
from sodan_reporting.job import MonthlyJob
from sodan_reporting.projector import Projector
from sodan_reporting.render import render
from sodan_reporting.replay import BadReplayError, fold_streams, replay_period, schema_sessions
from sodan_reporting.reports import final_report, monthly_report
from sodan_reporting.settings import ReportingSettings

log = get_logger()
ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
ASYNCAPI_TITLE = "sodan reporting"
ASYNCAPI_DESCRIPTION = (
    "Builds the report projections (case facts, daily counts in Japan time, counsellor "
    "workload) from the event stream; on the 1st (Japan time) produces last month's report "
    "and says so on report.monthly_ready.v1."
)


@dataclass
class ReportingApp:
    settings: ReportingSettings
    db: Database
    broker: NatsBroker
    api: FastAPI
    relay: OutboxRelay | None = None
    job: MonthlyJob | None = None

    async def start(self) -> JetStreamContext:
        js = await connect_and_declare(self.broker)
        self.relay = OutboxRelay(self.db.sessions, outbox, js)
        self.relay.start()
        await self.broker.start()
        if self.settings.reporting_monthly_job:
            self.job = MonthlyJob(
                self.db.sessions,
                threshold=self.settings.reporting_suppress_below,
                interval_s=self.settings.reporting_job_interval_s,
                after=self.relay.wake,
            )
            self.job.start()
        return js

    async def stop(self) -> None:
        if self.job is not None:
            await self.job.stop()
        await self.broker.stop()
        if self.relay is not None:
            await self.relay.stop()
        await self.db.dispose()


def create_app(
    settings: ReportingSettings, *, tracer_provider: TracerProvider | None = None
) -> ReportingApp:
    """Builds the broker, handlers and API; connects to nothing until started."""
    db = Database.from_settings(settings)
    broker = broker_for(settings, tracer_provider)
    register_handlers(broker, Projector(db.sessions))
    # Declared for the contract; the outbox relay does the publishing.
    broker.publisher(
        MONTHLY_REPORT_READY.name,
        stream=jstream(MONTHLY_REPORT_READY.stream),
        schema=MonthlyReportReady,
        description="Last month's report was produced on the 1st (Japan time); admins review it",
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await app.start()
        try:
            yield
        finally:
            await app.stop()

    api = FastAPI(title="sodan reporting", version="1", lifespan=lifespan)
    api.state.sessions = db.sessions
    api.state.settings = settings
    include_routes(api)

    @api.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # A missing or malformed query parameter is the caller's mistake: 400, said plainly.
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return JSONResponse(status_code=400, content={"detail": "; ".join(problems)})

    app = ReportingApp(settings=settings, db=db, broker=broker, api=api)
    return app


def migrate(settings: ReportingSettings) -> None:
    migrate_keyring(settings.database_url)
    upgrade(
        database_url=settings.database_url,
        script_location=Path(__file__).parent / "db" / "migrations",
        schema=SCHEMA,
    )


async def serve(settings: ReportingSettings) -> None:
    tracer = observe(settings, settings.service_name)
    app = create_app(settings, tracer_provider=tracer)
    config = uvicorn.Config(
        app.api,
        host=settings.reporting_host,
        port=settings.reporting_port,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    log.info("reporting.listening", host=settings.reporting_host, port=settings.reporting_port)
    await uvicorn.Server(config).serve()


async def consumers_caught_up(js: JetStreamContext) -> bool:
    for consumer in CONSUMERS:
        try:
            info = await js.consumer_info(consumer.subject.stream.name, consumer.durable)
        except NotFoundError:
            return False
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def rebuild(settings: ReportingSettings) -> int:
    """Forget the projections and build them again from the start of every stream.

    Stop the running reporting replicas first. The streams are read with
    ephemeral consumers and folded in memory by the live rules (``fold``), the
    projections written in one transaction, and the durable consumers
    recreated to start just after the last message read: when reporting runs
    again it goes on from there. Returns the number of events applied.
    """
    app = create_app(settings)
    try:
        js = await connect_and_declare(app.broker)
        for consumer in CONSUMERS:
            try:
                await js.delete_consumer(consumer.subject.stream.name, consumer.durable)
            except NotFoundError:
                pass
        log.info("reporting.rebuild_started")
        folded = await fold_streams(js)
        async with transaction(app.db.sessions) as session:
            await queries.clear_projections(session)
            await folded.fold.write(session)
        configs = durable_configs(app.broker)
        for consumer in CONSUMERS:
            config = replace(configs[consumer.durable], filter_subject=consumer.subject.name)
            last = folded.last_seq.get(consumer.durable)
            if last is not None:
                config = replace(
                    config,
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=last + 1,
                )
            await js.add_consumer(consumer.subject.stream.name, config=config)
        log.info("reporting.rebuild_done", applied=folded.applied, invalid=folded.invalid)
        return folded.applied
    finally:
        await app.broker.stop()
        await app.db.dispose()


def durable_configs(broker: NatsBroker) -> dict[str, ConsumerConfig]:
    """The consumer configs FastStream would create, by durable name (the rebuild copies them)."""
    configs: dict[str, ConsumerConfig] = {}
    for subscriber in broker.subscribers:
        config = getattr(subscriber, "config", None)
        if isinstance(config, ConsumerConfig) and config.durable_name:
            configs[config.durable_name] = replace(config, name=config.durable_name)
    missing = {c.durable for c in CONSUMERS} - set(configs)
    if missing:
        raise RuntimeError(f"no subscriber config for {sorted(missing)}")
    return configs


def generate_asyncapi() -> str:
    # fixed server address: the document must not depend on the local environment
    app = create_app(ReportingSettings(nats_url="nats://127.0.0.1:4222"))
    return asyncapi_yaml(app.broker, title=ASYNCAPI_TITLE, description=ASYNCAPI_DESCRIPTION)


def _rebuild_command(_: Sequence[str]) -> int:
    settings = ReportingSettings()
    observe(settings, settings.service_name)
    migrate(settings)
    applied = asyncio.run(rebuild(settings))
    print(f"rebuild done: {applied} events replayed from the start of every stream")
    return 0


def _instant(value: str, *, name: str) -> datetime:
    """A day (its start in Japan time) or an aware ISO timestamp."""
    try:
        return start_of_day(parse_day(value, name=name))
    except BadPeriodError:
        pass
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise BadReplayError(f"--{name} must be YYYY-MM-DD or an ISO time, got {value!r}") from None
    if ts.tzinfo is None:
        raise BadReplayError(f"--{name} needs a time zone, e.g. {value}+09:00")
    return ts


def _replay_command(args: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sodan-reporting replay",
        description="Rebuild the projections of a period into a separate schema (live ones untouched)",
    )
    parser.add_argument("--since", required=True, help="first day (Japan time) or ISO time")
    parser.add_argument("--until", required=True, help="day after the last (exclusive) or ISO time")
    parser.add_argument("--into", required=True, help="schema to write, e.g. analysis_2026_06")
    ns = parser.parse_args(args)
    settings = ReportingSettings()
    observe(settings, settings.service_name)

    async def run() -> int:
        db = Database.from_settings(settings)
        try:
            result = await replay_period(
                nats_url=settings.nats_url,
                engine=db.engine,
                since=_instant(ns.since, name="since"),
                until=_instant(ns.until, name="until"),
                into=ns.into,
            )
        finally:
            await db.dispose()
        print(
            f"replayed {result.applied} events into schema {result.schema} "
            f"({result.skipped_outside} outside the period, {result.invalid} invalid)"
        )
        return 0

    try:
        return asyncio.run(run())
    except BadReplayError as exc:
        print(f"replay refused: {exc}")
        return 2


def _report_command(args: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sodan-reporting report", description="Write a monthly or final report to a file"
    )
    period = parser.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", help="YYYY-MM: the monthly report")
    period.add_argument("--range", nargs=2, metavar=("FROM", "TO"), help="the final report")
    parser.add_argument("--channel", default=None)
    parser.add_argument("--format", choices=["json", "csv", "xlsx", "pdf", "html"], default="pdf")
    parser.add_argument("--schema", default=SCHEMA, help="read a replayed copy instead")
    parser.add_argument("--out", required=True, help="file to write")
    ns = parser.parse_args(args)
    settings = ReportingSettings()

    async def run() -> bytes:
        db = Database.from_settings(settings)
        try:
            sessions = db.sessions if ns.schema == SCHEMA else schema_sessions(db.engine, ns.schema)
            async with sessions() as session:
                if ns.month:
                    report = await monthly_report(
                        session,
                        month=ns.month,
                        channel=ns.channel,
                        threshold=settings.reporting_suppress_below,
                    )
                else:
                    report = await final_report(
                        session,
                        start=ns.range[0],
                        end=ns.range[1],
                        channel=ns.channel,
                        threshold=settings.reporting_suppress_below,
                    )
        finally:
            await db.dispose()
        return await render(report, ns.format, chromium_path=settings.reporting_chromium_path)

    try:
        body = asyncio.run(run())
    except BadPeriodError as exc:
        print(f"report refused: {exc}")
        return 2
    Path(ns.out).write_bytes(body)
    print(f"report written to {ns.out} ({len(body)} bytes)")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    settings = ReportingSettings()
    return service_cli(
        prog="sodan-reporting",
        description="sodan reporting: projections and report API",
        migrate=lambda: migrate(settings),
        run=lambda: serve(settings),
        extra={
            "asyncapi": asyncapi_command(generate_asyncapi, ASYNCAPI_PATH),
            "rebuild": _rebuild_command,
            "replay": _replay_command,
            "report": _report_command,
        },
        argv=argv,
    )
