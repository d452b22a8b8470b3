"""Reminder planning: from a subject's phases and the reminder policy, the waves and their due times.

A *subject* is what reminders are about (an election, a publicity list); each of its *phases* is a
span of time (the trust vote from its opening to its closing; election day from midnight to
midnight; a publicity list from publication to its objection deadline). A wave is timed from one
edge of a phase plus an offset and is useless once its phase has closed.

Quiet hours are the village's wall-clock hours (default 21:00-08:00): a wave due then moves to the
next morning; moving keeps the order of waves (`defer_for_quiet_hours` is monotonic). Every instant
here is aware; the village's zone turns it into wall time.

Legal sources: the voter list and publicity objection window (OL 14), the trust vote and
recommendation windows set by the committee within the presets (bot.rules.policy). The reminder
lead times are no legal numbers: they are the policy below, changeable per deployment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.rules.quiet_hours import DEFAULT_END, DEFAULT_START, defer_for_quiet_hours

__all__ = [
    "Edge",
    "PlanOutcome",
    "PlannedWave",
    "QuietHours",
    "ReminderPolicy",
    "SkipReason",
    "SkippedWave",
    "Span",
    "TriageDecision",
    "WaveTiming",
    "plan_waves",
    "triage_due",
    "wave_key",
]


class Edge(StrEnum):
    OPENS = "opens"
    CLOSES = "closes"


class SkipReason(StrEnum):
    PHASE_INVERTED = "phase_inverted"  # the phase closes before (or when) it opens
    PHASE_CLOSED = "phase_closed"  # the deadline it reminds of has passed
    BEFORE_PHASE_OPENS = "before_phase_opens"  # "48 h before closing" of a phase shorter than that
    DEFERRED_PAST_DEADLINE = "deferred_past_deadline"  # quiet hours would move it past the deadline
    SUPERSEDED = "superseded"  # already late, and a later wave of the same phase is due as well
    # Its time had passed when it was first planned (an election opened after its window began):
    # what is already under way is the committee's notice to announce, not a late reminder.
    PAST_WHEN_PLANNED = "past_when_planned"


@dataclass(frozen=True)
class Span:
    """A phase as two aware instants."""

    opens: dt.datetime
    closes: dt.datetime


@dataclass(frozen=True)
class QuietHours:
    zone: ZoneInfo
    start: dt.time = DEFAULT_START
    end: dt.time = DEFAULT_END

    def defer(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself outside quiet hours, else the end of them, as an aware UTC instant."""
        local = moment.astimezone(self.zone)
        return defer_for_quiet_hours(local, self.start, self.end).astimezone(dt.UTC)


@dataclass(frozen=True)
class WaveTiming:
    """When a wave kind is due: ``offset`` from one ``edge`` of ``phase``."""

    kind: str
    phase: str
    edge: Edge
    offset: dt.timedelta


@dataclass(frozen=True)
class ReminderPolicy:
    """The lead times of the automatic waves (hours before a phase closes) and election-day morning."""

    close_leads: tuple[dt.timedelta, ...] = (dt.timedelta(hours=48), dt.timedelta(hours=24))
    # From midnight of election day: 07:00, moved to the end of quiet hours when they end later.
    election_morning: dt.timedelta = dt.timedelta(hours=7)
    # Before a publicity list's objection deadline.
    objection_lead: dt.timedelta = dt.timedelta(hours=24)


@dataclass(frozen=True)
class PlannedWave:
    key: str
    kind: str
    phase: str
    due: dt.datetime  # after quiet hours, UTC
    deadline: dt.datetime | None  # the phase's close: after it the wave is useless (None: never)

    def useful_at(self, now: dt.datetime) -> bool:
        return self.deadline is None or now < self.deadline


@dataclass(frozen=True)
class SkippedWave:
    key: str
    kind: str
    phase: str
    reason: SkipReason


@dataclass(frozen=True)
class PlanOutcome:
    planned: tuple[PlannedWave, ...]
    skipped: tuple[SkippedWave, ...]


