"""Counting: tally consistency, validity of the vote, who is elected, what happens next.

The count itself is done on paper, in the open, on the spot (OL 15 ¶3); these rules check the
committee's figures and apply the thresholds to them. Every decision names its source.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from bot.rules._ranking import split_at_places
from bot.rules.policy import Denominator, Policy, Position, Source, Sourced, Threshold

__all__ = [
    "BallotCounts",
    "ElectionRound",
    "NextStep",
    "PositionOutcome",
    "PositionVotes",
    "ResultLine",
    "ResultOutcome",
    "ResultStatus",
    "TallyProblem",
    "TallyProblemReason",
    "ValidityOutcome",
    "ValidityReason",
    "VoteDecision",
    "WomenCheck",
    "check_tally",
    "check_validity",
    "check_women",
    "decide_results",
]


@dataclass(frozen=True)
class BallotCounts:
    issued: int  # 发出选票
    returned: int  # 收回选票: the ballots cast
    valid: int
    invalid: int


@dataclass(frozen=True)
class PositionVotes:
    position: Position
    seats: int
    votes: Mapping[int, int]  # candidate (or write-in) id -> votes


class ElectionRound(StrEnum):
    FIRST = "first"
    SECOND = "second"  # 另行选举 for seats left unfilled


# --- tally consistency ------------------------------------------------------------------------


class TallyProblemReason(StrEnum):
    NEGATIVE_NUMBER = "negative_number"
    RETURNED_ABOVE_ISSUED = "returned_above_issued"
    VALID_PLUS_INVALID_NOT_RETURNED = "valid_plus_invalid_not_returned"
    RETURNED_ABOVE_PRESENT = "returned_above_present"
    PRESENT_ABOVE_REGISTERED = "present_above_registered"
    RETURNED_ABOVE_REGISTERED = "returned_above_registered"
    NO_SEATS = "no_seats"
    VOTES_ABOVE_VALID_TIMES_SEATS = "votes_above_valid_times_seats"
    CANDIDATE_VOTES_ABOVE_VALID = "candidate_votes_above_valid"


@dataclass(frozen=True)
class TallyProblem:
    reason: TallyProblemReason
    numbers: Mapping[str, int]  # the figures that disagree, by name
    position: Position | None = None
    candidate_id: int | None = None
    source: Source | None = None  # None for plain arithmetic


def check_tally(
    policy: Policy,
    ballots: BallotCounts,
    positions: Sequence[PositionVotes],
    *,
    registered: int | None = None,
    present: int | None = None,
) -> list[TallyProblem]:
    """Every way the committee's figures contradict each other."""
    problems: list[TallyProblem] = []
    named = {
        "issued": ballots.issued,
        "returned": ballots.returned,
        "valid": ballots.valid,
        "invalid": ballots.invalid,
    }
    if registered is not None:
        named["registered"] = registered
    if present is not None:
        named["present"] = present
    for name, value in named.items():
        if value < 0:
            problems.append(TallyProblem(TallyProblemReason.NEGATIVE_NUMBER, {name: value}))
    if ballots.returned > ballots.issued:
        problems.append(
            TallyProblem(
                TallyProblemReason.RETURNED_ABOVE_ISSUED,
                {"returned": ballots.returned, "issued": ballots.issued},
                source=policy.returned_above_issued_voids.source,
            )
        )
    if ballots.valid + ballots.invalid != ballots.returned:
        problems.append(
            TallyProblem(
                TallyProblemReason.VALID_PLUS_INVALID_NOT_RETURNED,
                {"valid": ballots.valid, "invalid": ballots.invalid, "returned": ballots.returned},
            )
        )
    if present is not None and ballots.returned > present:
        problems.append(
            TallyProblem(
                TallyProblemReason.RETURNED_ABOVE_PRESENT, {"returned": ballots.returned, "present": present}
            )
        )
    if registered is not None and present is not None and present > registered:
        problems.append(
            TallyProblem(
                TallyProblemReason.PRESENT_ABOVE_REGISTERED, {"present": present, "registered": registered}
            )
        )
    if registered is not None and ballots.returned > registered:
        problems.append(
            TallyProblem(
                TallyProblemReason.RETURNED_ABOVE_REGISTERED,
                {"returned": ballots.returned, "registered": registered},
            )
        )
    for votes in positions:
        problems.extend(_position_tally_problems(votes, ballots.valid))
    return problems


