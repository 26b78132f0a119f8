"""Consultation hours as pure functions over a calendar (Japan time).

The desk runs few sessions: weekly rules ("every Tuesday 18:00-21:00", which may
skip public holidays or run only on them), monthly ones (a weekly rule limited to
the nth such weekday of the month: "the 2nd Sunday", "the last Friday"), dated
special sessions, and closed
days that cancel whatever would start on them. A session whose end is not after
its start runs past midnight into the next day. Overlapping or touching sessions
count as one opening, so "closing" means the desk really closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

import holidays

JST = ZoneInfo("Asia/Tokyo")
HolidayRule = Literal["any", "skip", "only"]
WEEKDAYS_JA = "月火水木金土日"
# how far ahead next_opening looks: a desk without a session within a year is closed
HORIZON_DAYS = 400


@lru_cache(maxsize=8)
def _jp_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def is_japanese_holiday(day: date) -> bool:
    """国民の祝日 and 振替休日 / 国民の休日, as the Cabinet Office lists them."""
    return day in _jp_holidays(day.year)


def nth_of_month(day: date) -> tuple[int, bool]:
    """Which such weekday of its month `day` is (1-5), and whether it is the last one."""
    return (day.day - 1) // 7 + 1, (day + timedelta(days=7)).month != day.month


@dataclass(frozen=True)
class WeeklyRule:
    weekday: int  # 0 = Monday, as date.weekday()
    starts: time
    ends: time
    holidays: HolidayRule = "any"
    # None: every week; 1-5: only the nth such weekday of the month; -1: the last one
    nth: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if self.nth is not None and self.nth not in (-1, 1, 2, 3, 4, 5):
            raise ValueError(f"nth must be 1 to 5, or -1 for the last, got {self.nth}")

    def runs_in_week_of(self, day: date) -> bool:
        if self.nth is None:
            return True
        nth, last = nth_of_month(day)
        return last if self.nth == -1 else nth == self.nth
        if self.starts == self.ends:
            raise ValueError("a session must not start and end at the same time")


@dataclass(frozen=True)
class DatedSession:
    day: date
    starts: time
    ends: time

    def __post_init__(self) -> None:
        if self.starts == self.ends:
            raise ValueError("a session must not start and end at the same time")


@dataclass(frozen=True)
class Calendar:
    weekly: tuple[WeeklyRule, ...] = ()
    dated: tuple[DatedSession, ...] = ()
    closed_days: frozenset[date] = frozenset()
    always_open: bool = False
    is_holiday: Callable[[date], bool] = field(default=is_japanese_holiday, compare=False)


@dataclass(frozen=True)
class Session:
    starts: datetime  # aware, Japan time
    ends: datetime


def _span(day: date, starts: time, ends: time) -> Session:
    start = datetime.combine(day, starts, JST)
    end_day = day if ends > starts else day + timedelta(days=1)
    return Session(starts=start, ends=datetime.combine(end_day, ends, JST))


def _sessions_starting_on(day: date, calendar: Calendar) -> list[Session]:
    if day in calendar.closed_days:
        return []
    found = [_span(day, s.starts, s.ends) for s in calendar.dated if s.day == day]
    weekly = [r for r in calendar.weekly if r.weekday == day.weekday()]
    if weekly:
        holiday = calendar.is_holiday(day)
        for rule in weekly:
            if not rule.runs_in_week_of(day):
                continue
            if (rule.holidays == "skip" and holiday) or (rule.holidays == "only" and not holiday):
                continue
            found.append(_span(day, rule.starts, rule.ends))
    return found


def _merged(spans: Iterable[Session]) -> list[Session]:
    out: list[Session] = []
    for s in sorted(spans, key=lambda s: s.starts):
        if out and s.starts <= out[-1].ends:
            out[-1] = Session(starts=out[-1].starts, ends=max(out[-1].ends, s.ends))
        else:
            out.append(s)
    return out


def sessions_between(calendar: Calendar, first: date, last: date) -> list[Session]:
    """Openings that start from `first` to `last` (Japan dates), merged, in order.
    The day before `first` is included so a session past midnight is not missed."""
    spans: list[Session] = []
    day = first - timedelta(days=1)
    while day <= last:
        spans.extend(_sessions_starting_on(day, calendar))
        day += timedelta(days=1)
    return _merged(spans)


def _local(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(JST)


def current_session(now: datetime, calendar: Calendar) -> Session | None:
    """The opening `now` falls in (start inclusive, end exclusive), if any."""
    local = _local(now)
    # merging may chain sessions back over several days: look a little further back
    for s in sessions_between(calendar, local.date() - timedelta(days=2), local.date()):
        if s.starts <= local < s.ends:
            return s
    return None


def is_open(now: datetime, calendar: Calendar) -> bool:
    return calendar.always_open or current_session(now, calendar) is not None


def next_opening(now: datetime, calendar: Calendar) -> Session | None:
    """The next opening that starts after `now` (None: none within the horizon)."""
    local = _local(now)
    day = local.date()
    step = 31
    while day <= local.date() + timedelta(days=HORIZON_DAYS):
        for s in sessions_between(calendar, day, day + timedelta(days=step)):
            if s.starts > local:
                return s
        day += timedelta(days=step)
    return None


def last_closing(now: datetime, calendar: Calendar) -> datetime | None:
    """When the most recent opening ended, if it ended in the last two days."""
    local = _local(now)
    ended = [
        s.ends
        for s in sessions_between(calendar, local.date() - timedelta(days=2), local.date())
        if s.ends <= local
    ]
    return max(ended) if ended else None


def closing_soon(now: datetime, calendar: Calendar, minutes: float) -> bool:
    """Open now, and the opening ends within `minutes`."""
    if calendar.always_open:
        return False
    current = current_session(now, calendar)
    return current is not None and current.ends - _local(now) <= timedelta(minutes=minutes)


def format_session(session: Session | None) -> str:
    """Japanese, for the client: 12月2日（火）18:00〜21:00."""
    if session is None:
        return "未定（決まりしだいお知らせします）"
    s, e = session.starts.astimezone(JST), session.ends.astimezone(JST)
    weekday = WEEKDAYS_JA[s.weekday()]
    if e.date() == s.date():
        end = f"{e:%H:%M}"
    elif e.date() == s.date() + timedelta(days=1):
        end = "24:00" if e.time() == time(0) else f"翌{e:%H:%M}"
    else:
        end = f"{e.month}月{e.day}日 {e:%H:%M}"
    return f"{s.month}月{s.day}日（{weekday}）{s:%H:%M}〜{end}"


def format_time(moment: datetime) -> str:
    return f"{moment.astimezone(JST):%H:%M}"


class RuleLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def weekday(self) -> int | None: ...
    @property
    def day(self) -> date | None: ...
    @property
    def starts(self) -> time | None: ...
    @property
    def ends(self) -> time | None: ...
    @property
    def holidays(self) -> str: ...
    @property
    def nth(self) -> int | None: ...


def build_calendar(rules: Iterable[RuleLike], *, always_open: bool = False) -> Calendar:
    """A calendar from stored or submitted rows; ValueError says which rule is wrong."""
    weekly: list[WeeklyRule] = []
    dated: list[DatedSession] = []
    closed: set[date] = set()
    for n, r in enumerate(rules, start=1):
        try:
            if r.holidays not in ("any", "skip", "only"):
                raise ValueError(f"holidays must be any, skip or only, got {r.holidays!r}")
            if r.kind == "weekly":
                if r.weekday is None or r.starts is None or r.ends is None:
                    raise ValueError("a weekly rule needs weekday, starts and ends")
                weekly.append(
                    WeeklyRule(r.weekday, r.starts, r.ends, r.holidays, r.nth)  # type: ignore[arg-type]
                )
            elif r.kind == "dated":
                if r.day is None or r.starts is None or r.ends is None:
                    raise ValueError("a dated session needs day, starts and ends")
                if r.nth is not None:
                    raise ValueError("nth is for weekly rules only")
                dated.append(DatedSession(r.day, r.starts, r.ends))
            elif r.kind == "closed":
                if r.day is None:
                    raise ValueError("a closed day needs its day")
                if r.nth is not None:
                    raise ValueError("nth is for weekly rules only")
                closed.add(r.day)
            else:
                raise ValueError(f"kind must be weekly, dated or closed, got {r.kind!r}")
        except ValueError as exc:
            raise ValueError(f"rule {n}: {exc}") from exc
    return Calendar(
        weekly=tuple(weekly),
        dated=tuple(dated),
        closed_days=frozenset(closed),
        always_open=always_open,
    )


def upcoming(now: datetime, calendar: Calendar, count: int) -> list[Session]:
    """The next `count` openings after now (for operators checking a calendar)."""
    found: list[Session] = []
    moment = now
    while len(found) < count:
        nxt = next_opening(moment, calendar)
        if nxt is None:
            break
        found.append(nxt)
        moment = nxt.starts
    return found
