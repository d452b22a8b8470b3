from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from bot.rules import policy as policy_module
from bot.rules.policy import (
    TRUST_AT_LEAST_70_PERCENT,
    CandidateMargin,
    Denominator,
    ElectionKind,
    Law,
    Policy,
    PolicyRefusalReason,
    Position,
    Province,
    Relationship,
    SeatProblemReason,
    SeatRange,
    Source,
    Sourced,
    Threshold,
    ThresholdRule,
    check_policy,
    check_seats,
    preset,
)

VILLAGE = ElectionKind.VILLAGE_COMMITTEE
PARTY_KINDS = [
    ElectionKind.PARTY_TWO_PUSHES,
    ElectionKind.PARTY_TWO_BALLOTS,
    ElectionKind.PARTY_PUBLIC_DIRECT,
]
ALL = [(kind, province) for kind in ElectionKind for province in Province]


def village(province: Province) -> Policy:
    return preset(VILLAGE, province)


def cite(field: Sourced[object]) -> str:
    return field.source.cite


# --- every number of RULES.md, with its source ----------------------------------------------------

# (province, field, value, citation, confirmed)
VILLAGE_NUMBERS = [
    (Province.NATIONAL, "women_min", 1, "OL 6", True),
    (Province.NATIONAL, "term_years", 5, "OL 11", True),
    (Province.NATIONAL, "voter_min_age", 18, "OL 13", True),
    (Province.NATIONAL, "voter_list_lead_days", 20, "OL 14", True),
    (Province.NATIONAL, "objection_window_days", 5, "OL 14", True),
    (Province.NATIONAL, "objection_decision_days", 3, "OL 14", True),
    (Province.NATIONAL, "meeting_notice_days", 10, "OL 21", True),
    (Province.NATIONAL, "proxy_allowed", True, "OL 15 ¶4", True),
    (Province.NATIONAL, "proxy_cap", 3, "CUNMIN", False),
    (Province.NATIONAL, "candidate_list_lead_days", 5, "CUNMIN", False),
    (Province.NATIONAL, "candidates_meet_voters", True, "OL 15 ¶1", True),
    (Province.NATIONAL, "results_on_the_spot", True, "OL 15 ¶3", True),
    (Province.BJ, "recommendation_quota_per_seat", 1, "BJ 16", True),
    (Province.BJ, "candidates_meet_voters", True, "BJ 19", True),
    (Province.BJ, "candidate_list_lead_days", 5, "BJ 20", True),
    (Province.BJ, "mobile_box_min_scrutineers", 3, "BJ 23", True),
    (Province.BJ, "proxy_cap", 3, "BJ 25", True),
    (Province.BJ, "candidates_may_hold_proxies", False, "BJ 25", True),
    (Province.BJ, "tie_runoff", True, "BJ 28-29", True),
    (Province.BJ, "second_round_deadline_days", 15, "BJ 30", True),
    (Province.BJ, "results_on_the_spot", True, "BJ 31", True),
    (Province.SH, "candidate_list_lead_days", 5, "SH 12", True),
    (Province.SH, "proxy_cap", 3, "SH 16", True),
    (Province.SH, "proxy_application_lead_days", 5, "SH 16", True),
    (Province.SH, "proxy_list_lead_days", 2, "SH 16", True),
    (Province.SH, "proxy_on_election_day_allowed", False, "SH 16", True),
    (Province.SH, "proxy_redelegation_forbidden", True, "SH 16", True),
    (Province.SH, "proxy_certificate", True, "SH 16", True),
    (Province.SH, "returned_above_issued_voids", True, "SH 19", True),
    (Province.SH, "second_round_deadline_days", 30, "SH 21", True),
    (Province.SH, "candidates_may_hold_proxies", True, "OL 15 ¶4", False),
    (Province.ZJ, "recommendation_quota_per_seat", 1, "ZJ 17", True),
    (Province.ZJ, "nomination_by_proxy_allowed", False, "ZJ 17", True),
    (Province.ZJ, "candidate_list_lead_days", 5, "ZJ 18", True),
    (Province.ZJ, "candidates_meet_voters", True, "ZJ 23", True),
    (Province.ZJ, "mobile_box_min_scrutineers", 3, "ZJ 24", True),
    (Province.ZJ, "mobile_box_township_approval", True, "ZJ 24", True),
    (Province.ZJ, "mobile_box_publish_voters", True, "ZJ 24", True),
    (Province.ZJ, "mobile_box_publish_scrutineers", True, "ZJ 24", True),
    (Province.ZJ, "proxy_cap", 3, "ZJ 25", True),
    (Province.ZJ, "candidates_may_hold_proxies", False, "ZJ 25", True),
    (Province.ZJ, "proxy_application_lead_days", 3, "ZJ 25", True),
    (Province.ZJ, "proxy_unpublished_void", True, "ZJ 25", True),
    (Province.ZJ, "proxy_redelegation_forbidden", True, "ZJ 25", True),
    (Province.ZJ, "second_round_deadline_days", 30, "ZJ 29", True),
    (Province.HN, "candidate_list_lead_days", 5, "HN 26", True),
    (Province.HN, "candidates_meet_voters", True, "HN 28", True),
    (Province.HN, "proxy_cap", 3, "HN 30", True),
    (Province.HN, "proxy_certificate", True, "HN 30", True),
    (Province.HN, "proxy_voter_card_taken_back", True, "HN 30, 33", True),
    (Province.HN, "mobile_box_min_scrutineers", 3, "HN 31", True),
    (Province.HN, "mobile_box_publish_voters", True, "HN 31", True),
    (Province.HN, "second_round_deadline_days", 30, "CUNMIN", False),
]