def _position_tally_problems(votes: PositionVotes, valid: int) -> list[TallyProblem]:
    problems: list[TallyProblem] = []
    if votes.seats <= 0:
        problems.append(TallyProblem(TallyProblemReason.NO_SEATS, {"seats": votes.seats}, votes.position))
    for candidate_id, n in votes.votes.items():
        if n < 0:
            problems.append(
                TallyProblem(TallyProblemReason.NEGATIVE_NUMBER, {"votes": n}, votes.position, candidate_id)
            )
        elif n > valid:
            problems.append(
                TallyProblem(
                    TallyProblemReason.CANDIDATE_VOTES_ABOVE_VALID,
                    {"votes": n, "valid": valid},
                    votes.position,
                    candidate_id,
                )
            )
    total = sum(votes.votes.values())
    # Each valid ballot marks at most as many names as there are seats for the position.
    if votes.seats > 0 and total > valid * votes.seats:
        problems.append(
            TallyProblem(
                TallyProblemReason.VOTES_ABOVE_VALID_TIMES_SEATS,
                {"votes": total, "valid": valid, "seats": votes.seats},
                votes.position,
            )
        )
    return problems


# --- validity ---------------------------------------------------------------------------------


class ValidityReason(StrEnum):
    TURNOUT_TOO_LOW = "turnout_too_low"
    RETURNED_ABOVE_ISSUED = "returned_above_issued"
    NO_REGISTERED_VOTERS = "no_registered_voters"


@dataclass(frozen=True)
class ValidityOutcome:
    valid: bool
    reason: ValidityReason | None
    turnout: int  # ballots cast (village) or members present (party)
    registered: int
    share: Fraction | None
    needed: int  # the smallest turnout that makes the vote valid
    threshold: Threshold
    source: Source


def _turnout(policy: Policy, ballots: BallotCounts, present: int | None) -> int:
    if policy.turnout_measure.value is Denominator.MEMBERS_PRESENT:
        if present is None:
            raise ValueError("a party election needs the number of members present")
        return present
    return ballots.returned


def check_validity(
    policy: Policy, *, registered: int, ballots: BallotCounts, present: int | None = None
) -> ValidityOutcome:
    """Village: more than half of the registered voters cast a ballot (OL 15 ¶2); SH 19 also voids
    a vote with more ballots returned than issued. Party: more than 4/5 of the members entitled
    to vote are present (PR)."""
    rule = policy.validity
    turnout = _turnout(policy, ballots, present)
    needed = rule.value.minimum_count(registered)
    share = Fraction(turnout, registered) if registered > 0 else None
    if policy.returned_above_issued_voids.value and ballots.returned > ballots.issued:
        src = policy.returned_above_issued_voids.source
        return ValidityOutcome(
            False, ValidityReason.RETURNED_ABOVE_ISSUED, turnout, registered, share, needed, rule.value, src
        )
    if registered <= 0:
        return ValidityOutcome(
            False,
            ValidityReason.NO_REGISTERED_VOTERS,
            turnout,
            registered,
            None,
            needed,
            rule.value,
            rule.source,
        )
    if not rule.value.met_by(turnout, registered):
        return ValidityOutcome(
            False, ValidityReason.TURNOUT_TOO_LOW, turnout, registered, share, needed, rule.value, rule.source
        )
    return ValidityOutcome(True, None, turnout, registered, share, needed, rule.value, rule.source)


# --- who is elected ---------------------------------------------------------------------------


class VoteDecision(StrEnum):
    ELECTED = "elected"
    TIED = "tied"  # tied at the last seat: run-off (BJ 28-29)
    OUTRANKED = "outranked"  # over the threshold, but others took the seats
    BELOW_THRESHOLD = "below_threshold"


class NextStep(StrEnum):
    NONE = "none"
    RUNOFF = "runoff"  # the tied candidates vote again for the tied seats
    SECOND_ROUND = "second_round"  # 另行选举 for unfilled seats (OL 15 ¶2)
    RUNOFF_AND_SECOND_ROUND = "runoff_and_second_round"
    VACANT = "vacant"  # the second round did not fill the seat either


@dataclass(frozen=True)
class ResultLine:
    position: Position
    candidate_id: int
    votes: int
    share: Fraction  # of the ballots cast (village) or of the members present (party)
    decision: VoteDecision
    source: Source


@dataclass(frozen=True)
class PositionOutcome:
    position: Position
    seats: int
    elected: tuple[int, ...]
    tied: tuple[int, ...]
    tied_seats: int  # seats the run-off between ``tied`` decides
    unfilled: int  # seats for a second round (or vacant after one)
    needed: int  # the fewest votes that meet the threshold
    next_step: NextStep
    lines: tuple[ResultLine, ...]
    source: Source  # the threshold applied
    next_step_source: Source | None


class ResultStatus(StrEnum):
    DECIDED = "decided"
    TALLY_INCONSISTENT = "tally_inconsistent"
    INVALID = "invalid"


@dataclass(frozen=True)
class WomenCheck:
    met: bool
    required: int
    women_elected: int
    seats_pending: int  # seats still open to a run-off or second round
    source: Source


@dataclass(frozen=True)
class ResultOutcome:
    status: ResultStatus
    round: ElectionRound
    tally_problems: tuple[TallyProblem, ...]
    validity: ValidityOutcome | None
    positions: tuple[PositionOutcome, ...]
    women: WomenCheck | None

    @property
    def elected(self) -> tuple[int, ...]:
        return tuple(cid for p in self.positions for cid in p.elected)


