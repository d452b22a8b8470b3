"""Reminder waves: planned from the database, fired once each through the outbox, to exactly the people
who still have something to do.

The database is the truth. `plan_reminders` rebuilds the plan from the elections and publicity lists
(at start-up, after a date change, and every few minutes), finding each wave again by its stable
key; only waves still `planned` are ever changed or fired, so a re-plan or a restart never sends a
wave twice. `fire_wave` computes the audience at the moment of firing (people who acted since the
plan drop out), writes one broadcast through the outbox and marks the wave sent in the same commit.

The wave registry (`WAVE_KINDS`): a kind is its timing (a phase's edge plus an offset), its audience
(an async function of the session and the wave's subject, giving person ids) and whether it is
essential (legally required: it reaches people who muted reminders too). Its words are the Telegram
side's (`handlers/reminder_render.py`), one renderer per kind. Another part adds a wave kind with
one entry here and one renderer there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.locale_choice import resolve_locale
from bot.rules.policy import Position
from bot.rules.quiet_hours import is_quiet
from bot.rules.reminders import (
    Edge,
    PlannedWave,
    QuietHours,
    ReminderPolicy,
    SkipReason,
    Span,
    WaveTiming,
    plan_waves,
    triage_due,
    wave_key,
)
from bot.services import proxies
from bot.services.elections import policy_of
from bot.services.identity import Me, RoleName
from bot.services.notices import Recipient
from bot.services.outbox import BroadcastKind, MessagePayload, OutgoingMessage, enqueue_broadcast
from bot.services.results import elected_by_position
from storage.models import (
    Election,
    ElectionStatus,
    Notice,
    ReminderMute,
    ReminderWave,
    ReminderWaveStatus,
    ResultEntry,
    ResultEntryStatus,
    ScheduledNotice,
    Village,
    VillageReminderSettings,
)
from storage.repositories import notices as notices_repo
from storage.repositories import reminders as reminders_repo
from storage.repositories import results as results_repo

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Asia/Shanghai"
CUSTOM_TEXT_LIMIT = 3_500
CUSTOM_HORIZON = timedelta(days=366)
POLICY = ReminderPolicy()


WaveDetail = tuple[tuple[str, str], ...]


class SubjectKind(StrEnum):
    """What a wave is timed from: an election's phases, a publicity list, or a committee's notice."""

    ELECTION = "election"
    PUBLICITY = "notice"
    SCHEDULED = "scheduled"
    RESULTS = "results"  # a published results entry: "now final" once its objection window closed


@dataclass(frozen=True)
class FinalResults:
    """A published results entry whose objection window has closed: who was elected, position by position."""

    entry: ResultEntry
    election: Election
    elected: tuple[tuple[Position, tuple[str, ...]], ...]


@dataclass(frozen=True)
class WaveSubject:
    """Everything a wave's audience and its words may need, loaded when it fires."""

    wave: ReminderWave
    village: Village
    settings: VillageReminderSettings
    election: Election | None = None
    notice: Notice | None = None
    scheduled: ScheduledNotice | None = None
    results: FinalResults | None = None
    # Per recipient (account id): what only they are told, e.g. the principals a proxy holder votes
    # for. Filled when the wave fires, from its kind's `details`.
    details: Mapping[int, WaveDetail] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.settings)


Audience = Callable[[AsyncSession, WaveSubject], Awaitable[Collection[int]]]
# Person id -> (name, code) pairs the renderer words, e.g. (principal, relationship).
Details = Callable[[AsyncSession, WaveSubject], Awaitable[Mapping[int, WaveDetail]]]


@dataclass(frozen=True)
class WaveKind:
    kind: str
    subject: SubjectKind
    audience: Audience
    essential: bool
    timing: WaveTiming | None = None  # None: timed by the committee (a scheduled notice)
    details: Details | None = None  # what each recipient alone is told


# --------------------------------------------------------------------------------- audiences


def _election_id(subject: WaveSubject) -> int:
    assert subject.election is not None and subject.election.id is not None
    return subject.election.id


def _village_id(subject: WaveSubject) -> int:
    assert subject.village.id is not None
    return subject.village.id


