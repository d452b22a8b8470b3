"""Elections from the preset: overrides and schedules within the law, opening, the optimistic lock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.rules.policy import ElectionKind, Law, PolicyRefusalReason, Position
from bot.rules.schedule import Phase, Schedule, ScheduleProblemReason, Window
from bot.services import elections
from bot.services.accounts import register_account
from bot.services.elections import ElectionRefusal, OverrideProblemReason
from bot.services.identity import Me, identify
from storage.db import SessionFactory
from storage.models import Binding, Election, ElectionPosition, Person
from tests.factories import Roll, grant, make_village

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 1, 10, 0, tzinfo=ZONE)
DAY = date(2026, 12, 20)
MEMBER_PHONE = "+8613900000001"
VILLAGE_SEATS = {Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 3}
PARTY_SEATS = {Position.SECRETARY: 1, Position.DEPUTY_SECRETARY: 1, Position.COMMITTEE_MEMBER: 3}

PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER_PHONE, "group": "一组", "birth_year": 1970},
    {"name": "王建国", "phone": "+8613800000001", "group": "一组", "birth_year": 1960, "party_member": True},
    {"name": "李秀英", "phone": "+8613800000002", "group": "二组", "birth_year": 1980, "gender": "F"},
    {"name": "张三", "phone": "+8613800000003", "group": "一组", "birth_year": 1975},
    {"name": "王建军", "phone": "+8613800000004", "group": "二组", "birth_year": 1958, "party_member": True},
    {"name": "钱党员", "phone": "+8613800000005", "group": "二组", "birth_year": 1990, "party_member": True},
    {
        "name": "孙预备",
        "phone": "+8613800000006",
        "group": "一组",
        "party_member": True,
        "party_status": "probationary",
    },
    {"name": "小明", "phone": None, "group": "二组", "birth_year": 2012, "eligible_voter": False},
    {"name": "陈已迁", "phone": None, "group": "一组", "removed_at": datetime(2026, 1, 1, tzinfo=UTC)},
]


def local(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def schedule(
    first: date = date(2026, 11, 2),
    last: date = date(2026, 11, 10),
    *,
    day: date = DAY,
    candidates: date | None = date(2026, 11, 11),
) -> Schedule:
    """Recommendations from the first day to the end of the last day, village time."""
    return Schedule(
        election_day=day,
        candidate_list_published=candidates,
        recommendation=Window(local(first), local(last + timedelta(days=1))),
    )


async def village(sessions: SessionFactory, name: str = "青山村", province: str = "ZJ") -> Roll:
    roll = await make_village(sessions, name, province=province, people=PEOPLE if name == "青山村" else [])
    await grant(sessions, roll.village, MEMBER_PHONE, "committee")
    return roll


async def me_of(
    sessions: SessionFactory, user_id: int, person: Person | None, phone: str | None = None
) -> Me:
    """The sender as the middleware would see them: an account, its binding and its roles."""
    async with sessions() as session:
        account = await register_account(
            session, telegram_user_id=user_id, private_chat_id=user_id, language_code="zh-hans"
        )
        account.phone = phone or (person.phone if person else None)
        session.add(account)
        if person is not None:
            assert account.id is not None and person.id is not None
            session.add(Binding(account_id=account.id, person_id=person.id, method="contact"))
        await session.commit()
        me = await identify(session, account)
        await session.commit()
    return me


async def committee(sessions: SessionFactory, roll: Roll) -> Me:
    return await me_of(sessions, 9001, roll.people["赵主任"])


async def create(
    sessions: SessionFactory,
    me: Me | None,
    roll: Roll,
    *,
    kind: ElectionKind = ElectionKind.VILLAGE_COMMITTEE,
    plan: Schedule | None = None,
    seats: dict[Position, int] | None = None,
    overrides: dict[str, object] | None = None,
    now: datetime = NOW,
) -> elections.ElectionOutcome:
    assert roll.village.id is not None
    async with sessions() as session:
        outcome = await elections.create_election(
            session,
            me,
            village_id=roll.village.id,
            kind=kind,
            title="第十二届村民委员会选举",
            schedule=plan or schedule(),
            seats=seats or (PARTY_SEATS if kind.is_party else VILLAGE_SEATS),
            overrides=overrides or {},
            now=now,
            zone=ZONE,
        )
        assert not session.in_transaction()
    return outcome


async def opened(sessions: SessionFactory, roll: Roll, **kwargs: object) -> Election:
    """A created and opened election."""
    outcome = await create(sessions, None, roll, **kwargs)  # type: ignore[arg-type]
    assert outcome.election is not None and outcome.election.id is not None, outcome
    async with sessions() as session:
        done = await elections.open_election(session, None, outcome.election.id, now=NOW)
    assert done.election is not None, done
    return done.election


# ------------------------------------------------------------------------------------ tests


async def test_create_fills_the_preset_of_the_villages_province(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    member = await committee(sessions, roll)
    outcome = await create(sessions, member, roll)
    assert outcome.refusal is None and outcome.election is not None and outcome.policy is not None
    election = outcome.election
    assert (election.kind, election.province, election.status, election.version) == (
        "village_committee",
        "zj",
        "draft",
        1,
    )
    assert election.policy_overrides == "{}"
    assert election.recommendation_opens == local(date(2026, 11, 2))
    assert outcome.policy.recommendation_quota_per_seat.source.cite == "ZJ 17"
    async with sessions() as session:
        positions = (await session.exec(select(ElectionPosition))).all()
    assert sorted((p.position, p.seats) for p in positions) == [("deputy", 1), ("director", 1), ("member", 3)]


async def test_describe_names_the_source_of_every_number(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    created = await create(sessions, None, roll, overrides={"candidate_list_lead_days": 7})
    assert created.election is not None and created.election.id is not None
    async with sessions() as session:
        described = await elections.describe_election(session, created.election.id, zone=ZONE)
        assert not session.in_transaction()
    assert described is not None
    lines = {line.field: line for line in described.lines}
    assert lines["recommendation_quota_per_seat"].value == 1
    assert lines["recommendation_quota_per_seat"].source.cite == "ZJ 17"
    assert lines["candidate_list_lead_days"].value == 7
    assert (
        lines["candidate_list_lead_days"].changed
        and lines["candidate_list_lead_days"].source.law is Law.COMMITTEE
    )
    assert not lines["voter_list_lead_days"].changed and lines["voter_list_lead_days"].source.cite == "OL 14"
    assert all(line.source is not None for line in described.lines)
    director = next(s for s in described.seats if s.position is Position.DIRECTOR)
    # ZJ: director and deputy with exactly one more candidate than seats.
    assert (director.seats, director.min_candidates, director.max_candidates) == (1, 2, 2)
    assert described.schedule.recommendation is not None
    assert described.schedule.recommendation.closes == local(date(2026, 11, 11))


async def test_only_changed_numbers_are_stored(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    outcome = await create(
        sessions,
        None,
        roll,
        kind=ElectionKind.PARTY_TWO_PUSHES,
        overrides={
            "recommendation_quota_per_seat": 1,
            "party_round_weight": "2/1",
            "candidate_list_lead_days": 6,
        },
    )
    assert outcome.election is not None and outcome.policy is not None
    assert json.loads(outcome.election.policy_overrides) == {
        "candidate_list_lead_days": 6,
        "party_round_weight": "2/1",
    }
    assert outcome.policy.party_round_weight.value == Fraction(2)
    # An unconfirmed weight ("weights vary locally") is changed with a warning, not refused.
    assert [w.field for w in outcome.warnings] == ["party_round_weight"]
    assert elections.policy_of(outcome.election).party_round_weight.value == Fraction(2)


async def test_an_override_below_the_legal_minimum_is_refused_naming_the_law(
    sessions: SessionFactory,
) -> None:
    roll = await village(sessions)
    outcome = await create(sessions, None, roll, overrides={"candidate_list_lead_days": 3})
    assert outcome.refusal is ElectionRefusal.POLICY_BREAKS_LAW
    [problem] = outcome.policy_problems
    assert (problem.field, problem.reason, problem.source.cite) == (
        "candidate_list_lead_days",
        PolicyRefusalReason.BELOW_LEGAL_MINIMUM,
        "ZJ 18",
    )
    more = await create(sessions, None, roll, overrides={"recommendation_quota_per_seat": 2})
    assert more.refusal is ElectionRefusal.POLICY_BREAKS_LAW
    assert [(p.reason, p.source.cite) for p in more.policy_problems] == [
        (PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM, "ZJ 17")
    ]
    async with sessions() as session:
        assert (await session.exec(select(Election))).all() == []


async def test_overrides_that_are_not_policy_numbers_are_refused(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    outcome = await create(
        sessions,
        None,
        roll,
        overrides={"no_such_rule": 1, "candidate_list_lead_days": "seven", "proxy_relationships": 1},
    )
    assert outcome.refusal is ElectionRefusal.BAD_OVERRIDES
    assert {(p.field, p.reason) for p in outcome.override_problems} == {
        ("no_such_rule", OverrideProblemReason.UNKNOWN_FIELD),
        ("candidate_list_lead_days", OverrideProblemReason.WRONG_TYPE),
        ("proxy_relationships", OverrideProblemReason.NOT_CHANGEABLE),
    }
    threshold = await create(
        sessions,
        None,
        roll,
        kind=ElectionKind.PARTY_TWO_BALLOTS,
        overrides={"trust_threshold": "at_least 7/10"},
    )
    assert threshold.refusal is None and threshold.election is not None
    assert json.loads(threshold.election.policy_overrides) == {"trust_threshold": "at_least 7/10"}


async def test_schedules_that_break_the_law_are_refused(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    late = await create(
        sessions, None, roll, plan=schedule(day=date(2026, 11, 14), candidates=date(2026, 11, 11))
    )
    assert late.refusal is ElectionRefusal.SCHEDULE_BREAKS_LAW
    [problem] = late.schedule_problems
    assert (problem.reason, problem.source and problem.source.cite) == (
        ScheduleProblemReason.CANDIDATE_LIST_TOO_LATE,
        "ZJ 18",
    )
    assert (problem.required_days, problem.actual_days) == (5, 3)
    overlap = await create(sessions, None, roll, plan=schedule(last=date(2026, 11, 12)))
    assert [p.reason for p in overlap.schedule_problems] == [
        ScheduleProblemReason.RECOMMENDATION_AFTER_CANDIDATE_LIST
    ]
    past = await create(sessions, None, roll, plan=schedule(first=date(2026, 10, 30)))
    assert [(p.reason, p.phase) for p in past.schedule_problems] == [
        (ScheduleProblemReason.IN_THE_PAST, Phase.RECOMMENDATION)
    ]
    no_window = await create(sessions, None, roll, plan=Schedule(election_day=DAY))
    assert no_window.refusal is ElectionRefusal.NO_RECOMMENDATION_WINDOW


async def test_seats_outside_the_law_are_refused(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    outcome = await create(
        sessions, None, roll, seats={Position.DIRECTOR: 1, Position.DEPUTY: 2, Position.MEMBER: 5}
    )
    assert outcome.refusal is ElectionRefusal.SEATS_BREAK_LAW
    assert [(p.reason.value, p.source.cite) for p in outcome.seat_problems] == [
        ("committee_too_large", "OL 6")
    ]


async def test_only_the_villages_committee_creates_and_opens(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    villager = await me_of(sessions, 42, roll.people["王建国"])
    assert (await create(sessions, villager, roll)).refusal is ElectionRefusal.NOT_ALLOWED
    created = await create(sessions, None, roll)
    assert created.election is not None and created.election.id is not None
    async with sessions() as session:
        refused = await elections.open_election(session, villager, created.election.id, now=NOW)
        assert not session.in_transaction()
    assert refused.refusal is ElectionRefusal.NOT_ALLOWED


async def test_open_moves_a_draft_once(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    member = await committee(sessions, roll)
    created = await create(sessions, member, roll)
    assert created.election is not None and created.election.id is not None
    async with sessions() as session:
        done = await elections.open_election(session, member, created.election.id, now=NOW)
        assert not session.in_transaction()
    assert done.election is not None and (done.election.status, done.election.version) == ("open", 2)
    async with sessions() as session:
        again = await elections.open_election(session, member, created.election.id, now=NOW)
    assert again.refusal is ElectionRefusal.NOT_DRAFT
    async with sessions() as session:
        listed = await elections.list_elections(session, member)
    assert [(v.village.name, [e.status for e in v.elections]) for v in listed] == [("青山村", ["open"])]


async def test_change_policy_is_checked_and_versioned(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    member = await committee(sessions, roll)
    created = await create(sessions, member, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    assert created.election is not None and created.election.id is not None
    election_id = created.election.id
    async with sessions() as session:
        changed = await elections.change_policy(
            session, member, election_id, expected_version=1, changes={"public_round_weight": 2}, now=NOW
        )
        assert not session.in_transaction()
    assert changed.refusal is None and changed.election is not None and changed.policy is not None
    assert changed.election.version == 2 and changed.policy.public_round_weight.value == Fraction(2)
    async with sessions() as session:
        illegal = await elections.change_policy(
            session,
            member,
            election_id,
            expected_version=2,
            changes={"full_party_members_only": False},
            now=NOW,
        )
    assert illegal.refusal is ElectionRefusal.POLICY_BREAKS_LAW
    assert [(p.field, p.reason, p.source.cite) for p in illegal.policy_problems] == [
        ("full_party_members_only", PolicyRefusalReason.REQUIREMENT_DROPPED, "PR 5")
    ]
    async with sessions() as session:
        reset = await elections.change_policy(
            session, member, election_id, expected_version=2, changes={"public_round_weight": 1}, now=NOW
        )
    assert reset.election is not None and reset.election.policy_overrides == "{}"


async def test_optimistic_lock_two_members_editing_at_once(sessions: SessionFactory) -> None:
    """Both read version 1; the first change wins, the second is refused instead of overwriting it."""
    roll = await village(sessions)
    member = await committee(sessions, roll)
    other = await me_of(sessions, 9002, None, phone=MEMBER_PHONE)
    created = await create(sessions, member, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    assert created.election is not None and created.election.id is not None
    seen = created.election.version
    async with sessions() as first, sessions() as second:
        won = await elections.change_policy(
            first,
            member,
            created.election.id,
            expected_version=seen,
            changes={"party_round_weight": 3},
            now=NOW,
        )
        lost = await elections.change_policy(
            second,
            other,
            created.election.id,
            expected_version=seen,
            changes={"party_round_weight": 2},
            now=NOW,
        )
        assert not first.in_transaction() and not second.in_transaction()
    assert won.refusal is None
    assert lost.refusal is ElectionRefusal.STALE_VERSION
    async with sessions() as session:
        stored = await session.get(Election, created.election.id)
    assert stored is not None and json.loads(stored.policy_overrides) == {"party_round_weight": "3/1"}
    assert stored.version == seen + 1
    # The lock also holds when the stale read happens before the other's commit (only the UPDATE sees it).
    async with sessions() as session:
        n = await elections.elections_repo.update_if_version(
            session, created.election.id, seen, {"title": "x"}
        )
        await session.rollback()
    assert n == 0


async def test_the_shell_creates_for_any_village(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    other = await village(sessions, "东山村", province="BJ")
    outcome = await create(sessions, None, other)
    assert outcome.election is not None and outcome.election.province == "bj"
    assert outcome.policy is not None and outcome.policy.recommendation_quota_per_seat.source.cite == "BJ 16"
    assert (await create(sessions, None, roll)).refusal is None
