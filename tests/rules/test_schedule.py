from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from bot.rules.policy import ElectionKind, Policy, Province, Sourced, preset
from bot.rules.schedule import (
    Phase,
    Schedule,
    ScheduleProblemReason,
    Window,
    candidate_list_latest,
    check_meeting_notice,
    check_schedule,
    objection_deadline,
    objection_decision_due,
    proxy_application_latest,
    proxy_deadline,
    proxy_list_latest,
    second_round_latest,
    voter_list_latest,
)

DAY = dt.date(2026, 6, 20)
NOW = dt.datetime(2026, 5, 1, 10, 0)
BJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.BJ)
SH = preset(ElectionKind.VILLAGE_COMMITTEE, Province.SH)
ZJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.ZJ)
NATIONAL = preset(ElectionKind.VILLAGE_COMMITTEE, Province.NATIONAL)
TWO_BALLOTS = preset(ElectionKind.PARTY_TWO_BALLOTS, Province.NATIONAL)


def before(days: int) -> dt.date:
    return DAY - dt.timedelta(days=days)


def at(date: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(hour))


def reasons(schedule: Schedule, policy: Policy = BJ, now: dt.datetime = NOW) -> list[ScheduleProblemReason]:
    return [p.reason for p in check_schedule(schedule, policy, now)]


def test_a_sound_schedule_has_no_problem() -> None:
    schedule = Schedule(
        election_day=DAY,
        voter_list_published=before(25),
        recommendation=Window(at(before(24), 8), at(before(12), 20)),
        candidate_list_published=before(7),
        proxy_deadline=before(6),
        proxy_list_published=before(3),
        second_round_day=DAY + dt.timedelta(days=10),
    )
    assert check_schedule(schedule, SH, NOW) == []


@pytest.mark.parametrize(("lead", "late"), [(19, True), (20, False), (21, False)])
def test_voter_list_twenty_days(lead: int, late: bool) -> None:
    problems = check_schedule(Schedule(DAY, voter_list_published=before(lead)), BJ, NOW)
    assert [p.reason for p in problems] == ([ScheduleProblemReason.VOTER_LIST_TOO_LATE] if late else [])
    if late:
        assert problems[0].source is not None and problems[0].source.cite == "OL 14"
        assert (problems[0].required_days, problems[0].actual_days) == (20, lead)


@pytest.mark.parametrize(
    ("policy", "lead", "late", "citation"),
    [
        (BJ, 4, True, "BJ 20"),
        (BJ, 5, False, "BJ 20"),
        (SH, 4, True, "SH 12"),
        (SH, 5, False, "SH 12"),
        (ZJ, 4, True, "ZJ 18"),
        (ZJ, 6, False, "ZJ 18"),
        (preset(ElectionKind.VILLAGE_COMMITTEE, Province.HN), 4, True, "HN 26"),
    ],
)
def test_candidate_list_five_days(policy: Policy, lead: int, late: bool, citation: str) -> None:
    problems = check_schedule(Schedule(DAY, candidate_list_published=before(lead)), policy, NOW)
    if late:
        (problem,) = problems
        assert problem.reason is ScheduleProblemReason.CANDIDATE_LIST_TOO_LATE
        assert problem.phase is Phase.CANDIDATE_LIST
        assert problem.source is not None and problem.source.cite == citation
    else:
        assert problems == []


@pytest.mark.parametrize(
    ("policy", "lead", "late"),
    [(SH, 4, True), (SH, 5, False), (ZJ, 2, True), (ZJ, 3, False), (BJ, 0, False), (NATIONAL, 0, False)],
)
def test_proxy_deadline_lead(policy: Policy, lead: int, late: bool) -> None:
    got = reasons(Schedule(DAY, proxy_deadline=before(lead)), policy)
    assert got == ([ScheduleProblemReason.PROXY_DEADLINE_TOO_LATE] if late else [])


def test_proxy_deadline_problem_cites_sh_16() -> None:
    (problem,) = check_schedule(Schedule(DAY, proxy_deadline=before(4)), SH, NOW)
    assert problem.source is not None and problem.source.cite == "SH 16"
    assert (problem.required_days, problem.actual_days) == (5, 4)


def test_on_the_day_is_refused_where_forbidden() -> None:
    policy = NATIONAL.with_changes(proxy_on_election_day_allowed=False).policy
    assert policy is not None
    assert reasons(Schedule(DAY, proxy_deadline=DAY), policy) == [
        ScheduleProblemReason.PROXY_DEADLINE_TOO_LATE
    ]
    assert reasons(Schedule(DAY, proxy_deadline=before(1)), policy) == []


