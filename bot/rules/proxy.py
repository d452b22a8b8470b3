"""Proxy voting (委托投票): whether a migrant's intent to authorize a holder can be accepted.

The written authorization stays on paper (OL 15 ¶4); these rules only check an intent recorded in
chat, so the committee and the worker learn early what the paper form would run into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.rules.policy import OL_13, OL_15_4, Policy, Relationship, Source
from bot.rules.schedule import proxy_deadline

__all__ = [
    "Authorization",
    "ProxyDuty",
    "ProxyOutcome",
    "ProxyPerson",
    "ProxyRefusal",
    "ProxyRefusalReason",
    "Relationship",
    "check_proxy_request",
    "check_proxy_vote",
    "proxy_duties",
]


@dataclass(frozen=True)
class ProxyPerson:
    id: int
    village_id: int
    on_roll: bool  # registered to vote in this election


@dataclass(frozen=True)
class Authorization:
    """An existing proxy intent; ``active`` is False once declined, withdrawn or rejected."""

    principal_id: int
    holder_id: int
    active: bool = True


class ProxyRefusalReason(StrEnum):
    PROXY_NOT_ALLOWED = "proxy_not_allowed"
    SELF = "self"
    PRINCIPAL_NOT_REGISTERED = "principal_not_registered"
    HOLDER_NOT_IN_VILLAGE = "holder_not_in_village"
    HOLDER_NOT_REGISTERED = "holder_not_registered"
    RELATIONSHIP_NOT_ALLOWED = "relationship_not_allowed"
    HOLDER_IS_CANDIDATE = "holder_is_candidate"
    PRINCIPAL_HAS_ACTIVE_PROXY = "principal_has_active_proxy"
    PRINCIPAL_HOLDS_PROXIES = "principal_holds_proxies"
    HOLDER_HAS_DELEGATED = "holder_has_delegated"
    HOLDER_AT_CAP = "holder_at_cap"
    AFTER_DEADLINE = "after_deadline"
    UNPUBLISHED_VOID = "unpublished_void"


@dataclass(frozen=True)
class ProxyRefusal:
    reason: ProxyRefusalReason
    source: Source


@dataclass(frozen=True)
class ProxyOutcome:
    refusals: tuple[ProxyRefusal, ...]
    deadline: dt.date | None = None  # the last day to apply, for the reminder
    holder_load: int = 0  # principals the holder already has
    cap: int | None = None

    @property
    def accepted(self) -> bool:
        return not self.refusals

    @property
    def reason(self) -> ProxyRefusalReason | None:
        return self.refusals[0].reason if self.refusals else None


def check_proxy_request(
    principal: ProxyPerson,
    holder: ProxyPerson,
    relationship: Relationship,
    authorizations: Collection[Authorization],
    candidates: Collection[int],
    policy: Policy,
    now: dt.datetime,
    election_day: dt.date,
    committee_deadline: dt.date | None = None,
) -> ProxyOutcome:
    """Every reason ``principal`` may not authorize ``holder``; none means it may.

    ``authorizations`` are the election's existing intents (inactive ones are ignored);
    ``candidates`` the ids of its formal candidates; ``now`` the village's local time;
    ``committee_deadline`` the proxy deadline the committee set in the calendar, if earlier than the law's.
    """
    if not policy.proxy_allowed.value:
        return ProxyOutcome(
            (ProxyRefusal(ProxyRefusalReason.PROXY_NOT_ALLOWED, policy.proxy_allowed.source),)
        )

    refusals: list[ProxyRefusal] = []

    def refuse(reason: ProxyRefusalReason, source: Source) -> None:
        refusals.append(ProxyRefusal(reason, source))

    active = [a for a in authorizations if a.active]
    redelegation = policy.proxy_redelegation_forbidden

    if principal.id == holder.id:
        refuse(ProxyRefusalReason.SELF, OL_15_4)
    if not principal.on_roll:
        refuse(ProxyRefusalReason.PRINCIPAL_NOT_REGISTERED, OL_13)
    # OL 15 ¶4: a near relative who has the vote in the same village.
    if holder.village_id != principal.village_id:
        refuse(ProxyRefusalReason.HOLDER_NOT_IN_VILLAGE, OL_15_4)
    if not holder.on_roll:
        refuse(ProxyRefusalReason.HOLDER_NOT_REGISTERED, OL_15_4)
    if relationship not in policy.proxy_relationships.value:
        refuse(ProxyRefusalReason.RELATIONSHIP_NOT_ALLOWED, policy.proxy_relationships.source)
    if holder.id in candidates and not policy.candidates_may_hold_proxies.value:
        refuse(ProxyRefusalReason.HOLDER_IS_CANDIDATE, policy.candidates_may_hold_proxies.source)
    if any(a.principal_id == principal.id for a in active):
        refuse(ProxyRefusalReason.PRINCIPAL_HAS_ACTIVE_PROXY, OL_15_4)
    if redelegation.value:
        if any(a.holder_id == principal.id for a in active):
            refuse(ProxyRefusalReason.PRINCIPAL_HOLDS_PROXIES, redelegation.source)
        if any(a.principal_id == holder.id for a in active):
            refuse(ProxyRefusalReason.HOLDER_HAS_DELEGATED, redelegation.source)

    cap = policy.proxy_cap.value
    load = sum(1 for a in active if a.holder_id == holder.id and a.principal_id != principal.id)
    if load >= cap:
        refuse(ProxyRefusalReason.HOLDER_AT_CAP, policy.proxy_cap.source)

    deadline = proxy_deadline(policy, election_day, committee_deadline)
    if now.date() > deadline:
        lead = policy.proxy_application_lead_days
        source = lead.source if lead.value > 0 else policy.proxy_on_election_day_allowed.source
        refuse(ProxyRefusalReason.AFTER_DEADLINE, source)
    return ProxyOutcome(tuple(refusals), deadline=deadline, holder_load=load, cap=cap)


def check_proxy_vote(policy: Policy, *, published: bool) -> ProxyOutcome:
    """On election day: may the holder cast this principal's vote? (ZJ 25: not if unpublished.)"""
    if not policy.proxy_allowed.value:
        return ProxyOutcome(
            (ProxyRefusal(ProxyRefusalReason.PROXY_NOT_ALLOWED, policy.proxy_allowed.source),)
        )
    if not published and policy.proxy_unpublished_void.value:
        return ProxyOutcome(
            (ProxyRefusal(ProxyRefusalReason.UNPUBLISHED_VOID, policy.proxy_unpublished_void.source),)
        )
    return ProxyOutcome(())