async def everyone_on_roll(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return await reminders_repo.voters(session, _village_id(subject))


async def not_recommended(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return await reminders_repo.voters_without_participation(
        session, _village_id(subject), _election_id(subject)
    )


async def not_trust_voted(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return await reminders_repo.voters_without_trust_ballot(
        session, _village_id(subject), _election_id(subject)
    )


async def publicity_audience(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    notice = subject.notice
    assert notice is not None
    members = await notices_repo.audience_members(
        session, notice.village_id, notice.audience, notice.audience_group_id
    )
    return [m.person_id for m in members]


async def whole_village(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    members = await notices_repo.audience_members(session, _village_id(subject), "all", None)
    return [m.person_id for m in members]


async def migrants_not_answered(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return await proxies.migrants_without_answer(session, _election_id(subject))


async def holders_not_answered(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return await proxies.requests_awaiting_holder(session, _election_id(subject))


async def forms_missing(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return await proxies.approved_forms_missing(session, _election_id(subject))


async def proxy_holders(session: AsyncSession, subject: WaveSubject) -> Collection[int]:
    return list(await proxies.holders_with_principals(session, _election_id(subject)))


async def principals_of_holders(session: AsyncSession, subject: WaveSubject) -> Mapping[int, WaveDetail]:
    held = await proxies.holders_with_principals(session, _election_id(subject))
    return {
        holder: tuple((name, str(rel)) for name, rel in principals) for holder, principals in held.items()
    }


def _timing(kind: str, phase: str, edge: Edge, offset: timedelta) -> WaveTiming:
    return WaveTiming(kind, phase, edge, offset)


def _hours(lead: timedelta) -> int:
    return int(lead.total_seconds() // 3600)


def _close_waves(phase: str, audience: Audience, *, essential: bool = False) -> list[WaveKind]:
    return [
        WaveKind(
            f"{phase}_close_{_hours(lead)}h",
            SubjectKind.ELECTION,
            audience,
            essential=essential,
            timing=_timing(f"{phase}_close_{_hours(lead)}h", phase, Edge.CLOSES, -lead),
        )
        for lead in POLICY.close_leads
    ]


CUSTOM_NOTICE = "custom_notice"
RESULTS_FINAL = "results_final"
# After this long past the end of the objection window, "now final" is stale news (the bot was down):
# skipped; /results says "final" anyway.
RESULTS_FINAL_USEFUL = timedelta(days=3)

# The registry. Phases: "recommendation", "trust_vote", "election_day" of an election;
# "objection" of a publicity list (from its publication to its objection deadline). The proxy waves
# (issue 6's deadlines) each have a phase of their own, so that waves of different audiences due at
# the same moment never stand in for each other: "proxy_intent" and "proxy_holder" close with the
# proxy deadline day, "proxy_form" and "election_day_holders" with the start and the end of election day.
WAVE_KINDS: dict[str, WaveKind] = {
    spec.kind: spec
    for spec in (
        WaveKind(
            "recommendation_opens",
            SubjectKind.ELECTION,
            everyone_on_roll,
            essential=False,
            timing=_timing("recommendation_opens", "recommendation", Edge.OPENS, timedelta(0)),
        ),
        *_close_waves("recommendation", not_recommended),
        WaveKind(
            "trust_vote_opens",
            SubjectKind.ELECTION,
            everyone_on_roll,
            essential=False,
            timing=_timing("trust_vote_opens", "trust_vote", Edge.OPENS, timedelta(0)),
        ),
        *_close_waves("trust_vote", not_trust_voted),
        WaveKind(
            "election_day_morning",
            SubjectKind.ELECTION,
            everyone_on_roll,
            essential=False,
            timing=_timing("election_day_morning", "election_day", Edge.OPENS, POLICY.election_morning),
        ),
        # Migrant workers who have not said how they will take part (not legally required).
        *_close_waves("proxy_intent", migrants_not_answered),
        # Their own proxy (OL 15 ¶4): a request waiting for the holder's answer, a written form missing.
        *_close_waves("proxy_holder", holders_not_answered, essential=True),
        *_close_waves("proxy_form", forms_missing, essential=True),
        WaveKind(
            "election_day_holders",
            SubjectKind.ELECTION,
            proxy_holders,
            essential=True,
            timing=_timing(
                "election_day_holders", "election_day_holders", Edge.OPENS, POLICY.election_morning
            ),
            details=principals_of_holders,
        ),
        # OL 14: a list that concerns them (the voter roll, the candidates) is a legally required notice.
        WaveKind(
            "objection_deadline",
            SubjectKind.PUBLICITY,
            publicity_audience,
            essential=True,
            timing=_timing("objection_deadline", "objection", Edge.CLOSES, -POLICY.objection_lead),
        ),
        WaveKind(CUSTOM_NOTICE, SubjectKind.SCHEDULED, whole_village, essential=True),
        # The results announcement said "provisional until …": the day after, everyone hears they are final.
        WaveKind(
            RESULTS_FINAL,
            SubjectKind.RESULTS,
            whole_village,
            essential=False,
            timing=_timing(RESULTS_FINAL, RESULTS_FINAL, Edge.OPENS, timedelta(0)),
        ),
    )
}


def timings_for(subject: SubjectKind) -> list[WaveTiming]:
    return [k.timing for k in WAVE_KINDS.values() if k.subject is subject and k.timing is not None]


# --------------------------------------------------------------------------------- settings


def default_settings(village_id: int) -> VillageReminderSettings:
    return VillageReminderSettings(
        village_id=village_id, time_zone=DEFAULT_ZONE, quiet_start=time(21, 0), quiet_end=time(8, 0)
    )


def zone_of(settings: VillageReminderSettings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning(
            "village %s: unknown time zone %r, using %s",
            settings.village_id,
            settings.time_zone,
            DEFAULT_ZONE,
        )
        return ZoneInfo(DEFAULT_ZONE)


def quiet_hours_of(settings: VillageReminderSettings) -> QuietHours:
    return QuietHours(zone_of(settings), settings.quiet_start, settings.quiet_end)


async def _settings(
    session: AsyncSession, village_ids: Collection[int]
) -> dict[int, VillageReminderSettings]:
    found = await reminders_repo.settings_of(session, village_ids)
    return {v: found.get(v) or default_settings(v) for v in village_ids}


class SettingsRefusal(StrEnum):
    UNKNOWN_VILLAGE = "unknown_village"
    UNKNOWN_ZONE = "unknown_zone"


async def set_reminder_settings(
    session: AsyncSession,
    *,
    village_id: int,
    time_zone: str | None = None,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    polling_place: str | None = None,
) -> SettingsRefusal | VillageReminderSettings:
    """Change a village's time zone, quiet hours or polling place (the shell's `cunmin reminders`)."""
    if await session.get(Village, village_id) is None:
        await session.commit()
        return SettingsRefusal.UNKNOWN_VILLAGE
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            await session.commit()
            return SettingsRefusal.UNKNOWN_ZONE
    row = await session.get(VillageReminderSettings, village_id) or default_settings(village_id)
    if time_zone is not None:
        row.time_zone = time_zone
    if quiet_start is not None:
        row.quiet_start = quiet_start
    if quiet_end is not None:
        row.quiet_end = quiet_end
    if polling_place is not None:
        row.polling_place = polling_place.strip() or None
    session.add(row)
    await session.commit()
    return row


# ------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PlanSummary:
    planned: int = 0  # new waves
    moved: int = 0  # planned waves whose time changed
    skipped: int = 0  # planned waves that can no longer be sent usefully
    cancelled: int = 0  # planned waves whose subject is gone (election closed, list withdrawn)


# The proxy phases have no opening edge of their own: they run from the election's opening (only open
# elections are planned) to their deadline, and only their closing waves exist.
_SINCE_OPENED = datetime(2000, 1, 1, tzinfo=UTC)


def _election_phases(election: Election, zone: ZoneInfo) -> dict[str, Span]:
    phases: dict[str, Span] = {}
    if election.recommendation_opens is not None and election.recommendation_closes is not None:
        phases["recommendation"] = Span(election.recommendation_opens, election.recommendation_closes)
    if election.trust_vote_opens is not None and election.trust_vote_closes is not None:
        phases["trust_vote"] = Span(election.trust_vote_opens, election.trust_vote_closes)
    midnight = datetime.combine(election.election_day, time(0), tzinfo=zone)
    day = Span(midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC))
    phases["election_day"] = day
    if policy_of(election).proxy_allowed.value:
        # Requests are accepted through the whole deadline day (bot.rules.schedule.proxy_deadline).
        after = datetime.combine(proxies.deadline_of(election) + timedelta(days=1), time(0), tzinfo=zone)
        phases["proxy_intent"] = phases["proxy_holder"] = Span(_SINCE_OPENED, after.astimezone(UTC))
        # A signed written form is needed by the time the holder votes.
        phases["proxy_form"] = Span(_SINCE_OPENED, day.opens)
        phases["election_day_holders"] = day
    return phases


def _results_final_phases(entry: ResultEntry, zone: ZoneInfo) -> dict[str, Span]:
    """From midnight after the last day for objections (village time) until the news is stale."""
    assert entry.objections_until is not None
    final = datetime.combine(entry.objections_until + timedelta(days=1), time(0), tzinfo=zone)
    return {RESULTS_FINAL: Span(final.astimezone(UTC), (final + RESULTS_FINAL_USEFUL).astimezone(UTC))}


@dataclass(frozen=True)
class _Desired:
    subject: str
    village_id: int
    election_id: int | None
    notice_id: int | None
    phases: Mapping[str, Span]
    timings: Sequence[WaveTiming]
    quiet: QuietHours
    result_entry_id: int | None = None


async def plan_reminders(
    session: AsyncSession, *, now: datetime, election_ids: Collection[int] | None = None
) -> PlanSummary:
    """Bring the stored plan in line with the elections, publicity lists and results, in one commit.

    With ``election_ids`` only those elections are re-planned (after a date change); without, the
    whole plan (at start-up). Sent and cancelled waves are never touched; a wave skipped earlier comes
    back when its phase moved so that it is useful again. A wave whose time has already passed when
    it is first planned is stored as skipped (``past_when_planned``); one planned in time and then
    missed stays planned and is fired (or skipped) by `settle_missed` and `fire_wave`.
    """
    found = await reminders_repo.elections(session, election_ids)
    notices = (
        [] if election_ids is not None else await reminders_repo.publicity_with_deadline(session, after=now)
    )
    results = (
        []
        if election_ids is not None
        else await results_repo.published_with_objection_window(
            session, since=(now - RESULTS_FINAL_USEFUL - timedelta(days=2)).date()
        )
    )
    settings = await _settings(
        session,
        {e.village_id for e in found} | {n.village_id for n in notices} | {e.village_id for _, e in results},
    )

    desired: list[_Desired] = []
    closed_subjects: set[str] = set()
    for election in found:
        assert election.id is not None
        subject = f"{SubjectKind.ELECTION.value}:{election.id}"
        if election.status != ElectionStatus.OPEN:
            closed_subjects.add(subject)
            continue
        quiet = quiet_hours_of(settings[election.village_id])
        desired.append(
            _Desired(
                subject,
                election.village_id,
                election.id,
                None,
                _election_phases(election, quiet.zone),
                timings_for(SubjectKind.ELECTION),
                quiet,
            )
        )
    for notice in notices:
        assert notice.id is not None and notice.objection_deadline is not None
        quiet = quiet_hours_of(settings[notice.village_id])
        desired.append(
            _Desired(
                f"{SubjectKind.PUBLICITY.value}:{notice.id}",
                notice.village_id,
                None,
                notice.id,
                {"objection": Span(notice.created_at, notice.objection_deadline)},
                timings_for(SubjectKind.PUBLICITY),
                quiet,
            )
        )
    for entry, of_election in results:
        assert entry.id is not None and entry.objections_until is not None
        subject = f"{SubjectKind.RESULTS.value}:{entry.id}"
        if entry.status != ResultEntryStatus.PUBLISHED:
            # Superseded by a correction: the correction gets its own "final" wave, this one none.
            closed_subjects.add(subject)
            continue
        quiet = quiet_hours_of(settings[of_election.village_id])
        desired.append(
            _Desired(
                subject,
                of_election.village_id,
                None,
                None,
                _results_final_phases(entry, quiet.zone),
                timings_for(SubjectKind.RESULTS),
                quiet,
                result_entry_id=entry.id,
            )
        )

    existing = {
        w.key: w
        for w in await reminders_repo.waves_of_subjects(
            session, [d.subject for d in desired] + sorted(closed_subjects)
        )
    }
    counts = {"planned": 0, "moved": 0, "skipped": 0, "cancelled": 0}
    seen: set[str] = set()
    for item in desired:
        outcome = plan_waves(item.subject, item.phases, item.timings, item.quiet, now)
        for wave in outcome.planned:
            seen.add(wave.key)
            _plan_one(session, existing.get(wave.key), wave, item, now, counts)
        for skipped in outcome.skipped:
            seen.add(skipped.key)
            row = existing.get(skipped.key)
            if row is None:
                session.add(
                    _row(item, skipped.key, skipped.kind, skipped.phase, now, now, None, skipped.reason)
                )
            elif row.status == ReminderWaveStatus.PLANNED or _revivable(row):
                if row.status == ReminderWaveStatus.PLANNED:
                    counts["skipped"] += 1
                    log.info("reminder %s skipped: %s", row.key, skipped.reason.value)
                row.status, row.reason, row.updated_at = ReminderWaveStatus.SKIPPED, skipped.reason.value, now
                session.add(row)
    for key, row in existing.items():
        if key in seen or row.status != ReminderWaveStatus.PLANNED:
            continue
        # Its election closed (or its phase was removed): nobody should hear of it any more.
        row.status, row.reason, row.updated_at = ReminderWaveStatus.CANCELLED, "subject_gone", now
        session.add(row)
        counts["cancelled"] += 1
    await session.commit()
    return PlanSummary(**counts)


def _revivable(row: ReminderWave) -> bool:
    """Skipped by planning and never fired: a later plan may make it useful again."""
    return row.status == ReminderWaveStatus.SKIPPED and row.fired_at is None and row.broadcast_id is None


def _row(
    item: _Desired,
    key: str,
    kind: str,
    phase: str,
    due: datetime,
    now: datetime,
    deadline: datetime | None,
    reason: SkipReason | None,
) -> ReminderWave:
    spec = WAVE_KINDS[kind]
    return ReminderWave(
        key=key,
        village_id=item.village_id,
        election_id=item.election_id,
        notice_id=item.notice_id,
        result_entry_id=item.result_entry_id,
        subject=item.subject,
        phase=phase,
        kind=kind,
        essential=spec.essential,
        due_at=due,
        deadline_at=deadline,
        status=ReminderWaveStatus.SKIPPED if reason else ReminderWaveStatus.PLANNED,
        reason=reason.value if reason else None,
        created_at=now,
        updated_at=now,
    )


def _plan_one(
    session: AsyncSession,
    row: ReminderWave | None,
    wave: PlannedWave,
    item: _Desired,
    now: datetime,
    counts: dict[str, int],
) -> None:
    late = wave.due <= now
    if row is None:
        # A wave is sent late only if it was planned in time and then missed (the bot was down).
        reason = SkipReason.PAST_WHEN_PLANNED if late else None
        session.add(_row(item, wave.key, wave.kind, wave.phase, wave.due, now, wave.deadline, reason))
        counts["skipped" if late else "planned"] += 1
        return
    if row.status == ReminderWaveStatus.PLANNED:
        if row.due_at != wave.due or row.deadline_at != wave.deadline:
            row.due_at, row.deadline_at, row.updated_at = wave.due, wave.deadline, now
            session.add(row)
            counts["moved"] += 1
        return
    if _revivable(row) and not late:
        row.status, row.reason = ReminderWaveStatus.PLANNED, None
        row.due_at, row.deadline_at, row.updated_at = wave.due, wave.deadline, now
        session.add(row)
        counts["planned"] += 1


async def settle_missed(session: AsyncSession, *, now: datetime) -> list[str]:
    """At start-up: waves whose time passed while the bot was down. The ones still useful (before the
    deadline they remind of) are returned, to be fired now; the others are skipped and logged."""
    due = await reminders_repo.planned_due(session, now)
    waves = [PlannedWave(w.key, w.kind, w.phase, w.due_at, w.deadline_at) for w in due]
    rows = {w.key: w for w in due}
    fire: list[str] = []
    for decision in triage_due(waves, now):
        row = rows[decision.wave.key]
        if decision.fire:
            fire.append(row.key)
        elif decision.reason is not None:
            log.warning(
                "reminder %s was missed while the bot was down: skipped (%s)", row.key, decision.reason.value
            )
            assert row.id is not None
            await reminders_repo.settle_wave(
                session,
                row.id,
                {
                    "status": ReminderWaveStatus.SKIPPED.value,
                    "reason": decision.reason.value,
                    "updated_at": now,
                },
            )
    await session.commit()
    return fire


async def planned_schedule(session: AsyncSession) -> list[tuple[str, datetime]]:
    """Every planned wave's key and due time, in order: what the scheduler's jobs must be."""
    found = [(w.key, w.due_at) for w in await reminders_repo.planned(session)]
    await session.commit()  # end the read (storage/db.py)
    return found


# ------------------------------------------------------------------------------------- fire


WaveRenderer = Callable[[WaveSubject, Recipient], MessagePayload]


class FireResult(StrEnum):
    SENT = "sent"
    NOBODY = "nobody"  # everyone acted (or muted, or is not linked): skipped
    NOT_DUE = "not_due"
    DEFERRED = "deferred"  # quiet hours now: moved to the morning
    TOO_LATE = "too_late"  # its deadline passed: skipped
    SUBJECT_GONE = "subject_gone"
    ALREADY_SETTLED = "already_settled"  # sent, skipped or cancelled before (by us or another process)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FireOutcome:
    result: FireResult
    recipients: int = 0
    broadcast_id: int | None = None
    due_at: datetime | None = None


async def _subject(session: AsyncSession, wave: ReminderWave) -> WaveSubject | None:
    village = await session.get(Village, wave.village_id)
    if village is None or village.id is None:
        return None
    settings = (await _settings(session, [village.id]))[village.id]
    election = await session.get(Election, wave.election_id) if wave.election_id is not None else None
    notice = await session.get(Notice, wave.notice_id) if wave.notice_id is not None else None
    scheduled = (
        await reminders_repo.scheduled_notice(session, wave.scheduled_notice_id)
        if wave.scheduled_notice_id is not None
        else None
    )
    if wave.election_id is not None and (election is None or election.status != ElectionStatus.OPEN):
        return None
    if wave.notice_id is not None and notice is None:
        return None
    if wave.scheduled_notice_id is not None and scheduled is None:
        return None
    results = (
        await _final_results(session, wave.result_entry_id) if wave.result_entry_id is not None else None
    )
    if wave.result_entry_id is not None and results is None:
        return None
    if results is not None:
        election = results.election
    return WaveSubject(wave, village, settings, election, notice, scheduled, results)


async def _final_results(session: AsyncSession, entry_id: int) -> FinalResults | None:
    """The entry the wave announces, while it is the one in force (a superseded one is not final news)."""
    entry = await results_repo.get(session, entry_id)
    if entry is None or entry.status != ResultEntryStatus.PUBLISHED:
        return None
    election = await session.get(Election, entry.election_id)
    if election is None:
        return None
    return FinalResults(entry, election, await elected_by_position(session, entry))


async def recipients_of(session: AsyncSession, subject: WaveSubject, default_locale: str) -> list[Recipient]:
    """Who the wave reaches if it fires now: its audience, less the muted (unless essential), linked only."""
    return [r for _, r in await _recipients(session, subject, default_locale)]


async def _recipients(
    session: AsyncSession, subject: WaveSubject, default_locale: str
) -> list[tuple[int, Recipient]]:
    spec = WAVE_KINDS[subject.wave.kind]
    people = set(await spec.audience(session, subject))
    if not subject.wave.essential:
        people -= await reminders_repo.muted(session, _village_id(subject))
    return [
        (
            v.person_id,
            Recipient(
                v.account_id,
                v.chat_id,
                resolve_locale(v.locale, v.telegram_language_code, default_locale),
                v.name,
            ),
        )
        for v in await reminders_repo.bound_villagers(session, _village_id(subject))
        if v.person_id in people
    ]


async def fire_wave(
    session: AsyncSession, *, key: str, now: datetime, render: WaveRenderer, default_locale: str
) -> FireOutcome:
    """Send one wave: its audience computed now, one broadcast, the wave marked sent, in one commit."""
    outcome = await _fire(session, key, now, render, default_locale)
    if outcome.result is FireResult.ALREADY_SETTLED:
        await session.rollback()
    else:
        await session.commit()
    return outcome


async def _fire(
    session: AsyncSession, key: str, now: datetime, render: WaveRenderer, default_locale: str
) -> FireOutcome:
    wave = await reminders_repo.wave_by_key(session, key)
    if wave is None or wave.id is None:
        return FireOutcome(FireResult.UNKNOWN)
    if wave.status != ReminderWaveStatus.PLANNED:
        return FireOutcome(FireResult.ALREADY_SETTLED)
    if wave.due_at > now:
        return FireOutcome(FireResult.NOT_DUE, due_at=wave.due_at)

    def settle(status: ReminderWaveStatus, reason: str | None, **values: object) -> Awaitable[int]:
        assert wave is not None and wave.id is not None
        return reminders_repo.settle_wave(
            session, wave.id, {"status": status.value, "reason": reason, "updated_at": now, **values}
        )

    if wave.deadline_at is not None and now >= wave.deadline_at:
        log.warning("reminder %s came after its deadline: skipped", key)
        await settle(ReminderWaveStatus.SKIPPED, SkipReason.PHASE_CLOSED.value)
        return FireOutcome(FireResult.TOO_LATE)
    subject = await _subject(session, wave)
    if subject is None:
        await settle(ReminderWaveStatus.CANCELLED, "subject_gone")
        return FireOutcome(FireResult.SUBJECT_GONE)
    quiet = quiet_hours_of(subject.settings)
    if is_quiet(now.astimezone(quiet.zone).time(), quiet.start, quiet.end):
        # A wave fired late (the bot was down) must not wake anybody either.
        morning = quiet.defer(now)
        if wave.deadline_at is not None and morning >= wave.deadline_at:
            await settle(ReminderWaveStatus.SKIPPED, SkipReason.DEFERRED_PAST_DEADLINE.value)
            return FireOutcome(FireResult.TOO_LATE)
        changed = await reminders_repo.settle_wave(session, wave.id, {"due_at": morning, "updated_at": now})
        return FireOutcome(FireResult.DEFERRED if changed else FireResult.ALREADY_SETTLED, due_at=morning)

    found = await _recipients(session, subject, default_locale)
    if not found:
        changed = await settle(ReminderWaveStatus.SKIPPED, "nobody_left", fired_at=now)
        return FireOutcome(FireResult.NOBODY if changed else FireResult.ALREADY_SETTLED)
    spec = WAVE_KINDS[wave.kind]
    if spec.details is not None:
        by_person = await spec.details(session, subject)
        subject = replace(subject, details={r.account_id: by_person[p] for p, r in found if p in by_person})
    recipients = [r for _, r in found]
    broadcast = await enqueue_broadcast(
        session,
        kind=BroadcastKind.REMINDER,
        title=key,
        village_id=wave.village_id,
        created_by_account_id=subject.scheduled.created_by_account_id if subject.scheduled else None,
        messages=[
            OutgoingMessage(
                account_id=r.account_id, chat_id=r.chat_id, payload=render(subject, r), locale=r.locale
            )
            for r in recipients
        ],
        commit=False,
    )
    changed = await settle(
        ReminderWaveStatus.SENT, None, fired_at=now, broadcast_id=broadcast.id, recipients=len(recipients)
    )
    if not changed:
        return FireOutcome(FireResult.ALREADY_SETTLED)
    return FireOutcome(FireResult.SENT, recipients=len(recipients), broadcast_id=broadcast.id)


# ------------------------------------------------------------------------------- committee


@dataclass(frozen=True)
class WaveLine:
    wave: ReminderWave
    reach: int  # how many people it would reach if it fired now
    zone: ZoneInfo
    title: str | None  # the election's title, the list's title, or the start of the notice


async def upcoming_waves(
    session: AsyncSession, me: Me, *, default_locale: str, limit: int = 8
) -> list[WaveLine]:
    """The next planned waves of the villages where ``me`` is on the committee."""
    villages = [v.id for v in me.villages_with(RoleName.COMMITTEE) if v.id is not None]
    return await _wave_lines(session, villages, default_locale, limit)


async def village_plan(
    session: AsyncSession, village_id: int, *, default_locale: str, limit: int | None = None
) -> list[WaveLine]:
    """Every planned wave of a village (the shell's `cunmin reminders plan`)."""
    return await _wave_lines(session, [village_id], default_locale, limit)


async def _wave_lines(
    session: AsyncSession, village_ids: Sequence[int], default_locale: str, limit: int | None
) -> list[WaveLine]:
    lines: list[WaveLine] = []
    for wave in await reminders_repo.planned(session, village_ids=village_ids, limit=limit):
        subject = await _subject(session, wave)
        if subject is None:
            continue
        reach = len(await recipients_of(session, subject, default_locale))
        title = (
            subject.election.title
            if subject.election
            else subject.notice.title
            if subject.notice
            else (subject.scheduled.text[:40] if subject.scheduled else None)
        )
        lines.append(WaveLine(wave, reach, subject.zone, title))
    await session.commit()  # end the read (storage/db.py)
    return lines


class CancelRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_WAVE = "unknown_wave"
    ALREADY_SETTLED = "already_settled"


async def cancel_wave(
    session: AsyncSession, me: Me, wave_id: int, *, now: datetime
) -> CancelRefusal | ReminderWave:
    wave = await reminders_repo.get_wave(session, wave_id)
    refusal: CancelRefusal | None = None
    if wave is None:
        refusal = CancelRefusal.UNKNOWN_WAVE
    elif not me.has_role(wave.village_id, RoleName.COMMITTEE):
        refusal = CancelRefusal.NOT_ALLOWED
    elif (
        await reminders_repo.settle_wave(
            session,
            wave_id,
            {
                "status": ReminderWaveStatus.CANCELLED.value,
                "reason": "cancelled_by_committee",
                "cancelled_by_account_id": me.account.id,
                "updated_at": now,
            },
        )
        == 0
    ):
        refusal = CancelRefusal.ALREADY_SETTLED
    if refusal is not None or wave is None:
        await session.rollback()
        return refusal or CancelRefusal.UNKNOWN_WAVE
    await session.commit()
    await session.refresh(wave)
    await session.commit()
    return wave


class ScheduleRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"
    IN_THE_PAST = "in_the_past"
    TOO_FAR = "too_far"


@dataclass(frozen=True)
class ScheduleOutcome:
    refusal: ScheduleRefusal | None = None
    wave: ReminderWave | None = None
    # True when the asked time was in quiet hours: the wave goes at the end of them.
    deferred: bool = False


def check_custom_text(text: str) -> ScheduleRefusal | None:
    if not text.strip():
        return ScheduleRefusal.EMPTY_TEXT
    if len(text) > CUSTOM_TEXT_LIMIT:
        return ScheduleRefusal.TEXT_TOO_LONG
    return None


async def schedule_custom_notice(
    session: AsyncSession, me: Me, *, village_id: int, text: str, send_at: datetime, now: datetime
) -> ScheduleOutcome:
    """ "Send this notice at 08:00 on Friday": a notice and its wave, in one commit."""
    refusal = None
    if not me.has_role(village_id, RoleName.COMMITTEE):
        refusal = ScheduleRefusal.NOT_ALLOWED
    elif (problem := check_custom_text(text)) is not None:
        refusal = problem
    elif send_at <= now:
        refusal = ScheduleRefusal.IN_THE_PAST
    elif send_at - now > CUSTOM_HORIZON:
        refusal = ScheduleRefusal.TOO_FAR
    if refusal is not None:
        await session.commit()  # nothing was written: end the read
        return ScheduleOutcome(refusal=refusal)
    quiet = quiet_hours_of((await _settings(session, [village_id]))[village_id])
    due = quiet.defer(send_at)
    notice = ScheduledNotice(
        village_id=village_id,
        text=text.strip(),
        send_at=send_at,
        created_by_account_id=me.account.id,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    subject = f"{SubjectKind.SCHEDULED.value}:{notice.id}"
    wave = ReminderWave(
        key=wave_key(subject, CUSTOM_NOTICE),
        village_id=village_id,
        scheduled_notice_id=notice.id,
        subject=subject,
        phase="notice",
        kind=CUSTOM_NOTICE,
        essential=WAVE_KINDS[CUSTOM_NOTICE].essential,
        due_at=due,
        deadline_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(wave)
    await session.commit()
    return ScheduleOutcome(wave=wave, deferred=due != send_at.astimezone(UTC))


async def committee_zone(session: AsyncSession, village_id: int) -> ZoneInfo:
    zone = zone_of((await _settings(session, [village_id]))[village_id])
    await session.commit()
    return zone


# -------------------------------------------------------------------------------- villagers


class MuteRefusal(StrEnum):
    NOT_BOUND = "not_bound"


@dataclass(frozen=True)
class MuteState:
    refusal: MuteRefusal | None = None
    muted: bool = False


async def reminder_mute_state(session: AsyncSession, me: Me) -> MuteState:
    if me.person is None or me.person.id is None:
        return MuteState(refusal=MuteRefusal.NOT_BOUND)
    found = await reminders_repo.mute_of(session, me.person.id)
    await session.commit()
    return MuteState(muted=found is not None)


async def set_reminders_muted(session: AsyncSession, me: Me, *, muted: bool, now: datetime) -> MuteState:
    """Mute or unmute non-essential reminders; legally required notices reach the villager anyway."""
    if me.person is None or me.person.id is None:
        return MuteState(refusal=MuteRefusal.NOT_BOUND)
    found = await reminders_repo.mute_of(session, me.person.id)
    if muted and found is None:
        session.add(ReminderMute(person_id=me.person.id, muted_at=now))
    elif not muted and found is not None:
        await session.delete(found)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # a second press raced the first: it is muted already
    return MuteState(muted=muted)
