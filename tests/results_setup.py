"""A village committee election with its formal candidate list, written straight into the tables,
for the results tests (services and end-to-end)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.rules.policy import Position
from bot.services.results import PositionCount, TallyInput, VoteLine
from storage.db import SessionFactory
from storage.models import Election, ElectionCandidate, ElectionPosition
from tests.factories import Roll, make_village

DIRECTOR = [("王伟", "M"), ("李娜", "F")]
MEMBERS = [("张强", "M"), ("刘芳", "F"), ("陈明", "M")]
VOTERS = 20  # registered voters on the roll, candidates included


def people(phones: dict[str, str] | None = None) -> list[dict[str, object]]:
    phones = phones or {}
    listed = [*DIRECTOR, *MEMBERS]
    out: list[dict[str, object]] = [
        {"name": name, "gender": gender, "group": "一组", "phone": phones.get(name)}
        for name, gender in listed
    ]
    for n in range(VOTERS - len(listed)):
        name = f"村民{n:02d}"
        out.append(
            {"name": name, "gender": "M" if n % 2 else "F", "group": "二组", "phone": phones.get(name)}
        )
    return out


@dataclass
class ResultsElection:
    roll: Roll
    election: Election

    @property
    def id(self) -> int:
        assert self.election.id is not None
        return self.election.id


async def results_election(
    sessions: SessionFactory, phones: dict[str, str] | None = None, *, name: str = "青山村"
) -> ResultsElection:
    roll = await make_village(sessions, name, people=people(phones))
    assert roll.village.id is not None
    async with sessions() as session:
        election = Election(
            village_id=roll.village.id,
            kind="village_committee",
            province="zj",
            title="第十二届村民委员会选举",
            status="open",
            election_day=date(2026, 12, 20),
        )
        session.add(election)
        await session.flush()
        assert election.id is not None
        session.add(ElectionPosition(election_id=election.id, position=Position.DIRECTOR.value, seats=1))
        session.add(ElectionPosition(election_id=election.id, position=Position.MEMBER.value, seats=2))
        for position, names in ((Position.DIRECTOR, DIRECTOR), (Position.MEMBER, MEMBERS)):
            for person_name, _gender in names:
                session.add(
                    ElectionCandidate(
                        election_id=election.id,
                        position=position.value,
                        person_id=roll.people[person_name].id or 0,
                        stage="formal",
                        fingerprint="0" * 64,
                    )
                )
        await session.commit()
    return ResultsElection(roll, election)


def good_tally() -> TallyInput:
    """16 of 20 voted: valid. 王伟 11 of 16 (more than half) is director; members: 张强 12, 刘芳 9
    (more than 8), 陈明 8 (exactly half: fails, OL 15 ¶2); a write-in 赵六 with 2."""
    return TallyInput(
        positions=[
            PositionCount(
                Position.DIRECTOR, issued=18, returned=16, valid=15, invalid=1,
                votes=[VoteLine("王伟", 11), VoteLine("李娜", 4)],
            ),
            PositionCount(
                Position.MEMBER, issued=18, returned=16, valid=16, invalid=0,
                votes=[
                    VoteLine("张强", 12), VoteLine("刘芳", 9), VoteLine("陈明", 8),
                    VoteLine("赵六", 2, write_in=True),
                ],
            ),
        ]
    )  # fmt: skip


def expected_document(village: str, township: str, election_id: int, version: int = 1) -> dict[str, object]:
    """The canonical tally of `good_tally`, written out by hand (not by the code under test)."""
    return {
        "document": "cunmin.results",
        "v": 1,
        "village": village,
        "township": township,
        "election_id": election_id,
        "election": "第十二届村民委员会选举",
        "round": "first",
        "version": version,
        "registered": VOTERS,
        "present": None,
        "positions": [
            {
                "position": "director", "seats": 1, "issued": 18, "returned": 16, "valid": 15, "invalid": 1,
                "votes": [
                    {"name": "王伟", "votes": 11, "write_in": False},
                    {"name": "李娜", "votes": 4, "write_in": False},
                ],
            },
            {
                "position": "member", "seats": 2, "issued": 18, "returned": 16, "valid": 16, "invalid": 0,
                "votes": [
                    {"name": "张强", "votes": 12, "write_in": False},
                    {"name": "刘芳", "votes": 9, "write_in": False},
                    {"name": "陈明", "votes": 8, "write_in": False},
                    {"name": "赵六", "votes": 2, "write_in": True},
                ],
            },
        ],
    }  # fmt: skip