@pytest.mark.parametrize(("province", "field", "value", "citation", "confirmed"), VILLAGE_NUMBERS)
def test_village_preset_numbers_carry_their_source(
    province: Province, field: str, value: object, citation: str, confirmed: bool
) -> None:
    sourced: Sourced[object] = getattr(village(province), field)
    assert sourced.value == value
    assert sourced.source.cite == citation
    assert sourced.source.confirmed is confirmed


@pytest.mark.parametrize("province", list(Province))
def test_village_committee_size_and_thresholds(province: Province) -> None:
    policy = village(province)
    assert policy.committee_size.value == SeatRange(3, 7)
    assert cite(policy.committee_size) == "OL 6"
    more_than_half = Threshold(Fraction(1, 2), ThresholdRule.MORE_THAN)
    assert policy.validity.value == more_than_half
    assert policy.elected.value == more_than_half
    assert cite(policy.validity) == cite(policy.elected) == "OL 15 ¶2"
    assert policy.second_round_min_share.value == Threshold(Fraction(1, 3), ThresholdRule.AT_LEAST)
    assert policy.turnout_measure.value is Denominator.BALLOTS_CAST


@pytest.mark.parametrize(
    ("province", "relationships", "citation"),
    [
        (Province.NATIONAL, 7, "OL 15 ¶4"),
        (Province.BJ, 7, "OL 15 ¶4"),
        (Province.SH, 7, "OL 15 ¶4"),
        (Province.HN, 7, "OL 15 ¶4"),
        (Province.ZJ, 6, "ZJ 25"),
    ],
)
def test_proxy_relationships(province: Province, relationships: int, citation: str) -> None:
    allowed = village(province).proxy_relationships
    assert len(allowed.value) == relationships
    assert cite(allowed) == citation
    assert Relationship.NOT_RELATED not in allowed.value
    assert {Relationship.SPOUSE, Relationship.GRANDCHILD} <= allowed.value