class ProxyDuty(StrEnum):
    """What stays on paper for an accepted intent, for the committee's checklist and reminders."""

    WRITTEN_AUTHORIZATION = "written_authorization"  # 书面委托
    PUBLISH_LIST = "publish_list"
    PUBLISH_BEFORE_VOTING = "publish_before_voting"  # or the authorization is void
    ISSUE_CERTIFICATE = "issue_certificate"  # 委托投票证
    TAKE_BACK_VOTER_CARD = "take_back_voter_card"


def proxy_duties(policy: Policy) -> tuple[tuple[ProxyDuty, Source], ...]:
    if not policy.proxy_allowed.value:
        return ()
    duties: list[tuple[ProxyDuty, Source]] = [
        (ProxyDuty.WRITTEN_AUTHORIZATION, OL_15_4),
        (
            ProxyDuty.PUBLISH_LIST,
            policy.proxy_list_lead_days.source if policy.proxy_list_lead_days.value else OL_15_4,
        ),
    ]
    if policy.proxy_unpublished_void.value:
        duties.append((ProxyDuty.PUBLISH_BEFORE_VOTING, policy.proxy_unpublished_void.source))
    if policy.proxy_certificate.value:
        duties.append((ProxyDuty.ISSUE_CERTIFICATE, policy.proxy_certificate.source))
    if policy.proxy_voter_card_taken_back.value:
        duties.append((ProxyDuty.TAKE_BACK_VOTER_CARD, policy.proxy_voter_card_taken_back.source))
    return tuple(duties)
