"""Elections: set up from the legal preset of their kind and province, changed by the committee only
within the law, opened for recommendations, and described with the source of every number.

The policy of an election is never stored whole: `preset(kind, province)` plus the values the
committee changed (`election.policy_overrides`, JSON), checked by `Policy.with_changes` each time.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.policy import (
    CandidateMargin,
    ElectionKind,
    Policy,
    PolicyProblem,
    Position,
    Province,
    SeatProblem,
    Source,
    Sourced,
    Threshold,
    ThresholdRule,
    check_seats,
    preset,
)
from bot.rules.recommendation import RecommendationRound
from bot.rules.schedule import Schedule, ScheduleProblem, Window, check_schedule
from bot.services.audit import AuditAction, append_audit
from bot.services.identity import Me, RoleName
from storage.models import Election, ElectionPosition, ElectionStatus, Village
from storage.repositories import elections as elections_repo

TITLE_LIMIT = 200

# The fields a committee may change: plain numbers, yes/no, exact fractions and thresholds.
_CHANGEABLE_TYPES = (bool, int, Fraction, Threshold)
_THRESHOLD_TEXT = re.compile(r"^\s*(more_than|at_least)\s+(\d+)\s*/\s*(\d+)\s*$")


class ElectionRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_VILLAGE = "unknown_village"
    UNKNOWN_ELECTION = "unknown_election"
    EMPTY_TITLE = "empty_title"
    TITLE_TOO_LONG = "title_too_long"
    BAD_OVERRIDES = "bad_overrides"  # a value that is not a policy number, or of the wrong type
    POLICY_BREAKS_LAW = "policy_breaks_law"
    SEATS_BREAK_LAW = "seats_break_law"
    NO_RECOMMENDATION_WINDOW = "no_recommendation_window"
    SCHEDULE_BREAKS_LAW = "schedule_breaks_law"
    NOT_DRAFT = "not_draft"
    CLOSED = "closed"
    STALE_VERSION = "stale_version"  # someone else changed the election since it was read


class OverrideProblemReason(StrEnum):
    UNKNOWN_FIELD = "unknown_field"
    NOT_CHANGEABLE = "not_changeable"
    WRONG_TYPE = "wrong_type"


@dataclass(frozen=True)
class OverrideProblem:
    field: str
    reason: OverrideProblemReason
    value: str


@dataclass(frozen=True)
class ElectionOutcome:
    refusal: ElectionRefusal | None = None
    election: Election | None = None
    policy: Policy | None = None
    # What breaks the law, each with its source: shown to the committee as it is.
    policy_problems: tuple[PolicyProblem, ...] = ()
    seat_problems: tuple[SeatProblem, ...] = ()
    schedule_problems: tuple[ScheduleProblem, ...] = ()
    override_problems: tuple[OverrideProblem, ...] = ()
    # Accepted changes to values whose source RULES.md marks unconfirmed.
    warnings: tuple[PolicyProblem, ...] = ()


# ------------------------------------------------------------------------ policy of an election


def parse_override(name: str, raw: object, baseline: Policy) -> object | OverrideProblem:
    """One override as the committee wrote it (TOML or JSON) -> the value `with_changes` takes.

    Numbers are ints; fractions are ints or ``"n/d"``; thresholds are ``"more_than 1/2"`` or
    ``"at_least 7/10"``; yes/no are booleans.
    """
    field_names = {f.name for f in dataclasses.fields(Policy)}
    if name not in field_names or name in ("kind", "province"):
        return OverrideProblem(name, OverrideProblemReason.UNKNOWN_FIELD, str(raw))
    current = getattr(baseline, name)
    if not isinstance(current, Sourced) or not isinstance(current.value, _CHANGEABLE_TYPES):
        return OverrideProblem(name, OverrideProblemReason.NOT_CHANGEABLE, str(raw))
    old = current.value
    wrong = OverrideProblem(name, OverrideProblemReason.WRONG_TYPE, str(raw))
    if isinstance(old, bool):
        return raw if isinstance(raw, bool) else wrong
    if isinstance(raw, bool):
        return wrong
    if isinstance(old, int):
        return raw if isinstance(raw, int) else wrong
    if isinstance(old, Fraction):
        if isinstance(raw, int):
            return Fraction(raw)
        if isinstance(raw, str):
            try:
                value = Fraction(raw.replace(" ", ""))
            except (ValueError, ZeroDivisionError):
                return wrong
            return value if "." not in raw else wrong  # decimals are not exact
        return wrong
    if isinstance(raw, str) and (match := _THRESHOLD_TEXT.match(raw)) is not None:
        rule, numerator, denominator = match.groups()
        if int(denominator) == 0:
            return wrong
        return Threshold(Fraction(int(numerator), int(denominator)), ThresholdRule(rule))
    return wrong


def dump_override(value: object) -> object:
    """The JSON form of an override value (the inverse of `parse_override`)."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, Threshold):
        return f"{value.rule.value} {value.fraction.numerator}/{value.fraction.denominator}"
    return value