def test_zhejiang_excludes_other_near_relatives() -> None:
    assert Relationship.OTHER_NEAR_RELATIVE not in village(Province.ZJ).proxy_relationships.value
    assert Relationship.OTHER_NEAR_RELATIVE in village(Province.BJ).proxy_relationships.value


@pytest.mark.parametrize("kind", PARTY_KINDS)
@pytest.mark.parametrize("province", list(Province))
def test_party_presets(kind: ElectionKind, province: Province) -> None:
    policy = preset(kind, province)
    assert policy.kind is kind and policy.province is province
    assert policy.validity.value == Threshold(Fraction(4, 5), ThresholdRule.MORE_THAN)
    assert policy.elected.value == Threshold(Fraction(1, 2), ThresholdRule.MORE_THAN)
    assert policy.turnout_measure.value is Denominator.MEMBERS_PRESENT
    assert policy.validity.source.confirmed is False  # RULES.md: not confirmed in the 2020 numbering
    assert policy.proxy_allowed.value is False and policy.proxy_allowed.source.confirmed is False
    assert policy.full_party_members_only.value is True and cite(policy.full_party_members_only) == "PR 5"
    assert [spec.position for spec in policy.positions] == [
        Position.SECRETARY,
        Position.DEPUTY_SECRETARY,
        Position.COMMITTEE_MEMBER,
    ]
    for spec in policy.positions:
        assert spec.margin.value == CandidateMargin.proportional(Fraction(1, 5))
        assert spec.margin.source.cite == "PR-1990 8, 12"
        assert spec.party_member_required.value is True


def test_two_ballot_defaults_and_documented_alternative() -> None:
    policy = preset(ElectionKind.PARTY_TWO_BALLOTS, Province.NATIONAL)
    assert policy.trust_threshold.value == Threshold(Fraction(1, 2), ThresholdRule.MORE_THAN)
    assert policy.trust_threshold.source.law is Law.JOURNAL
    assert policy.trust_denominator.value is Denominator.BALLOTS_CAST
    assert policy.preliminary_ratio.value == Fraction(3, 2)
    assert policy.preliminary_ratio.source.law is Law.PILOT
    assert TRUST_AT_LEAST_70_PERCENT.value == Threshold(Fraction(7, 10), ThresholdRule.AT_LEAST)
    assert TRUST_AT_LEAST_70_PERCENT.source.law is Law.PILOT


def test_two_pushes_round_weights_default_one_to_one() -> None:
    policy = preset(ElectionKind.PARTY_TWO_PUSHES, Province.NATIONAL)
    assert policy.party_round_weight.value == policy.public_round_weight.value == 1
    assert policy.party_round_weight.source.confirmed is False
    assert policy.public_round_min_ratio.value == Threshold(Fraction(4, 5), ThresholdRule.MORE_THAN)


@pytest.mark.parametrize(
    ("kind", "open_registration"), [(k, k is ElectionKind.PARTY_PUBLIC_DIRECT) for k in PARTY_KINDS]
)
def test_self_nomination_only_with_open_registration(kind: ElectionKind, open_registration: bool) -> None:
    assert preset(kind, Province.NATIONAL).self_nomination_allowed.value is open_registration


@pytest.mark.parametrize(("kind", "province"), ALL)
def test_every_preset_passes_its_own_check(kind: ElectionKind, province: Province) -> None:
    outcome = check_policy(preset(kind, province))
    assert outcome.accepted
    assert outcome.refusals == () and outcome.warnings == ()


def test_preset_is_cached_and_immutable() -> None:
    policy = preset(VILLAGE, Province.BJ)
    assert policy is preset(VILLAGE, Province.BJ)
    with pytest.raises(AttributeError):
        policy.proxy_cap = Sourced(9, Source(Law.BJ, "25"))  # type: ignore[misc]


def test_source_cites_like_rules_md() -> None:
    assert Source(Law.OL, "15 ¶2").cite == "OL 15 ¶2"
    assert str(Source(Law.BJ, "28-29")) == "BJ 28-29"
    assert Source(Law.CUNMIN, confirmed=False).cite == "CUNMIN"


