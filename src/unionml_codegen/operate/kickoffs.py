"""When a schedule fires, as Flyte's native scheduler (flyteadmin/scheduler) fires it.

- Cron: robfig/cron v3 semantics (the grammar cron.py checks; descriptors such as `@weekly` stand
  for their five fields), evaluated with croniter. A kickoff is strictly after the time it is
  computed from. Times are UTC: the scheduler runs cron in its host's time zone, UTC in the usual
  deployments (flyteadmin's `useUtcTz`); there is no per-schedule time zone, and `offset` is ignored.
- Fixed rate (and `@every <duration>`): robfig's `ConstantDelaySchedule`, started from the time the
  schedule was activated (the launch plan's `updated_at`), so kickoffs are `activation + k * rate`.
  The phase follows the activation time, not the clock. Without an activation time, the reference
  time stands in for it: "next kickoffs after T" assumes activation at T (the first run is at T + rate),
  "kickoffs in [T1, T2]" assumes a kickoff at T1.

Every time given may be naive (taken as UTC) or aware; every time returned is an aware UTC datetime.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from ..cron import DESCRIPTOR_FIELDS, every_seconds

UTC = dt.timezone.utc
MAX_KICKOFFS = 10_000  # a backfill of more kickoffs than this is refused (KickoffError)


class Cadence(Protocol):
    cron: str | None
    fixed_rate: dt.timedelta | None


class KickoffError(ValueError):
    """A range of kickoffs that cannot be listed (reversed, or too many)."""


def utc(time: dt.datetime) -> dt.datetime:
    """`time` as an aware UTC datetime (a naive one is taken as UTC)."""
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


#: The times the commands take: wide enough for any schedule's history and future, and far enough from
#: datetime's own limits (years 1 and 9999) that a kickoff computed from one never overflows.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(8999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 date or date-time (`2026-11-29`, `2026-11-29T06:00`, `...Z`, `...+01:00`) as UTC,
    between `EARLIEST` and `LATEST`."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        time = utc(dt.datetime.fromisoformat(value))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-29T06:00:00Z (UTC when no zone is given)"
        ) from None
    except OverflowError:  # a zone that moves it out of datetime's range: 0001-01-01T00:00:00+05:00
        time = None
    if time is None or not EARLIEST <= time <= LATEST:
        raise ValueError(f"{text!r} is out of range: times from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)")
    return time


def rate(cadence: Cadence) -> dt.timedelta | None:
    """The fixed delay between kickoffs, for fixed-rate and `@every` schedules; None for cron schedules."""
    if cadence.fixed_rate is not None:
        return cadence.fixed_rate
    seconds = every_seconds(cadence.cron or "")
    return dt.timedelta(seconds=seconds) if seconds is not None else None


def next_kickoffs(
    cadence: Cadence, after: dt.datetime, count: int, *, activated: dt.datetime | None = None
) -> list[dt.datetime]:
    """The first `count` kickoffs strictly after `after`."""
    after = utc(after)
    delay = rate(cadence)
    if delay is not None:
        anchor = _second(utc(activated)) if activated is not None else after
        k = (after - anchor) // delay + 1  # the first k with anchor + k * delay > after
        return [anchor + (k + i) * delay for i in range(count)]
    times = _cron_times(cadence.cron, after)
    return [next(times) for _ in range(count)]


def kickoffs_between(
    cadence: Cadence,
    start: dt.datetime,
    end: dt.datetime,
    *,
    activated: dt.datetime | None = None,
    limit: int = MAX_KICKOFFS,
) -> list[dt.datetime]:
    """Every kickoff in [start, end], both ends included, in order."""
    start, end = utc(start), utc(end)
    if end < start:
        raise KickoffError(f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    delay = rate(cadence)
    if delay is not None:
        anchor = _second(utc(activated)) if activated is not None else start
        first = -((anchor - start) // delay)  # the first k with anchor + k * delay >= start
        last = (end - anchor) // delay
        if last - first + 1 > limit:
            raise KickoffError(_too_many(limit))
        return [anchor + k * delay for k in range(first, last + 1)]
    times = _cron_times(cadence.cron, start - dt.timedelta(seconds=1))
    found = []
    for time in times:
        if time > end:
            break
        if time >= start:
            if len(found) == limit:
                raise KickoffError(_too_many(limit))
            found.append(time)
    return found


def _cron_times(expression: str | None, after: dt.datetime):
    from croniter import croniter  # only the commands that list kickoffs pay for it

    fields = DESCRIPTOR_FIELDS.get(expression or "", expression)
    times = croniter(fields, after)
    while True:
        yield utc(times.get_next(dt.datetime))


def _second(time: dt.datetime) -> dt.datetime:
    return time.replace(microsecond=0)


def _too_many(limit: int) -> str:
    return f"the range holds more than {limit:,} kickoffs; split it into smaller ranges"
