from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.rules.policy import ElectionKind, Policy, Province, Sourced, preset
from bot.rules.proxy import (
    Authorization,
    ProxyDuty,
    ProxyPerson,
    ProxyRefusalReason,
    Relationship,
    check_proxy_request,
    check_proxy_vote,
    proxy_duties,
)

R = ProxyRefusalReason
VILLAGE_ID = 5
DAY = dt.date(2026, 6, 20)
EARLY = dt.datetime(2026, 6, 1, 10, 0)
PRINCIPAL = ProxyPerson(1, VILLAGE_ID, on_roll=True)
HOLDER = ProxyPerson(2, VILLAGE_ID, on_roll=True)
BJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.BJ)
SH = preset(ElectionKind.VILLAGE_COMMITTEE, Province.SH)
ZJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.ZJ)
HN = preset(ElectionKind.VILLAGE_COMMITTEE, Province.HN)
NATIONAL = preset(ElectionKind.VILLAGE_COMMITTEE, Province.NATIONAL)


def request(
    *,
    policy: Policy = BJ,
    principal: ProxyPerson = PRINCIPAL,
    holder: ProxyPerson = HOLDER,
    relationship: Relationship = Relationship.CHILD,
    authorizations: tuple[Authorization, ...] = (),
    candidates: tuple[int, ...] = (),
    now: dt.datetime = EARLY,
) -> list[ProxyRefusalReason]:
    outcome = check_proxy_request(
        principal, holder, relationship, authorizations, candidates, policy, now, DAY
    )
    return [r.reason for r in outcome.refusals]


def on(date: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(hour))


def days_before(n: int) -> dt.date:
    return DAY - dt.timedelta(days=n)


def test_a_plain_request_is_accepted() -> None:
    outcome = check_proxy_request(PRINCIPAL, HOLDER, Relationship.SPOUSE, (), (), BJ, EARLY, DAY)
    assert outcome.accepted and outcome.reason is None
    assert (outcome.holder_load, outcome.cap, outcome.deadline) == (0, 3, DAY)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"holder": PRINCIPAL}, R.SELF),
        ({"principal": ProxyPerson(1, VILLAGE_ID, on_roll=False)}, R.PRINCIPAL_NOT_REGISTERED),
        ({"holder": ProxyPerson(2, 99, on_roll=True)}, R.HOLDER_NOT_IN_VILLAGE),
        ({"holder": ProxyPerson(2, VILLAGE_ID, on_roll=False)}, R.HOLDER_NOT_REGISTERED),
        ({"relationship": Relationship.NOT_RELATED}, R.RELATIONSHIP_NOT_ALLOWED),
    ],
)
def test_single_refusals(kwargs: dict[str, object], reason: ProxyRefusalReason) -> None:
    assert request(**kwargs) == [reason]  # type: ignore[arg-type]


def test_refusals_carry_their_article() -> None:
    outcome = check_proxy_request(
        PRINCIPAL, ProxyPerson(2, 99, on_roll=True), Relationship.CHILD, (), (), BJ, EARLY, DAY
    )
    assert outcome.refusals[0].source.cite == "OL 15 ¶4"


@pytest.mark.parametrize(
    ("policy", "relationship", "allowed"),
    [
        (ZJ, Relationship.SPOUSE, True),
        (ZJ, Relationship.PARENT, True),
        (ZJ, Relationship.CHILD, True),
        (ZJ, Relationship.SIBLING, True),
        (ZJ, Relationship.GRANDPARENT, True),
        (ZJ, Relationship.GRANDCHILD, True),
        (ZJ, Relationship.OTHER_NEAR_RELATIVE, False),
        (BJ, Relationship.OTHER_NEAR_RELATIVE, True),
        (SH, Relationship.OTHER_NEAR_RELATIVE, True),
        (BJ, Relationship.NOT_RELATED, False),
    ],
)
def test_relationships(policy: Policy, relationship: Relationship, allowed: bool) -> None:
    assert (request(policy=policy, relationship=relationship) == []) is allowed


