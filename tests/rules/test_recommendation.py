from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from bot.rules.policy import ElectionKind, Policy, Position, Province, RecommendationRound, preset
from bot.rules.recommendation import (
    CutDecision,
    CutProblem,
    CutStage,
    PartyStanding,
    RankedCandidate,
    RecommendationRefusal,
    Villager,
    check_public_round_size,
    check_recommendation,
    cut,
    tally_recommendations,
)
from bot.rules.schedule import Window

VILLAGE_ID = 7
OPENS = dt.datetime(2026, 5, 1, 8, 0)
CLOSES = dt.datetime(2026, 5, 10, 20, 0)
WINDOW = Window(OPENS, CLOSES)
NOW = dt.datetime(2026, 5, 5, 12, 0)
BJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.BJ)
ZJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.ZJ)
TWO_PUSHES = preset(ElectionKind.PARTY_TWO_PUSHES, Province.NATIONAL)
TWO_BALLOTS = preset(ElectionKind.PARTY_TWO_BALLOTS, Province.NATIONAL)
PUBLIC_DIRECT = preset(ElectionKind.PARTY_PUBLIC_DIRECT, Province.NATIONAL)
PARTY = RecommendationRound.PARTY
PUBLIC = RecommendationRound.PUBLIC

VOTER = Villager(1, VILLAGE_ID, on_roll=True)
MEMBER = Villager(2, VILLAGE_ID, on_roll=True, party=PartyStanding.FULL)
CANDIDATE = Villager(3, VILLAGE_ID, on_roll=True)
PARTY_CANDIDATE = Villager(4, VILLAGE_ID, on_roll=True, party=PartyStanding.FULL)


def check(
    *,
    policy: Policy = BJ,
    position: Position = Position.MEMBER,
    seats: int = 3,
    round: RecommendationRound = PUBLIC,
    now: dt.datetime = NOW,
    recommender: Villager = VOTER,
    candidate: Villager = CANDIDATE,
    already: tuple[int, ...] = (),
    submitted_by: Villager | None = None,
) -> RecommendationRefusal | None:
    return check_recommendation(
        policy=policy,
        village_id=VILLAGE_ID,
        position=position,
        seats=seats,
        round=round,
        window=WINDOW,
        now=now,
        recommender=recommender,
        candidate=candidate,
        already_recommended=already,
        submitted_by=submitted_by,
    ).reason


def test_a_plain_recommendation_is_accepted() -> None:
    outcome = check_recommendation(
        policy=BJ,
        village_id=VILLAGE_ID,
        position=Position.MEMBER,
        seats=3,
        round=PUBLIC,
        window=WINDOW,
        now=NOW,
        recommender=VOTER,
        candidate=CANDIDATE,
        already_recommended=(10, 11),
    )
    assert outcome.accepted and outcome.reason is None
    assert (outcome.quota, outcome.used) == (3, 2)


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (OPENS - dt.timedelta(seconds=1), RecommendationRefusal.WINDOW_NOT_OPEN),
        (OPENS, None),
        (CLOSES - dt.timedelta(seconds=1), None),
        (CLOSES, RecommendationRefusal.WINDOW_CLOSED),
    ],
)
def test_window_boundaries(now: dt.datetime, reason: RecommendationRefusal | None) -> None:
    assert check(now=now) is reason


@pytest.mark.parametrize(
    ("recommender", "candidate", "reason"),
    [
        (Villager(1, 99, on_roll=True), CANDIDATE, RecommendationRefusal.RECOMMENDER_NOT_IN_VILLAGE),
        (Villager(1, VILLAGE_ID, on_roll=False), CANDIDATE, RecommendationRefusal.RECOMMENDER_NOT_ON_ROLL),
        (
            Villager(1, VILLAGE_ID, on_roll=True, removed=True),
            CANDIDATE,
            RecommendationRefusal.RECOMMENDER_REMOVED,
        ),
        (VOTER, Villager(3, 99, on_roll=True), RecommendationRefusal.CANDIDATE_NOT_IN_VILLAGE),
        (VOTER, Villager(3, VILLAGE_ID, on_roll=False), RecommendationRefusal.CANDIDATE_NOT_ON_ROLL),
        (VOTER, Villager(3, VILLAGE_ID, on_roll=True, removed=True), RecommendationRefusal.CANDIDATE_REMOVED),
    ],
)
def test_eligibility(recommender: Villager, candidate: Villager, reason: RecommendationRefusal) -> None:
    outcome = check_recommendation(
        policy=BJ,
        village_id=VILLAGE_ID,
        position=Position.MEMBER,
        seats=3,
        round=PUBLIC,
        window=WINDOW,
        now=NOW,
        recommender=recommender,
        candidate=candidate,
        already_recommended=(),
    )
    assert outcome.reason is reason
    assert outcome.source is not None and outcome.source.cite == "OL 13"