def _decide_position(
    votes: PositionVotes, base: int, rule: Sourced[Threshold], policy: Policy, round: ElectionRound
) -> PositionOutcome:
    threshold = rule.value
    ordered = sorted(votes.votes.items(), key=lambda item: (-item[1], item[0]))
    eligible = [(cid, n) for cid, n in ordered if threshold.met_by(n, base)]
    below = [(cid, n) for cid, n in ordered if not threshold.met_by(n, base)]
    inside, tied, outside = split_at_places(eligible, votes.seats, key=lambda item: item[1])
    tied_seats = votes.seats - len(inside) if tied else 0
    unfilled = votes.seats - len(inside) - tied_seats

    def line(cid: int, n: int, decision: VoteDecision, source: Source) -> ResultLine:
        share = Fraction(n, base) if base > 0 else Fraction(0)
        return ResultLine(votes.position, cid, n, share, decision, source)

    tie_source = policy.tie_runoff.source
    lines = [line(cid, n, VoteDecision.ELECTED, rule.source) for cid, n in inside]
    lines += [line(cid, n, VoteDecision.TIED, tie_source) for cid, n in tied]
    lines += [line(cid, n, VoteDecision.OUTRANKED, rule.source) for cid, n in outside]
    lines += [line(cid, n, VoteDecision.BELOW_THRESHOLD, rule.source) for cid, n in below]

    next_source: Source | None = None
    if unfilled and round is ElectionRound.SECOND:
        step, next_source = NextStep.VACANT, rule.source
    elif unfilled and tied:
        step, next_source = NextStep.RUNOFF_AND_SECOND_ROUND, policy.second_round_deadline_days.source
    elif unfilled:
        step, next_source = NextStep.SECOND_ROUND, policy.second_round_deadline_days.source
    elif tied:
        step, next_source = NextStep.RUNOFF, tie_source
    else:
        step = NextStep.NONE
    return PositionOutcome(
        position=votes.position,
        seats=votes.seats,
        elected=tuple(cid for cid, _ in inside),
        tied=tuple(cid for cid, _ in tied),
        tied_seats=tied_seats,
        unfilled=unfilled,
        needed=threshold.minimum_count(base),
        next_step=step,
        lines=tuple(lines),
        source=rule.source,
        next_step_source=next_source,
    )


def decide_results(
    policy: Policy,
    *,
    registered: int,
    ballots: BallotCounts,
    positions: Sequence[PositionVotes],
    present: int | None = None,
    round: ElectionRound = ElectionRound.FIRST,
    women: Collection[int] = (),
    elected_before: Collection[int] = (),
) -> ResultOutcome:
    """Apply the law to a count.

    First round: elected with more than half of the ballots cast, exactly half fails (OL 15 ¶2);
    party: more than half of the members present (PR). Second round (另行选举): most votes win
    but never below 1/3 of the ballots cast (OL 15 ¶2). A tie for the last seat goes to a run-off
    (BJ 28-29). ``women`` are the candidate ids of women, for OL 6 (at least one woman);
    ``elected_before`` those already elected in an earlier round, counted for that check.
    A second round is checked for validity like the first.
    """
    problems = check_tally(policy, ballots, positions, registered=registered, present=present)
    if problems:
        return ResultOutcome(ResultStatus.TALLY_INCONSISTENT, round, tuple(problems), None, (), None)
    validity = check_validity(policy, registered=registered, ballots=ballots, present=present)
    if not validity.valid:
        return ResultOutcome(ResultStatus.INVALID, round, (), validity, (), None)

    rule = policy.elected if round is ElectionRound.FIRST else policy.second_round_min_share
    base = validity.turnout
    outcomes = tuple(_decide_position(votes, base, rule, policy, round) for votes in positions)

    women_check = check_women(policy, outcomes, round=round, women=women, elected_before=elected_before)
    return ResultOutcome(ResultStatus.DECIDED, round, (), validity, outcomes, women_check)


def check_women(
    policy: Policy,
    outcomes: Sequence[PositionOutcome],
    *,
    round: ElectionRound = ElectionRound.FIRST,
    women: Collection[int] = (),
    elected_before: Collection[int] = (),
) -> WomenCheck | None:
    """OL 6: at least one woman on the committee (the preset's `women_min`), over every position
    decided so far; None where the preset asks for none. Also used when positions were counted on
    ballots of their own and decided one by one."""
    if policy.women_min.value <= 0:
        return None
    elected = {cid for p in outcomes for cid in p.elected} | set(elected_before)
    women_elected = len(elected & set(women))
    pending = sum(p.tied_seats + (p.unfilled if round is ElectionRound.FIRST else 0) for p in outcomes)
    return WomenCheck(
        met=women_elected >= policy.women_min.value,
        required=policy.women_min.value,
        women_elected=women_elected,
        seats_pending=pending,
        source=policy.women_min.source,
    )
