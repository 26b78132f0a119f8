"""Routing's SQL on its own, where a unit of work would hide the detail."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sodan_routing.db import queries
from sodan_routing.main import migrate
from sodan_shared.db import create_engine, session_factory
from sqlalchemy import text


async def test_opening_a_case_works_once_the_statement_is_prepared(
    fresh_database_url: str,
) -> None:
    """psycopg prepares a statement from its sixth run on a connection; a generic plan
    must still find the one-open-case-per-client index (it did not while the index
    predicate was a bind parameter: every run after the fifth failed)."""
    migrate(fresh_database_url)
    engine = create_engine(fresh_database_url, pool_size=1)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
            client_id = uuid4()
            opened = []
            for n in range(8):
                case = await queries.insert_case_if_none_open(
                    session,
                    case_id=uuid4(),
                    channel="demo",
                    client_id=client_id if n else uuid4(),
                    client_no=n,
                    queued_at=datetime.now(UTC),
                    first_message_event_id=uuid4(),
                )
                opened.append(case is not None)
    finally:
        await engine.dispose()
    assert opened == [True, True, False, False, False, False, False, False]
