from __future__ import annotations

import pytest

from bot.rules.policy import ElectionKind, Policy, Position, Province, preset
from bot.rules.results import (
    BallotCounts,
    ElectionRound,
    NextStep,
    PositionVotes,
    ResultOutcome,
    ResultStatus,
    TallyProblemReason,
    ValidityReason,
    VoteDecision,
    check_tally,
    check_validity,
    decide_results,
)

T = TallyProblemReason
BJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.BJ)
SH = preset(ElectionKind.VILLAGE_COMMITTEE, Province.SH)
NATIONAL = preset(ElectionKind.VILLAGE_COMMITTEE, Province.NATIONAL)
PARTY = preset(ElectionKind.PARTY_PUBLIC_DIRECT, Province.NATIONAL)


def ballots(returned: int, issued: int | None = None, invalid: int = 0) -> BallotCounts:
    return BallotCounts(
        issued=returned if issued is None else issued,
        returned=returned,
        valid=returned - invalid,
        invalid=invalid,
    )


def director(votes: dict[int, int], seats: int = 1) -> PositionVotes:
    return PositionVotes(Position.DIRECTOR, seats, votes)


def members(votes: dict[int, int], seats: int) -> PositionVotes:
    return PositionVotes(Position.MEMBER, seats, votes)


# --- tally consistency ----------------------------------------------------------------------------


def test_consistent_tally() -> None:
    assert (
        check_tally(
            BJ, ballots(100, issued=105), [director({1: 60, 2: 40}), members({3: 90, 4: 80, 5: 30}, 2)]
        )
        == []
    )


@pytest.mark.parametrize(
    ("counts", "positions", "expected"),
    [
        (BallotCounts(100, 101, 101, 0), [], [(T.RETURNED_ABOVE_ISSUED, {"returned": 101, "issued": 100})]),
        (
            BallotCounts(100, 100, 90, 5),
            [],
            [(T.VALID_PLUS_INVALID_NOT_RETURNED, {"valid": 90, "invalid": 5, "returned": 100})],
        ),
        (
            BallotCounts(100, 100, 100, 0),
            [members({1: 100, 2: 100, 3: 1}, 2)],
            [(T.VOTES_ABOVE_VALID_TIMES_SEATS, {"votes": 201, "valid": 100, "seats": 2})],
        ),
        (
            BallotCounts(100, 100, 100, 0),
            [director({1: 101})],
            [
                (T.CANDIDATE_VOTES_ABOVE_VALID, {"votes": 101, "valid": 100}),
                (T.VOTES_ABOVE_VALID_TIMES_SEATS, {"votes": 101, "valid": 100, "seats": 1}),
            ],
        ),
        (
            BallotCounts(-1, 0, 0, 0),
            [],
            [(T.NEGATIVE_NUMBER, {"issued": -1}), (T.RETURNED_ABOVE_ISSUED, {"returned": 0, "issued": -1})],
        ),
        (BallotCounts(10, 10, 10, 0), [director({1: -2})], [(T.NEGATIVE_NUMBER, {"votes": -2})]),
        (BallotCounts(10, 10, 10, 0), [director({}, seats=0)], [(T.NO_SEATS, {"seats": 0})]),
    ],
)
def test_tally_problems_name_the_numbers(
    counts: BallotCounts,
    positions: list[PositionVotes],
    expected: list[tuple[TallyProblemReason, dict[str, int]]],
) -> None:
    problems = check_tally(BJ, counts, positions)
    assert [(p.reason, dict(p.numbers)) for p in problems] == expected


def test_returned_above_issued_cites_sh_19_in_shanghai() -> None:
    (problem,) = check_tally(SH, BallotCounts(100, 101, 101, 0), [])
    assert problem.source is not None and problem.source.cite == "SH 19"


def test_present_and_registered_consistency() -> None:
    problems = check_tally(PARTY, ballots(30), [], registered=25, present=28)
    assert [p.reason for p in problems] == [
        T.RETURNED_ABOVE_PRESENT,
        T.PRESENT_ABOVE_REGISTERED,
        T.RETURNED_ABOVE_REGISTERED,
    ]


def test_inconsistent_tally_decides_nothing() -> None:
    outcome = decide_results(
        BJ, registered=200, ballots=BallotCounts(100, 100, 90, 5), positions=[director({1: 60})]
    )
    assert outcome.status is ResultStatus.TALLY_INCONSISTENT
    assert outcome.positions == () and outcome.elected == ()