def parse_overrides(
    raw: Mapping[str, object], baseline: Policy
) -> tuple[dict[str, object], list[OverrideProblem]]:
    values: dict[str, object] = {}
    problems: list[OverrideProblem] = []
    for name, value in raw.items():
        parsed = parse_override(name, value, baseline)
        if isinstance(parsed, OverrideProblem):
            problems.append(parsed)
        else:
            values[name] = parsed
    return values, problems


def _changed_only(values: Mapping[str, object], baseline: Policy) -> dict[str, object]:
    """Only what differs from the preset is stored ("changed numbers only")."""
    return {
        name: dump_override(value)
        for name, value in sorted(values.items())
        if getattr(baseline, name).value != value
    }


def election_kind(election: Election) -> ElectionKind:
    return ElectionKind(election.kind)


def election_province(election: Election) -> Province:
    return Province(election.province)


def policy_of(election: Election) -> Policy:
    """The election's policy: its preset with the committee's stored changes."""
    baseline = preset(election_kind(election), election_province(election))
    values, problems = parse_overrides(json.loads(election.policy_overrides or "{}"), baseline)
    if problems:
        raise ValueError(f"election {election.id}: stored overrides are not valid: {problems}")
    if not values:
        return baseline
    outcome = baseline.with_changes(**values)
    if outcome.policy is None:
        # Stored changes were checked when made; a preset corrected since may refuse them.
        raise ValueError(f"election {election.id}: stored overrides now break the law: {outcome.refusals}")
    return outcome.policy


def province_of_village(village: Village) -> Province:
    # Villages store the province by its name (ZJ), the rules by its value (zj).
    return Province[village.province.upper()]


def schedule_of(election: Election, zone: ZoneInfo) -> Schedule:
    """The election's calendar with its windows in the village's time zone."""

    def window(opens: datetime | None, closes: datetime | None) -> Window | None:
        if opens is None or closes is None:
            return None
        return Window(opens.astimezone(zone), closes.astimezone(zone))

    return Schedule(
        election_day=election.election_day,
        voter_list_published=election.voter_list_published,
        candidate_list_published=election.candidate_list_published,
        recommendation=window(election.recommendation_opens, election.recommendation_closes),
        trust_vote=window(election.trust_vote_opens, election.trust_vote_closes),
        proxy_deadline=election.proxy_deadline,
        proxy_list_published=election.proxy_list_published,
        second_round_day=election.second_round_day,
    )


def _schedule_columns(schedule: Schedule) -> dict[str, Any]:
    recommendation, trust = schedule.recommendation, schedule.trust_vote
    return {
        "election_day": schedule.election_day,
        "voter_list_published": schedule.voter_list_published,
        "candidate_list_published": schedule.candidate_list_published,
        "recommendation_opens": recommendation.opens if recommendation else None,
        "recommendation_closes": recommendation.closes if recommendation else None,
        "trust_vote_opens": trust.opens if trust else None,
        "trust_vote_closes": trust.closes if trust else None,
        "proxy_deadline": schedule.proxy_deadline,
        "proxy_list_published": schedule.proxy_list_published,
        "second_round_day": schedule.second_round_day,
    }


def rounds_of(kind: ElectionKind) -> tuple[RecommendationRound, ...]:
    """Party branch elections recommend in two rounds (两推); a village election has one."""
    if kind.is_party:
        return (RecommendationRound.PARTY, RecommendationRound.PUBLIC)
    return (RecommendationRound.PUBLIC,)


