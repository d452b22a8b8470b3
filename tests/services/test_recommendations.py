"""Recommendations by chat and on paper: every refusal, the quota, the rounds, the tally, the cut and
the published candidate list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.files.publicity import PublicityLabels, read_publicity_xlsx
from bot.files.tally import PaperTallyRow
from bot.rules.policy import ElectionKind, Position, RecommendationRound
from bot.rules.recommendation import CutDecision, CutProblem, CutStage, RecommendationRefusal
from bot.rules.schedule import ScheduleProblemReason
from bot.services import recommendations as rec
from bot.services.candidate_lists import CandidateListText
from bot.services.identity import Me
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.recommendations import (
    CandidatePublishRefusal,
    PaperImportRefusal,
    PaperProblemReason,
    RecommendRefusal,
    SearchRefusal,
    WithdrawRefusal,
)
from storage.db import SessionFactory
from storage.models import (
    Delivery,
    Election,
    ElectionCandidate,
    Notice,
    PaperTally,
    Participation,
    Recommendation,
)
from tests.factories import Roll, make_village
from tests.services.test_elections import ZONE, committee, local, me_of, opened, schedule, village

IN_WINDOW = local(date(2026, 11, 5), 10)
AFTER_WINDOW = local(date(2026, 11, 11), 9)
MEETING = date(2026, 11, 6)
SMALL = {Position.DIRECTOR: 1, Position.MEMBER: 2}  # a committee of 3: 2 and 3 candidates needed


async def villagers(sessions: SessionFactory, roll: Roll, *names: str) -> list[Me]:
    return [await me_of(sessions, 100 + index, roll.people[name]) for index, name in enumerate(names)]


async def recommend(
    sessions: SessionFactory,
    me: Me,
    election: Election,
    position: Position,
    candidate: str | int,
    roll: Roll,
    now: datetime = IN_WINDOW,
) -> rec.RecommendOutcome:
    person_id = candidate if isinstance(candidate, int) else roll.people[candidate].id
    assert election.id is not None and person_id is not None
    async with sessions() as session:
        outcome = await rec.recommend(session, me, election.id, position, person_id, now)
        assert not session.in_transaction()
    return outcome


async def count(
    sessions: SessionFactory, model: type[Recommendation] | type[Participation] | type[PaperTally]
) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def row(
    line: int,
    group: str,
    name: str,
    votes: int,
    participants: int,
    *,
    position: str = "主任",
    day: date = MEETING,
    round_: RecommendationRound | None = None,
) -> PaperTallyRow:
    return PaperTallyRow(line, group, day, position, round_, name, votes, participants)


async def import_rows(
    sessions: SessionFactory, election: Election, rows: list[PaperTallyRow]
) -> rec.PaperImportOutcome:
    assert election.id is not None
    async with sessions() as session:
        outcome = await rec.import_paper_tally(session, election.id, rows, zone=ZONE, now=IN_WINDOW)
        assert not session.in_transaction()
    return outcome


# ---------------------------------------------------------------------------------- recommend


async def test_a_villager_recommends_within_the_quota_and_a_double_tap_stores_one_row(
    sessions: SessionFactory,
) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    [wang] = await villagers(sessions, roll, "王建国")
    first = await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)
    assert first.refusal is None and not first.already
    assert (first.round, first.quota, first.used) == (RecommendationRound.PUBLIC, 1, 1)
    again = await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)
    assert again.refusal is None and again.already and again.used == 1
    assert await count(sessions, Recommendation) == 1
    assert await count(sessions, Participation) == 1


async def test_over_the_quota_is_refused_naming_the_rule(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    [wang] = await villagers(sessions, roll, "王建国")
    await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)
    over = await recommend(sessions, wang, election, Position.DIRECTOR, "张三", roll)
    assert (over.refusal, over.rule) == (RecommendRefusal.RULE, RecommendationRefusal.QUOTA_USED)
    assert over.source is not None and over.source.cite == "ZJ 17"
    assert (over.quota, over.used) == (1, 1)
    # Three member seats: three recommendations for members, "2 of 3 used" after two.
    for name in ("张三", "李秀英"):
        assert (await recommend(sessions, wang, election, Position.MEMBER, name, roll)).refusal is None
    assert election.id is not None
    async with sessions() as session:
        mine = await rec.my_recommendations(session, wang, election.id, IN_WINDOW)
        assert not session.in_transaction()
    members = mine.of(Position.MEMBER)
    assert members is not None and (members.used, members.quota) == (2, 3)
    assert [c.name for c in members.chosen] == ["张三", "李秀英"]
    assert mine.window_open and mine.self_allowed and mine.round is RecommendationRound.PUBLIC


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (local(date(2026, 11, 1), 23), RecommendationRefusal.WINDOW_NOT_OPEN),
        (local(date(2026, 11, 11), 0), RecommendationRefusal.WINDOW_CLOSED),
    ],
)
async def test_outside_the_window_is_refused(
    sessions: SessionFactory, now: datetime, reason: RecommendationRefusal
) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    [wang] = await villagers(sessions, roll, "王建国")
    outcome = await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll, now=now)
    assert (outcome.refusal, outcome.rule) == (RecommendRefusal.RULE, reason)
    assert await count(sessions, Recommendation) == 0


async def test_self_nomination_follows_the_preset(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    village_election = await opened(sessions, roll)
    party_election = await opened(sessions, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    [wang] = await villagers(sessions, roll, "王建国")
    allowed = await recommend(sessions, wang, village_election, Position.DIRECTOR, "王建国", roll)
    assert allowed.refusal is None
    refused = await recommend(sessions, wang, party_election, Position.SECRETARY, "王建国", roll)
    assert refused.rule is RecommendationRefusal.SELF_NOMINATION_NOT_ALLOWED
    assert refused.source is not None and refused.source.law.value == "LOCAL"


async def test_people_who_cannot_be_recommended(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    other = await make_village(sessions, "东山村", people=[{"name": "刘外村", "phone": "+8613700000001"}])
    election = await opened(sessions, roll)
    [wang] = await villagers(sessions, roll, "王建国")
    cases = {
        other.people["刘外村"].id: (RecommendationRefusal.CANDIDATE_NOT_IN_VILLAGE, "OL 13"),
        roll.people["陈已迁"].id: (RecommendationRefusal.CANDIDATE_REMOVED, "OL 13"),
        roll.people["小明"].id: (RecommendationRefusal.CANDIDATE_NOT_ON_ROLL, "OL 13"),
    }
    for person_id, (reason, cite) in cases.items():
        assert person_id is not None
        outcome = await recommend(sessions, wang, election, Position.DIRECTOR, person_id, roll)
        assert outcome.rule is reason and outcome.source is not None and outcome.source.cite == cite
    unknown = await recommend(sessions, wang, election, Position.DIRECTOR, 99_999, roll)
    assert unknown.refusal is RecommendRefusal.UNKNOWN_CANDIDATE
    not_filled = await recommend(sessions, wang, election, Position.SECRETARY, "李秀英", roll)
    assert not_filled.refusal is RecommendRefusal.UNKNOWN_POSITION
    assert await count(sessions, Recommendation) == 0


async def test_who_may_recommend(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    other = await make_village(sessions, "东山村", people=[{"name": "刘外村", "phone": "+8613700000001"}])
    election = await opened(sessions, roll)
    stranger = await me_of(sessions, 300, other.people["刘外村"])
    assert (await recommend(sessions, stranger, election, Position.DIRECTOR, "李秀英", roll)).refusal is (
        RecommendRefusal.UNKNOWN_ELECTION
    )
    nobody = await me_of(sessions, 301, None, phone="+8613600000000")
    assert (await recommend(sessions, nobody, election, Position.DIRECTOR, "李秀英", roll)).refusal is (
        RecommendRefusal.NOT_BOUND
    )
    draft = await rec_draft(sessions, roll)
    [wang] = await villagers(sessions, roll, "王建国")
    assert (
        await recommend(sessions, wang, draft, Position.DIRECTOR, "李秀英", roll)
    ).refusal is RecommendRefusal.NOT_OPEN


async def rec_draft(sessions: SessionFactory, roll: Roll) -> Election:
    from tests.services.test_elections import create

    outcome = await create(sessions, None, roll)
    assert outcome.election is not None
    return outcome.election


async def test_party_members_recommend_in_the_party_round(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    wang, li, sun = await villagers(sessions, roll, "王建国", "李秀英", "孙预备")
    party = await recommend(sessions, wang, election, Position.SECRETARY, "王建军", roll)
    public = await recommend(sessions, li, election, Position.SECRETARY, "王建军", roll)
    probationary = await recommend(sessions, sun, election, Position.SECRETARY, "王建军", roll)
    assert (party.round, public.round, probationary.round) == (
        RecommendationRound.PARTY,
        RecommendationRound.PUBLIC,
        RecommendationRound.PUBLIC,
    )
    # A branch position needs a full party member (PR 5).
    not_member = await recommend(sessions, li, election, Position.COMMITTEE_MEMBER, "张三", roll)
    assert not_member.rule is RecommendationRefusal.CANDIDATE_NOT_FULL_PARTY_MEMBER
    assert not_member.source is not None and not_member.source.cite == "PR 5"
    # Each round has its own quota: the public round's choice did not use the party round's.
    assert election.id is not None
    async with sessions() as session:
        mine = await rec.my_recommendations(session, wang, election.id, IN_WINDOW)
    assert mine.round is RecommendationRound.PARTY and not mine.self_allowed
    secretary = mine.of(Position.SECRETARY)
    assert secretary is not None and (secretary.used, secretary.quota) == (1, 1)


async def test_withdraw_frees_the_place_while_the_window_is_open(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    wang, li = await villagers(sessions, roll, "王建国", "李秀英")
    made = await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)
    assert made.refusal is None
    async with sessions() as session:
        [stored] = (await session.exec(select(Recommendation))).all()
    assert stored.id is not None
    async with sessions() as session:
        not_theirs = await rec.withdraw_recommendation(session, li, stored.id, IN_WINDOW)
        late = await rec.withdraw_recommendation(session, wang, stored.id, AFTER_WINDOW)
        assert not session.in_transaction()
    assert not_theirs.refusal is WithdrawRefusal.NOT_FOUND
    assert late.refusal is WithdrawRefusal.WINDOW_CLOSED
    async with sessions() as session:
        taken_back = await rec.withdraw_recommendation(session, wang, stored.id, IN_WINDOW)
        assert not session.in_transaction()
    assert taken_back.refusal is None and (taken_back.used, taken_back.quota) == (0, 1)
    assert taken_back.candidate is not None and taken_back.candidate.name == "李秀英"
    assert await count(sessions, Recommendation) == 0
    assert await count(sessions, Participation) == 0  # nothing left: free to go to the group meeting
    assert (await recommend(sessions, wang, election, Position.DIRECTOR, "张三", roll)).refusal is None


async def test_search_shows_name_group_and_age_never_the_phone(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    village_election = await opened(sessions, roll)
    party_election = await opened(sessions, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    [wang] = await villagers(sessions, roll, "王建国")
    assert village_election.id is not None and party_election.id is not None
    async with sessions() as session:
        found = await rec.search_candidates(session, wang, village_election.id, "王")
        party = await rec.search_candidates(session, wang, party_election.id, "钱", Position.SECRETARY)
        none = await rec.search_candidates(session, wang, party_election.id, "张", Position.SECRETARY)
        empty = await rec.search_candidates(session, wang, village_election.id, "  ")
        assert not session.in_transaction()
    # The searcher is left out (they recommend themselves with a button where allowed).
    assert [(m.name, m.group, m.age) for m in found.matches] == [("王建军", "二组", 68)]
    assert not hasattr(found.matches[0], "phone")
    assert [m.name for m in party.matches] == ["钱党员"]
    assert none.matches == ()
    assert empty.refusal is SearchRefusal.EMPTY_QUERY


# -------------------------------------------------------------------------------------- paper


async def test_paper_counts_import_and_tally_with_chat(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll, seats=SMALL)
    wang, zhang = await villagers(sessions, roll, "王建国", "张三")
    await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)
    await recommend(sessions, zhang, election, Position.DIRECTOR, "王建国", roll)
    imported = await import_rows(
        sessions,
        election,
        [
            row(2, "二组", "李秀英", 2, 3),
            row(3, "二组", "王建军", 1, 3),
            row(4, "2组", "张三", 2, 3, position="委员"),
        ],
    )
    assert imported.refusal is None and (imported.imported, imported.meetings) == (3, 1)
    assert election.id is not None
    async with sessions() as session:
        tally = await rec.tally_election(session, election.id)
        assert not session.in_transaction()
    assert tally is not None and tally.stage is CutStage.FORMAL and not tally.weighted_by_participants
    assert tally.participants[RecommendationRound.PUBLIC].chat == 2
    assert tally.participants[RecommendationRound.PUBLIC].paper == 3
    director = tally.positions[0]
    assert director.position is Position.DIRECTOR
    assert [(line.name, line.chat_total, line.paper_total, line.all_total) for line in director.lines] == [
        ("李秀英", 1, 2, 3),
        ("王建国", 1, 0, 1),
        ("王建军", 0, 1, 1),
    ]
    # ZJ: one seat, exactly two candidates; the second place is tied.
    assert director.cut.target == 2 and director.cut.problems == (CutProblem.TIE_AT_BOUNDARY,)
    assert [line.decision for line in director.lines] == [
        CutDecision.PASSED,
        CutDecision.TIED_AT_BOUNDARY,
        CutDecision.TIED_AT_BOUNDARY,
    ]
    assert not tally.ready


async def test_a_groups_paper_count_above_its_voters_is_refused_and_nothing_is_stored(
    sessions: SessionFactory,
) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    [li] = await villagers(sessions, roll, "李秀英")
    await recommend(sessions, li, election, Position.DIRECTOR, "王建军", roll)  # 二组 took part by chat
    outcome = await import_rows(
        sessions,
        election,
        [row(2, "一组", "张三", 3, 4), row(3, "二组", "李秀英", 3, 3)],  # 二组 has 3 voters, 1 by chat
    )
    assert outcome.refusal is PaperImportRefusal.PROBLEMS
    [problem] = outcome.problems
    assert (problem.line, problem.reason, problem.value) == (
        3,
        PaperProblemReason.PARTICIPANTS_ABOVE_REGISTERED,
        "二组",
    )
    assert problem.numbers == {"paper": 3, "chat": 1, "registered": 3}
    assert await count(sessions, PaperTally) == 0


async def test_paper_rows_are_checked_one_by_one(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    party = await opened(sessions, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    await make_village(sessions, "东山村", people=[{"name": "同名人", "group": "一组"}])
    outcome = await import_rows(
        sessions,
        election,
        [
            row(2, "三组", "张三", 1, 2),
            row(3, "一组", "无此人", 1, 2),
            row(4, "一组", "陈已迁", 1, 2),
            row(5, "一组", "张三", 3, 2),
            row(6, "一组", "张三", 1, 3, position="书记"),
            row(7, "一组", "王建国", 1, 2, day=date(2026, 11, 20)),
            row(8, "一组", "张三", 1, 2),
            row(9, "一组", "张三", 1, 3, position="委员"),
            row(10, "一组", "王建国", 2, 2),
        ],
    )
    assert outcome.refusal is PaperImportRefusal.PROBLEMS
    found = [(p.line, p.reason) for p in outcome.problems]
    assert found == [
        (2, PaperProblemReason.UNKNOWN_GROUP),
        (3, PaperProblemReason.UNKNOWN_PERSON),
        (4, PaperProblemReason.CANDIDATE_REFUSED),
        (5, PaperProblemReason.COUNT_ABOVE_PARTICIPANTS),
        (6, PaperProblemReason.UNKNOWN_POSITION),
        (7, PaperProblemReason.MEETING_OUTSIDE_WINDOW),
        (8, PaperProblemReason.COUNTS_ABOVE_QUOTA),
        (9, PaperProblemReason.PARTICIPANTS_DIFFER),
    ]
    removed = outcome.problems[2]
    assert removed.rule is RecommendationRefusal.CANDIDATE_REMOVED and removed.source is not None
    quota = outcome.problems[6]
    assert quota.numbers == {"votes": 3, "participants": 2, "quota": 1}
    duplicate = await import_rows(
        sessions, election, [row(2, "一组", "张三", 1, 2), row(3, "一组", "张三", 1, 2)]
    )
    assert [(p.line, p.reason, p.other_line) for p in duplicate.problems] == [
        (3, PaperProblemReason.DUPLICATE_LINE, 2)
    ]
    no_round = await import_rows(sessions, party, [row(2, "一组", "王建国", 1, 2, position="书记")])
    assert [p.reason for p in no_round.problems] == [PaperProblemReason.ROUND_MISSING]
    assert await count(sessions, PaperTally) == 0


async def test_same_names_are_told_apart_by_group(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    async with sessions() as session:
        from storage.models import Person

        twin = Person(village_id=roll.village.id or 0, group_id=roll.groups["二组"].id, name="张三")
        session.add(twin)
        await session.commit()
    ambiguous = await import_rows(sessions, election, [row(2, "一组", "张三", 1, 2)])
    assert [(p.reason, p.numbers) for p in ambiguous.problems] == [
        (PaperProblemReason.SAME_NAME, {"people": 2})
    ]
    told_apart = await import_rows(sessions, election, [row(2, "一组", "张三（二组）", 1, 2)])
    assert told_apart.refusal is None and told_apart.imported == 1


async def test_reimporting_a_meeting_replaces_it(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    first = await import_rows(
        sessions, election, [row(2, "一组", "张三", 1, 2), row(3, "一组", "王建国", 1, 2)]
    )
    assert first.refusal is None and first.replaced == 0
    again = await import_rows(sessions, election, [row(2, "一组", "张三", 2, 3)])
    assert again.refusal is None and again.replaced == 1
    assert await count(sessions, PaperTally) == 1


async def test_after_the_groups_meeting_chat_is_closed_to_those_who_had_not_taken_part(
    sessions: SessionFactory,
) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    wang, zhang = await villagers(sessions, roll, "王建国", "张三")
    assert (await recommend(sessions, wang, election, Position.MEMBER, "李秀英", roll)).refusal is None
    assert (await import_rows(sessions, election, [row(2, "一组", "李秀英", 2, 2)])).refusal is None
    late = await recommend(sessions, zhang, election, Position.DIRECTOR, "李秀英", roll)
    assert late.refusal is RecommendRefusal.GROUP_MET_ON_PAPER
    # Who took part by chat before the meeting may still complete their choices.
    assert (await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)).refusal is None


async def test_the_roster_lists_who_took_part_by_chat(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll, kind=ElectionKind.PARTY_TWO_PUSHES)
    wang, zhang = await villagers(sessions, roll, "王建国", "张三")
    await recommend(sessions, wang, election, Position.SECRETARY, "王建军", roll)
    await recommend(sessions, zhang, election, Position.SECRETARY, "王建军", roll)
    assert election.id is not None and roll.groups["一组"].id is not None
    async with sessions() as session:
        roster = await rec.participation_roster(session, election.id, roll.groups["一组"].id)
        assert not session.in_transaction()
    assert roster is not None
    assert roster.rounds == (RecommendationRound.PARTY, RecommendationRound.PUBLIC)
    assert [(line.name, sorted(r.value for r in line.by_chat)) for line in roster.lines] == [
        ("赵主任", []),
        ("王建国", ["party"]),
        ("张三", ["public"]),
        ("孙预备", []),
    ]
    assert roster.took_part(RecommendationRound.PARTY) == 1


async def test_party_rounds_are_weighted_per_participants(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(
        sessions, roll, kind=ElectionKind.PARTY_TWO_PUSHES, overrides={"party_round_weight": 2}
    )
    wang, li = await villagers(sessions, roll, "王建国", "李秀英")
    await recommend(sessions, wang, election, Position.SECRETARY, "王建军", roll)
    await recommend(sessions, li, election, Position.SECRETARY, "钱党员", roll)
    imported = await import_rows(
        sessions,
        election,
        [
            row(2, "二组", "钱党员", 1, 1, position="书记", round_=RecommendationRound.PUBLIC),
        ],
    )
    assert imported.refusal is None, imported.problems
    assert election.id is not None
    async with sessions() as session:
        tally = await rec.tally_election(session, election.id)
    assert tally is not None and tally.weighted_by_participants and tally.stage is CutStage.PRELIMINARY
    secretary = tally.positions[0]
    # 王建军: 2 x 1/1 of the party round; 钱党员: 1 x 2/2 of the public round.
    assert [(line.name, line.score) for line in secretary.lines] == [
        ("王建军", Fraction(2)),
        ("钱党员", Fraction(1)),
    ]
    assert secretary.lines[0].total(RecommendationRound.PARTY) == 1
    assert secretary.lines[1].chat == {RecommendationRound.PUBLIC: 1}
    assert secretary.lines[1].paper == {RecommendationRound.PUBLIC: 1}


# ----------------------------------------------------------------------------------- publish


def list_text(_election: Election) -> CandidateListText:
    labels = PublicityLabels(
        published_on="公示日期：{date}",
        objection_deadline="异议截止：{date}",
        no_objection_window="不设异议期",
        page="第 {page} / {pages} 页",
        fingerprint="指纹：{fingerprint}",
    )
    return CandidateListText(
        title="青山村候选人名单",
        summary=lambda counts: "；".join(f"{p.value} {n}" for p, n in counts),
        labels=labels,
        gender=lambda g: {"F": "女", "M": "男"}.get(g or "", ""),
        position=lambda p: p.value,
    )


def render(notice: Notice, recipient: Recipient) -> Sequence[MessagePayload]:
    return [MessagePayload(text=f"{notice.title} → {recipient.name}")]


def notify(recipient: Recipient, positions: Sequence[Position]) -> MessagePayload:
    return MessagePayload(text="ON THE LIST: " + ",".join(p.value for p in positions))


async def publish(
    sessions: SessionFactory, me: Me | None, election: Election, now: datetime, tmp_path: Path
) -> rec.CandidatePublishOutcome:
    assert election.id is not None
    async with sessions() as session:
        outcome = await rec.publish_candidates(
            session,
            me,
            election.id,
            text=list_text,
            render=render,
            notify=notify,
            out_dir=tmp_path,
            zone=ZONE,
            default_locale="zh_Hans",
            now=now,
        )
        assert not session.in_transaction()
    return outcome


async def test_publish_the_candidates_with_fingerprint_and_private_messages(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll, seats=SMALL)
    member = await committee(sessions, roll)
    voters = await villagers(sessions, roll, "王建国", "李秀英", "张三", "王建军")
    wang, li, zhang, jun = voters
    for who, director, members in (
        (wang, "李秀英", ("张三", "王建军")),
        (li, "李秀英", ("张三", "王建国")),
        (zhang, "王建国", ("王建军", "钱党员")),
        (jun, "李秀英", ("张三", "钱党员")),
    ):
        assert (await recommend(sessions, who, election, Position.DIRECTOR, director, roll)).refusal is None
        for name in members:
            assert (await recommend(sessions, who, election, Position.MEMBER, name, roll)).refusal is None

    still_open = await publish(sessions, member, election, IN_WINDOW, tmp_path)
    assert still_open.refusal is CandidatePublishRefusal.WINDOW_STILL_OPEN
    villager = await publish(sessions, wang, election, AFTER_WINDOW, tmp_path)
    assert villager.refusal is CandidatePublishRefusal.NOT_ALLOWED

    done = await publish(sessions, member, election, AFTER_WINDOW, tmp_path)
    assert done.refusal is None, done
    assert done.plist is not None and done.published is not None and done.published.notice is not None
    # Director: 李秀英 3, 王建国 1 (2 needed); members: 张三 3, 王建军 2, 钱党员 2 (3 needed).
    assert [r[1:3] for r in done.plist.rows] == [
        ("director", "李秀英"),
        ("director", "王建国"),
        ("member", "张三"),
        ("member", "王建军"),
        ("member", "钱党员"),
    ]
    assert (done.candidates, done.candidates_reached) == (5, 4)  # 钱党员 has not linked Telegram
    digest = done.plist.fingerprint()
    assert done.published.notice.fingerprint == digest
    assert done.published.notice.list_kind == "candidates"
    assert done.xlsx_path is not None and read_publicity_xlsx(done.xlsx_path).fingerprint() == digest
    assert done.plist.objection_deadline == date(2026, 11, 16)  # 5 days (OL 14, adopted for this list)
    async with sessions() as session:
        stored = await session.get(Election, election.id)
        notes = (await session.exec(select(Delivery).where(Delivery.payload.contains("ON THE LIST")))).all()  # type: ignore[attr-defined]
    assert stored is not None and stored.candidates_fingerprint == digest
    async with sessions() as session:
        listed = (await session.exec(select(ElectionCandidate).order_by(col(ElectionCandidate.id)))).all()
    assert [(c.position, c.stage, c.fingerprint) for c in listed] == [("director", "formal", digest)] * 2 + [
        ("member", "formal", digest)
    ] * 3
    assert stored.candidates_published_on == date(2026, 11, 11)
    assert len(notes) == 4

    twice = await publish(sessions, member, election, AFTER_WINDOW + timedelta(minutes=1), tmp_path)
    assert twice.refusal is CandidatePublishRefusal.NOTICE


async def test_publishing_refused_when_too_late_or_not_ready(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    roll = await village(sessions)
    election = await opened(
        sessions, roll, seats=SMALL, plan=schedule(day=date(2026, 11, 30), candidates=None)
    )
    [wang] = await villagers(sessions, roll, "王建国")
    await recommend(sessions, wang, election, Position.DIRECTOR, "李秀英", roll)
    not_ready = await publish(sessions, None, election, AFTER_WINDOW, tmp_path)
    assert not_ready.refusal is CandidatePublishRefusal.NOT_READY
    assert {(p, tuple(c.problems)) for p, c in not_ready.position_problems} == {
        (Position.DIRECTOR, (CutProblem.TOO_FEW_CANDIDATES,)),
        (Position.MEMBER, (CutProblem.TOO_FEW_CANDIDATES,)),
    }
    late = await publish(sessions, None, election, local(date(2026, 11, 27), 9), tmp_path)
    assert late.refusal is CandidatePublishRefusal.TOO_LATE
    [problem] = late.schedule_problems
    assert (problem.reason, problem.source and problem.source.cite) == (
        ScheduleProblemReason.CANDIDATE_LIST_TOO_LATE,
        "ZJ 18",
    )
