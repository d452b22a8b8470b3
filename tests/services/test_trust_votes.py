"""The trust vote (两票制): one ballot per voter, a receipt, and no way to link a ballot to a person."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.rules.trust import TrustDecision
from bot.services import trust_votes
from bot.services.trust_votes import TrustChoice, TrustRefusal
from storage.db import SessionFactory
from storage.models import Election, ElectionCandidate, TrustBallot, TrustMark, TrustVoter
from tests.factories import Roll
from tests.services.test_elections import ZONE, local, me_of, opened, village

DURING = local(date(2026, 11, 14), 10)
SEATS = {Position.SECRETARY: 1, Position.COMMITTEE_MEMBER: 2}
PRELIMINARY = [
    (Position.SECRETARY, "王建军"),
    (Position.SECRETARY, "钱党员"),
    (Position.COMMITTEE_MEMBER, "王建国"),
    (Position.COMMITTEE_MEMBER, "王建军"),
    (Position.COMMITTEE_MEMBER, "钱党员"),
]


def plan() -> Schedule:
    return Schedule(
        election_day=date(2026, 12, 20),
        recommendation=Window(local(date(2026, 11, 2)), local(date(2026, 11, 11))),
        trust_vote=Window(local(date(2026, 11, 13)), local(date(2026, 11, 16))),
        candidate_list_published=date(2026, 11, 20),
    )


async def two_ballot_election(sessions: SessionFactory, roll: Roll) -> Election:
    """Opened, with its preliminary candidates published (written as publish_candidates does)."""
    election = await opened(sessions, roll, kind=ElectionKind.PARTY_TWO_BALLOTS, seats=SEATS, plan=plan())
    assert election.id is not None
    async with sessions() as session:
        for position, name in PRELIMINARY:
            session.add(
                ElectionCandidate(
                    election_id=election.id,
                    position=position.value,
                    person_id=roll.people[name].id or 0,
                    stage="preliminary",
                    fingerprint="0" * 64,
                )
            )
        await session.commit()
    return election


def all_marks(roll: Roll, choice: TrustChoice = TrustChoice.TRUST) -> dict[int, TrustChoice]:
    return {roll.people[name].id or 0: choice for name in ("王建军", "钱党员", "王建国")}


async def cast(
    sessions: SessionFactory,
    me: trust_votes.Me,
    election: Election,
    marks: dict[int, TrustChoice],
    now: datetime = DURING,
) -> trust_votes.CastOutcome:
    assert election.id is not None
    async with sessions() as session:
        outcome = await trust_votes.cast_trust_ballot(session, me, election.id, marks, now=now, zone=ZONE)
        assert not session.in_transaction()
    return outcome


async def test_one_ballot_per_voter_with_a_receipt(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await two_ballot_election(sessions, roll)
    li = await me_of(sessions, 201, roll.people["李秀英"])
    assert election.id is not None
    async with sessions() as session:
        form = await trust_votes.trust_ballot_form(session, li, election.id, DURING)
        assert not session.in_transaction()
    # One mark per person, even when they stand for two positions.
    assert [(c.name, c.positions) for c in form.candidates] == [
        ("王建军", (Position.SECRETARY, Position.COMMITTEE_MEMBER)),
        ("钱党员", (Position.SECRETARY, Position.COMMITTEE_MEMBER)),
        ("王建国", (Position.COMMITTEE_MEMBER,)),
    ]
    done = await cast(sessions, li, election, all_marks(roll))
    assert done.refusal is None and done.receipt is not None and done.cast_on == date(2026, 11, 14)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", done.receipt)
    again = await cast(sessions, li, election, all_marks(roll, TrustChoice.NO_TRUST))
    assert again.refusal is TrustRefusal.ALREADY_VOTED
    async with sessions() as session:
        ballots = (await session.exec(select(TrustBallot))).all()
        marks = (await session.exec(select(TrustMark))).all()
        form = await trust_votes.trust_ballot_form(session, li, election.id, DURING)
        counted = await trust_votes.check_receipt(session, election.id, done.receipt.lower().replace("-", ""))
        unknown = await trust_votes.check_receipt(session, election.id, "2222-2222")
    assert len(ballots) == 1 and {m.choice for m in marks} == {"trust"} and len(marks) == 3
    assert form.refusal is TrustRefusal.ALREADY_VOTED
    assert counted == date(2026, 11, 14) and unknown is None


async def test_refusals(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await two_ballot_election(sessions, roll)
    li = await me_of(sessions, 201, roll.people["李秀英"])
    too_young = await me_of(sessions, 202, roll.people["小明"], phone="+8613700000009")
    nobody = await me_of(sessions, 203, None, phone="+8613700000010")
    marks = all_marks(roll)
    assert (await cast(sessions, li, election, marks, local(date(2026, 11, 12), 23))).refusal is (
        TrustRefusal.WINDOW_NOT_OPEN
    )
    assert (
        await cast(sessions, li, election, marks, local(date(2026, 11, 16)))
    ).refusal is TrustRefusal.WINDOW_CLOSED
    incomplete = dict(list(marks.items())[:2])
    assert (await cast(sessions, li, election, incomplete)).refusal is TrustRefusal.INCOMPLETE
    stranger = {**marks, roll.people["张三"].id or 0: TrustChoice.TRUST}
    assert (await cast(sessions, li, election, stranger)).refusal is TrustRefusal.INCOMPLETE
    assert (await cast(sessions, too_young, election, marks)).refusal is TrustRefusal.NOT_A_VOTER
    assert (await cast(sessions, nobody, election, marks)).refusal is TrustRefusal.NOT_BOUND
    village_election = await opened(sessions, roll)
    assert (await cast(sessions, li, village_election, marks)).refusal is TrustRefusal.NOT_TWO_BALLOTS
    async with sessions() as session:
        assert (await session.exec(select(TrustBallot))).all() == []
        assert (await session.exec(select(TrustVoter))).all() == []


async def test_counting_and_the_threshold(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await two_ballot_election(sessions, roll)
    jun, qian, guo = (roll.people[n].id or 0 for n in ("王建军", "钱党员", "王建国"))
    ballots = [
        {jun: TrustChoice.TRUST, qian: TrustChoice.TRUST, guo: TrustChoice.NO_TRUST},
        {jun: TrustChoice.TRUST, qian: TrustChoice.ABSTAIN, guo: TrustChoice.TRUST},
        {jun: TrustChoice.TRUST, qian: TrustChoice.NO_TRUST, guo: TrustChoice.TRUST},
        {jun: TrustChoice.NO_TRUST, qian: TrustChoice.TRUST, guo: TrustChoice.ABSTAIN},
    ]
    for index, (name, marks) in enumerate(zip(("李秀英", "张三", "赵主任", "王建国"), ballots, strict=True)):
        voter = await me_of(sessions, 300 + index, roll.people[name])
        assert (await cast(sessions, voter, election, marks)).refusal is None
    assert election.id is not None
    async with sessions() as session:
        tally = await trust_votes.count_trust_votes(session, election.id)
        assert not session.in_transaction()
    assert tally is not None and (tally.ballots_cast, tally.voters, tally.registered_voters) == (4, 4, 7)
    secretary = next(p for p in tally.positions if p.position is Position.SECRETARY)
    # More than half of the 4 ballots cast (the default, a journal abstract): 3 passes, 2 does not.
    assert [
        (tally.names[line.candidate_id], line.trust, line.decision) for line in secretary.outcome.lines
    ] == [
        ("王建军", 3, TrustDecision.PASSED),
        ("钱党员", 2, TrustDecision.BELOW_THRESHOLD),
    ]
    members = next(p for p in tally.positions if p.position is Position.COMMITTEE_MEMBER)
    assert {tally.names[c] for c in members.outcome.passed} == {"王建军"}


async def test_nothing_links_a_ballot_to_a_voter(sessions: SessionFactory, engine: AsyncEngine) -> None:
    """No column of a ballot names a person, an account or a moment; ids are random, not ordered."""
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {
                t: {c["name"] for c in inspect(sync).get_columns(t)}
                for t in ("trust_ballot", "trust_mark", "trust_voter")
            }
        )
        foreign = await connection.run_sync(
            lambda sync: {
                t: [fk["referred_table"] for fk in inspect(sync).get_foreign_keys(t)]
                for t in ("trust_ballot", "trust_voter")
            }
        )
    assert columns["trust_ballot"] == {"id", "election_id", "cast_on", "receipt_hash"}
    assert columns["trust_mark"] == {"ballot_id", "candidate_person_id", "choice"}
    assert columns["trust_voter"] == {"election_id", "person_id"}
    assert foreign == {"trust_ballot": ["election"], "trust_voter": sorted(foreign["trust_voter"])}
    assert "trust_ballot" not in foreign["trust_voter"]

    roll = await village(sessions)
    election = await two_ballot_election(sessions, roll)
    voters = ("李秀英", "张三", "赵主任", "王建国", "王建军")
    for index, name in enumerate(voters):
        me = await me_of(sessions, 400 + index, roll.people[name])
        assert (await cast(sessions, me, election, all_marks(roll))).refusal is None
    async with sessions() as session:
        ids = [b.id for b in (await session.exec(select(TrustBallot))).all()]
    assert len(set(ids)) == 5 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
