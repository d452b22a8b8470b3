"""An election's calendar and the lead times the law puts between its phases.

Day counts: a list "published at least N days before election day" means
``(election_day - published).days >= N``; publishing exactly N days before is on time, N-1 days
before is late. All datetimes are the village's local wall time (or all aware): the caller passes
``now`` in the same convention, and its ``date()`` is "today".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from enum import StrEnum

from bot.rules.policy import ElectionKind, Policy, Source


class Phase(StrEnum):
    RECOMMENDATION = "recommendation"
    TRUST_VOTE = "trust_vote"
    VOTER_LIST = "voter_list"
    CANDIDATE_LIST = "candidate_list"
    PROXY_DEADLINE = "proxy_deadline"
    PROXY_LIST = "proxy_list"
    ELECTION_DAY = "election_day"
    SECOND_ROUND = "second_round"
    MEETING = "meeting"


@dataclass(frozen=True)
class Window:
    opens: dt.datetime
    closes: dt.datetime

    def contains(self, moment: dt.datetime) -> bool:
        """Open from ``opens`` (included) to ``closes`` (excluded)."""
        return self.opens <= moment < self.closes


@dataclass(frozen=True)
class Schedule:
    election_day: dt.date
    voter_list_published: dt.date | None = None
    candidate_list_published: dt.date | None = None
    recommendation: Window | None = None
    trust_vote: Window | None = None
    proxy_deadline: dt.date | None = None  # the last day a proxy request is accepted
    proxy_list_published: dt.date | None = None
    second_round_day: dt.date | None = None


class ScheduleProblemReason(StrEnum):
    WINDOW_INVERTED = "window_inverted"
    IN_THE_PAST = "in_the_past"
    AFTER_ELECTION_DAY = "after_election_day"
    VOTER_LIST_TOO_LATE = "voter_list_too_late"
    VOTER_OBJECTIONS_NOT_SETTLED = "voter_objections_not_settled"
    CANDIDATE_LIST_TOO_LATE = "candidate_list_too_late"
    RECOMMENDATION_AFTER_CANDIDATE_LIST = "recommendation_after_candidate_list"
    RECOMMENDATION_OVERLAPS_TRUST_VOTE = "recommendation_overlaps_trust_vote"
    TRUST_VOTE_AFTER_CANDIDATE_LIST = "trust_vote_after_candidate_list"
    TRUST_VOTE_NOT_IN_THIS_KIND = "trust_vote_not_in_this_kind"
    PROXY_NOT_ALLOWED = "proxy_not_allowed"
    PROXY_DEADLINE_TOO_LATE = "proxy_deadline_too_late"
    PROXY_LIST_TOO_LATE = "proxy_list_too_late"
    PROXY_LIST_BEFORE_DEADLINE = "proxy_list_before_deadline"
    SECOND_ROUND_NOT_AFTER_ELECTION = "second_round_not_after_election"
    SECOND_ROUND_TOO_LATE = "second_round_too_late"
    MEETING_NOTICE_TOO_LATE = "meeting_notice_too_late"


@dataclass(frozen=True)
class ScheduleProblem:
    reason: ScheduleProblemReason
    phase: Phase
    source: Source | None  # None only for plain consistency (a past date, an inverted window)
    required_days: int | None = None
    actual_days: int | None = None


def days_before(earlier: dt.date, later: dt.date) -> int:
    return (later - earlier).days


# --- deadlines derived from the policy (services use them for reminders) ----------------------


def voter_list_latest(policy: Policy, election_day: dt.date) -> dt.date:
    return election_day - dt.timedelta(days=policy.voter_list_lead_days.value)


def candidate_list_latest(policy: Policy, election_day: dt.date) -> dt.date:
    return election_day - dt.timedelta(days=policy.candidate_list_lead_days.value)


def proxy_application_latest(policy: Policy, election_day: dt.date) -> dt.date:
    """The last day a proxy request may be made (SH 16: 5 days before; ZJ 25: 3 days before)."""
    lead = policy.proxy_application_lead_days.value
    if lead == 0 and not policy.proxy_on_election_day_allowed.value:
        lead = 1
    return election_day - dt.timedelta(days=lead)


def proxy_deadline(policy: Policy, election_day: dt.date, committee: dt.date | None) -> dt.date:
    """The last day a proxy request is accepted: the committee's date when it set one (never later than
    the law allows), else the latest the law allows."""
    latest = proxy_application_latest(policy, election_day)
    return latest if committee is None else min(latest, committee)


def proxy_list_latest(policy: Policy, election_day: dt.date) -> dt.date:
    return election_day - dt.timedelta(days=policy.proxy_list_lead_days.value)


def objection_deadline(policy: Policy, published: dt.date) -> dt.date:
    """The last day to object to the voter list (OL 14: within 5 days of publication)."""
    return published + dt.timedelta(days=policy.objection_window_days.value)


def objection_decision_due(policy: Policy, received: dt.date) -> dt.date:
    """When the committee must have decided an objection (OL 14: within 3 days)."""
    return received + dt.timedelta(days=policy.objection_decision_days.value)


def second_round_latest(policy: Policy, election_day: dt.date) -> dt.date:
    return election_day + dt.timedelta(days=policy.second_round_deadline_days.value)


# --- checks --------------------------------------------------------------------------------------


def _lead_problem(
    published: dt.date | None,
    election_day: dt.date,
    required: int,
    reason: ScheduleProblemReason,
    phase: Phase,
    source: Source,
) -> ScheduleProblem | None:
    if published is None:
        return None
    actual = days_before(published, election_day)
    if actual >= required:
        return None
    return ScheduleProblem(reason, phase, source, required_days=required, actual_days=actual)


def _past_problems(schedule: Schedule, now: dt.datetime, previous: Schedule | None) -> list[ScheduleProblem]:
    problems: list[ScheduleProblem] = []
    today = now.date()
    phases = {
        "election_day": Phase.ELECTION_DAY,
        "voter_list_published": Phase.VOTER_LIST,
        "candidate_list_published": Phase.CANDIDATE_LIST,
        "recommendation": Phase.RECOMMENDATION,
        "trust_vote": Phase.TRUST_VOTE,
        "proxy_deadline": Phase.PROXY_DEADLINE,
        "proxy_list_published": Phase.PROXY_LIST,
        "second_round_day": Phase.SECOND_ROUND,
    }
    for f in fields(Schedule):
        value = getattr(schedule, f.name)
        if value is None or (previous is not None and getattr(previous, f.name) == value):
            continue
        if isinstance(value, Window):
            past = value.opens < now
        else:
            assert isinstance(value, dt.date)
            past = value < today
        if past:
            problems.append(ScheduleProblem(ScheduleProblemReason.IN_THE_PAST, phases[f.name], None))
    return problems


def check_schedule(
    schedule: Schedule, policy: Policy, now: dt.datetime, previous: Schedule | None = None
) -> list[ScheduleProblem]:
    """Every problem with ``schedule`` under ``policy``, each naming the article it breaks.

    ``previous`` is the schedule before the committee's edit: dates it already had are not
    reported as being in the past (an election under way has phases behind it).
    """
    problems = _past_problems(schedule, now, previous)
    day = schedule.election_day

    for window, phase in (
        (schedule.recommendation, Phase.RECOMMENDATION),
        (schedule.trust_vote, Phase.TRUST_VOTE),
    ):
        if window is None:
            continue
        if window.opens >= window.closes:
            problems.append(ScheduleProblem(ScheduleProblemReason.WINDOW_INVERTED, phase, None))
        if window.closes.date() > day:
            problems.append(ScheduleProblem(ScheduleProblemReason.AFTER_ELECTION_DAY, phase, None))

    voter_list = _lead_problem(
        schedule.voter_list_published,
        day,
        policy.voter_list_lead_days.value,
        ScheduleProblemReason.VOTER_LIST_TOO_LATE,
        Phase.VOTER_LIST,
        policy.voter_list_lead_days.source,
    )
    problems.extend(p for p in [voter_list] if p is not None)
    if schedule.voter_list_published is not None:
        # OL 14: objections within 5 days, decided within 3: all settled before the vote.
        settled = schedule.voter_list_published + dt.timedelta(
            days=policy.objection_window_days.value + policy.objection_decision_days.value
        )
        if settled >= day:
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.VOTER_OBJECTIONS_NOT_SETTLED,
                    Phase.VOTER_LIST,
                    policy.objection_decision_days.source,
                    required_days=policy.objection_window_days.value
                    + policy.objection_decision_days.value
                    + 1,
                    actual_days=days_before(schedule.voter_list_published, day),
                )
            )

    candidate_source = policy.candidate_list_lead_days.source
    candidate_list = _lead_problem(
        schedule.candidate_list_published,
        day,
        policy.candidate_list_lead_days.value,
        ScheduleProblemReason.CANDIDATE_LIST_TOO_LATE,
        Phase.CANDIDATE_LIST,
        candidate_source,
    )
    problems.extend(p for p in [candidate_list] if p is not None)

    problems.extend(_ordering_problems(schedule, policy))
    problems.extend(_proxy_problems(schedule, policy))

    if schedule.second_round_day is not None:
        gap = days_before(day, schedule.second_round_day)
        source = policy.second_round_deadline_days.source
        if gap <= 0:
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.SECOND_ROUND_NOT_AFTER_ELECTION, Phase.SECOND_ROUND, source
                )
            )
        elif gap > policy.second_round_deadline_days.value:
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.SECOND_ROUND_TOO_LATE,
                    Phase.SECOND_ROUND,
                    source,
                    required_days=policy.second_round_deadline_days.value,
                    actual_days=gap,
                )
            )
    return problems


def _ordering_problems(schedule: Schedule, policy: Policy) -> list[ScheduleProblem]:
    problems: list[ScheduleProblem] = []
    candidate_source = policy.candidate_list_lead_days.source
    published = schedule.candidate_list_published
    recommendation, trust = schedule.recommendation, schedule.trust_vote
    if recommendation is not None and published is not None and recommendation.closes.date() > published:
        problems.append(
            ScheduleProblem(
                ScheduleProblemReason.RECOMMENDATION_AFTER_CANDIDATE_LIST,
                Phase.RECOMMENDATION,
                candidate_source,
            )
        )
    if trust is not None:
        trust_source = policy.trust_threshold.source
        if policy.kind is not ElectionKind.PARTY_TWO_BALLOTS:
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.TRUST_VOTE_NOT_IN_THIS_KIND, Phase.TRUST_VOTE, trust_source
                )
            )
        if recommendation is not None and recommendation.closes > trust.opens:
            # Trust votes are cast on the preliminary candidates that the recommendation produced.
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.RECOMMENDATION_OVERLAPS_TRUST_VOTE,
                    Phase.RECOMMENDATION,
                    trust_source,
                )
            )
        if published is not None and trust.closes.date() > published:
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.TRUST_VOTE_AFTER_CANDIDATE_LIST, Phase.TRUST_VOTE, trust_source
                )
            )
    return problems


def _proxy_problems(schedule: Schedule, policy: Policy) -> list[ScheduleProblem]:
    problems: list[ScheduleProblem] = []
    day = schedule.election_day
    if not policy.proxy_allowed.value:
        for value, phase in (
            (schedule.proxy_deadline, Phase.PROXY_DEADLINE),
            (schedule.proxy_list_published, Phase.PROXY_LIST),
        ):
            if value is not None:
                problems.append(
                    ScheduleProblem(
                        ScheduleProblemReason.PROXY_NOT_ALLOWED, phase, policy.proxy_allowed.source
                    )
                )
        return problems
    deadline = schedule.proxy_deadline
    if deadline is not None:
        latest = proxy_application_latest(policy, day)
        if deadline > latest:
            lead = policy.proxy_application_lead_days
            source = lead.source if lead.value > 0 else policy.proxy_on_election_day_allowed.source
            problems.append(
                ScheduleProblem(
                    ScheduleProblemReason.PROXY_DEADLINE_TOO_LATE,
                    Phase.PROXY_DEADLINE,
                    source,
                    required_days=days_before(latest, day),
                    actual_days=days_before(deadline, day),
                )
            )
    listed = _lead_problem(
        schedule.proxy_list_published,
        day,
        policy.proxy_list_lead_days.value,
        ScheduleProblemReason.PROXY_LIST_TOO_LATE,
        Phase.PROXY_LIST,
        policy.proxy_list_lead_days.source,
    )
    problems.extend(p for p in [listed] if p is not None)
    if (
        deadline is not None
        and schedule.proxy_list_published is not None
        and schedule.proxy_list_published < deadline
    ):
        # A list published before requests close leaves out the later principals (OL 15 ¶4).
        problems.append(
            ScheduleProblem(
                ScheduleProblemReason.PROXY_LIST_BEFORE_DEADLINE,
                Phase.PROXY_LIST,
                policy.proxy_list_lead_days.source,
            )
        )
    return problems


def check_meeting_notice(policy: Policy, notice: dt.date, meeting: dt.date) -> ScheduleProblem | None:
    """A villagers' meeting needs 10 days' notice (OL 21)."""
    required = policy.meeting_notice_days.value
    actual = days_before(notice, meeting)
    if actual >= required:
        return None
    return ScheduleProblem(
        ScheduleProblemReason.MEETING_NOTICE_TOO_LATE,
        Phase.MEETING,
        policy.meeting_notice_days.source,
        required_days=required,
        actual_days=actual,
    )