def default_seats(policy: Policy) -> dict[Position, int]:
    """One per officer position, the rest members: a committee of 5 (OL 6 allows 3-7)."""
    seats: dict[Position, int] = {}
    for spec in policy.positions:
        allowed = spec.seats.value
        seats[spec.position] = min(max(allowed.min, 1), allowed.max) if allowed.max <= 2 else 3
    return seats


# ---------------------------------------------------------------------------------- create


async def create_election(
    session: AsyncSession,
    me: Me | None,
    *,
    village_id: int,
    kind: ElectionKind,
    title: str,
    schedule: Schedule,
    seats: Mapping[Position, int],
    overrides: Mapping[str, object],
    now: datetime,
    zone: ZoneInfo,
) -> ElectionOutcome:
    """Create a draft election from the preset; refuse anything that breaks a legal minimum.

    `me` is None only for the shell (`cunmin election create`). ``now`` is an aware datetime;
    "today" for the schedule is its date in ``zone``, the village's time zone.
    """
    outcome = await _create(session, me, village_id, kind, title, schedule, seats, overrides, now, zone)
    if outcome.refusal is not None:
        await session.commit()  # nothing was written: end the read, keep the rows usable
    return outcome


async def _create(
    session: AsyncSession,
    me: Me | None,
    village_id: int,
    kind: ElectionKind,
    title: str,
    schedule: Schedule,
    seats: Mapping[Position, int],
    overrides: Mapping[str, object],
    now: datetime,
    zone: ZoneInfo,
) -> ElectionOutcome:
    if me is not None and not me.has_role(village_id, RoleName.COMMITTEE):
        return ElectionOutcome(refusal=ElectionRefusal.NOT_ALLOWED)
    village = await session.get(Village, village_id)
    if village is None:
        return ElectionOutcome(refusal=ElectionRefusal.UNKNOWN_VILLAGE)
    checked = check_new_election(village, kind, title, schedule, seats, overrides, now=now, zone=zone)
    if checked.refusal is not None or checked.policy is None:
        return checked
    policy = checked.policy
    province = province_of_village(village)
    baseline = preset(kind, province)
    values, _problems = parse_overrides(overrides, baseline)
    election = Election(
        village_id=village_id,
        kind=kind.value,
        province=province.value,
        title=title.strip(),
        status=ElectionStatus.DRAFT,
        policy_overrides=json.dumps(_changed_only(values, baseline), ensure_ascii=False, sort_keys=True),
        created_by_account_id=me.account.id if me else None,
        created_at=now,
        updated_at=now,
        **_schedule_columns(schedule),
    )
    session.add(election)
    await session.flush()
    assert election.id is not None
    for spec in policy.positions:
        if seats.get(spec.position, 0) > 0:
            session.add(
                ElectionPosition(
                    election_id=election.id, position=spec.position.value, seats=seats[spec.position]
                )
            )
    await append_audit(
        session,
        village_id,
        me,
        AuditAction.ELECTION_CREATED,
        {
            "election_id": election.id,
            "kind": kind.value,
            "title": election.title,
            "election_day": election.election_day,
            "seats": {p.value: n for p, n in seats.items() if n > 0},
            "policy_overrides": election.policy_overrides,
        },
        now=now,
    )
    await session.commit()
    return replace(checked, election=election)


