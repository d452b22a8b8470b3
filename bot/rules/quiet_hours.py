"""Quiet hours: no notice or reminder reaches a villager's phone at night.

Times are the villager's local wall time. China has no daylight saving, so moving a datetime to
another wall-clock time with ``replace`` keeps its offset right; the tzinfo is kept as given.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["defer_for_quiet_hours", "is_quiet"]

DEFAULT_START = dt.time(21, 0)
DEFAULT_END = dt.time(8, 0)


def is_quiet(moment: dt.time, start: dt.time = DEFAULT_START, end: dt.time = DEFAULT_END) -> bool:
    """Quiet from ``start`` (included) to ``end`` (excluded), across midnight when start > end.
    Equal start and end mean no quiet hours."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def defer_for_quiet_hours(
    local_dt: dt.datetime, start: dt.time = DEFAULT_START, end: dt.time = DEFAULT_END
) -> dt.datetime:
    """``local_dt`` itself outside quiet hours, else the next ``end`` time.

    Monotonic: an earlier moment is never deferred past a later one, so a queue keeps its order.
    """
    moment = local_dt.time().replace(tzinfo=None)
    if not is_quiet(moment, start, end):
        return local_dt
    wake = local_dt.replace(hour=end.hour, minute=end.minute, second=end.second, microsecond=end.microsecond)
    if moment >= end:
        # Only the evening part of hours that cross midnight lies after ``end``: it wakes tomorrow.
        wake += dt.timedelta(days=1)
    return wake