# --- validity -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered", "returned", "valid"),
    [(200, 100, False), (200, 101, True), (201, 100, False), (201, 101, True), (0, 0, False)],
)
def test_village_validity_more_than_half_of_registered(registered: int, returned: int, valid: bool) -> None:
    outcome = check_validity(NATIONAL, registered=registered, ballots=ballots(returned))
    assert outcome.valid is valid
    assert outcome.source.cite == "OL 15 ¶2"
    if registered:
        assert outcome.needed == registered // 2 + 1


def test_shanghai_voids_when_more_returned_than_issued() -> None:
    counts = BallotCounts(issued=150, returned=151, valid=151, invalid=0)
    sh = check_validity(SH, registered=200, ballots=counts)
    assert (sh.valid, sh.reason, sh.source.cite) == (False, ValidityReason.RETURNED_ABOVE_ISSUED, "SH 19")
    assert check_validity(BJ, registered=200, ballots=counts).valid  # elsewhere a tally problem, not voidness


@pytest.mark.parametrize(
    ("entitled", "present", "valid"),
    [(50, 40, False), (50, 41, True), (10, 8, False), (10, 9, True), (11, 9, True)],
)
def test_party_quorum_more_than_four_fifths(entitled: int, present: int, valid: bool) -> None:
    outcome = check_validity(PARTY, registered=entitled, ballots=ballots(present), present=present)
    assert outcome.valid is valid
    assert outcome.reason is (None if valid else ValidityReason.TURNOUT_TOO_LOW)


def test_party_needs_the_members_present() -> None:
    with pytest.raises(ValueError, match="present"):
        check_validity(PARTY, registered=10, ballots=ballots(9))


def test_low_turnout_decides_nothing() -> None:
    outcome = decide_results(NATIONAL, registered=200, ballots=ballots(100), positions=[director({1: 99})])
    assert outcome.status is ResultStatus.INVALID
    assert outcome.validity is not None and outcome.validity.reason is ValidityReason.TURNOUT_TOO_LOW


# --- who is elected -------------------------------------------------------------------------------


@pytest.mark.parametrize(("votes", "elected"), [(50, False), (51, True), (100, True)])
def test_elected_with_more_than_half_of_ballots_cast(votes: int, elected: bool) -> None:
    outcome = decide_results(
        NATIONAL, registered=150, ballots=ballots(100), positions=[director({1: votes, 2: 100 - votes})]
    )
    (position,) = outcome.positions
    assert (position.elected == (1,)) is elected
    assert position.needed == 51
    line = next(line for line in position.lines if line.candidate_id == 1)
    assert line.source.cite == "OL 15 ¶2"
    assert line.decision is (VoteDecision.ELECTED if elected else VoteDecision.BELOW_THRESHOLD)


def test_exactly_half_each_goes_to_a_second_round() -> None:
    outcome = decide_results(
        NATIONAL, registered=150, ballots=ballots(100), positions=[director({1: 50, 2: 50})]
    )
    (position,) = outcome.positions
    assert position.elected == () and position.unfilled == 1
    assert position.next_step is NextStep.SECOND_ROUND


@pytest.mark.parametrize(("votes", "elected"), [(15, False), (16, True)])
def test_party_elected_with_more_than_half_of_those_present(votes: int, elected: bool) -> None:
    outcome = decide_results(
        PARTY,
        registered=32,
        present=30,
        ballots=BallotCounts(30, 28, 28, 0),  # two present did not cast a ballot: the base is still 30
        positions=[PositionVotes(Position.SECRETARY, 1, {1: votes, 2: 28 - votes})],
    )
    assert (outcome.elected == (1,)) is elected


def test_tie_for_the_last_seat_goes_to_a_runoff() -> None:
    outcome = decide_results(
        BJ, registered=150, ballots=ballots(100), positions=[members({1: 90, 2: 55, 3: 55, 4: 0}, 2)]
    )
    (position,) = outcome.positions
    assert position.elected == (1,)
    assert position.tied == (2, 3) and position.tied_seats == 1
    assert position.next_step is NextStep.RUNOFF
    assert position.next_step_source is not None and position.next_step_source.cite == "BJ 28-29"
    tied_lines = [line for line in position.lines if line.decision is VoteDecision.TIED]
    assert [line.source.cite for line in tied_lines] == ["BJ 28-29", "BJ 28-29"]