@pytest.mark.parametrize(
    ("standing", "reason"),
    [
        (PartyStanding.FULL, None),
        (PartyStanding.PROBATIONARY, RecommendationRefusal.CANDIDATE_NOT_FULL_PARTY_MEMBER),
        (PartyStanding.ON_PROBATION, RecommendationRefusal.CANDIDATE_NOT_FULL_PARTY_MEMBER),
        (PartyStanding.NONE, RecommendationRefusal.CANDIDATE_NOT_FULL_PARTY_MEMBER),
    ],
)
def test_party_positions_need_a_full_member(
    standing: PartyStanding, reason: RecommendationRefusal | None
) -> None:
    candidate = Villager(3, VILLAGE_ID, on_roll=True, party=standing)
    assert check(policy=TWO_PUSHES, position=Position.SECRETARY, seats=1, candidate=candidate) is reason


@pytest.mark.parametrize(
    ("standing", "reason"),
    [
        (PartyStanding.FULL, None),
        (PartyStanding.PROBATIONARY, RecommendationRefusal.RECOMMENDER_NOT_FULL_PARTY_MEMBER),
        (PartyStanding.NONE, RecommendationRefusal.RECOMMENDER_NOT_FULL_PARTY_MEMBER),
    ],
)
def test_party_round_is_for_full_members(
    standing: PartyStanding, reason: RecommendationRefusal | None
) -> None:
    recommender = Villager(1, VILLAGE_ID, on_roll=True, party=standing)
    got = check(
        policy=TWO_PUSHES,
        position=Position.SECRETARY,
        seats=1,
        round=PARTY,
        recommender=recommender,
        candidate=PARTY_CANDIDATE,
    )
    assert got is reason


def test_public_round_of_a_party_election_is_open_to_villagers() -> None:
    assert check(policy=TWO_PUSHES, position=Position.SECRETARY, seats=1, candidate=PARTY_CANDIDATE) is None


def test_no_party_round_in_a_village_election() -> None:
    assert check(round=PARTY, recommender=MEMBER) is RecommendationRefusal.ROUND_NOT_IN_THIS_KIND


def test_position_of_another_kind() -> None:
    assert check(position=Position.SECRETARY) is RecommendationRefusal.POSITION_NOT_IN_POLICY


@pytest.mark.parametrize(
    ("policy", "position", "candidate", "reason"),
    [
        (BJ, Position.MEMBER, VOTER, None),  # village default: self-nomination allowed
        (TWO_PUSHES, Position.SECRETARY, MEMBER, RecommendationRefusal.SELF_NOMINATION_NOT_ALLOWED),
        (TWO_BALLOTS, Position.SECRETARY, MEMBER, RecommendationRefusal.SELF_NOMINATION_NOT_ALLOWED),
        (PUBLIC_DIRECT, Position.SECRETARY, MEMBER, None),  # open registration
    ],
)
def test_self_nomination(
    policy: Policy, position: Position, candidate: Villager, reason: RecommendationRefusal | None
) -> None:
    recommender = candidate
    assert (
        check(policy=policy, position=position, seats=1, recommender=recommender, candidate=candidate)
        is reason
    )


@pytest.mark.parametrize(
    ("submitted_by", "reason"),
    [(None, None), (VOTER, None), (MEMBER, RecommendationRefusal.BY_PROXY_NOT_ALLOWED)],
)
def test_no_nominating_by_proxy_in_zhejiang(
    submitted_by: Villager | None, reason: RecommendationRefusal | None
) -> None:
    assert check(policy=ZJ, submitted_by=submitted_by) is reason


