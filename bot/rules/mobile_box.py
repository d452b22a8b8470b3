"""The mobile ballot box (流动票箱) for the elderly, the sick and the remote."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.rules.policy import Policy, Source

__all__ = ["MobileBoxPlan", "MobileBoxProblem", "MobileBoxProblemReason", "check_mobile_box"]


@dataclass(frozen=True)
class MobileBoxPlan:
    scrutineers: int
    township_approved: bool = False
    voters_published: bool = False
    scrutineers_published: bool = False


class MobileBoxProblemReason(StrEnum):
    TOO_FEW_SCRUTINEERS = "too_few_scrutineers"
    TOWNSHIP_APPROVAL_MISSING = "township_approval_missing"
    VOTERS_NOT_PUBLISHED = "voters_not_published"
    SCRUTINEERS_NOT_PUBLISHED = "scrutineers_not_published"


@dataclass(frozen=True)
class MobileBoxProblem:
    reason: MobileBoxProblemReason
    source: Source
    required: int | None = None
    actual: int | None = None


def check_mobile_box(policy: Policy, plan: MobileBoxPlan) -> list[MobileBoxProblem]:
    """At least 3 scrutineers (BJ 23, ZJ 24, HN 31); ZJ 24 needs township approval and publishes
    voters and scrutineers; HN 31 publishes its voters."""
    problems: list[MobileBoxProblem] = []
    minimum = policy.mobile_box_min_scrutineers
    if plan.scrutineers < minimum.value:
        problems.append(
            MobileBoxProblem(
                MobileBoxProblemReason.TOO_FEW_SCRUTINEERS, minimum.source, minimum.value, plan.scrutineers
            )
        )
    if policy.mobile_box_township_approval.value and not plan.township_approved:
        problems.append(
            MobileBoxProblem(
                MobileBoxProblemReason.TOWNSHIP_APPROVAL_MISSING, policy.mobile_box_township_approval.source
            )
        )
    if policy.mobile_box_publish_voters.value and not plan.voters_published:
        problems.append(
            MobileBoxProblem(
                MobileBoxProblemReason.VOTERS_NOT_PUBLISHED, policy.mobile_box_publish_voters.source
            )
        )
    if policy.mobile_box_publish_scrutineers.value and not plan.scrutineers_published:
        problems.append(
            MobileBoxProblem(
                MobileBoxProblemReason.SCRUTINEERS_NOT_PUBLISHED, policy.mobile_box_publish_scrutineers.source
            )
        )
    return problems