@pytest.mark.parametrize(
    ("policy", "refused", "citation"),
    [(BJ, True, "BJ 25"), (ZJ, True, "ZJ 25"), (SH, False, None), (HN, False, None), (NATIONAL, False, None)],
)
def test_candidate_as_holder(policy: Policy, refused: bool, citation: str | None) -> None:
    outcome = check_proxy_request(PRINCIPAL, HOLDER, Relationship.CHILD, (), (HOLDER.id,), policy, EARLY, DAY)
    assert (outcome.reason is R.HOLDER_IS_CANDIDATE) is refused
    if citation:
        assert outcome.refusals[0].source.cite == citation


@pytest.mark.parametrize(
    ("policy", "load", "at_cap", "citation"),
    [
        (BJ, 2, False, "BJ 25"),
        (BJ, 3, True, "BJ 25"),
        (SH, 2, False, "SH 16"),
        (SH, 3, True, "SH 16"),
        (ZJ, 2, False, "ZJ 25"),
        (ZJ, 3, True, "ZJ 25"),
        (HN, 2, False, "HN 30"),
        (HN, 3, True, "HN 30"),
    ],
)
def test_holder_cap(policy: Policy, load: int, at_cap: bool, citation: str) -> None:
    existing = tuple(Authorization(100 + i, HOLDER.id) for i in range(load))
    outcome = check_proxy_request(PRINCIPAL, HOLDER, Relationship.CHILD, existing, (), policy, EARLY, DAY)
    assert [r.reason for r in outcome.refusals] == ([R.HOLDER_AT_CAP] if at_cap else [])
    assert outcome.holder_load == load and outcome.cap == 3
    assert policy.proxy_cap.source.cite == citation
    if at_cap:
        assert outcome.refusals[0].source.cite == citation


def test_inactive_authorizations_do_not_count() -> None:
    existing = tuple(Authorization(100 + i, HOLDER.id, active=False) for i in range(3))
    assert request(authorizations=existing) == []


def test_cap_can_be_lowered_to_two() -> None:
    policy = NATIONAL.with_changes(proxy_cap=2).policy
    assert policy is not None
    two = (Authorization(100, HOLDER.id), Authorization(101, HOLDER.id))
    assert request(policy=policy, authorizations=two) == [R.HOLDER_AT_CAP]
    assert request(policy=policy, authorizations=two[:1]) == []


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (Authorization(PRINCIPAL.id, 9), R.PRINCIPAL_HAS_ACTIVE_PROXY),
        (Authorization(9, PRINCIPAL.id), R.PRINCIPAL_HOLDS_PROXIES),
        (Authorization(HOLDER.id, 9), R.HOLDER_HAS_DELEGATED),
    ],
)
def test_no_second_proxy_and_no_chains(authorization: Authorization, reason: ProxyRefusalReason) -> None:
    outcome = check_proxy_request(PRINCIPAL, HOLDER, Relationship.CHILD, (authorization,), (), SH, EARLY, DAY)
    assert [r.reason for r in outcome.refusals] == [reason]
    if reason is not R.PRINCIPAL_HAS_ACTIVE_PROXY:
        assert outcome.refusals[0].source.cite == "SH 16"


@pytest.mark.parametrize(
    ("policy", "applied", "late"),
    [
        (SH, days_before(5), False),  # exactly 5 days before: on time
        (SH, days_before(4), True),
        (ZJ, days_before(3), False),  # exactly 3 days before: on time
        (ZJ, days_before(2), True),
        (BJ, DAY, False),
        (BJ, DAY + dt.timedelta(days=1), True),  # after the election, anywhere
        (NATIONAL, DAY, False),
    ],
)
def test_deadline(policy: Policy, applied: dt.date, late: bool) -> None:
    assert (R.AFTER_DEADLINE in request(policy=policy, now=on(applied, 23))) is late


