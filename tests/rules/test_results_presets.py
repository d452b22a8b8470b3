"""The boundaries of validity, election, second round and ties, for every preset (kind × province).

The figures come from each preset's own thresholds, so a corrected preset is tested as it stands.
"""

from __future__ import annotations

import itertools

import pytest

from bot.rules.policy import Denominator, ElectionKind, Policy, Position, Province, preset
from bot.rules.results import (
    BallotCounts,
    ElectionRound,
    NextStep,
    PositionVotes,
    ResultOutcome,
    ResultStatus,
    ValidityReason,
    VoteDecision,
    decide_results,
)

PRESETS = [
    pytest.param(preset(kind, province), id=f"{kind.value}-{province.value}")
    for kind, province in itertools.product(ElectionKind, Province)
]
REGISTERED = 300


def position(policy: Policy) -> Position:
    return policy.positions[0].position


def party(policy: Policy) -> bool:
    return policy.turnout_measure.value is Denominator.MEMBERS_PRESENT


def decide(
    policy: Policy,
    turnout: int,
    votes: dict[int, int],
    seats: int = 1,
    round_: ElectionRound = ElectionRound.FIRST,
) -> ResultOutcome:
    ballots = BallotCounts(issued=turnout, returned=turnout, valid=turnout, invalid=0)
    return decide_results(
        policy,
        registered=REGISTERED,
        ballots=ballots,
        positions=[PositionVotes(position(policy), seats, votes)],
        present=turnout if party(policy) else None,
        round=round_,
    )


@pytest.mark.parametrize("policy", PRESETS)
def test_validity_boundary(policy: Policy) -> None:
    needed = policy.validity.value.minimum_count(REGISTERED)
    assert needed > REGISTERED // 2  # more than half at the least (OL 15 ¶2; party: more than 4/5)
    short = decide(policy, needed - 1, {1: 1})
    assert short.status is ResultStatus.INVALID and short.validity is not None
    assert short.validity.reason is ValidityReason.TURNOUT_TOO_LOW and short.validity.needed == needed
    assert decide(policy, needed, {1: 1}).status is ResultStatus.DECIDED
    if not party(policy) and REGISTERED % 2 == 0:
        # Exactly half of the voters is not more than half.
        assert decide(policy, REGISTERED // 2, {1: 1}).status is ResultStatus.INVALID


@pytest.mark.parametrize("policy", PRESETS)
def test_elected_boundary(policy: Policy) -> None:
    turnout = 280
    needed = policy.elected.value.minimum_count(turnout)
    assert needed == turnout // 2 + 1  # more than half; exactly half fails (OL 15 ¶2, PR)
    below = decide(policy, turnout, {1: needed - 1, 2: 10})
    [outcome] = below.positions
    assert outcome.elected == () and outcome.next_step is NextStep.SECOND_ROUND
    assert outcome.lines[0].decision is VoteDecision.BELOW_THRESHOLD
    won = decide(policy, turnout, {1: needed, 2: 10})
    [outcome] = won.positions
    assert outcome.elected == (1,) and outcome.next_step is NextStep.NONE
    assert outcome.lines[0].source == policy.elected.source


@pytest.mark.parametrize("policy", PRESETS)
def test_second_round_boundary(policy: Policy) -> None:
    turnout = 270
    needed = policy.second_round_min_share.value.minimum_count(turnout)
    # Village: at least 1/3 of the ballots cast (OL 15 ¶2); party: still more than half of those present (PR).
    assert needed == (turnout // 2 + 1 if party(policy) else 90)
    [vacant] = decide(policy, turnout, {1: needed - 1, 2: 50}, round_=ElectionRound.SECOND).positions
    assert vacant.elected == () and vacant.next_step is NextStep.VACANT
    [won] = decide(policy, turnout, {1: needed, 2: 50}, round_=ElectionRound.SECOND).positions
    assert won.elected == (1,)  # most votes, at the preset's floor


@pytest.mark.parametrize("policy", PRESETS)
def test_a_tie_for_the_last_seat_goes_to_a_runoff(policy: Policy) -> None:
    turnout = 280
    [tied] = decide(policy, turnout, {1: 200, 2: 150, 3: 150}, seats=2).positions
    assert tied.elected == (1,) and set(tied.tied) == {2, 3} and tied.tied_seats == 1
    assert tied.next_step is NextStep.RUNOFF and tied.next_step_source == policy.tie_runoff.source