def test_more_over_the_threshold_than_seats() -> None:
    outcome = decide_results(
        BJ, registered=150, ballots=ballots(100), positions=[members({1: 90, 2: 58, 3: 52, 4: 0}, 2)]
    )
    (position,) = outcome.positions
    assert position.elected == (1, 2)
    decisions = {line.candidate_id: line.decision for line in position.lines}
    assert decisions == {
        1: VoteDecision.ELECTED,
        2: VoteDecision.ELECTED,
        3: VoteDecision.OUTRANKED,
        4: VoteDecision.BELOW_THRESHOLD,
    }


def test_unfilled_and_tied_at_once() -> None:
    outcome = decide_results(
        BJ, registered=150, ballots=ballots(100), positions=[members({1: 90, 2: 60, 3: 60, 4: 20}, 4)]
    )
    (position,) = outcome.positions
    # 2 and 3 are both over half and both fit: no tie. One seat stays for a second round.
    assert position.elected == (1, 2, 3) and position.tied == () and position.unfilled == 1
    assert position.next_step is NextStep.SECOND_ROUND
    assert position.next_step_source is not None and position.next_step_source.cite == "BJ 30"


# --- second round ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "votes", "elected"), [(99, 33, True), (99, 32, False), (100, 33, False), (100, 34, True)]
)
def test_second_round_never_below_a_third(returned: int, votes: int, elected: bool) -> None:
    outcome = decide_results(
        NATIONAL,
        registered=150,
        ballots=ballots(returned),
        positions=[members({1: votes, 2: 20}, 1)],
        round=ElectionRound.SECOND,
    )
    (position,) = outcome.positions
    assert (position.elected == (1,)) is elected
    assert position.source.cite == "OL 15 ¶2"
    assert position.next_step is (NextStep.NONE if elected else NextStep.VACANT)


def test_second_round_most_votes_win_among_those_over_a_third() -> None:
    outcome = decide_results(
        NATIONAL,
        registered=150,
        ballots=ballots(90),
        positions=[members({1: 40, 2: 35, 3: 31, 4: 29}, 2)],
        round=ElectionRound.SECOND,
    )
    assert outcome.elected == (1, 2)


def test_second_round_tie_goes_to_a_runoff() -> None:
    outcome = decide_results(
        NATIONAL,
        registered=150,
        ballots=ballots(90),
        positions=[members({1: 40, 2: 40}, 1)],
        round=ElectionRound.SECOND,
    )
    (position,) = outcome.positions
    assert position.tied == (1, 2) and position.next_step is NextStep.RUNOFF


def test_party_second_round_keeps_more_than_half() -> None:
    outcome = decide_results(
        PARTY,
        registered=30,
        present=30,
        ballots=ballots(30),
        positions=[PositionVotes(Position.COMMITTEE_MEMBER, 1, {1: 15, 2: 12})],
        round=ElectionRound.SECOND,
    )
    assert outcome.elected == ()


# --- women on the committee -----------------------------------------------------------------------


def full_ballot(policy: Policy, women: set[int], elected_before: tuple[int, ...] = ()) -> ResultOutcome:
    return decide_results(
        policy,
        registered=150,
        ballots=ballots(100),
        positions=[director({1: 70, 2: 30}), members({3: 80, 4: 75, 5: 20}, 2)],
        women=women,
        elected_before=elected_before,
    )


@pytest.mark.parametrize(("women", "met"), [(set(), False), ({2, 5}, False), ({4}, True), ({1, 3}, True)])
def test_at_least_one_woman_ol_6(women: set[int], met: bool) -> None:
    outcome = full_ballot(NATIONAL, women)
    assert outcome.elected == (1, 3, 4)
    assert outcome.women is not None
    assert outcome.women.met is met
    assert outcome.women.source.cite == "OL 6"


def test_women_elected_in_the_first_round_count_in_the_second() -> None:
    outcome = decide_results(
        NATIONAL,
        registered=150,
        ballots=ballots(90),
        positions=[members({1: 40}, 1)],
        round=ElectionRound.SECOND,
        women={9},
        elected_before=(9, 8),
    )
    assert outcome.women is not None and outcome.women.met and outcome.women.women_elected == 1


def test_pending_seats_are_reported_with_the_women_check() -> None:
    outcome = decide_results(
        NATIONAL, registered=150, ballots=ballots(100), positions=[director({1: 50, 2: 50})]
    )
    assert outcome.women is not None
    assert not outcome.women.met and outcome.women.seats_pending == 1


def test_no_women_check_for_party_branches() -> None:
    outcome = decide_results(
        PARTY,
        registered=10,
        present=10,
        ballots=ballots(10),
        positions=[PositionVotes(Position.SECRETARY, 1, {1: 8})],
    )
    assert outcome.status is ResultStatus.DECIDED and outcome.women is None