def wave_key(subject: str, kind: str) -> str:
    """The stable id of a wave: ``election:12:trust_vote_close_24h``."""
    return f"{subject}:{kind}"


def plan_waves(
    subject: str,
    phases: Mapping[str, Span],
    timings: Iterable[WaveTiming],
    quiet: QuietHours,
    now: dt.datetime,
) -> PlanOutcome:
    """The waves of one subject, in due order, and the ones that cannot be sent, each with a reason.

    Timings whose phase the subject does not have are ignored (an election without a trust vote).
    A wave already due (``due <= now``) but still useful is planned at its due time: the caller
    fires it at once; of several such waves of one phase only the latest is kept, so a plan made
    late sends one reminder, not a burst.
    """
    planned: list[PlannedWave] = []
    skipped: list[SkippedWave] = []
    for timing in timings:
        span = phases.get(timing.phase)
        if span is None:
            continue
        key = wave_key(subject, timing.kind)

        def skip(reason: SkipReason, key: str = key, timing: WaveTiming = timing) -> None:
            skipped.append(SkippedWave(key, timing.kind, timing.phase, reason))

        if span.opens >= span.closes:
            skip(SkipReason.PHASE_INVERTED)
            continue
        if span.closes <= now:
            skip(SkipReason.PHASE_CLOSED)
            continue
        anchor = span.opens if timing.edge is Edge.OPENS else span.closes
        raw = anchor + timing.offset
        if raw < span.opens:
            skip(SkipReason.BEFORE_PHASE_OPENS)
            continue
        due = quiet.defer(raw)
        if due >= span.closes:
            skip(SkipReason.DEFERRED_PAST_DEADLINE)
            continue
        if any(w.phase == timing.phase and w.due == due for w in planned):
            # Quiet hours moved two waves of one phase to the same morning: one message, not two.
            skip(SkipReason.SUPERSEDED)
            continue
        planned.append(PlannedWave(key, timing.kind, timing.phase, due, span.closes))
    kept: list[PlannedWave] = []
    for decision in triage_due(planned, now):
        if decision.fire or decision.wave.due > now:
            kept.append(decision.wave)
        else:
            skipped.append(
                SkippedWave(decision.wave.key, decision.wave.kind, decision.wave.phase, SkipReason.SUPERSEDED)
            )
    kept.sort(key=lambda w: (w.due, w.key))
    return PlanOutcome(tuple(kept), tuple(skipped))


@dataclass(frozen=True)
class TriageDecision:
    wave: PlannedWave
    fire: bool
    reason: SkipReason | None = None


def triage_due(waves: Sequence[PlannedWave], now: dt.datetime) -> list[TriageDecision]:
    """What to do with waves at ``now`` (at start-up: the ones missed while the bot was down).

    Not yet due: not fired (``fire`` False, no reason). Due and its phase still open: fired, unless
    a later wave of the same phase is due too (superseded: one reminder, not several at once). Due
    after its phase closed: skipped (``PHASE_CLOSED``).
    """
    latest: dict[str, PlannedWave] = {}
    for wave in waves:
        if wave.due <= now and wave.useful_at(now):
            group = wave.key.rsplit(":", 1)[0] + "|" + wave.phase
            best = latest.get(group)
            if best is None or (wave.due, wave.key) > (best.due, best.key):
                latest[group] = wave
    chosen = {w.key for w in latest.values()}
    decisions: list[TriageDecision] = []
    for wave in waves:
        if wave.due > now:
            decisions.append(TriageDecision(wave, fire=False))
        elif not wave.useful_at(now):
            decisions.append(TriageDecision(wave, fire=False, reason=SkipReason.PHASE_CLOSED))
        elif wave.key in chosen:
            decisions.append(TriageDecision(wave, fire=True))
        else:
            decisions.append(TriageDecision(wave, fire=False, reason=SkipReason.SUPERSEDED))
    return decisions
