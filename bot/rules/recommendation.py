"""Candidate recommendation (民主推荐) and nomination: who may recommend whom, tally and cut."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from bot.rules._ranking import split_at_places
from bot.rules.policy import (
    OL_13,
    Policy,
    Position,
    RecommendationRound,
    Source,
    Threshold,
)
from bot.rules.schedule import Window

__all__ = [
    "CutDecision",
    "CutLine",
    "CutOutcome",
    "CutProblem",
    "CutStage",
    "PartyStanding",
    "RankedCandidate",
    "RecommendationOutcome",
    "RecommendationRefusal",
    "RecommendationRound",
    "RoundSizeOutcome",
    "Villager",
    "check_public_round_size",
    "check_recommendation",
    "cut",
    "tally_recommendations",
]


class PartyStanding(StrEnum):
    NONE = "none"
    PROBATIONARY = "probationary"  # 预备党员: no vote (PR 5)
    FULL = "full"  # 正式党员
    ON_PROBATION = "on_probation"  # 留党察看: no vote (PR 5)


@dataclass(frozen=True)
class Villager:
    id: int
    village_id: int
    on_roll: bool  # a registered voter of this election (OL 13)
    removed: bool = False  # struck off the roll or out of the election
    party: PartyStanding = PartyStanding.NONE


class RecommendationRefusal(StrEnum):
    WINDOW_NOT_OPEN = "window_not_open"
    WINDOW_CLOSED = "window_closed"
    ROUND_NOT_IN_THIS_KIND = "round_not_in_this_kind"
    POSITION_NOT_IN_POLICY = "position_not_in_policy"
    RECOMMENDER_NOT_IN_VILLAGE = "recommender_not_in_village"
    RECOMMENDER_NOT_ON_ROLL = "recommender_not_on_roll"
    RECOMMENDER_REMOVED = "recommender_removed"
    RECOMMENDER_NOT_FULL_PARTY_MEMBER = "recommender_not_full_party_member"
    CANDIDATE_NOT_IN_VILLAGE = "candidate_not_in_village"
    CANDIDATE_NOT_ON_ROLL = "candidate_not_on_roll"
    CANDIDATE_REMOVED = "candidate_removed"
    CANDIDATE_NOT_FULL_PARTY_MEMBER = "candidate_not_full_party_member"
    SELF_NOMINATION_NOT_ALLOWED = "self_nomination_not_allowed"
    BY_PROXY_NOT_ALLOWED = "by_proxy_not_allowed"
    DUPLICATE = "duplicate"
    QUOTA_USED = "quota_used"


@dataclass(frozen=True)
class RecommendationOutcome:
    accepted: bool
    reason: RecommendationRefusal | None = None
    source: Source | None = None  # None for a closed window or a duplicate: no article needed
    quota: int | None = None  # how many the recommender may recommend for this position
    used: int | None = None


def _refuse(reason: RecommendationRefusal, source: Source | None) -> RecommendationOutcome:
    return RecommendationOutcome(accepted=False, reason=reason, source=source)


def check_recommendation(
    *,
    policy: Policy,
    village_id: int,
    position: Position,
    seats: int,
    round: RecommendationRound,
    window: Window,
    now: dt.datetime,
    recommender: Villager,
    candidate: Villager,
    already_recommended: Collection[int],
    submitted_by: Villager | None = None,
) -> RecommendationOutcome:
    """May ``recommender`` recommend ``candidate`` for ``position`` in ``round`` now?

    ``already_recommended`` holds the candidate ids this recommender has already recommended
    for this position in this round; ``submitted_by`` is whoever sends it when it is not the
    recommender (nominating by proxy, forbidden in ZJ 17).
    """
    if now < window.opens:
        return _refuse(RecommendationRefusal.WINDOW_NOT_OPEN, None)
    if now >= window.closes:
        return _refuse(RecommendationRefusal.WINDOW_CLOSED, None)
    if round is RecommendationRound.PARTY and not policy.kind.is_party:
        return _refuse(RecommendationRefusal.ROUND_NOT_IN_THIS_KIND, policy.full_party_members_only.source)
    if not policy.has_position(position):
        return _refuse(RecommendationRefusal.POSITION_NOT_IN_POLICY, policy.committee_size.source)
    spec = policy.position(position)

    if recommender.village_id != village_id:
        return _refuse(RecommendationRefusal.RECOMMENDER_NOT_IN_VILLAGE, OL_13)
    if recommender.removed:
        return _refuse(RecommendationRefusal.RECOMMENDER_REMOVED, OL_13)
    if not recommender.on_roll:
        return _refuse(RecommendationRefusal.RECOMMENDER_NOT_ON_ROLL, OL_13)
    if round is RecommendationRound.PARTY and recommender.party is not PartyStanding.FULL:
        return _refuse(
            RecommendationRefusal.RECOMMENDER_NOT_FULL_PARTY_MEMBER, policy.full_party_members_only.source
        )

    if candidate.village_id != village_id:
        return _refuse(RecommendationRefusal.CANDIDATE_NOT_IN_VILLAGE, OL_13)
    if candidate.removed:
        return _refuse(RecommendationRefusal.CANDIDATE_REMOVED, OL_13)
    if not candidate.on_roll:
        return _refuse(RecommendationRefusal.CANDIDATE_NOT_ON_ROLL, OL_13)
    if spec.party_member_required.value and candidate.party is not PartyStanding.FULL:
        return _refuse(
            RecommendationRefusal.CANDIDATE_NOT_FULL_PARTY_MEMBER, spec.party_member_required.source
        )

    if candidate.id == recommender.id and not policy.self_nomination_allowed.value:
        return _refuse(
            RecommendationRefusal.SELF_NOMINATION_NOT_ALLOWED, policy.self_nomination_allowed.source
        )
    if (
        submitted_by is not None
        and submitted_by.id != recommender.id
        and not policy.nomination_by_proxy_allowed.value
    ):
        return _refuse(RecommendationRefusal.BY_PROXY_NOT_ALLOWED, policy.nomination_by_proxy_allowed.source)

    quota = seats * policy.recommendation_quota_per_seat.value
    used = len(already_recommended)
    if candidate.id in already_recommended:
        return RecommendationOutcome(False, RecommendationRefusal.DUPLICATE, None, quota, used)
    if used >= quota:
        return RecommendationOutcome(
            False, RecommendationRefusal.QUOTA_USED, policy.recommendation_quota_per_seat.source, quota, used
        )
    return RecommendationOutcome(accepted=True, quota=quota, used=used)


# --- tally ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedCandidate:
    candidate_id: int
    votes: Mapping[RecommendationRound, int]
    score: Fraction
    rank: int  # shared by equal scores: 1, 2, 2, 4
    tied_with: tuple[int, ...]  # other candidates with exactly the same score


def tally_recommendations(
    counts: Mapping[int, Mapping[RecommendationRound, int]],
    weights: Mapping[RecommendationRound, Fraction],
    participants: Mapping[RecommendationRound, int] | None = None,
) -> list[RankedCandidate]:
    """Rank candidates by their weighted recommendation score, exactly.

    Each round is tallied separately (两推一选). Without ``participants`` the score is
    ``sum(weight * votes)``; with it, each round's votes count as a share of that round's
    participants, so a large public round does not drown the party round whatever the weights.
    The order is by score, then by candidate id: that last key only makes the list stable, and
    every candidate whose score equals another's is flagged in ``tied_with``.
    """
    scored: list[tuple[int, Mapping[RecommendationRound, int], Fraction]] = []
    for candidate_id, per_round in counts.items():
        score = Fraction(0)
        for round_, votes in per_round.items():
            if votes < 0:
                raise ValueError(f"negative recommendation count for candidate {candidate_id}")
            weight = weights.get(round_, Fraction(0))
            if participants is None:
                score += weight * votes
            else:
                total = participants.get(round_, 0)
                if total > 0:
                    score += weight * Fraction(votes, total)
        scored.append((candidate_id, dict(per_round), score))
    scored.sort(key=lambda item: (-item[2], item[0]))
    ranked: list[RankedCandidate] = []
    for candidate_id, per_round, score in scored:
        higher = sum(1 for _, _, other in scored if other > score)
        tied = tuple(other_id for other_id, _, other in scored if other == score and other_id != candidate_id)
        ranked.append(RankedCandidate(candidate_id, per_round, score, higher + 1, tied))
    return ranked


# --- cut --------------------------------------------------------------------------------------


class CutStage(StrEnum):
    FORMAL = "formal"  # formal candidates: the margin of the position (差额)
    PRELIMINARY = "preliminary"  # preliminary candidates: seats times the preliminary ratio


class CutDecision(StrEnum):
    PASSED = "passed"
    NOT_PASSED = "not_passed"
    TIED_AT_BOUNDARY = "tied_at_boundary"
    NO_RECOMMENDATIONS = "no_recommendations"


class CutProblem(StrEnum):
    TOO_FEW_CANDIDATES = "too_few_candidates"
    TARGET_OUTSIDE_MARGIN = "target_outside_margin"
    TIE_AT_BOUNDARY = "tie_at_boundary"


@dataclass(frozen=True)
class CutLine:
    candidate_id: int
    rank: int
    score: Fraction
    decision: CutDecision


@dataclass(frozen=True)
class CutOutcome:
    target: int
    min_required: int
    max_allowed: int | None
    lines: tuple[CutLine, ...]
    problems: tuple[CutProblem, ...]
    source: Source

    @property
    def passed(self) -> tuple[int, ...]:
        return tuple(line.candidate_id for line in self.lines if line.decision is CutDecision.PASSED)

    @property
    def tied_at_boundary(self) -> tuple[int, ...]:
        return tuple(
            line.candidate_id for line in self.lines if line.decision is CutDecision.TIED_AT_BOUNDARY
        )

    @property
    def open_places(self) -> int:
        """Places the committee still has to fill from the boundary tie."""
        return self.target - len(self.passed) if self.tied_at_boundary else 0


def cut(
    ranked: Sequence[RankedCandidate],
    seats: int,
    policy: Policy,
    position: Position,
    *,
    stage: CutStage = CutStage.FORMAL,
    target: int | None = None,
) -> CutOutcome:
    """Who goes on from a ranked recommendation list, and why.

    FORMAL uses the position's margin (BJ 16: seats + 1 to 2; SH 12: +1 for director and deputy,
    +1 to 3 for members; PR-1990 8, 12: at least 20% more, rounded up). PRELIMINARY uses the
    preliminary-to-seats ratio (the two-ballot pilot: 1.5), never fewer than the margin minimum.
    ``target`` (how many the committee wants) defaults to the legal minimum.
    """
    spec = policy.position(position)
    margin = spec.margin.value
    min_required = margin.min_candidates(seats)
    max_allowed = margin.max_candidates(seats)
    source = spec.margin.source
    if stage is CutStage.PRELIMINARY:
        source = policy.preliminary_ratio.source
        min_required = max(min_required, math.ceil(seats * policy.preliminary_ratio.value))
        max_allowed = None
    problems: list[CutProblem] = []
    places = min_required if target is None else target
    if places < min_required or (max_allowed is not None and places > max_allowed):
        problems.append(CutProblem.TARGET_OUTSIDE_MARGIN)
        places = min_required if places < min_required or max_allowed is None else max_allowed

    recommended = [r for r in ranked if r.score > 0]
    unrecommended = [r for r in ranked if r.score <= 0]
    inside, tied, outside = split_at_places(recommended, places, key=lambda r: r.score)
    if len(recommended) < min_required:
        problems.append(CutProblem.TOO_FEW_CANDIDATES)
    if tied:
        problems.append(CutProblem.TIE_AT_BOUNDARY)

    lines = [CutLine(r.candidate_id, r.rank, r.score, CutDecision.PASSED) for r in inside]
    lines += [CutLine(r.candidate_id, r.rank, r.score, CutDecision.TIED_AT_BOUNDARY) for r in tied]
    lines += [CutLine(r.candidate_id, r.rank, r.score, CutDecision.NOT_PASSED) for r in outside]
    lines += [CutLine(r.candidate_id, r.rank, r.score, CutDecision.NO_RECOMMENDATIONS) for r in unrecommended]
    return CutOutcome(places, min_required, max_allowed, tuple(lines), tuple(problems), source)


# --- size of the public round (两推一选) -------------------------------------------------------


@dataclass(frozen=True)
class RoundSizeOutcome:
    met: bool
    share: Fraction | None
    threshold: Threshold
    source: Source


def check_public_round_size(policy: Policy, public_participants: int, party_members: int) -> RoundSizeOutcome:
    """Pilots wanted the public's representatives to exceed 80% of the party members."""
    rule = policy.public_round_min_ratio
    share = Fraction(public_participants, party_members) if party_members > 0 else None
    return RoundSizeOutcome(
        rule.value.met_by(public_participants, party_members), share, rule.value, rule.source
    )