def check_new_election(
    village: Village,
    kind: ElectionKind,
    title: str,
    schedule: Schedule,
    seats: Mapping[Position, int],
    overrides: Mapping[str, object],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> ElectionOutcome:
    """Everything `create_election` checks, without storing anything (the chat wizard asks first)."""
    title = title.strip()
    if not title:
        return ElectionOutcome(refusal=ElectionRefusal.EMPTY_TITLE)
    if len(title) > TITLE_LIMIT:
        return ElectionOutcome(refusal=ElectionRefusal.TITLE_TOO_LONG)
    baseline = preset(kind, province_of_village(village))
    values, override_problems = parse_overrides(overrides, baseline)
    if override_problems:
        return ElectionOutcome(
            refusal=ElectionRefusal.BAD_OVERRIDES, override_problems=tuple(override_problems)
        )
    checked = baseline.with_changes(**values)
    if checked.policy is None:
        return ElectionOutcome(
            refusal=ElectionRefusal.POLICY_BREAKS_LAW,
            policy_problems=checked.refusals,
            warnings=checked.warnings,
        )
    policy = checked.policy
    seat_problems = check_seats(policy, seats)
    if seat_problems:
        return ElectionOutcome(
            refusal=ElectionRefusal.SEATS_BREAK_LAW, policy=policy, seat_problems=tuple(seat_problems)
        )
    if schedule.recommendation is None:
        return ElectionOutcome(refusal=ElectionRefusal.NO_RECOMMENDATION_WINDOW, policy=policy)
    schedule_problems = check_schedule(schedule, policy, now.astimezone(zone))
    if schedule_problems:
        return ElectionOutcome(
            refusal=ElectionRefusal.SCHEDULE_BREAKS_LAW,
            policy=policy,
            schedule_problems=tuple(schedule_problems),
        )
    return ElectionOutcome(policy=policy, warnings=checked.warnings)


# ------------------------------------------------------------------------------ open, change


async def _editable(
    session: AsyncSession, me: Me | None, election_id: int, expected_version: int | None
) -> Election | ElectionRefusal:
    election = await elections_repo.get(session, election_id)
    if election is None:
        return ElectionRefusal.UNKNOWN_ELECTION
    if me is not None and not me.has_role(election.village_id, RoleName.COMMITTEE):
        return ElectionRefusal.NOT_ALLOWED
    if expected_version is not None and election.version != expected_version:
        return ElectionRefusal.STALE_VERSION
    return election


async def open_election(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    *,
    now: datetime,
    expected_version: int | None = None,
) -> ElectionOutcome:
    """A draft opens: villagers can recommend while its window is open."""
    found = await _editable(session, me, election_id, expected_version)
    if isinstance(found, ElectionRefusal):
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=found)
    election = found
    if election.status != ElectionStatus.DRAFT:
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=ElectionRefusal.NOT_DRAFT, election=election)
    changed = await elections_repo.update_if_version(
        session, election_id, election.version, {"status": ElectionStatus.OPEN.value, "updated_at": now}
    )
    if changed == 0:
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=ElectionRefusal.STALE_VERSION)
    await append_audit(
        session, election.village_id, me, AuditAction.ELECTION_OPENED, {"election_id": election_id}, now=now
    )
    await session.commit()
    await session.refresh(election)
    await session.commit()  # refresh reads: end that transaction too
    return ElectionOutcome(election=election, policy=policy_of(election))


async def change_policy(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    *,
    expected_version: int,
    changes: Mapping[str, object],
    now: datetime,
) -> ElectionOutcome:
    """Change policy values of an election, within the law and only on the version the member saw.

    ``changes`` are in the form of `parse_override`; a value equal to the preset's removes the
    change. Two members editing at once: the second one's version is stale and is refused.
    """
    found = await _editable(session, me, election_id, expected_version)
    if isinstance(found, ElectionRefusal):
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=found)
    election = found
    if election.status == ElectionStatus.CLOSED:
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=ElectionRefusal.CLOSED, election=election)
    baseline = preset(election_kind(election), election_province(election))
    stored, _problems = parse_overrides(json.loads(election.policy_overrides or "{}"), baseline)
    new, problems = parse_overrides(changes, baseline)
    if problems:
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=ElectionRefusal.BAD_OVERRIDES, override_problems=tuple(problems))
    merged = {**stored, **new}
    checked = baseline.with_changes(**merged)
    if checked.policy is None:
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(
            refusal=ElectionRefusal.POLICY_BREAKS_LAW,
            policy_problems=checked.refusals,
            warnings=checked.warnings,
        )
    overrides = json.dumps(_changed_only(merged, baseline), ensure_ascii=False, sort_keys=True)
    changed = await elections_repo.update_if_version(
        session, election_id, expected_version, {"policy_overrides": overrides, "updated_at": now}
    )
    if changed == 0:
        await session.commit()  # nothing was written: end the read, keep the rows usable
        return ElectionOutcome(refusal=ElectionRefusal.STALE_VERSION)
    await append_audit(
        session,
        election.village_id,
        me,
        AuditAction.ELECTION_CHANGED,
        {"election_id": election_id, "policy_overrides": overrides},
        now=now,
    )
    await session.commit()
    await session.refresh(election)
    await session.commit()
    return ElectionOutcome(election=election, policy=checked.policy, warnings=checked.warnings)


