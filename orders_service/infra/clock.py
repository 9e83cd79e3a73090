"""The one clock that every rule depending on the time of day reads, so that a test can set the hour.

Quiet hours and the marketing cap's window (the notification gate), deferred sends becoming due (the relay),
campaign pacing, birthdays, segments ("birthday this month", "no order for 90 days"), the daily loyalty jobs,
and the timestamps those rules compare against (the models' defaults: when an outbox message is due, when a
message was sent) all ask `now()`. Pure rules still take `now` as an argument; this is where their callers
get it. Timestamps nothing compares with a time of day (sessions, leases of courier syncs) keep the wall clock.

`pinned(at)` runs a block as if it were `at`: the clock starts there and moves on at the real pace, because
leases, backoffs and "due" checks need time to pass. Only tests pin it; a process has one clock.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Callable, Iterator

Source = Callable[[], datetime.datetime]


def wall() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


_source: Source = wall


def now() -> datetime.datetime:
    """The current moment, timezone-aware in UTC."""
    return _source()


@contextlib.contextmanager
def pinned(at: datetime.datetime) -> Iterator[None]:
    """Within the block the clock reads `at` (aware) plus the time elapsed since the block began."""
    if at.tzinfo is None:
        raise ValueError("pin the clock to an aware datetime")
    global _source
    started, before = time.monotonic(), _source
    _source = lambda: (at + datetime.timedelta(seconds=time.monotonic() - started)).astimezone(datetime.UTC)  # noqa: E731
    try:
        yield
    finally:
        _source = before


def next_local(at: datetime.time, tz: datetime.tzinfo, after: datetime.datetime | None = None) -> datetime.datetime:
    """The first moment after `after` (default: the wall clock) when the local time in `tz` is `at` (UTC)."""
    after = after or wall()
    local = after.astimezone(tz)
    moment = datetime.datetime.combine(local.date(), at, tzinfo=tz)
    if moment <= local:
        moment = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), at, tzinfo=tz)
    return moment.astimezone(datetime.UTC)