# --- thresholds -----------------------------------------------------------------------------------

HALF = Threshold(Fraction(1, 2), ThresholdRule.MORE_THAN)
THIRD = Threshold(Fraction(1, 3), ThresholdRule.AT_LEAST)
FOUR_FIFTHS = Threshold(Fraction(4, 5), ThresholdRule.MORE_THAN)


@pytest.mark.parametrize(
    ("threshold", "part", "whole", "met"),
    [
        (HALF, 50, 100, False),  # exactly half fails
        (HALF, 51, 100, True),
        (HALF, 50, 99, True),
        (HALF, 49, 99, False),
        (HALF, 0, 0, False),
        (THIRD, 33, 99, True),  # exactly a third passes
        (THIRD, 32, 99, False),
        (THIRD, 34, 100, True),
        (THIRD, 33, 100, False),
        (FOUR_FIFTHS, 80, 100, False),  # exactly 4/5 fails
        (FOUR_FIFTHS, 81, 100, True),
        (Threshold(Fraction(7, 10), ThresholdRule.AT_LEAST), 70, 100, True),
        (Threshold(Fraction(7, 10), ThresholdRule.AT_LEAST), 69, 100, False),
    ],
)
def test_threshold_boundaries(threshold: Threshold, part: int, whole: int, met: bool) -> None:
    assert threshold.met_by(part, whole) is met


@pytest.mark.parametrize(
    ("threshold", "whole", "minimum"),
    [
        (HALF, 100, 51),
        (HALF, 99, 50),
        (HALF, 1, 1),
        (THIRD, 99, 33),
        (THIRD, 100, 34),
        (FOUR_FIFTHS, 10, 9),
        (FOUR_FIFTHS, 11, 9),
    ],
)
def test_minimum_count_is_the_boundary(threshold: Threshold, whole: int, minimum: int) -> None:
    assert threshold.minimum_count(whole) == minimum
    assert threshold.met_by(minimum, whole)
    assert not threshold.met_by(minimum - 1, whole)


@pytest.mark.parametrize(
    ("a", "b", "stricter"),
    [
        (HALF, HALF, True),
        (HALF, Threshold(Fraction(1, 2), ThresholdRule.AT_LEAST), True),
        (Threshold(Fraction(1, 2), ThresholdRule.AT_LEAST), HALF, False),
        (THIRD, HALF, False),
        (FOUR_FIFTHS, HALF, True),
    ],
)
def test_threshold_strictness(a: Threshold, b: Threshold, stricter: bool) -> None:
    assert a.at_least_as_strict_as(b) is stricter


# --- candidate margins ----------------------------------------------------------------------------

TWENTY_PERCENT = CandidateMargin.proportional(Fraction(1, 5))


@pytest.mark.parametrize(
    ("seats", "minimum"),
    [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 8), (9, 11), (10, 12), (11, 14)],
)
def test_party_margin_is_twenty_percent_rounded_up(seats: int, minimum: int) -> None:
    assert TWENTY_PERCENT.min_candidates(seats) == minimum
    assert TWENTY_PERCENT.allows(minimum, seats)
    assert not TWENTY_PERCENT.allows(minimum - 1, seats)
    assert TWENTY_PERCENT.max_candidates(seats) is None


