from datetime import UTC, datetime, time

import pytest
from sodan_backup.generations import (
    dump_due,
    dump_name,
    generations_to_delete,
    next_daily_run,
)

D1 = "sodan-20260601T180000Z.dump.enc"
D2 = "sodan-20260602T180000Z.dump.enc"
D3 = "sodan-20260603T180000Z.dump.enc"


def test_only_the_newest_generations_are_kept() -> None:
    assert generations_to_delete([D2, D3, D1], keep=2) == [D1]
    assert generations_to_delete([D3, D1, D2], keep=1) == [D1, D2]
    assert generations_to_delete([D1, D2], keep=2) == []
    assert generations_to_delete([], keep=2) == []


def test_files_that_are_not_dumps_are_never_deleted() -> None:
    files = [D1, D2, D3, ".sodan-20260604T180000Z.dump.enc.tmp", "notes.txt"]
    assert generations_to_delete(files, keep=2) == [D1]


def test_keeping_no_generation_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        generations_to_delete([D1], keep=0)


def test_dump_names_carry_their_utc_time() -> None:
    assert dump_name(datetime(2026, 6, 3, 18, 0, tzinfo=UTC)) == D3


def test_a_dump_is_due_at_startup_without_one_from_the_last_day() -> None:
    now = datetime(2026, 6, 4, 12, 0, tzinfo=UTC)
    assert dump_due(None, now)
    assert dump_due(datetime(2026, 6, 3, 11, 59, tzinfo=UTC), now)
    assert not dump_due(datetime(2026, 6, 3, 18, 0, tzinfo=UTC), now)


def test_the_daily_dump_runs_at_the_configured_japan_time() -> None:
    three = time(3, 0)
    # 2026-06-01 02:00 JST → today 03:00 JST (= 18:00 UTC the day before)
    assert next_daily_run(datetime(2026, 5, 31, 17, 0, tzinfo=UTC), three) == datetime(
        2026, 5, 31, 18, 0, tzinfo=UTC
    )
    # exactly at 03:00 JST → tomorrow
    assert next_daily_run(datetime(2026, 5, 31, 18, 0, tzinfo=UTC), three) == datetime(
        2026, 6, 1, 18, 0, tzinfo=UTC
    )