@pytest.mark.parametrize(("lead", "late"), [(1, True), (2, False)])
def test_sh_proxy_list_two_days(lead: int, late: bool) -> None:
    got = reasons(Schedule(DAY, proxy_list_published=before(lead)), SH)
    assert got == ([ScheduleProblemReason.PROXY_LIST_TOO_LATE] if late else [])


def test_proxy_list_before_deadline() -> None:
    got = reasons(Schedule(DAY, proxy_deadline=before(5), proxy_list_published=before(6)), SH)
    assert got == [ScheduleProblemReason.PROXY_LIST_BEFORE_DEADLINE]


def test_proxy_dates_in_a_party_election() -> None:
    problems = check_schedule(Schedule(DAY, proxy_deadline=before(5)), TWO_BALLOTS, NOW)
    assert [p.reason for p in problems] == [ScheduleProblemReason.PROXY_NOT_ALLOWED]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (Window(at(before(10), 18), at(before(10), 8)), [ScheduleProblemReason.WINDOW_INVERTED]),
        (Window(at(before(10)), at(before(10))), [ScheduleProblemReason.WINDOW_INVERTED]),
        (Window(at(before(10)), at(DAY + dt.timedelta(days=1))), [ScheduleProblemReason.AFTER_ELECTION_DAY]),
        (Window(at(before(10), 8), at(before(10), 20)), []),
    ],
)
def test_recommendation_window(window: Window, expected: list[ScheduleProblemReason]) -> None:
    assert reasons(Schedule(DAY, recommendation=window)) == expected


def test_recommendation_must_close_before_candidate_list() -> None:
    schedule = Schedule(
        DAY, recommendation=Window(at(before(9)), at(before(6))), candidate_list_published=before(7)
    )
    assert reasons(schedule) == [ScheduleProblemReason.RECOMMENDATION_AFTER_CANDIDATE_LIST]
    same_day = Schedule(
        DAY, recommendation=Window(at(before(9)), at(before(7), 9)), candidate_list_published=before(7)
    )
    assert reasons(same_day) == []


def test_two_ballot_ordering() -> None:
    sound = Schedule(
        DAY,
        recommendation=Window(at(before(20)), at(before(15))),
        trust_vote=Window(at(before(14)), at(before(10))),
        candidate_list_published=before(8),
    )
    assert reasons(sound, TWO_BALLOTS) == []
    overlapping = Schedule(
        DAY,
        recommendation=Window(at(before(20)), at(before(12))),
        trust_vote=Window(at(before(14)), at(before(10))),
        candidate_list_published=before(11),
    )
    assert reasons(overlapping, TWO_BALLOTS) == [
        ScheduleProblemReason.RECOMMENDATION_OVERLAPS_TRUST_VOTE,
        ScheduleProblemReason.TRUST_VOTE_AFTER_CANDIDATE_LIST,
    ]


def test_trust_vote_only_in_the_two_ballot_system() -> None:
    schedule = Schedule(DAY, trust_vote=Window(at(before(14)), at(before(10))))
    assert reasons(schedule, BJ) == [ScheduleProblemReason.TRUST_VOTE_NOT_IN_THIS_KIND]


@pytest.mark.parametrize(
    ("field", "value", "phase"),
    [
        ("voter_list_published", dt.date(2026, 4, 30), Phase.VOTER_LIST),
        ("candidate_list_published", dt.date(2026, 4, 30), Phase.CANDIDATE_LIST),
        ("proxy_deadline", dt.date(2026, 4, 30), Phase.PROXY_DEADLINE),
    ],
)
def test_dates_in_the_past(field: str, value: dt.date, phase: Phase) -> None:
    problems = check_schedule(Schedule(DAY, **{field: value}), NATIONAL, NOW)  # type: ignore[arg-type]
    assert (problems[0].reason, problems[0].phase) == (ScheduleProblemReason.IN_THE_PAST, phase)


def test_today_is_not_the_past_but_yesterday_is() -> None:
    today = Schedule(NOW.date(), voter_list_published=None)
    assert ScheduleProblemReason.IN_THE_PAST not in reasons(today, NATIONAL)
    yesterday = Schedule(NOW.date() - dt.timedelta(days=1))
    assert reasons(yesterday, NATIONAL) == [ScheduleProblemReason.IN_THE_PAST]


def test_window_opening_before_now_is_in_the_past() -> None:
    schedule = Schedule(DAY, recommendation=Window(NOW - dt.timedelta(minutes=1), NOW + dt.timedelta(days=2)))
    assert reasons(schedule) == [ScheduleProblemReason.IN_THE_PAST]