def test_by_proxy_refusal_cites_zj_17() -> None:
    outcome = check_recommendation(
        policy=ZJ,
        village_id=VILLAGE_ID,
        position=Position.MEMBER,
        seats=3,
        round=PUBLIC,
        window=WINDOW,
        now=NOW,
        recommender=VOTER,
        candidate=CANDIDATE,
        already_recommended=(),
        submitted_by=MEMBER,
    )
    assert outcome.source is not None and outcome.source.cite == "ZJ 17"


@pytest.mark.parametrize(
    ("seats", "already", "reason"),
    [
        (3, (10, 11), None),  # quota - 1 used
        (3, (10, 11, 12), RecommendationRefusal.QUOTA_USED),  # quota used
        (1, (), None),
        (1, (10,), RecommendationRefusal.QUOTA_USED),
        (3, (3,), RecommendationRefusal.DUPLICATE),
    ],
)
def test_quota_is_the_number_of_seats(
    seats: int, already: tuple[int, ...], reason: RecommendationRefusal | None
) -> None:
    assert check(seats=seats, already=already) is reason


def test_quota_refusal_cites_bj_16() -> None:
    outcome = check_recommendation(
        policy=BJ,
        village_id=VILLAGE_ID,
        position=Position.MEMBER,
        seats=1,
        round=PUBLIC,
        window=WINDOW,
        now=NOW,
        recommender=VOTER,
        candidate=CANDIDATE,
        already_recommended=(10,),
    )
    assert outcome.source is not None and outcome.source.cite == "BJ 16"
    assert (outcome.quota, outcome.used) == (1, 1)


# --- tally ----------------------------------------------------------------------------------------


def test_tally_raw_weighted_scores() -> None:
    ranked = tally_recommendations(
        {1: {PARTY: 10, PUBLIC: 30}, 2: {PARTY: 20, PUBLIC: 5}, 3: {PUBLIC: 40}},
        {PARTY: Fraction(2), PUBLIC: Fraction(1)},
    )
    assert [(r.candidate_id, r.score, r.rank) for r in ranked] == [
        (1, Fraction(50), 1),
        (2, Fraction(45), 2),
        (3, Fraction(40), 3),
    ]
    assert all(isinstance(r.score, Fraction) for r in ranked)


def test_tally_shares_of_participants_are_exact() -> None:
    ranked = tally_recommendations(
        {1: {PARTY: 2, PUBLIC: 10}, 2: {PARTY: 1, PUBLIC: 20}, 3: {PARTY: 1, PUBLIC: 1}},
        TWO_PUSHES.round_weights(),
        participants={PARTY: 3, PUBLIC: 30},
    )
    assert [(r.candidate_id, r.score) for r in ranked] == [
        (1, 1),
        (2, 1),
        (3, Fraction(1, 3) + Fraction(1, 30)),
    ]
    assert ranked[0].tied_with == (2,) and ranked[1].tied_with == (1,)
    assert [r.rank for r in ranked] == [1, 1, 3]


def test_tally_is_exact_where_floats_are_not() -> None:
    # 0.1 + 0.2 > 0.3 in floats: candidate 1 would win a tie that the law leaves to the committee.
    assert 0.1 + 0.2 != 0.3
    ranked = tally_recommendations(
        {1: {PARTY: 1, PUBLIC: 2}, 2: {PARTY: 3, PUBLIC: 0}},
        TWO_PUSHES.round_weights(),
        participants={PARTY: 10, PUBLIC: 10},
    )
    assert ranked[0].score == ranked[1].score == Fraction(3, 10)
    assert ranked[0].tied_with == (2,)


def test_tally_ties_are_ordered_by_id_and_flagged() -> None:
    ranked = tally_recommendations(
        {9: {PUBLIC: 5}, 4: {PUBLIC: 5}, 6: {PUBLIC: 7}, 1: {PUBLIC: 1}}, {PUBLIC: Fraction(1)}
    )
    assert [r.candidate_id for r in ranked] == [6, 4, 9, 1]
    assert [r.rank for r in ranked] == [1, 2, 2, 4]
    assert ranked[1].tied_with == (9,) and ranked[2].tied_with == (4,)
    assert ranked[0].tied_with == () and ranked[3].tied_with == ()


