from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.rules.quiet_hours import defer_for_quiet_hours, is_quiet

CST = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=CST)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(1, 20, 59), at(1, 20, 59)),  # just before quiet hours: unchanged
        (at(1, 21, 0), at(2, 8, 0)),  # start is quiet
        (at(1, 23, 30), at(2, 8, 0)),
        (at(2, 0, 0), at(2, 8, 0)),
        (at(2, 7, 59), at(2, 8, 0)),
        (at(2, 8, 0), at(2, 8, 0)),  # end is not quiet
        (at(2, 12, 0), at(2, 12, 0)),
    ],
)
def test_default_quiet_hours(moment: dt.datetime, expected: dt.datetime) -> None:
    assert defer_for_quiet_hours(moment) == expected


def test_month_end_rolls_over() -> None:
    late = dt.datetime(2026, 6, 30, 22, 0, tzinfo=CST)
    assert defer_for_quiet_hours(late) == dt.datetime(2026, 7, 1, 8, 0, tzinfo=CST)


def test_timezone_and_naive_are_kept() -> None:
    assert defer_for_quiet_hours(at(1, 22)).tzinfo is CST
    naive = dt.datetime(2026, 6, 1, 22, 0)
    assert defer_for_quiet_hours(naive) == dt.datetime(2026, 6, 2, 8, 0)


@pytest.mark.parametrize(
    ("start", "end", "moment", "expected"),
    [
        (dt.time(13), dt.time(14), at(1, 13, 30), at(1, 14)),  # a midday rest that does not cross midnight
        (dt.time(13), dt.time(14), at(1, 12, 59), at(1, 12, 59)),
        (dt.time(22), dt.time(6, 30), at(1, 23), at(2, 6, 30)),
        (dt.time(22), dt.time(6, 30), at(2, 6, 29), at(2, 6, 30)),
        (dt.time(8), dt.time(8), at(1, 3), at(1, 3)),  # equal bounds: no quiet hours
    ],
)
def test_custom_quiet_hours(start: dt.time, end: dt.time, moment: dt.datetime, expected: dt.datetime) -> None:
    assert defer_for_quiet_hours(moment, start, end) == expected


def test_order_is_kept() -> None:
    moments = [at(1, 0) + dt.timedelta(minutes=17 * i) for i in range(300)]
    deferred = [defer_for_quiet_hours(m) for m in moments]
    assert all(a <= b for a, b in itertools.pairwise(deferred))
    assert all(not is_quiet(d.time()) for d in deferred)
    assert all(d >= m for d, m in zip(deferred, moments, strict=True))


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [(dt.time(21), True), (dt.time(20, 59), False), (dt.time(8), False), (dt.time(7, 59), True)],
)
def test_is_quiet(moment: dt.time, quiet: bool) -> None:
    assert is_quiet(moment) is quiet
