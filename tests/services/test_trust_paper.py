"""The trust vote on paper (两票制 at group meetings), counted with the chat ballots, and the formal
candidate list published from it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import select

from bot.files.tally import TrustTallyRow
from bot.rules.policy import Position
from bot.rules.trust import TrustDecision, TrustProblem
from bot.services import trust_votes
from bot.services.recommendations import PaperProblemReason
from bot.services.trust_votes import FormalPublishRefusal, TrustPaperRefusal
from storage.db import SessionFactory
from storage.models import ElectionCandidate, Notice, TrustPaperCount
from tests.services.test_elections import ZONE, committee, local, me_of, opened, village
from tests.services.test_recommendations import list_text, notify, render
from tests.services.test_trust_votes import DURING, all_marks, cast, two_ballot_election

MEETING = date(2026, 11, 14)
AFTER = local(date(2026, 11, 17), 9)


def row(
    line: int,
    name: str,
    trust: int,
    no_trust: int,
    abstain: int,
    ballots: int,
    group: str = "一组",
    day: date = MEETING,
) -> TrustTallyRow:
    return TrustTallyRow(line, group, day, name, trust, no_trust, abstain, ballots)


# 一组 has 4 registered voters, 二组 3 (李秀英 of 二组 votes by chat below).
GOOD = [
    row(2, "王建军", 3, 1, 0, 4),
    row(3, "钱党员", 3, 0, 1, 4),
    row(4, "王建国", 4, 0, 0, 4),
    row(5, "王建军", 2, 0, 0, 2, group="二组"),
    row(6, "钱党员", 1, 1, 0, 2, group="二组"),
    row(7, "王建国", 2, 0, 0, 2, group="二组"),
]


async def _import(
    sessions: SessionFactory, election_id: int, rows: list[TrustTallyRow]
) -> trust_votes.TrustPaperOutcome:
    async with sessions() as session:
        outcome = await trust_votes.import_trust_paper(session, election_id, rows, zone=ZONE, now=DURING)
        assert not session.in_transaction()
    return outcome


async def test_paper_trust_votes_are_checked_whole_then_counted_with_the_chat_ballots(
    sessions: SessionFactory,
) -> None:
    roll = await village(sessions)
    election = await two_ballot_election(sessions, roll)
    assert election.id is not None
    li = await me_of(sessions, 201, roll.people["李秀英"])
    assert (await cast(sessions, li, election, all_marks(roll))).refusal is None

    bad = [
        row(2, "王建军", 3, 1, 0, 4),
        row(3, "钱党员", 3, 1, 1, 4),  # 5 marks on 4 ballots
        row(4, "王建国", 4, 0, 0, 5),  # the same meeting says 4 above
        row(5, "张三", 1, 0, 0, 4),  # not a preliminary candidate
        row(6, "王建军", 1, 0, 0, 1, group="九组"),
        row(7, "王建军", 1, 0, 0, 1, day=date(2026, 11, 20)),  # after the trust vote
        row(8, "王建军", 3, 0, 0, 3, group="二组"),  # 3 on paper + 1 by chat > 3 registered
        row(9, "王建军", 3, 1, 0, 4),  # the same meeting and person as row 2
    ]
    refused = await _import(sessions, election.id, bad)
    assert refused.refusal is TrustPaperRefusal.PROBLEMS
    assert [(p.line, p.reason) for p in refused.problems] == [
        (3, PaperProblemReason.MARKS_ABOVE_BALLOTS),
        (4, PaperProblemReason.BALLOTS_DIFFER),
        (5, PaperProblemReason.NOT_A_CANDIDATE),
        (6, PaperProblemReason.UNKNOWN_GROUP),
        (7, PaperProblemReason.MEETING_OUTSIDE_TRUST_WINDOW),
        (9, PaperProblemReason.DUPLICATE_LINE),
    ]
    assert refused.problems[0].numbers == {"marks": 5, "ballots": 4}
    # Once the rows themselves are right, the groups' voters are checked: nobody votes twice.
    too_many = await _import(sessions, election.id, [row(8, "王建军", 3, 0, 0, 3, group="二组")])
    assert [(p.line, p.reason, dict(p.numbers)) for p in too_many.problems] == [
        (8, PaperProblemReason.PARTICIPANTS_ABOVE_REGISTERED, {"paper": 3, "chat": 1, "registered": 3})
    ]
    async with sessions() as session:
        assert (await session.exec(select(TrustPaperCount))).all() == []

    done = await _import(sessions, election.id, GOOD)
    assert (done.refusal, done.imported, done.meetings, done.replaced) == (None, 6, 2, 0)
    async with sessions() as session:
        tally = await trust_votes.count_trust_votes(session, election.id)
    assert tally is not None
    assert (tally.ballots_cast, tally.chat_ballots, tally.paper_ballots, tally.registered_voters) == (
        7,
        1,
        6,
        7,
    )
    jun = roll.people["王建军"].id or 0
    assert (tally.chat[jun].trust, tally.paper[jun].trust, tally.paper[jun].no_trust) == (1, 5, 1)
    secretary = next(p for p in tally.positions if p.position is Position.SECRETARY)
    # More than half of the 7 ballots: 4 is the fewest that passes.
    assert [
        (tally.names[line.candidate_id], line.trust, line.needed, line.decision)
        for line in secretary.outcome.lines
    ] == [
        ("王建军", 6, 4, TrustDecision.PASSED),
        ("钱党员", 5, 4, TrustDecision.PASSED),
    ]

    # 一组 meets again (the first count was wrong): its meeting is replaced, 二组's kept.
    again = await _import(sessions, election.id, [row(2, "王建军", 1, 3, 0, 4), *GOOD[1:3]])
    assert (again.imported, again.meetings, again.replaced) == (3, 1, 1)
    async with sessions() as session:
        tally = await trust_votes.count_trust_votes(session, election.id)
    assert tally is not None and tally.ballots_cast == 7 and tally.paper[jun].trust == 3


async def test_the_formal_list_comes_out_of_the_trust_vote(sessions: SessionFactory, tmp_path: Path) -> None:
    roll = await village(sessions)
    election = await two_ballot_election(sessions, roll)
    assert election.id is not None
    member = await committee(sessions, roll)
    li = await me_of(sessions, 201, roll.people["李秀英"])
    assert (await cast(sessions, li, election, all_marks(roll))).refusal is None
    weak = [row(2, "王建军", 3, 1, 0, 4), row(3, "钱党员", 0, 4, 0, 4), row(4, "王建国", 4, 0, 0, 4)]
    assert (await _import(sessions, election.id, weak)).refusal is None

    async def publish(me: trust_votes.Me | None, now: object = AFTER) -> trust_votes.FormalPublishOutcome:
        assert election.id is not None
        async with sessions() as session:
            outcome = await trust_votes.publish_formal_candidates(
                session,
                me,
                election.id,
                text=list_text,
                render=render,
                notify=notify,
                out_dir=tmp_path,
                zone=ZONE,
                default_locale="zh_Hans",
                now=now,  # type: ignore[arg-type]
            )
            assert not session.in_transaction()
        return outcome

    assert (await publish(member, DURING)).refusal is FormalPublishRefusal.VOTE_NOT_OVER
    assert (await publish(li)).refusal is FormalPublishRefusal.NOT_ALLOWED
    # 钱党员 has 1 of 5 ballots: the secretary would have one candidate for one seat, no margin.
    not_ready = await publish(member)
    assert not_ready.refusal is FormalPublishRefusal.NOT_READY
    assert [(p, o.problems, o.min_formal_candidates) for p, o in not_ready.position_problems] == [
        (Position.SECRETARY, (TrustProblem.TOO_FEW_FORMAL_CANDIDATES,), 2),
        (Position.COMMITTEE_MEMBER, (TrustProblem.TOO_FEW_FORMAL_CANDIDATES,), 3),
    ]
    village_election = await opened(sessions, roll)
    assert village_election.id is not None
    async with sessions() as session:
        other = await trust_votes.publish_formal_candidates(
            session,
            member,
            village_election.id,
            text=list_text,
            render=render,
            notify=notify,
            out_dir=tmp_path,
            zone=ZONE,
            default_locale="zh_Hans",
            now=AFTER,
        )
    assert other.refusal is FormalPublishRefusal.NOT_TWO_BALLOTS

    # The group meets again and 钱党员 is trusted after all.
    assert (await _import(sessions, election.id, GOOD[:3])).replaced == 1
    done = await publish(member)
    assert done.refusal is None and done.published is not None
    assert done.published.candidates == 3
    assert [r[2] for r in done.published.plist.rows] == ["王建军", "钱党员", "王建国", "王建军", "钱党员"]
    async with sessions() as session:
        stored = (await session.exec(select(ElectionCandidate))).all()
        notice = (await session.exec(select(Notice))).one()
    by_stage = {
        stage: sorted(c.person_id for c in stored if c.stage == stage) for stage in ("preliminary", "formal")
    }
    assert by_stage["preliminary"] == by_stage["formal"]  # everyone passed: both lists kept, alike
    assert {c.fingerprint for c in stored if c.stage == "formal"} == {done.published.plist.fingerprint()}
    assert notice.fingerprint == done.published.plist.fingerprint() and notice.list_kind == "candidates"
    # The trust ballot still shows the preliminary list, once per person.
    zhang = await me_of(sessions, 202, roll.people["张三"])
    async with sessions() as session:
        form = await trust_votes.trust_ballot_form(session, zhang, election.id, DURING)
    assert [c.name for c in form.candidates] == ["王建军", "钱党员", "王建国"]
    twice = await publish(member)
    assert twice.refusal is FormalPublishRefusal.NOTICE