@pytest.mark.parametrize(
    ("province", "position", "seats", "allowed", "refused"),
    [
        (Province.BJ, Position.DIRECTOR, 1, [2, 3], [1, 4]),
        (Province.BJ, Position.MEMBER, 3, [4, 5], [3, 6]),
        (Province.SH, Position.DIRECTOR, 1, [2], [1, 3]),
        (Province.SH, Position.DEPUTY, 1, [2], [1, 3]),
        (Province.SH, Position.MEMBER, 3, [4, 5, 6], [3, 7]),
        (Province.ZJ, Position.DIRECTOR, 1, [2], [1, 3]),
        (Province.ZJ, Position.MEMBER, 2, [3, 4, 5], [2, 6]),
        (Province.NATIONAL, Position.MEMBER, 3, [4, 10], [3]),
        (Province.HN, Position.DIRECTOR, 1, [2, 5], [1]),
    ],
)
def test_village_margins(
    province: Province, position: Position, seats: int, allowed: list[int], refused: list[int]
) -> None:
    margin = village(province).position(position).margin.value
    assert all(margin.allows(n, seats) for n in allowed)
    assert not any(margin.allows(n, seats) for n in refused)


def test_margin_sources() -> None:
    assert village(Province.BJ).position(Position.MEMBER).margin.source.cite == "BJ 16"
    assert village(Province.SH).position(Position.DIRECTOR).margin.source.cite == "SH 12"
    assert village(Province.NATIONAL).position(Position.MEMBER).margin.source.cite == "OL 15 ¶1"
    assert village(Province.ZJ).position(Position.MEMBER).margin.source.confirmed is False


# --- policy changes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "province", "field", "value", "reason", "citation"),
    [
        (
            VILLAGE,
            Province.BJ,
            "candidate_list_lead_days",
            4,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "BJ 20",
        ),
        (
            VILLAGE,
            Province.HN,
            "candidate_list_lead_days",
            4,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "HN 26",
        ),
        (
            VILLAGE,
            Province.NATIONAL,
            "voter_list_lead_days",
            19,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "OL 14",
        ),
        (
            VILLAGE,
            Province.NATIONAL,
            "objection_window_days",
            4,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "OL 14",
        ),
        (
            VILLAGE,
            Province.NATIONAL,
            "objection_decision_days",
            4,
            PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM,
            "OL 14",
        ),
        (VILLAGE, Province.BJ, "proxy_cap", 4, PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM, "BJ 25"),
        (
            VILLAGE,
            Province.SH,
            "proxy_application_lead_days",
            4,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "SH 16",
        ),
        (
            VILLAGE,
            Province.ZJ,
            "proxy_application_lead_days",
            2,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "ZJ 25",
        ),
        (VILLAGE, Province.SH, "proxy_list_lead_days", 1, PolicyRefusalReason.BELOW_LEGAL_MINIMUM, "SH 16"),
        (
            VILLAGE,
            Province.SH,
            "proxy_on_election_day_allowed",
            True,
            PolicyRefusalReason.PERMISSION_ADDED,
            "SH 16",
        ),
        (
            VILLAGE,
            Province.BJ,
            "candidates_may_hold_proxies",
            True,
            PolicyRefusalReason.PERMISSION_ADDED,
            "BJ 25",
        ),
        (
            VILLAGE,
            Province.ZJ,
            "nomination_by_proxy_allowed",
            True,
            PolicyRefusalReason.PERMISSION_ADDED,
            "ZJ 17",
        ),
        (
            VILLAGE,
            Province.ZJ,
            "proxy_unpublished_void",
            False,
            PolicyRefusalReason.REQUIREMENT_DROPPED,
            "ZJ 25",
        ),
        (
            VILLAGE,
            Province.HN,
            "proxy_voter_card_taken_back",
            False,
            PolicyRefusalReason.REQUIREMENT_DROPPED,
            "HN 30, 33",
        ),
        (
            VILLAGE,
            Province.ZJ,
            "mobile_box_min_scrutineers",
            2,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "ZJ 24",
        ),
        (
            VILLAGE,
            Province.BJ,
            "second_round_deadline_days",
            16,
            PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM,
            "BJ 30",
        ),
        (VILLAGE, Province.NATIONAL, "women_min", 0, PolicyRefusalReason.BELOW_LEGAL_MINIMUM, "OL 6"),
        (VILLAGE, Province.NATIONAL, "term_years", 3, PolicyRefusalReason.FIXED_BY_LAW, "OL 11"),
        (
            VILLAGE,
            Province.NATIONAL,
            "meeting_notice_days",
            9,
            PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
            "OL 21",
        ),
        (
            VILLAGE,
            Province.NATIONAL,
            "committee_size",
            SeatRange(3, 9),
            PolicyRefusalReason.RANGE_WIDENED,
            "OL 6",
        ),
        (
            VILLAGE,
            Province.NATIONAL,
            "validity",
            Threshold(Fraction(1, 2), ThresholdRule.AT_LEAST),
            PolicyRefusalReason.THRESHOLD_WEAKENED,
            "OL 15 ¶2",
        ),
        (
            VILLAGE,
            Province.NATIONAL,
            "second_round_min_share",
            Threshold(Fraction(1, 4), ThresholdRule.AT_LEAST),
            PolicyRefusalReason.THRESHOLD_WEAKENED,
            "OL 15 ¶2",
        ),
        (
            VILLAGE,
            Province.ZJ,
            "proxy_relationships",
            frozenset(Relationship),
            PolicyRefusalReason.RELATIONSHIPS_WIDENED,
            "ZJ 25",
        ),
        (
            ElectionKind.PARTY_TWO_BALLOTS,
            Province.NATIONAL,
            "full_party_members_only",
            False,
            PolicyRefusalReason.REQUIREMENT_DROPPED,
            "PR 5",
        ),
    ],
)
def test_change_breaking_a_legal_value_is_refused(
    kind: ElectionKind,
    province: Province,
    field: str,
    value: object,
    reason: PolicyRefusalReason,
    citation: str,
) -> None:
    outcome = preset(kind, province).with_changes(**{field: value})
    assert not outcome.accepted
    assert outcome.policy is None
    assert [(p.field, p.reason, p.source.cite) for p in outcome.refusals] == [(field, reason, citation)]


