from __future__ import annotations

import pytest

from bot.rules.mobile_box import MobileBoxPlan, MobileBoxProblemReason, check_mobile_box
from bot.rules.policy import ElectionKind, Policy, Province, preset

M = MobileBoxProblemReason
BJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.BJ)
ZJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.ZJ)
HN = preset(ElectionKind.VILLAGE_COMMITTEE, Province.HN)


@pytest.mark.parametrize(
    ("policy", "plan", "reasons"),
    [
        (BJ, MobileBoxPlan(scrutineers=3), []),
        (BJ, MobileBoxPlan(scrutineers=2), [M.TOO_FEW_SCRUTINEERS]),
        (HN, MobileBoxPlan(scrutineers=3), [M.VOTERS_NOT_PUBLISHED]),
        (HN, MobileBoxPlan(scrutineers=3, voters_published=True), []),
        (
            ZJ,
            MobileBoxPlan(scrutineers=2),
            [
                M.TOO_FEW_SCRUTINEERS,
                M.TOWNSHIP_APPROVAL_MISSING,
                M.VOTERS_NOT_PUBLISHED,
                M.SCRUTINEERS_NOT_PUBLISHED,
            ],
        ),
        (ZJ, MobileBoxPlan(3, township_approved=True, voters_published=True, scrutineers_published=True), []),
    ],
)
def test_mobile_box(policy: Policy, plan: MobileBoxPlan, reasons: list[MobileBoxProblemReason]) -> None:
    assert [p.reason for p in check_mobile_box(policy, plan)] == reasons


@pytest.mark.parametrize(("policy", "citation"), [(BJ, "BJ 23"), (ZJ, "ZJ 24"), (HN, "HN 31")])
def test_scrutineer_minimum_cites_the_province(policy: Policy, citation: str) -> None:
    (problem, *_) = check_mobile_box(policy, MobileBoxPlan(scrutineers=2))
    assert problem.source.cite == citation
    assert (problem.required, problem.actual) == (3, 2)
