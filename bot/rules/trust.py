"""The villagers' trust vote of the two-ballot system (两票制).

Only preliminary candidates above the trust threshold become formal candidates. Sources differ on
the threshold (more than half, or at least 70%), on its denominator (ballots cast or registered
voters) and on whether the boundary passes: all three are parameters (`Threshold`, `Denominator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from bot.rules.policy import (
    CandidateMargin,
    Denominator,
    Policy,
    Position,
    Source,
    Sourced,
    Threshold,
    ThresholdRule,
)

__all__ = [
    "ThresholdRule",
    "TrustCount",
    "TrustDecision",
    "TrustLine",
    "TrustOutcome",
    "TrustProblem",
    "trust_cut",
    "trust_cut_for",
]


@dataclass(frozen=True)
class TrustCount:
    candidate_id: int
    trust: int  # 信任
    no_trust: int  # 不信任
    abstain: int = 0  # 弃权


class TrustDecision(StrEnum):
    PASSED = "passed"
    BELOW_THRESHOLD = "below_threshold"
    COUNTS_INCONSISTENT = "counts_inconsistent"
    NO_BALLOTS = "no_ballots"


class TrustProblem(StrEnum):
    NEGATIVE_NUMBER = "negative_number"
    BALLOTS_ABOVE_REGISTERED = "ballots_above_registered"
    CANDIDATE_COUNTS_ABOVE_BALLOTS = "candidate_counts_above_ballots"
    TOO_FEW_FORMAL_CANDIDATES = "too_few_formal_candidates"


@dataclass(frozen=True)
class TrustLine:
    candidate_id: int
    trust: int
    share: Fraction | None  # trust / denominator; None when the denominator is zero
    needed: int  # the fewest trust votes that pass with this denominator
    decision: TrustDecision


@dataclass(frozen=True)
class TrustOutcome:
    lines: tuple[TrustLine, ...]  # best share first, then by candidate id
    denominator_count: int
    threshold: Sourced[Threshold]
    denominator: Sourced[Denominator]
    problems: tuple[TrustProblem, ...]
    min_formal_candidates: int | None
    margin_source: Source | None

    @property
    def passed(self) -> tuple[int, ...]:
        return tuple(line.candidate_id for line in self.lines if line.decision is TrustDecision.PASSED)


def trust_cut(
    counts: Sequence[TrustCount],
    *,
    ballots_cast: int,
    registered_voters: int,
    threshold: Sourced[Threshold],
    denominator: Sourced[Denominator],
    seats: int | None = None,
    margin: Sourced[CandidateMargin] | None = None,
) -> TrustOutcome:
    """Who passes the trust vote. With ``seats`` and ``margin``, also whether enough pass for the
    party election to keep more candidates than seats (PR-1990 8, 12)."""
    if denominator.value is Denominator.BALLOTS_CAST:
        whole = ballots_cast
    elif denominator.value is Denominator.REGISTERED_VOTERS:
        whole = registered_voters
    else:
        raise ValueError(f"a trust vote is not measured against {denominator.value}")

    problems: list[TrustProblem] = []
    if ballots_cast < 0 or registered_voters < 0:
        problems.append(TrustProblem.NEGATIVE_NUMBER)
    if ballots_cast > registered_voters:
        problems.append(TrustProblem.BALLOTS_ABOVE_REGISTERED)

    rule = threshold.value
    lines: list[TrustLine] = []
    for count in counts:
        numbers = (count.trust, count.no_trust, count.abstain)
        share = Fraction(count.trust, whole) if whole > 0 else None
        if any(n < 0 for n in numbers):
            problems.append(TrustProblem.NEGATIVE_NUMBER)
            decision = TrustDecision.COUNTS_INCONSISTENT
        elif sum(numbers) > ballots_cast:
            problems.append(TrustProblem.CANDIDATE_COUNTS_ABOVE_BALLOTS)
            decision = TrustDecision.COUNTS_INCONSISTENT
        elif whole <= 0:
            decision = TrustDecision.NO_BALLOTS
        elif rule.met_by(count.trust, whole):
            decision = TrustDecision.PASSED
        else:
            decision = TrustDecision.BELOW_THRESHOLD
        lines.append(TrustLine(count.candidate_id, count.trust, share, rule.minimum_count(whole), decision))
    lines.sort(key=lambda line: (-(line.share or Fraction(0)), line.candidate_id))

    min_formal = None
    if seats is not None and margin is not None:
        min_formal = margin.value.min_candidates(seats)
        if sum(1 for line in lines if line.decision is TrustDecision.PASSED) < min_formal:
            problems.append(TrustProblem.TOO_FEW_FORMAL_CANDIDATES)
    return TrustOutcome(
        lines=tuple(lines),
        denominator_count=whole,
        threshold=threshold,
        denominator=denominator,
        problems=tuple(dict.fromkeys(problems)),
        min_formal_candidates=min_formal,
        margin_source=margin.source if margin is not None else None,
    )


def trust_cut_for(
    policy: Policy,
    counts: Sequence[TrustCount],
    *,
    ballots_cast: int,
    registered_voters: int,
    position: Position | None = None,
    seats: int | None = None,
) -> TrustOutcome:
    """`trust_cut` with the threshold, denominator and margin of ``policy``."""
    margin = policy.position(position).margin if position is not None else None
    return trust_cut(
        counts,
        ballots_cast=ballots_cast,
        registered_voters=registered_voters,
        threshold=policy.trust_threshold,
        denominator=policy.trust_denominator,
        seats=seats,
        margin=margin,
    )
