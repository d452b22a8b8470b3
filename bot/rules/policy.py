"""An election's policy: every legal number, each with the source that fixes it.

A policy is built from a preset (`preset(kind, province)`) and may then be changed by the
committee through `Policy.with_changes`, which refuses any change that would break a confirmed
legal minimum or maximum. Values that RULES.md marks as unconfirmed carry
`Source.confirmed == False`: the committee may change them, and the outcome warns about it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any, Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Province(StrEnum):
    NATIONAL = "national"
    BJ = "bj"
    SH = "sh"
    ZJ = "zj"
    HN = "hn"


class ElectionKind(StrEnum):
    VILLAGE_COMMITTEE = "village_committee"
    PARTY_TWO_PUSHES = "party_two_pushes"  # 两推一选
    PARTY_TWO_BALLOTS = "party_two_ballots"  # 两票制
    PARTY_PUBLIC_DIRECT = "party_public_direct"  # 公推直选

    @property
    def is_party(self) -> bool:
        return self is not ElectionKind.VILLAGE_COMMITTEE


class Law(StrEnum):
    """Where a value comes from. The abbreviations are those of RULES.md."""

    OL = "OL"  # Organic Law of the Villagers' Committees (2018)
    BJ = "BJ"  # Beijing village committee election rules (2012)
    SH = "SH"  # Shanghai village committee election rules (2020)
    ZJ = "ZJ"  # Zhejiang village committee election rules (2020)
    HN = "HN"  # Henan implementing measures (2011)
    PR = "PR"  # Party grassroots election rules (2020)
    PR_1990 = "PR-1990"  # Party grassroots election interim rules (1990)
    PILOT = "PILOT"  # the two-ballot pilot report in the seeds
    JOURNAL = "JOURNAL"  # a journal abstract on the two-ballot system
    LOCAL = "LOCAL"  # local practice that varies from place to place
    CUNMIN = "CUNMIN"  # Cunmin's own default where no source was found
    COMMITTEE = "COMMITTEE"  # a decision of the election committee, made through with_changes


@dataclass(frozen=True)
class Source:
    """A citation, e.g. ``Source(Law.OL, "15 ¶2")`` cites as ``OL 15 ¶2``.

    ``confirmed`` is False where RULES.md marks the value (or its article) as unconfirmed, where
    a value is adopted from another province (``note`` says so), and for Cunmin's own defaults.
    """

    law: Law
    article: str = ""
    confirmed: bool = True
    note: str = ""

    @property
    def cite(self) -> str:
        return f"{self.law.value} {self.article}" if self.article else self.law.value

    def __str__(self) -> str:
        return self.cite


@dataclass(frozen=True)
class Sourced(Generic[T_co]):
    value: T_co
    source: Source


class ThresholdRule(StrEnum):
    MORE_THAN = "more_than"  # 超过, 过半数: exactly the fraction fails
    AT_LEAST = "at_least"  # 不少于, 不得低于: exactly the fraction passes


@dataclass(frozen=True)
class Threshold:
    fraction: Fraction
    rule: ThresholdRule

    def met_by(self, part: int, whole: int) -> bool:
        """Whether ``part`` out of ``whole`` reaches the threshold; nothing out of nothing never does."""
        if whole <= 0:
            return False
        share = Fraction(part, whole)
        if self.rule is ThresholdRule.MORE_THAN:
            return share > self.fraction
        return share >= self.fraction

    def minimum_count(self, whole: int) -> int:
        """The smallest ``part`` that meets the threshold out of ``whole``."""
        bound = self.fraction * whole
        if self.rule is ThresholdRule.MORE_THAN:
            return math.floor(bound) + 1
        return math.ceil(bound)

    def at_least_as_strict_as(self, other: Threshold) -> bool:
        """True when every share meeting ``self`` also meets ``other``."""
        if self.fraction != other.fraction:
            return self.fraction > other.fraction
        return self.rule is ThresholdRule.MORE_THAN or other.rule is ThresholdRule.AT_LEAST


class Denominator(StrEnum):
    BALLOTS_CAST = "ballots_cast"  # ballots returned (收回选票 / 已投选票)
    MEMBERS_PRESENT = "members_present"  # party members entitled to vote who are present
    REGISTERED_VOTERS = "registered_voters"  # the roll (or the party members entitled to vote)


class Relationship(StrEnum):
    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    OTHER_NEAR_RELATIVE = "other_near_relative"
    NOT_RELATED = "not_related"


class Position(StrEnum):
    DIRECTOR = "director"  # 村民委员会主任
    DEPUTY = "deputy"  # 副主任
    MEMBER = "member"  # 委员
    SECRETARY = "secretary"  # 党支部书记
    DEPUTY_SECRETARY = "deputy_secretary"  # 副书记
    COMMITTEE_MEMBER = "committee_member"  # 支部委员


@dataclass(frozen=True)
class SeatRange:
    min: int
    max: int

    def contains(self, n: int) -> bool:
        return self.min <= n <= self.max


@dataclass(frozen=True)
class CandidateMargin:
    """How many more candidates than seats (差额).

    The minimum is ``seats + max(min_extra, ceil(seats * min_extra_fraction))``; the maximum is
    ``seats + max_extra`` or unbounded.
    """

    min_extra: int
    max_extra: int | None
    min_extra_fraction: Fraction

    @classmethod
    def fixed(cls, min_extra: int, max_extra: int | None) -> CandidateMargin:
        return cls(min_extra=min_extra, max_extra=max_extra, min_extra_fraction=Fraction(0))

    @classmethod
    def proportional(cls, fraction: Fraction) -> CandidateMargin:
        return cls(min_extra=0, max_extra=None, min_extra_fraction=fraction)

    def min_candidates(self, seats: int) -> int:
        return seats + max(self.min_extra, math.ceil(seats * self.min_extra_fraction))

    def max_candidates(self, seats: int) -> int | None:
        return None if self.max_extra is None else seats + self.max_extra

    def allows(self, candidates: int, seats: int) -> bool:
        top = self.max_candidates(seats)
        return candidates >= self.min_candidates(seats) and (top is None or candidates <= top)


@dataclass(frozen=True)
class PositionSpec:
    position: Position
    seats: Sourced[SeatRange]
    margin: Sourced[CandidateMargin]
    party_member_required: Sourced[bool]


@dataclass(frozen=True)
class Policy:
    kind: ElectionKind
    province: Province

    # Committee, roll and positions.
    committee_size: Sourced[SeatRange]
    women_min: Sourced[int]
    term_years: Sourced[int]
    voter_min_age: Sourced[int]
    full_party_members_only: Sourced[bool]
    positions: tuple[PositionSpec, ...]

    # Voter list (选民名单).
    voter_list_lead_days: Sourced[int]
    objection_window_days: Sourced[int]
    objection_decision_days: Sourced[int]

    # Nomination and recommendation.
    recommendation_quota_per_seat: Sourced[int]
    self_nomination_allowed: Sourced[bool]
    nomination_by_proxy_allowed: Sourced[bool]
    party_round_weight: Sourced[Fraction]
    public_round_weight: Sourced[Fraction]
    public_round_min_ratio: Sourced[Threshold]
    trust_threshold: Sourced[Threshold]
    trust_denominator: Sourced[Denominator]
    preliminary_ratio: Sourced[Fraction]

    # Candidates.
    candidate_list_lead_days: Sourced[int]
    candidates_meet_voters: Sourced[bool]

    # Voting and results.
    turnout_measure: Sourced[Denominator]
    validity: Sourced[Threshold]
    returned_above_issued_voids: Sourced[bool]
    elected: Sourced[Threshold]
    tie_runoff: Sourced[bool]
    second_round_min_share: Sourced[Threshold]
    second_round_deadline_days: Sourced[int]
    results_on_the_spot: Sourced[bool]

    # Proxy voting (委托投票).
    proxy_allowed: Sourced[bool]
    proxy_cap: Sourced[int]
    proxy_relationships: Sourced[frozenset[Relationship]]
    candidates_may_hold_proxies: Sourced[bool]
    proxy_application_lead_days: Sourced[int]
    proxy_on_election_day_allowed: Sourced[bool]
    proxy_list_lead_days: Sourced[int]
    proxy_redelegation_forbidden: Sourced[bool]
    proxy_unpublished_void: Sourced[bool]
    proxy_certificate: Sourced[bool]
    proxy_voter_card_taken_back: Sourced[bool]

    # Mobile ballot box (流动票箱).
    mobile_box_min_scrutineers: Sourced[int]
    mobile_box_township_approval: Sourced[bool]
    mobile_box_publish_voters: Sourced[bool]
    mobile_box_publish_scrutineers: Sourced[bool]

    # Villagers' meeting.
    meeting_notice_days: Sourced[int]

    def position(self, position: Position) -> PositionSpec:
        for spec in self.positions:
            if spec.position is position:
                return spec
        raise KeyError(position)

    def has_position(self, position: Position) -> bool:
        return any(spec.position is position for spec in self.positions)

    def round_weights(self) -> Mapping[RecommendationRound, Fraction]:
        return {
            RecommendationRound.PARTY: self.party_round_weight.value,
            RecommendationRound.PUBLIC: self.public_round_weight.value,
        }

    def with_changes(self, **changes: object) -> PolicyChangeOutcome:
        """Apply committee changes, checked against the legal preset for this kind and province.

        A plain value is recorded with a ``Law.COMMITTEE`` source; a `Sourced` value is kept as
        given. Unknown fields, ``kind`` and ``province`` are programming errors (TypeError).
        """
        updates: dict[str, Any] = {}  # each value was checked against the field's type below
        for name, new in changes.items():
            if name in ("kind", "province") or name not in _FIELD_NAMES:
                raise TypeError(f"not a changeable policy field: {name}")
            old = getattr(self, name)
            if name == "positions":
                if not isinstance(new, tuple) or not all(isinstance(s, PositionSpec) for s in new):
                    raise TypeError("positions must be a tuple of PositionSpec")
                updates[name] = new
                continue
            if not isinstance(new, Sourced):
                if isinstance(old.value, Fraction) and isinstance(new, int) and not isinstance(new, bool):
                    new = Fraction(new)
                new = Sourced(new, _COMMITTEE_DECISION)
            if not _same_type(new.value, old.value):
                raise TypeError(
                    f"{name}: expected {type(old.value).__name__}, got {type(new.value).__name__}"
                )
            updates[name] = new
        changed = dataclasses.replace(self, **updates)
        return check_policy(changed, preset(self.kind, self.province))


class RecommendationRound(StrEnum):
    PARTY = "party"  # 党员推荐
    PUBLIC = "public"  # 群众推荐 (and a village election's nomination by voters)


_COMMITTEE_DECISION = Source(Law.COMMITTEE, "", confirmed=True, note="committee decision")


def _same_type(new: object, old: object) -> bool:
    # bool is an int subclass: a True where a day count belongs is a mistake, not a number.
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, frozenset):
        return isinstance(new, frozenset)
    return isinstance(new, type(old))


# --- checking a changed policy against its legal baseline -------------------------------------


class PolicyRefusalReason(StrEnum):
    BELOW_LEGAL_MINIMUM = "below_legal_minimum"
    ABOVE_LEGAL_MAXIMUM = "above_legal_maximum"
    THRESHOLD_WEAKENED = "threshold_weakened"
    REQUIREMENT_DROPPED = "requirement_dropped"
    PERMISSION_ADDED = "permission_added"
    RELATIONSHIPS_WIDENED = "relationships_widened"
    FIXED_BY_LAW = "fixed_by_law"
    RANGE_WIDENED = "range_widened"
    MARGIN_BELOW_LEGAL = "margin_below_legal"
    MARGIN_ABOVE_LEGAL = "margin_above_legal"
    POSITION_MISSING = "position_missing"
    POSITION_ADDED = "position_added"


@dataclass(frozen=True)
class PolicyProblem:
    field: str  # a Policy field name, or "positions.<position>.<part>"
    reason: PolicyRefusalReason
    source: Source  # the article of the baseline value that the change would break


@dataclass(frozen=True)
class PolicyChangeOutcome:
    accepted: bool
    policy: Policy | None  # the changed policy when accepted
    refusals: tuple[PolicyProblem, ...]
    warnings: tuple[PolicyProblem, ...]  # loosened values whose source RULES.md marks unconfirmed


class _Direction(StrEnum):
    AT_LEAST = "at_least"  # lowering loosens the rule (lead days, scrutineers)
    AT_MOST = "at_most"  # raising loosens the rule (caps, deadlines to act)
    EXACT = "exact"  # any change breaks the rule
    THRESHOLD = "threshold"
    REQUIRED = "required"  # True -> False loosens
    PERMISSION = "permission"  # False -> True loosens
    RANGE = "range"
    SUBSET = "subset"


_DIRECTIONS: Mapping[str, _Direction] = {
    "committee_size": _Direction.RANGE,
    "women_min": _Direction.AT_LEAST,
    "term_years": _Direction.EXACT,
    "voter_min_age": _Direction.EXACT,
    "full_party_members_only": _Direction.REQUIRED,
    "voter_list_lead_days": _Direction.AT_LEAST,
    "objection_window_days": _Direction.AT_LEAST,
    "objection_decision_days": _Direction.AT_MOST,
    "recommendation_quota_per_seat": _Direction.AT_MOST,
    "self_nomination_allowed": _Direction.PERMISSION,
    "nomination_by_proxy_allowed": _Direction.PERMISSION,
    "party_round_weight": _Direction.EXACT,
    "public_round_weight": _Direction.EXACT,
    "public_round_min_ratio": _Direction.THRESHOLD,
    "trust_threshold": _Direction.THRESHOLD,
    "trust_denominator": _Direction.EXACT,
    "preliminary_ratio": _Direction.AT_LEAST,
    "candidate_list_lead_days": _Direction.AT_LEAST,
    "candidates_meet_voters": _Direction.REQUIRED,
    "turnout_measure": _Direction.EXACT,
    "validity": _Direction.THRESHOLD,
    "returned_above_issued_voids": _Direction.REQUIRED,
    "elected": _Direction.THRESHOLD,
    "tie_runoff": _Direction.REQUIRED,
    "second_round_min_share": _Direction.THRESHOLD,
    "second_round_deadline_days": _Direction.AT_MOST,
    "results_on_the_spot": _Direction.REQUIRED,
    "proxy_allowed": _Direction.PERMISSION,
    "proxy_cap": _Direction.AT_MOST,
    "proxy_relationships": _Direction.SUBSET,
    "candidates_may_hold_proxies": _Direction.PERMISSION,
    "proxy_application_lead_days": _Direction.AT_LEAST,
    "proxy_on_election_day_allowed": _Direction.PERMISSION,
    "proxy_list_lead_days": _Direction.AT_LEAST,
    "proxy_redelegation_forbidden": _Direction.REQUIRED,
    "proxy_unpublished_void": _Direction.REQUIRED,
    "proxy_certificate": _Direction.REQUIRED,
    "proxy_voter_card_taken_back": _Direction.REQUIRED,
    "mobile_box_min_scrutineers": _Direction.AT_LEAST,
    "mobile_box_township_approval": _Direction.REQUIRED,
    "mobile_box_publish_voters": _Direction.REQUIRED,
    "mobile_box_publish_scrutineers": _Direction.REQUIRED,
    "meeting_notice_days": _Direction.AT_LEAST,
}

_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Policy))


def _loosening(direction: _Direction, new: object, old: object) -> PolicyRefusalReason | None:
    if new == old:
        return None
    match direction:
        case _Direction.AT_LEAST:
            assert isinstance(new, int | Fraction) and isinstance(old, int | Fraction)
            return PolicyRefusalReason.BELOW_LEGAL_MINIMUM if new < old else None
        case _Direction.AT_MOST:
            assert isinstance(new, int | Fraction) and isinstance(old, int | Fraction)
            return PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM if new > old else None
        case _Direction.EXACT:
            return PolicyRefusalReason.FIXED_BY_LAW
        case _Direction.THRESHOLD:
            assert isinstance(new, Threshold) and isinstance(old, Threshold)
            return None if new.at_least_as_strict_as(old) else PolicyRefusalReason.THRESHOLD_WEAKENED
        case _Direction.REQUIRED:
            return PolicyRefusalReason.REQUIREMENT_DROPPED if old is True and new is False else None
        case _Direction.PERMISSION:
            return PolicyRefusalReason.PERMISSION_ADDED if old is False and new is True else None
        case _Direction.RANGE:
            assert isinstance(new, SeatRange) and isinstance(old, SeatRange)
            return PolicyRefusalReason.RANGE_WIDENED if new.min < old.min or new.max > old.max else None
        case _Direction.SUBSET:
            assert isinstance(new, frozenset) and isinstance(old, frozenset)
            return None if new <= old else PolicyRefusalReason.RELATIONSHIPS_WIDENED
    return None  # pragma: no cover


# Margins are compared seat count by seat count: far beyond any village committee.
_MARGIN_SEATS_CHECKED = range(1, 101)


def _margin_problems(new: CandidateMargin, old: CandidateMargin) -> list[PolicyRefusalReason]:
    reasons: list[PolicyRefusalReason] = []
    if any(new.min_candidates(s) < old.min_candidates(s) for s in _MARGIN_SEATS_CHECKED):
        reasons.append(PolicyRefusalReason.MARGIN_BELOW_LEGAL)
    if old.max_extra is not None and (new.max_extra is None or new.max_extra > old.max_extra):
        reasons.append(PolicyRefusalReason.MARGIN_ABOVE_LEGAL)
    return reasons


def _position_problems(new: Policy, baseline: Policy) -> Iterator[tuple[PolicyProblem, bool]]:
    """(problem, confirmed) pairs for the positions; unconfirmed ones become warnings."""
    new_specs = {spec.position: spec for spec in new.positions}
    for old_spec in baseline.positions:
        prefix = f"positions.{old_spec.position.value}"
        spec = new_specs.pop(old_spec.position, None)
        if spec is None:
            src = old_spec.seats.source
            yield PolicyProblem(prefix, PolicyRefusalReason.POSITION_MISSING, src), src.confirmed
            continue
        seats_reason = _loosening(_Direction.RANGE, spec.seats.value, old_spec.seats.value)
        if seats_reason is not None:
            src = old_spec.seats.source
            yield PolicyProblem(f"{prefix}.seats", seats_reason, src), src.confirmed
        for margin_reason in _margin_problems(spec.margin.value, old_spec.margin.value):
            src = old_spec.margin.source
            yield PolicyProblem(f"{prefix}.margin", margin_reason, src), src.confirmed
        party_reason = _loosening(
            _Direction.REQUIRED, spec.party_member_required.value, old_spec.party_member_required.value
        )
        if party_reason is not None:
            src = old_spec.party_member_required.source
            yield PolicyProblem(f"{prefix}.party_member_required", party_reason, src), src.confirmed
    for extra in new_specs.values():
        src = baseline.committee_size.source
        problem = PolicyProblem(f"positions.{extra.position.value}", PolicyRefusalReason.POSITION_ADDED, src)
        yield problem, src.confirmed


def check_policy(policy: Policy, baseline: Policy | None = None) -> PolicyChangeOutcome:
    """Compare ``policy`` with its legal ``baseline`` (by default the preset it comes from).

    A change that loosens a value whose baseline source is confirmed is refused, naming that
    source; loosening an unconfirmed value is accepted with a warning (RULES.md: "the committee
    can change it"). Tightening is always accepted.
    """
    base = baseline if baseline is not None else preset(policy.kind, policy.province)
    refusals: list[PolicyProblem] = []
    warnings: list[PolicyProblem] = []
    for name, direction in _DIRECTIONS.items():
        new: Sourced[object] = getattr(policy, name)
        old: Sourced[object] = getattr(base, name)
        reason = _loosening(direction, new.value, old.value)
        if reason is None:
            continue
        problem = PolicyProblem(name, reason, old.source)
        (refusals if old.source.confirmed else warnings).append(problem)
    for problem, confirmed in _position_problems(policy, base):
        (refusals if confirmed else warnings).append(problem)
    accepted = not refusals
    return PolicyChangeOutcome(
        accepted=accepted,
        policy=policy if accepted else None,
        refusals=tuple(refusals),
        warnings=tuple(warnings),
    )


# --- seats of one election ----------------------------------------------------------------------


class SeatProblemReason(StrEnum):
    COMMITTEE_TOO_SMALL = "committee_too_small"
    COMMITTEE_TOO_LARGE = "committee_too_large"
    POSITION_SEATS_OUT_OF_RANGE = "position_seats_out_of_range"
    POSITION_NOT_IN_POLICY = "position_not_in_policy"


@dataclass(frozen=True)
class SeatProblem:
    reason: SeatProblemReason
    position: Position | None
    seats: int
    allowed: SeatRange | None
    source: Source


def check_seats(policy: Policy, seats: Mapping[Position, int]) -> list[SeatProblem]:
    """The seats an election fills must fit each position and the committee size (OL 6)."""
    problems: list[SeatProblem] = []
    for position, n in seats.items():
        if not policy.has_position(position):
            problems.append(
                SeatProblem(
                    SeatProblemReason.POSITION_NOT_IN_POLICY, position, n, None, policy.committee_size.source
                )
            )
            continue
        spec = policy.position(position)
        if not spec.seats.value.contains(n):
            problems.append(
                SeatProblem(
                    SeatProblemReason.POSITION_SEATS_OUT_OF_RANGE,
                    position,
                    n,
                    spec.seats.value,
                    spec.seats.source,
                )
            )
    for spec in policy.positions:
        if spec.position not in seats and spec.seats.value.min > 0:
            problems.append(
                SeatProblem(
                    SeatProblemReason.POSITION_SEATS_OUT_OF_RANGE,
                    spec.position,
                    0,
                    spec.seats.value,
                    spec.seats.source,
                )
            )
    total = sum(seats.values())
    size = policy.committee_size
    if total < size.value.min:
        problems.append(
            SeatProblem(SeatProblemReason.COMMITTEE_TOO_SMALL, None, total, size.value, size.source)
        )
    elif total > size.value.max:
        problems.append(
            SeatProblem(SeatProblemReason.COMMITTEE_TOO_LARGE, None, total, size.value, size.source)
        )
    return problems


# --- presets --------------------------------------------------------------------------------------


def _s(law: Law, article: str = "", *, confirmed: bool = True, note: str = "") -> Source:
    return Source(law, article, confirmed, note)


def _v(value: T, source: Source) -> Sourced[T]:
    return Sourced(value, source)


_NO_SOURCE = "no source found in RULES.md; Cunmin default"
_VILLAGE_FOR_PARTY = "village figure used for a party election; no party rule in RULES.md"

OL_6 = _s(Law.OL, "6")
OL_11 = _s(Law.OL, "11")
OL_13 = _s(Law.OL, "13")
OL_14 = _s(Law.OL, "14")
OL_15_1 = _s(Law.OL, "15 ¶1")
OL_15_2 = _s(Law.OL, "15 ¶2")
OL_15_3 = _s(Law.OL, "15 ¶3")
OL_15_4 = _s(Law.OL, "15 ¶4")
OL_21 = _s(Law.OL, "21")
PR_5 = _s(Law.PR, "5")
PR_1990_MARGIN = _s(Law.PR_1990, "8, 12")
# RULES.md: the quorum and election figures are not confirmed in the 2020 numbering.
PR_QUORUM = _s(Law.PR, "", confirmed=False, note="not confirmed in the 2020 numbering")

#: The alternative trust threshold of the pilot report (at least 70%), for committees that adopt it.
TRUST_AT_LEAST_70_PERCENT = Sourced(
    Threshold(Fraction(7, 10), ThresholdRule.AT_LEAST),
    _s(Law.PILOT, "", confirmed=False, note="pilot report: at least 70% trust votes"),
)

_ALL_NEAR_RELATIVES = frozenset(
    {
        Relationship.SPOUSE,
        Relationship.PARENT,
        Relationship.CHILD,
        Relationship.SIBLING,
        Relationship.GRANDPARENT,
        Relationship.GRANDCHILD,
        Relationship.OTHER_NEAR_RELATIVE,
    }
)
_ZJ_RELATIVES = _ALL_NEAR_RELATIVES - {Relationship.OTHER_NEAR_RELATIVE}

_MORE_THAN_HALF = Threshold(Fraction(1, 2), ThresholdRule.MORE_THAN)


def _village_positions(
    margin: Sourced[CandidateMargin], officer_margin: Sourced[CandidateMargin] | None = None
) -> tuple[PositionSpec, ...]:
    # OL 6 fixes only the total (3-7); the split between positions is Cunmin's default.
    split = _s(Law.OL, "6", confirmed=False, note="OL 6 fixes the total; per-position split is a default")
    not_required = _v(False, OL_13)
    officers = officer_margin if officer_margin is not None else margin
    return (
        PositionSpec(Position.DIRECTOR, _v(SeatRange(1, 1), split), officers, not_required),
        PositionSpec(Position.DEPUTY, _v(SeatRange(0, 2), split), officers, not_required),
        PositionSpec(Position.MEMBER, _v(SeatRange(1, 5), split), margin, not_required),
    )


def _party_positions() -> tuple[PositionSpec, ...]:
    split = _s(Law.PR, "", confirmed=False, note="branch committee split is a default")
    margin = _v(CandidateMargin.proportional(Fraction(1, 5)), PR_1990_MARGIN)
    required = _v(True, PR_5)
    return (
        PositionSpec(Position.SECRETARY, _v(SeatRange(1, 1), split), margin, required),
        PositionSpec(Position.DEPUTY_SECRETARY, _v(SeatRange(0, 1), split), margin, required),
        PositionSpec(Position.COMMITTEE_MEMBER, _v(SeatRange(1, 5), split), margin, required),
    )


def _national_village() -> Policy:
    cunmin = _s(Law.CUNMIN, confirmed=False, note=_NO_SOURCE)
    provincial = _s(
        Law.CUNMIN, confirmed=False, note="provincial rule; national default adopted from BJ/SH/ZJ/HN"
    )
    return Policy(
        kind=ElectionKind.VILLAGE_COMMITTEE,
        province=Province.NATIONAL,
        committee_size=_v(SeatRange(3, 7), OL_6),
        women_min=_v(1, OL_6),
        term_years=_v(5, OL_11),
        voter_min_age=_v(18, OL_13),
        full_party_members_only=_v(False, OL_13),
        positions=_village_positions(_v(CandidateMargin.fixed(1, None), OL_15_1)),
        voter_list_lead_days=_v(20, OL_14),
        objection_window_days=_v(5, OL_14),
        objection_decision_days=_v(3, OL_14),
        recommendation_quota_per_seat=_v(
            1, _s(Law.BJ, "16", confirmed=False, note="adopted from BJ 16, ZJ 17")
        ),
        self_nomination_allowed=_v(True, cunmin),
        nomination_by_proxy_allowed=_v(False, _s(Law.ZJ, "17", confirmed=False, note="adopted from ZJ 17")),
        party_round_weight=_v(Fraction(1), _s(Law.LOCAL, confirmed=False, note="weights vary locally")),
        public_round_weight=_v(Fraction(1), _s(Law.LOCAL, confirmed=False, note="weights vary locally")),
        public_round_min_ratio=_v(
            Threshold(Fraction(4, 5), ThresholdRule.MORE_THAN),
            _s(Law.PILOT, confirmed=False, note="pilots: public representatives > 80% of party members"),
        ),
        trust_threshold=_v(
            _MORE_THAN_HALF, _s(Law.JOURNAL, confirmed=False, note="journal abstract; pilot: 70%")
        ),
        trust_denominator=_v(Denominator.BALLOTS_CAST, cunmin),
        preliminary_ratio=_v(Fraction(3, 2), _s(Law.PILOT, confirmed=False, note="pilot report: 1:1.5")),
        candidate_list_lead_days=_v(5, provincial),
        candidates_meet_voters=_v(True, OL_15_1),
        turnout_measure=_v(Denominator.BALLOTS_CAST, OL_15_2),
        validity=_v(_MORE_THAN_HALF, OL_15_2),
        returned_above_issued_voids=_v(False, _s(Law.SH, "19", confirmed=False, note="SH only")),
        elected=_v(_MORE_THAN_HALF, OL_15_2),
        tie_runoff=_v(True, _s(Law.BJ, "28-29", confirmed=False, note="adopted from BJ 28-29")),
        second_round_min_share=_v(Threshold(Fraction(1, 3), ThresholdRule.AT_LEAST), OL_15_2),
        second_round_deadline_days=_v(
            30, _s(Law.CUNMIN, confirmed=False, note="BJ 15, SH/ZJ 30; none found here")
        ),
        results_on_the_spot=_v(True, OL_15_3),
        proxy_allowed=_v(True, OL_15_4),
        proxy_cap=_v(3, _s(Law.CUNMIN, confirmed=False, note="3 in BJ/SH/ZJ/HN; another province: 2")),
        proxy_relationships=_v(_ALL_NEAR_RELATIVES, OL_15_4),
        candidates_may_hold_proxies=_v(
            True, _s(Law.OL, "15 ¶4", confirmed=False, note="forbidden in BJ, ZJ")
        ),
        proxy_application_lead_days=_v(
            0, _s(Law.CUNMIN, confirmed=False, note="SH 5, ZJ 3; none found here")
        ),
        proxy_on_election_day_allowed=_v(True, _s(Law.CUNMIN, confirmed=False, note="forbidden in SH")),
        proxy_list_lead_days=_v(0, _s(Law.OL, "15 ¶4", confirmed=False, note="published; SH: 2 days before")),
        proxy_redelegation_forbidden=_v(
            True, _s(Law.OL, "15 ¶4", confirmed=False, note="adopted from SH 16, ZJ 25")
        ),
        proxy_unpublished_void=_v(False, _s(Law.ZJ, "25", confirmed=False, note="ZJ only")),
        proxy_certificate=_v(False, _s(Law.SH, "16", confirmed=False, note="SH, HN only")),
        proxy_voter_card_taken_back=_v(False, _s(Law.HN, "33", confirmed=False, note="HN only")),
        mobile_box_min_scrutineers=_v(
            3, _s(Law.BJ, "23", confirmed=False, note="adopted from BJ 23, ZJ 24, HN 31")
        ),
        mobile_box_township_approval=_v(False, _s(Law.ZJ, "24", confirmed=False, note="ZJ only")),
        mobile_box_publish_voters=_v(False, _s(Law.ZJ, "24", confirmed=False, note="ZJ, HN only")),
        mobile_box_publish_scrutineers=_v(False, _s(Law.ZJ, "24", confirmed=False, note="ZJ only")),
        meeting_notice_days=_v(10, OL_21),
    )


def _beijing(base: Policy) -> Policy:
    bj_16 = _s(Law.BJ, "16")
    bj_25 = _s(Law.BJ, "25")
    return dataclasses.replace(
        base,
        province=Province.BJ,
        positions=_village_positions(_v(CandidateMargin.fixed(1, 2), bj_16)),
        recommendation_quota_per_seat=_v(1, bj_16),
        candidates_meet_voters=_v(True, _s(Law.BJ, "19")),
        candidate_list_lead_days=_v(5, _s(Law.BJ, "20")),
        mobile_box_min_scrutineers=_v(3, _s(Law.BJ, "23")),
        proxy_cap=_v(3, bj_25),
        candidates_may_hold_proxies=_v(False, bj_25),
        tie_runoff=_v(True, _s(Law.BJ, "28-29")),
        second_round_deadline_days=_v(15, _s(Law.BJ, "30")),
        results_on_the_spot=_v(True, _s(Law.BJ, "31")),
    )


def _shanghai(base: Policy) -> Policy:
    sh_12 = _s(Law.SH, "12")
    sh_16 = _s(Law.SH, "16")
    return dataclasses.replace(
        base,
        province=Province.SH,
        positions=_village_positions(
            _v(CandidateMargin.fixed(1, 3), sh_12), officer_margin=_v(CandidateMargin.fixed(1, 1), sh_12)
        ),
        candidate_list_lead_days=_v(5, sh_12),
        returned_above_issued_voids=_v(True, _s(Law.SH, "19")),
        second_round_deadline_days=_v(30, _s(Law.SH, "21")),
        proxy_cap=_v(3, sh_16),
        proxy_application_lead_days=_v(5, sh_16),
        proxy_list_lead_days=_v(2, sh_16),
        proxy_on_election_day_allowed=_v(False, sh_16),
        proxy_redelegation_forbidden=_v(True, sh_16),
        proxy_certificate=_v(True, sh_16),
    )


def _zhejiang(base: Policy) -> Policy:
    # RULES.md gives SH 12 as the source of the SH/ZJ margin; the ZJ article is not named.
    zj_margin = _s(Law.ZJ, confirmed=False, note="same as SH 12 per RULES.md; ZJ article not named")
    zj_24 = _s(Law.ZJ, "24")
    zj_25 = _s(Law.ZJ, "25")
    return dataclasses.replace(
        base,
        province=Province.ZJ,
        positions=_village_positions(
            _v(CandidateMargin.fixed(1, 3), zj_margin),
            officer_margin=_v(CandidateMargin.fixed(1, 1), zj_margin),
        ),
        recommendation_quota_per_seat=_v(1, _s(Law.ZJ, "17")),
        nomination_by_proxy_allowed=_v(False, _s(Law.ZJ, "17")),
        candidate_list_lead_days=_v(5, _s(Law.ZJ, "18")),
        candidates_meet_voters=_v(True, _s(Law.ZJ, "23")),
        mobile_box_min_scrutineers=_v(3, zj_24),
        mobile_box_township_approval=_v(True, zj_24),
        mobile_box_publish_voters=_v(True, zj_24),
        mobile_box_publish_scrutineers=_v(True, zj_24),
        proxy_cap=_v(3, zj_25),
        proxy_relationships=_v(_ZJ_RELATIVES, zj_25),
        candidates_may_hold_proxies=_v(False, zj_25),
        proxy_application_lead_days=_v(3, zj_25),
        proxy_redelegation_forbidden=_v(True, zj_25),
        proxy_unpublished_void=_v(True, zj_25),
        second_round_deadline_days=_v(30, _s(Law.ZJ, "29")),
    )


def _henan(base: Policy) -> Policy:
    hn_30 = _s(Law.HN, "30")
    return dataclasses.replace(
        base,
        province=Province.HN,
        candidate_list_lead_days=_v(5, _s(Law.HN, "26")),
        candidates_meet_voters=_v(True, _s(Law.HN, "28")),
        proxy_cap=_v(3, hn_30),
        proxy_certificate=_v(True, hn_30),
        proxy_voter_card_taken_back=_v(True, _s(Law.HN, "30, 33")),
        mobile_box_min_scrutineers=_v(3, _s(Law.HN, "31")),
        mobile_box_publish_voters=_v(True, _s(Law.HN, "31")),
    )


def _party(kind: ElectionKind, province: Province, village: Policy) -> Policy:
    """Party branch elections follow PR wherever RULES.md has a figure; the province changes nothing."""
    adopted = _s(Law.CUNMIN, confirmed=False, note=_VILLAGE_FOR_PARTY)
    open_registration = kind is ElectionKind.PARTY_PUBLIC_DIRECT
    return dataclasses.replace(
        village,
        kind=kind,
        province=province,
        committee_size=_v(
            SeatRange(3, 7), _s(Law.PR, confirmed=False, note="branch committee size; default")
        ),
        women_min=_v(
            0, _s(Law.PR, confirmed=False, note="no women's seat rule for party branches in RULES.md")
        ),
        term_years=_v(5, _s(Law.PR, confirmed=False, note="term not in RULES.md for party branches")),
        full_party_members_only=_v(True, PR_5),
        positions=_party_positions(),
        voter_list_lead_days=_v(20, adopted),
        objection_window_days=_v(5, adopted),
        objection_decision_days=_v(3, adopted),
        recommendation_quota_per_seat=_v(1, adopted),
        # 公推直选 starts with open registration; the recommending kinds rely on others' recommendations.
        self_nomination_allowed=_v(
            open_registration,
            _s(Law.LOCAL, confirmed=False, note="open registration in public direct elections"),
        ),
        candidate_list_lead_days=_v(5, adopted),
        candidates_meet_voters=_v(open_registration, _s(Law.LOCAL, confirmed=False, note="public meeting")),
        turnout_measure=_v(Denominator.MEMBERS_PRESENT, PR_QUORUM),
        validity=_v(Threshold(Fraction(4, 5), ThresholdRule.MORE_THAN), PR_QUORUM),
        returned_above_issued_voids=_v(False, adopted),
        elected=_v(_MORE_THAN_HALF, PR_QUORUM),
        tie_runoff=_v(True, adopted),
        # A party second round still needs more than half of those present: the 1/3 floor is OL's.
        second_round_min_share=_v(_MORE_THAN_HALF, PR_QUORUM),
        second_round_deadline_days=_v(30, adopted),
        proxy_allowed=_v(False, _s(Law.PR, confirmed=False, note="unconfirmed; default off")),
        meeting_notice_days=_v(10, adopted),
    )


@functools.cache
def preset(kind: ElectionKind, province: Province) -> Policy:
    """The legal default policy for ``kind`` in ``province``, every value with its source."""
    village = _national_village()
    match province:
        case Province.BJ:
            village = _beijing(village)
        case Province.SH:
            village = _shanghai(village)
        case Province.ZJ:
            village = _zhejiang(village)
        case Province.HN:
            village = _henan(village)
        case Province.NATIONAL:
            pass
    if kind is ElectionKind.VILLAGE_COMMITTEE:
        return village
    return _party(kind, province, _national_village())