def test_unchanged_past_dates_of_a_running_election_are_not_reported() -> None:
    running = Schedule(DAY, voter_list_published=dt.date(2026, 4, 20))
    edited = Schedule(
        DAY, voter_list_published=dt.date(2026, 4, 20), candidate_list_published=dt.date(2026, 4, 25)
    )
    problems = check_schedule(edited, NATIONAL, NOW, previous=running)
    assert [(p.reason, p.phase) for p in problems] == [
        (ScheduleProblemReason.IN_THE_PAST, Phase.CANDIDATE_LIST)
    ]


@pytest.mark.parametrize(
    ("policy", "days_after", "expected"),
    [
        (BJ, 15, []),
        (BJ, 16, [ScheduleProblemReason.SECOND_ROUND_TOO_LATE]),
        (SH, 30, []),
        (SH, 31, [ScheduleProblemReason.SECOND_ROUND_TOO_LATE]),
        (ZJ, 31, [ScheduleProblemReason.SECOND_ROUND_TOO_LATE]),
        (BJ, 0, [ScheduleProblemReason.SECOND_ROUND_NOT_AFTER_ELECTION]),
    ],
)
def test_second_round_deadline(
    policy: Policy, days_after: int, expected: list[ScheduleProblemReason]
) -> None:
    schedule = Schedule(DAY, second_round_day=DAY + dt.timedelta(days=days_after))
    assert reasons(schedule, policy) == expected


def test_second_round_problem_cites_the_province() -> None:
    (problem,) = check_schedule(Schedule(DAY, second_round_day=DAY + dt.timedelta(days=16)), BJ, NOW)
    assert problem.source is not None and problem.source.cite == "BJ 30"


def test_objections_must_be_settled_before_the_vote_even_under_a_loosened_policy() -> None:
    # with_changes refuses this (OL 14), so build the loosened policy directly.
    loose = dataclasses.replace(
        NATIONAL, voter_list_lead_days=Sourced(5, NATIONAL.voter_list_lead_days.source)
    )
    assert ScheduleProblemReason.VOTER_OBJECTIONS_NOT_SETTLED in reasons(
        Schedule(DAY, voter_list_published=before(8)), loose
    )
    assert ScheduleProblemReason.VOTER_OBJECTIONS_NOT_SETTLED not in reasons(
        Schedule(DAY, voter_list_published=before(9)), loose
    )


@pytest.mark.parametrize(("lead", "late"), [(9, True), (10, False)])
def test_meeting_notice_ten_days(lead: int, late: bool) -> None:
    problem = check_meeting_notice(NATIONAL, before(lead), DAY)
    if late:
        assert problem is not None
        assert problem.reason is ScheduleProblemReason.MEETING_NOTICE_TOO_LATE
        assert problem.source is not None and problem.source.cite == "OL 21"
    else:
        assert problem is None


@pytest.mark.parametrize(
    ("function", "policy", "expected"),
    [
        (voter_list_latest, BJ, before(20)),
        (candidate_list_latest, BJ, before(5)),
        (proxy_application_latest, SH, before(5)),
        (proxy_application_latest, ZJ, before(3)),
        (proxy_application_latest, BJ, DAY),
        (proxy_list_latest, SH, before(2)),
        (second_round_latest, BJ, DAY + dt.timedelta(days=15)),
        (second_round_latest, SH, DAY + dt.timedelta(days=30)),
    ],
)
def test_derived_deadlines(
    function: Callable[[Policy, dt.date], dt.date], policy: Policy, expected: dt.date
) -> None:
    assert function(policy, DAY) == expected


def test_objection_dates() -> None:
    published = dt.date(2026, 5, 31)
    assert objection_deadline(NATIONAL, published) == dt.date(2026, 6, 5)
    assert objection_decision_due(NATIONAL, dt.date(2026, 6, 5)) == dt.date(2026, 6, 8)


def test_window_is_half_open() -> None:
    window = Window(at(DAY, 8), at(DAY, 20))
    assert window.contains(at(DAY, 8))
    assert not window.contains(at(DAY, 20))
    assert not window.contains(at(DAY, 7))


@pytest.mark.parametrize(
    ("policy", "committee", "expected"),
    [
        (ZJ, None, DAY - dt.timedelta(days=3)),  # the law's latest day
        (ZJ, DAY - dt.timedelta(days=6), DAY - dt.timedelta(days=6)),  # the committee's earlier day
        (ZJ, DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=3)),
        (ZJ, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=3)),  # never later than the law
        (SH, DAY, DAY - dt.timedelta(days=5)),
    ],
)
def test_proxy_deadline_is_the_committees_day_within_the_law(
    policy: Policy, committee: dt.date | None, expected: dt.date
) -> None:
    assert proxy_deadline(policy, DAY, committee) == expected