@pytest.mark.parametrize(
    ("province", "field", "value"),
    [
        (Province.BJ, "candidate_list_lead_days", 5),  # the boundary itself
        (Province.BJ, "candidate_list_lead_days", 7),
        (Province.NATIONAL, "voter_list_lead_days", 20),
        (Province.NATIONAL, "voter_list_lead_days", 25),
        (Province.BJ, "proxy_cap", 3),
        (Province.BJ, "proxy_cap", 2),
        (Province.SH, "proxy_application_lead_days", 6),
        (Province.ZJ, "proxy_application_lead_days", 3),
        (Province.NATIONAL, "elected", Threshold(Fraction(2, 3), ThresholdRule.AT_LEAST)),
        (Province.SH, "candidates_may_hold_proxies", False),
        (Province.NATIONAL, "committee_size", SeatRange(5, 7)),
    ],
)
def test_change_keeping_the_law_is_accepted(province: Province, field: str, value: object) -> None:
    outcome = village(province).with_changes(**{field: value})
    assert outcome.accepted and outcome.refusals == () and outcome.warnings == ()
    assert outcome.policy is not None
    changed: Sourced[object] = getattr(outcome.policy, field)
    assert changed.value == value
    assert changed.source.law is Law.COMMITTEE


@pytest.mark.parametrize(
    ("kind", "province", "field", "value"),
    [
        (VILLAGE, Province.NATIONAL, "proxy_cap", 4),
        (VILLAGE, Province.NATIONAL, "candidate_list_lead_days", 3),
        (VILLAGE, Province.SH, "candidates_may_hold_proxies", False),  # tightening: no warning either
        (ElectionKind.PARTY_TWO_BALLOTS, Province.NATIONAL, "proxy_allowed", True),
        (
            ElectionKind.PARTY_TWO_BALLOTS,
            Province.NATIONAL,
            "trust_threshold",
            TRUST_AT_LEAST_70_PERCENT.value,
        ),
        (
            ElectionKind.PARTY_TWO_BALLOTS,
            Province.NATIONAL,
            "trust_denominator",
            Denominator.REGISTERED_VOTERS,
        ),
        (ElectionKind.PARTY_TWO_PUSHES, Province.NATIONAL, "party_round_weight", Fraction(3, 2)),
        (
            ElectionKind.PARTY_TWO_PUSHES,
            Province.NATIONAL,
            "validity",
            Threshold(Fraction(2, 3), ThresholdRule.MORE_THAN),
        ),
    ],
)
def test_unconfirmed_values_may_change(
    kind: ElectionKind, province: Province, field: str, value: object
) -> None:
    baseline: Sourced[object] = getattr(preset(kind, province), field)
    outcome = preset(kind, province).with_changes(**{field: value})
    assert outcome.accepted
    assert outcome.policy is not None
    assert getattr(outcome.policy, field).value == value
    loosened = [p.field for p in outcome.warnings]
    # Only loosening an unconfirmed value warns; tightening says nothing.
    assert loosened in ([], [field])
    if loosened:
        assert baseline.source.confirmed is False