# ---------------------------------------------------------------------------------- describe


@dataclass(frozen=True)
class PolicyLine:
    """One value of the policy as shown to the committee: the field, its value and its source."""

    field: str
    value: object
    source: Source
    changed: bool  # the committee changed it from the preset


@dataclass(frozen=True)
class SeatLine:
    position: Position
    seats: int
    margin: Sourced[CandidateMargin]
    min_candidates: int
    max_candidates: int | None
    party_member_required: bool


@dataclass(frozen=True)
class ElectionDescription:
    election: Election
    village: Village
    kind: ElectionKind
    province: Province
    policy: Policy
    schedule: Schedule
    seats: tuple[SeatLine, ...]
    lines: tuple[PolicyLine, ...]


def describe_policy(policy: Policy) -> tuple[PolicyLine, ...]:
    """Every sourced value of a policy, in the order of the Policy's fields."""
    baseline = preset(policy.kind, policy.province)
    lines = []
    for f in dataclasses.fields(Policy):
        value = getattr(policy, f.name)
        if not isinstance(value, Sourced):
            continue
        lines.append(PolicyLine(f.name, value.value, value.source, value != getattr(baseline, f.name)))
    return tuple(lines)


def seat_lines(policy: Policy, seats: Mapping[Position, int]) -> tuple[SeatLine, ...]:
    lines = []
    for spec in policy.positions:
        n = seats.get(spec.position, 0)
        if n <= 0:
            continue
        margin = spec.margin
        lines.append(
            SeatLine(
                spec.position,
                n,
                margin,
                margin.value.min_candidates(n),
                margin.value.max_candidates(n),
                spec.party_member_required.value,
            )
        )
    return tuple(lines)


def describe_draft(
    village: Village, kind: ElectionKind, seats: Mapping[Position, int]
) -> tuple[Policy, tuple[SeatLine, ...], tuple[PolicyLine, ...]]:
    """What a new election would start from (the wizard shows it before anything is stored)."""
    policy = preset(kind, province_of_village(village))
    return policy, seat_lines(policy, seats), describe_policy(policy)


async def describe_election(
    session: AsyncSession, election_id: int, *, zone: ZoneInfo
) -> ElectionDescription | None:
    """The election with every number of its policy and its source, for display."""
    election = await elections_repo.get(session, election_id)
    if election is None:
        await session.commit()  # end the read (storage/db.py)
        return None
    village = await session.get(Village, election.village_id)
    positions = await elections_repo.positions(session, election_id)
    await session.commit()
    assert village is not None
    policy = policy_of(election)
    seats = {Position(p.position): p.seats for p in positions}
    return ElectionDescription(
        election=election,
        village=village,
        kind=election_kind(election),
        province=election_province(election),
        policy=policy,
        schedule=schedule_of(election, zone),
        seats=seat_lines(policy, seats),
        lines=describe_policy(policy),
    )


@dataclass(frozen=True)
class VillageElections:
    village: Village
    elections: tuple[Election, ...]


async def list_elections(session: AsyncSession, me: Me) -> list[VillageElections]:
    """The elections of every village where the member sits on the election committee."""
    villages = me.villages_with(RoleName.COMMITTEE)
    found = await elections_repo.of_villages(session, [v.id for v in villages if v.id is not None])
    await session.commit()  # end the read (storage/db.py)
    return [
        VillageElections(village, tuple(e for e in found if e.village_id == village.id))
        for village in villages
    ]


async def committee_election(session: AsyncSession, me: Me, election_id: int) -> Election | None:
    """The election if the member sits on its village's election committee."""
    election = await elections_repo.get(session, election_id)
    await session.commit()
    if election is None or not me.has_role(election.village_id, RoleName.COMMITTEE):
        return None
    return election


def sorted_positions(policy: Policy, positions: Sequence[ElectionPosition]) -> list[ElectionPosition]:
    """In the policy's order: director before deputy before members."""
    order = {spec.position.value: index for index, spec in enumerate(policy.positions)}
    return sorted(positions, key=lambda p: order.get(p.position, len(order)))