def test_deadline_refusal_names_the_article() -> None:
    outcome = check_proxy_request(PRINCIPAL, HOLDER, Relationship.CHILD, (), (), ZJ, on(days_before(2)), DAY)
    assert outcome.refusals[0].source.cite == "ZJ 25"
    assert outcome.deadline == days_before(3)


def test_election_day_itself_is_late_where_proxies_on_the_day_are_forbidden() -> None:
    # No lead time, but SH 16's "none on the day" still applies.
    no_lead = dataclasses.replace(
        SH, proxy_application_lead_days=Sourced(0, SH.proxy_application_lead_days.source)
    )
    on_the_day = check_proxy_request(PRINCIPAL, HOLDER, Relationship.CHILD, (), (), no_lead, on(DAY, 7), DAY)
    assert on_the_day.reason is R.AFTER_DEADLINE
    assert on_the_day.refusals[0].source.cite == "SH 16"
    assert request(policy=no_lead, now=on(days_before(1), 23)) == []


def test_party_elections_have_no_proxy() -> None:
    policy = preset(ElectionKind.PARTY_TWO_BALLOTS, Province.NATIONAL)
    outcome = check_proxy_request(PRINCIPAL, PRINCIPAL, Relationship.NOT_RELATED, (), (), policy, EARLY, DAY)
    assert [r.reason for r in outcome.refusals] == [R.PROXY_NOT_ALLOWED]
    assert outcome.refusals[0].source.confirmed is False


def test_all_refusals_are_reported() -> None:
    got = request(
        policy=ZJ,
        holder=ProxyPerson(2, 99, on_roll=False),
        relationship=Relationship.OTHER_NEAR_RELATIVE,
        candidates=(2,),
        now=on(DAY),
    )
    assert got == [
        R.HOLDER_NOT_IN_VILLAGE,
        R.HOLDER_NOT_REGISTERED,
        R.RELATIONSHIP_NOT_ALLOWED,
        R.HOLDER_IS_CANDIDATE,
        R.AFTER_DEADLINE,
    ]


@pytest.mark.parametrize(
    ("policy", "published", "void"), [(ZJ, False, True), (ZJ, True, False), (BJ, False, False)]
)
def test_unpublished_authorization_void_in_zhejiang(policy: Policy, published: bool, void: bool) -> None:
    outcome = check_proxy_vote(policy, published=published)
    assert (outcome.reason is R.UNPUBLISHED_VOID) is void


@pytest.mark.parametrize(
    ("policy", "duties"),
    [
        (BJ, {ProxyDuty.WRITTEN_AUTHORIZATION, ProxyDuty.PUBLISH_LIST}),
        (SH, {ProxyDuty.WRITTEN_AUTHORIZATION, ProxyDuty.PUBLISH_LIST, ProxyDuty.ISSUE_CERTIFICATE}),
        (ZJ, {ProxyDuty.WRITTEN_AUTHORIZATION, ProxyDuty.PUBLISH_LIST, ProxyDuty.PUBLISH_BEFORE_VOTING}),
        (
            HN,
            {
                ProxyDuty.WRITTEN_AUTHORIZATION,
                ProxyDuty.PUBLISH_LIST,
                ProxyDuty.ISSUE_CERTIFICATE,
                ProxyDuty.TAKE_BACK_VOTER_CARD,
            },
        ),
        (preset(ElectionKind.PARTY_PUBLIC_DIRECT, Province.NATIONAL), set()),
    ],
)
def test_paper_duties(policy: Policy, duties: set[ProxyDuty]) -> None:
    assert {duty for duty, _ in proxy_duties(policy)} == duties


def test_hn_voter_card_duty_cites_hn_33() -> None:
    sources = dict(proxy_duties(HN))
    assert "33" in sources[ProxyDuty.TAKE_BACK_VOTER_CARD].cite
    assert sources[ProxyDuty.ISSUE_CERTIFICATE].cite == "HN 30"