def test_warning_names_the_unconfirmed_source() -> None:
    outcome = village(Province.NATIONAL).with_changes(proxy_cap=4)
    assert [(w.field, w.reason) for w in outcome.warnings] == [
        ("proxy_cap", PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM)
    ]
    assert outcome.warnings[0].source.confirmed is False


def test_change_is_checked_against_the_preset_not_the_current_policy() -> None:
    first = village(Province.BJ).with_changes(candidate_list_lead_days=8)
    assert first.policy is not None
    second = first.policy.with_changes(candidate_list_lead_days=5)
    assert second.accepted  # 8 -> 5 still respects BJ 20
    third = first.policy.with_changes(candidate_list_lead_days=4)
    assert not third.accepted


def test_several_refusals_are_all_reported() -> None:
    outcome = village(Province.SH).with_changes(proxy_cap=5, proxy_list_lead_days=0, voter_list_lead_days=30)
    assert {p.field for p in outcome.refusals} == {"proxy_cap", "proxy_list_lead_days"}


def test_whole_number_weight_becomes_a_fraction() -> None:
    outcome = preset(ElectionKind.PARTY_TWO_PUSHES, Province.NATIONAL).with_changes(party_round_weight=2)
    assert outcome.policy is not None
    assert outcome.policy.party_round_weight.value == Fraction(2)
    assert isinstance(outcome.policy.party_round_weight.value, Fraction)


