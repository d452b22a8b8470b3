from __future__ import annotations

from fractions import Fraction

import pytest

from bot.rules.policy import (
    TRUST_AT_LEAST_70_PERCENT,
    Denominator,
    ElectionKind,
    Law,
    Position,
    Province,
    Source,
    Sourced,
    Threshold,
    ThresholdRule,
    preset,
)
from bot.rules.trust import TrustCount, TrustDecision, TrustProblem, trust_cut, trust_cut_for

TWO_BALLOTS = preset(ElectionKind.PARTY_TWO_BALLOTS, Province.NATIONAL)
TEST_SOURCE = Source(Law.LOCAL, "test", confirmed=False)
CAST = Sourced(Denominator.BALLOTS_CAST, TEST_SOURCE)
REGISTERED = Sourced(Denominator.REGISTERED_VOTERS, TEST_SOURCE)


def threshold(fraction: Fraction, rule: ThresholdRule) -> Sourced[Threshold]:
    return Sourced(Threshold(fraction, rule), TEST_SOURCE)


@pytest.mark.parametrize(
    ("trust", "rule", "passed"),
    [
        (100, ThresholdRule.MORE_THAN, False),  # exactly half of 200 fails "more than half"
        (101, ThresholdRule.MORE_THAN, True),
        (100, ThresholdRule.AT_LEAST, True),  # exactly half passes "at least half"
        (99, ThresholdRule.AT_LEAST, False),
    ],
)
def test_more_than_versus_at_least(trust: int, rule: ThresholdRule, passed: bool) -> None:
    outcome = trust_cut(
        [TrustCount(1, trust, 200 - trust)],
        ballots_cast=200,
        registered_voters=300,
        threshold=threshold(Fraction(1, 2), rule),
        denominator=CAST,
    )
    assert (outcome.passed == (1,)) is passed
    assert outcome.lines[0].share == Fraction(trust, 200)


@pytest.mark.parametrize(
    ("denominator", "trust", "passed"),
    [
        (CAST, 101, True),  # 101/200 of ballots cast
        (REGISTERED, 101, False),  # 101/300 of registered voters
        (REGISTERED, 151, True),
        (REGISTERED, 150, False),
    ],
)
def test_denominator(denominator: Sourced[Denominator], trust: int, passed: bool) -> None:
    outcome = trust_cut(
        [TrustCount(1, trust, 0)],
        ballots_cast=200,
        registered_voters=300,
        threshold=threshold(Fraction(1, 2), ThresholdRule.MORE_THAN),
        denominator=denominator,
    )
    assert (outcome.lines[0].decision is TrustDecision.PASSED) is passed
    assert outcome.denominator_count == (200 if denominator is CAST else 300)


@pytest.mark.parametrize(("trust", "passed"), [(70, True), (69, False)])
def test_seventy_percent_alternative(trust: int, passed: bool) -> None:
    outcome = trust_cut(
        [TrustCount(1, trust, 100 - trust)],
        ballots_cast=100,
        registered_voters=150,
        threshold=TRUST_AT_LEAST_70_PERCENT,
        denominator=CAST,
    )
    assert (outcome.passed == (1,)) is passed
    assert outcome.lines[0].needed == 70


def test_policy_default_and_margin_check() -> None:
    counts = [TrustCount(1, 60, 40), TrustCount(2, 51, 49), TrustCount(3, 50, 50), TrustCount(4, 80, 20)]
    outcome = trust_cut_for(
        TWO_BALLOTS,
        counts,
        ballots_cast=100,
        registered_voters=120,
        position=Position.COMMITTEE_MEMBER,
        seats=3,
    )
    assert outcome.passed == (4, 1, 2)  # best share first; exactly half (3) fails
    assert outcome.min_formal_candidates == 4  # 3 seats + 20% rounded up
    assert outcome.problems == (TrustProblem.TOO_FEW_FORMAL_CANDIDATES,)
    assert outcome.margin_source is not None and outcome.margin_source.cite == "PR-1990 8, 12"
    assert outcome.threshold.source.law is Law.JOURNAL


def test_enough_formal_candidates() -> None:
    counts = [TrustCount(i, 90, 10) for i in range(1, 6)]
    outcome = trust_cut_for(
        TWO_BALLOTS,
        counts,
        ballots_cast=100,
        registered_voters=120,
        position=Position.COMMITTEE_MEMBER,
        seats=4,
    )
    assert len(outcome.passed) == 5 and outcome.problems == ()


@pytest.mark.parametrize(
    ("count", "ballots", "registered", "decision", "problem"),
    [
        (
            TrustCount(1, 60, 50),
            100,
            120,
            TrustDecision.COUNTS_INCONSISTENT,
            TrustProblem.CANDIDATE_COUNTS_ABOVE_BALLOTS,
        ),
        (TrustCount(1, -1, 0), 100, 120, TrustDecision.COUNTS_INCONSISTENT, TrustProblem.NEGATIVE_NUMBER),
        (TrustCount(1, 100, 0), 130, 120, TrustDecision.PASSED, TrustProblem.BALLOTS_ABOVE_REGISTERED),
    ],
)
def test_inconsistent_counts(
    count: TrustCount, ballots: int, registered: int, decision: TrustDecision, problem: TrustProblem
) -> None:
    outcome = trust_cut(
        [count],
        ballots_cast=ballots,
        registered_voters=registered,
        threshold=threshold(Fraction(1, 2), ThresholdRule.MORE_THAN),
        denominator=CAST,
    )
    assert outcome.lines[0].decision is decision
    assert problem in outcome.problems


def test_no_ballots() -> None:
    outcome = trust_cut(
        [TrustCount(1, 0, 0)],
        ballots_cast=0,
        registered_voters=0,
        threshold=threshold(Fraction(1, 2), ThresholdRule.MORE_THAN),
        denominator=CAST,
    )
    assert outcome.lines[0].decision is TrustDecision.NO_BALLOTS
    assert outcome.lines[0].share is None and outcome.passed == ()


def test_members_present_is_not_a_trust_denominator() -> None:
    with pytest.raises(ValueError, match="members_present"):
        trust_cut(
            [],
            ballots_cast=1,
            registered_voters=1,
            threshold=threshold(Fraction(1, 2), ThresholdRule.MORE_THAN),
            denominator=Sourced(Denominator.MEMBERS_PRESENT, TEST_SOURCE),
        )


def test_order_is_by_share_then_id() -> None:
    outcome = trust_cut(
        [TrustCount(3, 70, 0), TrustCount(1, 70, 0), TrustCount(2, 90, 0)],
        ballots_cast=100,
        registered_voters=100,
        threshold=threshold(Fraction(1, 2), ThresholdRule.MORE_THAN),
        denominator=CAST,
    )
    assert [line.candidate_id for line in outcome.lines] == [2, 1, 3]
