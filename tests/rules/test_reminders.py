from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.rules.reminders import (
    Edge,
    PlannedWave,
    QuietHours,
    SkipReason,
    Span,
    WaveTiming,
    plan_waves,
    triage_due,
    wave_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6: the same instant is two hours earlier on the wall
QUIET = QuietHours(SHANGHAI)

TIMINGS = (
    WaveTiming("trust_vote_opens", "trust_vote", Edge.OPENS, dt.timedelta(0)),
    WaveTiming("trust_vote_close_48h", "trust_vote", Edge.CLOSES, -dt.timedelta(hours=48)),
    WaveTiming("trust_vote_close_24h", "trust_vote", Edge.CLOSES, -dt.timedelta(hours=24)),
)


def local(day: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=zone)


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def plan(span: Span, now: dt.datetime, quiet: QuietHours = QUIET) -> dict[str, object]:
    outcome = plan_waves("election:7", {"trust_vote": span}, TIMINGS, quiet, now)
    result: dict[str, object] = {w.kind: w.due for w in outcome.planned}
    result.update({s.kind: s.reason for s in outcome.skipped})
    return result


@pytest.mark.parametrize(
    ("span", "now", "expected"),
    [
        # A plain window, planned well ahead: three waves at their times.
        (
            Span(local(10, 9), local(14, 18)),
            local(1, 12),
            {
                "trust_vote_opens": utc(local(10, 9)),
                "trust_vote_close_48h": utc(local(12, 18)),
                "trust_vote_close_24h": utc(local(13, 18)),
            },
        ),
        # Closing at 22:00: 48 h and 24 h before fall in quiet hours, moved to 08:00 next morning.
        (
            Span(local(10, 9), local(14, 22)),
            local(1, 12),
            {
                "trust_vote_opens": utc(local(10, 9)),
                "trust_vote_close_48h": utc(local(13, 8)),
                "trust_vote_close_24h": utc(local(14, 8)),
            },
        ),
        # Opening at 06:00: the opening wave waits until 08:00.
        (
            Span(local(10, 6), local(14, 18)),
            local(1, 12),
            {
                "trust_vote_opens": utc(local(10, 8)),
                "trust_vote_close_48h": utc(local(12, 18)),
                "trust_vote_close_24h": utc(local(13, 18)),
            },
        ),
        # A window of 30 hours has no "48 h before closing".
        (
            Span(local(13, 12), local(14, 18)),
            local(1, 12),
            {
                "trust_vote_opens": utc(local(13, 12)),
                "trust_vote_close_48h": SkipReason.BEFORE_PHASE_OPENS,
                "trust_vote_close_24h": utc(local(13, 18)),
            },
        ),
        # Inverted window: nothing planned, every wave says why.
        (
            Span(local(14, 18), local(10, 9)),
            local(1, 12),
            {k.kind: SkipReason.PHASE_INVERTED for k in TIMINGS},
        ),
        # The phase closed already.
        (
            Span(local(10, 9), local(14, 18)),
            local(14, 18),
            {k.kind: SkipReason.PHASE_CLOSED for k in TIMINGS},
        ),
        # Planned late (after the 48 h mark): the opening and 48 h are superseded, the 48 h wave kept
        # as the one to send now; the 24 h wave is still ahead.
        (
            Span(local(10, 9), local(14, 18)),
            local(12, 20),
            {
                "trust_vote_opens": SkipReason.SUPERSEDED,
                "trust_vote_close_48h": utc(local(12, 18)),
                "trust_vote_close_24h": utc(local(13, 18)),
            },
        ),
        # Closing at 07:00: the 24 h wave (07:00 the day before) moves to 08:00, still before closing;
        # a close at 08:30 after a night: 24 h before is 08:30 the day before, unchanged.
        (
            Span(local(10, 9), local(14, 7)),
            local(1, 12),
            {
                "trust_vote_opens": utc(local(10, 9)),
                "trust_vote_close_48h": utc(local(12, 8)),
                "trust_vote_close_24h": utc(local(13, 8)),
            },
        ),
        # Opening at 23:00 and closing 48 h later: the opening and the 48 h wave both move to 08:00;
        # only the first is sent.
        (
            Span(local(10, 23), local(12, 23)),
            local(1, 12),
            {
                "trust_vote_opens": utc(local(11, 8)),
                "trust_vote_close_48h": SkipReason.SUPERSEDED,
                "trust_vote_close_24h": utc(local(12, 8)),
            },
        ),
        # A window wholly inside the night: every wave would be deferred past its close.
        (
            Span(local(10, 22), local(10, 23)),
            local(1, 12),
            {
                "trust_vote_opens": SkipReason.DEFERRED_PAST_DEADLINE,
                "trust_vote_close_48h": SkipReason.BEFORE_PHASE_OPENS,
                "trust_vote_close_24h": SkipReason.BEFORE_PHASE_OPENS,
            },
        ),
    ],
)
def test_plan_waves(span: Span, now: dt.datetime, expected: dict[str, object]) -> None:
    assert plan(span, now) == expected


def test_quiet_hours_are_the_villages_wall_time() -> None:
    # 22:30 in Shanghai is 20:30 in Urumqi: quiet for one village, not for the other.
    span = Span(local(10, 22, 30), local(14, 18))
    assert plan(span, local(1, 12))["trust_vote_opens"] == utc(local(11, 8))
    assert plan(span, local(1, 12), QuietHours(URUMQI))["trust_vote_opens"] == utc(local(10, 22, 30))


def test_custom_quiet_hours_and_none() -> None:
    span = Span(local(10, 19), local(14, 18))
    evening = QuietHours(SHANGHAI, dt.time(18, 0), dt.time(7, 0))
    assert plan(span, local(1, 12), evening)["trust_vote_opens"] == utc(local(11, 7))
    never = QuietHours(SHANGHAI, dt.time(0, 0), dt.time(0, 0))
    assert plan(span, local(1, 12), never)["trust_vote_opens"] == utc(local(10, 19))


def test_planned_waves_are_in_due_order_with_stable_keys() -> None:
    phases = {
        "trust_vote": Span(local(10, 9), local(14, 18)),
        "recommendation": Span(local(2, 9), local(6, 18)),
    }
    timings = (
        *TIMINGS,
        WaveTiming("recommendation_opens", "recommendation", Edge.OPENS, dt.timedelta(0)),
        WaveTiming("proxy_opens", "proxy", Edge.OPENS, dt.timedelta(0)),  # no such phase: ignored
    )
    first = plan_waves("election:7", phases, timings, QUIET, local(1, 12))
    again = plan_waves("election:7", phases, timings, QUIET, local(1, 13))
    assert [w.key for w in first.planned] == [
        "election:7:recommendation_opens",
        "election:7:trust_vote_opens",
        "election:7:trust_vote_close_48h",
        "election:7:trust_vote_close_24h",
    ]
    assert first == again
    assert all(w.deadline is not None for w in first.planned)
    assert wave_key("election:7", "x") == "election:7:x"


def test_order_is_kept_when_quiet_hours_merge_waves() -> None:
    # Waves at 21:30 and 23:00 both move to 08:00: they stay in their order (ties break on the key).
    phases = {
        "a": Span(local(10, 21, 30), local(14, 18)),
        "b": Span(local(10, 23), local(14, 18)),
    }
    timings = (
        WaveTiming("a_opens", "a", Edge.OPENS, dt.timedelta(0)),
        WaveTiming("b_opens", "b", Edge.OPENS, dt.timedelta(0)),
    )
    waves = plan_waves("s", phases, timings, QUIET, local(1, 12)).planned
    assert [w.kind for w in waves] == ["a_opens", "b_opens"]
    assert waves[0].due == waves[1].due == utc(local(11, 8))


def _wave(
    kind: str, due: dt.datetime, deadline: dt.datetime | None, phase: str = "trust_vote"
) -> PlannedWave:
    return PlannedWave(wave_key("election:7", kind), kind, phase, utc(due), deadline and utc(deadline))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Before anything is due: nothing fires.
        (local(12, 17), {"close_48h": (False, None), "close_24h": (False, None), "custom": (False, None)}),
        # The bot was down across the 48 h wave: it runs now, the phase is still open.
        (local(12, 20), {"close_48h": (True, None), "close_24h": (False, None), "custom": (False, None)}),
        # Down across both: only the later one runs.
        (
            local(14, 9),
            {"close_48h": (False, SkipReason.SUPERSEDED), "close_24h": (True, None), "custom": (False, None)},
        ),
        # Down until after the deadline: both skipped; a notice with no deadline still goes.
        (
            local(15, 9),
            {
                "close_48h": (False, SkipReason.PHASE_CLOSED),
                "close_24h": (False, SkipReason.PHASE_CLOSED),
                "custom": (True, None),
            },
        ),
    ],
)
def test_triage_of_missed_waves(
    now: dt.datetime, expected: dict[str, tuple[bool, SkipReason | None]]
) -> None:
    waves = [
        _wave("close_48h", local(12, 18), local(14, 18)),
        _wave("close_24h", local(13, 18), local(14, 18)),
        _wave("custom", local(15, 8), None, phase="notice"),
    ]
    decisions = triage_due(waves, utc(now))
    assert {d.wave.kind: (d.fire, d.reason) for d in decisions} == expected