def test_sourced_value_keeps_its_source() -> None:
    source = Source(Law.LOCAL, "county notice 12", confirmed=True)
    outcome = village(Province.BJ).with_changes(candidate_list_lead_days=Sourced(6, source))
    assert outcome.policy is not None
    assert outcome.policy.candidate_list_lead_days.source == source


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"kind": ElectionKind.PARTY_TWO_BALLOTS}, TypeError),
        ({"no_such_field": 1}, TypeError),
        ({"proxy_cap": "3"}, TypeError),
        ({"proxy_cap": True}, TypeError),
        ({"proxy_allowed": 1}, TypeError),
        ({"positions": [1]}, TypeError),
    ],
)
def test_malformed_changes_are_programming_errors(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        village(Province.BJ).with_changes(**changes)


def _with_member_margin(policy: Policy, margin: CandidateMargin) -> tuple[object, ...]:
    return tuple(
        spec
        if spec.position is not Position.MEMBER
        else type(spec)(
            spec.position, spec.seats, Sourced(margin, spec.margin.source), spec.party_member_required
        )
        for spec in policy.positions
    )


@pytest.mark.parametrize(
    ("province", "margin", "reasons"),
    [
        (Province.BJ, CandidateMargin.fixed(0, 2), [PolicyRefusalReason.MARGIN_BELOW_LEGAL]),
        (Province.BJ, CandidateMargin.fixed(1, 3), [PolicyRefusalReason.MARGIN_ABOVE_LEGAL]),
        (Province.BJ, CandidateMargin.fixed(1, None), [PolicyRefusalReason.MARGIN_ABOVE_LEGAL]),
        (Province.BJ, CandidateMargin.fixed(2, 2), []),
        (Province.SH, CandidateMargin.fixed(1, 4), [PolicyRefusalReason.MARGIN_ABOVE_LEGAL]),
        (Province.NATIONAL, CandidateMargin.fixed(2, None), []),
    ],
)
def test_margin_changes(
    province: Province, margin: CandidateMargin, reasons: list[PolicyRefusalReason]
) -> None:
    outcome = village(province).with_changes(positions=_with_member_margin(village(province), margin))
    assert [p.reason for p in outcome.refusals] == reasons
    assert all(p.field == "positions.member.margin" for p in outcome.refusals)


def test_party_margin_cannot_drop_below_twenty_percent() -> None:
    policy = preset(ElectionKind.PARTY_PUBLIC_DIRECT, Province.NATIONAL)
    specs = tuple(
        type(s)(
            s.position,
            s.seats,
            Sourced(CandidateMargin.proportional(Fraction(1, 10)), s.margin.source),
            s.party_member_required,
        )
        for s in policy.positions
    )
    outcome = policy.with_changes(positions=specs)
    assert not outcome.accepted
    assert {p.reason for p in outcome.refusals} == {PolicyRefusalReason.MARGIN_BELOW_LEGAL}
    assert {p.source.cite for p in outcome.refusals} == {"PR-1990 8, 12"}


def test_dropping_the_director_is_refused_only_as_a_warning_of_the_default_split() -> None:
    policy = village(Province.BJ)
    outcome = policy.with_changes(
        positions=tuple(s for s in policy.positions if s.position is not Position.DIRECTOR)
    )
    assert [(w.field, w.reason) for w in outcome.warnings] == [
        ("positions.director", PolicyRefusalReason.POSITION_MISSING)
    ]


# --- seats ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "reasons"),
    [
        ({Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 1}, []),  # 3: the minimum
        ({Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 5}, []),  # 7: the maximum
        ({Position.DIRECTOR: 1, Position.MEMBER: 1}, [SeatProblemReason.COMMITTEE_TOO_SMALL]),
        (
            {Position.DIRECTOR: 1, Position.DEPUTY: 2, Position.MEMBER: 5},
            [SeatProblemReason.COMMITTEE_TOO_LARGE],
        ),
        ({Position.DIRECTOR: 2, Position.MEMBER: 3}, [SeatProblemReason.POSITION_SEATS_OUT_OF_RANGE]),
        ({Position.DEPUTY: 1, Position.MEMBER: 3}, [SeatProblemReason.POSITION_SEATS_OUT_OF_RANGE]),
        (
            {Position.DIRECTOR: 1, Position.MEMBER: 2, Position.SECRETARY: 1},
            [SeatProblemReason.POSITION_NOT_IN_POLICY],
        ),
    ],
)
def test_check_seats(seats: dict[Position, int], reasons: list[SeatProblemReason]) -> None:
    problems = check_seats(village(Province.NATIONAL), seats)
    assert [p.reason for p in problems] == reasons


def test_committee_size_problem_cites_ol_6() -> None:
    (problem,) = check_seats(village(Province.NATIONAL), {Position.DIRECTOR: 1, Position.MEMBER: 1})
    assert problem.source.cite == "OL 6"
    assert problem.seats == 2 and problem.allowed == SeatRange(3, 7)


def test_every_sourced_field_has_a_strictness_direction() -> None:
    sourced = {f.name for f in dataclasses.fields(Policy)} - {"kind", "province", "positions"}
    assert set(policy_module._DIRECTIONS) == sourced