def test_tally_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="negative"):
        tally_recommendations({1: {PUBLIC: -1}}, {PUBLIC: Fraction(1)})


def test_round_without_participants_counts_nothing() -> None:
    ranked = tally_recommendations(
        {1: {PARTY: 3, PUBLIC: 2}}, TWO_PUSHES.round_weights(), participants={PUBLIC: 4}
    )
    assert ranked[0].score == Fraction(1, 2)


# --- cut ------------------------------------------------------------------------------------------


def ranking(*scores: int) -> list[RankedCandidate]:
    return tally_recommendations({i + 1: {PUBLIC: s} for i, s in enumerate(scores)}, {PUBLIC: Fraction(1)})


@pytest.mark.parametrize(
    ("seats", "passed"),
    [(1, 2), (4, 5), (5, 6), (10, 12)],  # 20% more, rounded up
)
def test_party_cut_keeps_twenty_percent_more(seats: int, passed: int) -> None:
    outcome = cut(ranking(*range(100, 80, -1)), seats, TWO_PUSHES, Position.COMMITTEE_MEMBER)
    assert outcome.min_required == passed and outcome.max_allowed is None
    assert len(outcome.passed) == passed
    assert outcome.problems == ()
    assert outcome.source.cite == "PR-1990 8, 12"


@pytest.mark.parametrize(
    ("target", "passed", "problems"), [(None, 4, ()), (5, 5, ()), (6, 5, (CutProblem.TARGET_OUTSIDE_MARGIN,))]
)
def test_beijing_cut_seats_plus_one_to_two(
    target: int | None, passed: int, problems: tuple[CutProblem, ...]
) -> None:
    outcome = cut(ranking(90, 80, 70, 60, 50, 40), 3, BJ, Position.MEMBER, target=target)
    assert len(outcome.passed) == passed
    assert outcome.problems == problems
    assert outcome.source.cite == "BJ 16"


def test_preliminary_cut_uses_the_ratio() -> None:
    outcome = cut(
        ranking(*range(100, 90, -1)), 5, TWO_BALLOTS, Position.COMMITTEE_MEMBER, stage=CutStage.PRELIMINARY
    )
    assert outcome.min_required == 8  # ceil(5 * 3/2)
    assert outcome.passed == (1, 2, 3, 4, 5, 6, 7, 8)
    assert outcome.source.law.value == "PILOT"


def test_tie_at_the_boundary_is_left_to_the_committee() -> None:
    outcome = cut(ranking(90, 80, 70, 70, 70, 10), 2, BJ, Position.MEMBER)  # min 3
    assert outcome.passed == (1, 2)
    assert outcome.tied_at_boundary == (3, 4, 5)
    assert outcome.open_places == 1
    assert CutProblem.TIE_AT_BOUNDARY in outcome.problems
    assert [line.decision for line in outcome.lines][-1] is CutDecision.NOT_PASSED


def test_tie_below_the_boundary_does_not_matter() -> None:
    outcome = cut(ranking(90, 80, 70, 60, 60), 2, BJ, Position.MEMBER)
    assert outcome.passed == (1, 2, 3) and outcome.tied_at_boundary == () and outcome.problems == ()


def test_too_few_recommended_all_pass_and_are_flagged() -> None:
    outcome = cut(ranking(5, 3, 0), 2, BJ, Position.MEMBER)
    assert outcome.passed == (1, 2)
    assert outcome.problems == (CutProblem.TOO_FEW_CANDIDATES,)
    assert [line.decision for line in outcome.lines] == [
        CutDecision.PASSED,
        CutDecision.PASSED,
        CutDecision.NO_RECOMMENDATIONS,
    ]


@pytest.mark.parametrize(("public", "members", "met"), [(80, 100, False), (81, 100, True), (0, 0, False)])
def test_public_round_size_more_than_eighty_percent(public: int, members: int, met: bool) -> None:
    outcome = check_public_round_size(TWO_PUSHES, public, members)
    assert outcome.met is met
    assert outcome.source.confirmed is False
