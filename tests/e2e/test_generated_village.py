"""A whole election in a generated village of 300 people (Faker's zh_CN names, six villagers' groups),
through the emulator: some villagers take part by chat, the rest at their group's paper meeting.

- Two pushes, one election (两推一选): party members and villagers recommend in their rounds by chat,
  the groups' paper counts come in from the shell, the committee tallies and publishes the
  preliminary candidates; a villager's spreadsheet gives back the list's fingerprint.
- The two-ballot system (两票制): villagers cast trust ballots by chat and get receipts, the groups'
  paper trust votes come in from the shell (the roster tells who already voted by chat), the
  committee publishes the formal candidates; the database holds nothing that joins a ballot to a voter.

Everyone speaks English here, so the assertions hold whatever the Chinese catalogs say.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import inspect, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.files.publicity import read_publicity_xlsx
from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.services.elections import create_election, open_election
from bot.services.identity import RoleName
from bot.services.roles import grant_role
from bot.services.roll import import_roll
from bot.services.trust_votes import receipt_hash
from bot.services.villages import add_village
from sandbox.demo import DemoPerson, generate_roll
from sandbox.world import ChatEvent, SimUser
from storage.db import SessionFactory
from storage.models import (
    Election,
    ElectionCandidate,
    Person,
    TrustBallot,
    TrustMark,
    TrustVoter,
    VillagerGroup,
)
from storage.repositories import elections as elections_repo
from tests.e2e.conftest import Harness

ZONE = ZoneInfo("Asia/Shanghai")
DAYS = timedelta(days=1)


@dataclass
class Village:
    id: int
    people: list[Person]
    groups: dict[int, str]
    member: DemoPerson

    def group_of(self, person: Person) -> str:
        return self.groups[person.group_id or 0]


def _cli(database_url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(data_dir),
        "COLUMNS": "250",
    }
    result = CliRunner().invoke(cli_app, list(args), env=env)
    return result.exit_code, result.output


async def _generated_village(sessions: SessionFactory) -> Village:
    """300 people from the sandbox's generator, imported as a committee imports its roll."""
    now = datetime.now(UTC)
    roll = generate_roll(size=300, seed=7, election_year=now.year)
    async with sessions() as session:
        added = await add_village(session, name="青山村", township="城关镇", county=None, province="ZJ")
    assert added.village is not None and added.village.id is not None
    village_id = added.village.id
    async with sessions() as session:
        imported = await import_roll(session, village_id, roll.rows(), now=now)
    assert imported.refusal is None, imported
    member = next(p for p in roll.people if p.phone and not p.party_member)
    assert member.phone is not None
    async with sessions() as session:
        granted = await grant_role(session, village_id, member.phone, RoleName.COMMITTEE, now=now)
    assert granted.refusal is None
    async with sessions() as session:
        people = list(
            (
                await session.exec(
                    select(Person).where(Person.village_id == village_id).order_by(col(Person.id))
                )
            ).all()
        )
        groups = {g.id or 0: g.name for g in (await session.exec(select(VillagerGroup))).all()}
    return Village(village_id, people, groups, member)


def _unique(village: Village, people: list[Person]) -> list[Person]:
    """People whose name nobody else in the village has (a paper sheet then needs no group hint)."""
    names = Counter(p.name for p in village.people)
    return [p for p in people if names[p.name] == 1]


async def _link(harness: Harness, person: Person) -> SimUser:
    assert person.phone is not None
    user = harness.emu.create_user(f"user {person.id}", language_code="en")
    await harness.emu.user_shares_contact(user, person.phone.removeprefix("+"))
    greeting = await harness.emu.wait_for(user)
    assert person.name in greeting.content, greeting.content
    return user


async def _press(harness: Harness, user: SimUser, message: ChatEvent, label: str) -> ChatEvent:
    await harness.emu.user_presses(user, message, text=label)
    return await harness.emu.wait_for(user, include_edits=False)


def _button(message: ChatEvent, starts: str) -> str:
    found = [b for b in message.button_texts if b.startswith(starts)]
    assert len(found) == 1, (starts, message.button_texts)
    return found[0]


async def _recommend(
    harness: Harness, village: Village, user: SimUser, choices: list[tuple[str, Person]]
) -> None:
    positions = await harness.say(user, "/recommend")
    for number, (position, candidate) in enumerate(choices):
        asked = await _press(harness, user, positions, _button(positions, position))
        assert asked.content.startswith("Whom do you recommend as")
        matches = await harness.say(user, candidate.name)
        done = await _press(
            harness, user, matches, _button(matches, f"{candidate.name} · {village.group_of(candidate)}")
        )
        assert done.content.startswith(f"✅ Recorded: you recommend {candidate.name} as"), done.content
        if number < len(choices) - 1:
            positions = await _press(harness, user, done, "➕ Recommend someone else")


async def _opened_election(
    sessions: SessionFactory,
    village: Village,
    kind: ElectionKind,
    title: str,
    schedule: Schedule,
    *,
    created_at: datetime,
) -> int:
    """A party branch election (secretary 1, branch committee 2), created earlier and open now."""
    async with sessions() as session:
        created = await create_election(
            session,
            None,
            village_id=village.id,
            kind=kind,
            title=title,
            schedule=schedule,
            seats={Position.SECRETARY: 1, Position.COMMITTEE_MEMBER: 2},
            overrides={},
            now=created_at,
            zone=ZONE,
        )
    assert created.election is not None and created.election.id is not None, created
    async with sessions() as session:
        opened = await open_election(session, None, created.election.id, now=datetime.now(UTC))
    assert opened.election is not None, opened
    return created.election.id


def _share(people: int, tenths: int) -> int:
    """`tenths` in ten of `people`, rounded up (whole numbers: no floating point)."""
    return -(-people * tenths // 10)


def _sheet(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    for values in rows:
        workbook.active.append(values)
    workbook.save(path)
    return path


async def test_two_pushes_one_election_in_a_village_of_three_hundred(
    harness: Harness, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    village = await _generated_village(sessions)
    today = datetime.now(ZONE).date()
    now = datetime.now(UTC)
    election_id = await _opened_election(
        sessions,
        village,
        ElectionKind.PARTY_TWO_PUSHES,
        "Qingshan branch election",
        Schedule(election_day=today + 40 * DAYS, recommendation=Window(now - DAYS, now + 5 * DAYS)),
        created_at=now - 2 * DAYS,
    )

    full = [
        p for p in village.people if p.party_member and p.party_status != "probationary" and p.eligible_voter
    ]
    candidates = _unique(village, [p for p in full if p.phone])
    a, b, c, d, e = candidates[:5]  # secretary: a, b; branch committee: c, d, e
    party_chat = [p for p in full if p.phone and p not in (a, b, c, d, e)][:6]
    public_chat = [
        p
        for p in village.people
        if p.phone and p.phone != village.member.phone and not p.party_member and p.eligible_voter
    ][:18]
    assert len(party_chat) == 6 and len(public_chat) == 18

    secretary, member = "Party secretary (", "Branch committee member ("
    users: dict[int, SimUser] = {}
    for n, person in enumerate(party_chat):
        user = await _link(harness, person)
        await _recommend(harness, village, user, [(secretary, a), (member, c), (member, d if n < 4 else e)])
    for n, person in enumerate(public_chat):
        user = users[person.id or 0] = await _link(harness, person)
        choice = [(secretary, a if n < 10 else b), (member, c if n < 10 else d), (member, d if n < 10 else e)]
        await _recommend(harness, village, user, choice)

    # Each group's paper meeting: everyone of the group who did not take part by chat.
    async with sessions() as session:
        party_voters = await elections_repo.registered_by_group(session, village.id, party_members_only=True)
        voters = await elections_repo.registered_by_group(session, village.id, party_members_only=False)
        chat = await elections_repo.chat_participants(session, election_id)
        await session.commit()
    rows: list[list[object]] = []
    party_paper = public_paper = 0
    for group_id, name in sorted(village.groups.items()):
        at_party = party_voters.get(group_id, 0) - chat.get(("party", group_id), 0)
        at_public = (
            voters.get(group_id, 0) - party_voters.get(group_id, 0) - chat.get(("public", group_id), 0)
        )
        party_paper += at_party
        public_paper += at_public
        if at_party:
            rows += [
                [name, today.isoformat(), "书记", "党员推荐", a.name, at_party, at_party],
                [name, today.isoformat(), "委员", "党员推荐", c.name, at_party, at_party],
                [name, today.isoformat(), "委员", "党员推荐", d.name, at_party, at_party],
            ]
        # Whole numbers only: 6 in 10 of the meeting for a, the other 4 for b, and so on.
        rows += [
            [name, today.isoformat(), "书记", "群众推荐", a.name, _share(at_public, 6), at_public],
            [
                name,
                today.isoformat(),
                "书记",
                "群众推荐",
                b.name,
                at_public - _share(at_public, 6),
                at_public,
            ],
            [name, today.isoformat(), "委员", "群众推荐", c.name, _share(at_public, 7), at_public],
            [name, today.isoformat(), "委员", "群众推荐", d.name, _share(at_public, 6), at_public],
            [name, today.isoformat(), "委员", "群众推荐", e.name, at_public // 2, at_public],
        ]
    counts = _sheet(
        tmp_path / "counts.xlsx", ["村民小组", "会议日期", "职位", "轮次", "姓名", "票数", "参会人数"], rows
    )
    code, output = await asyncio.to_thread(
        _cli, database_url, tmp_path, "tally", "import", str(counts), "--election", str(election_id)
    )
    assert code == 0 and f"Imported {len(rows)} counts" in output, output

    committee = await _link(harness, next(p for p in village.people if p.phone == village.member.phone))
    tally = await harness.say(committee, "/tally")
    assert f"Taken part in the party members' round: 6 by chat, {party_paper} on paper" in tally.content
    assert f"Taken part in the villagers' round: 18 by chat, {public_paper} on paper" in tally.content
    assert re.search(rf"1\. ✅ {a.name} \(", tally.content) and re.search(
        rf"2\. ✅ {b.name} \(", tally.content
    )

    async with sessions() as session:
        await session.exec(
            update(Election)
            .where(col(Election.id) == election_id)
            .values(recommendation_closes=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    await harness.emu.user_presses(committee, tally, text="📋 Publish the candidate list")
    published = await harness.emu.wait_for(
        committee, lambda m: m.content.startswith("Published:"), timeout=30
    )
    assert "Published: 5 candidates." in published.content, published.content
    stated = re.search(r"[0-9a-f]{64}", published.content)
    assert stated is not None

    spreadsheet = await harness.emu.wait_for(
        users[public_chat[0].id or 0],
        lambda m: m.document is not None and m.document.file_name.endswith(".xlsx"),
        timeout=30,
    )
    assert spreadsheet.document is not None
    received = tmp_path / "received.xlsx"
    received.write_bytes(harness.emu.file_bytes(spreadsheet.document.file_id))
    plist = read_publicity_xlsx(received)
    assert plist.fingerprint() == stated.group(0)
    assert [(row[1], row[2]) for row in plist.rows] == [
        ("Party secretary", a.name),
        ("Party secretary", b.name),
        ("Branch committee member", c.name),
        ("Branch committee member", d.name),
        ("Branch committee member", e.name),
    ]


async def test_two_ballots_trust_vote_by_chat_and_on_paper_then_the_formal_list(
    harness: Harness, sessions: SessionFactory, engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    village = await _generated_village(sessions)
    today = datetime.now(ZONE).date()
    now = datetime.now(UTC)
    election_id = await _opened_election(
        sessions,
        village,
        ElectionKind.PARTY_TWO_BALLOTS,
        "Qingshan two-ballot election",
        Schedule(
            election_day=today + 30 * DAYS,
            recommendation=Window(now - 3 * DAYS, now - 2 * DAYS),
            trust_vote=Window(now - DAYS, now + 2 * DAYS),
        ),
        created_at=now - 4 * DAYS,
    )
    full = [
        p for p in village.people if p.party_member and p.party_status != "probationary" and p.eligible_voter
    ]
    a, b, f, c, d, e, g = _unique(village, full)[:7]  # f and g will not be trusted
    preliminary = [(Position.SECRETARY, p) for p in (a, b, f)] + [
        (Position.COMMITTEE_MEMBER, p) for p in (c, d, e, g)
    ]
    async with sessions() as session:
        for position, person in preliminary:
            session.add(
                ElectionCandidate(
                    election_id=election_id,
                    position=position.value,
                    person_id=person.id or 0,
                    stage="preliminary",
                    fingerprint="0" * 64,
                )
            )
        await session.commit()

    trusted = {a.id, b.id, c.id, d.id, e.id}
    standing = {x.id for x in (a, b, c, d, e, f, g)}
    voters = [
        p
        for p in village.people
        if p.phone and p.phone != village.member.phone and p.eligible_voter and p.id not in standing
    ][:20]
    receipts: list[str] = []  # in the order the villagers voted
    for person in voters:
        user = await _link(harness, person)
        intro = await harness.say(user, "/trust")
        assert intro.content.startswith("Trust vote for “Qingshan two-ballot election”")
        ballot = await harness.emu.wait_for(user, lambda m: "candidate 1 of 7" in m.content)
        for number in range(7):
            named = next(p for _, p in preliminary if f"{p.name} (" in ballot.content)
            ballot = await _press(harness, user, ballot, "👍 Trust" if named.id in trusted else "👎 No trust")
            assert number == 6 or f"candidate {number + 2} of 7" in ballot.content
        done = await _press(harness, user, ballot, "✅ Submit my ballot")
        found = re.search(r"Receipt code: ([2-9A-Z]{4}-[2-9A-Z]{4})", done.content)
        assert found is not None, done.content
        receipts.append(found.group(1))
    checked = await harness.say(user, f"/receipt {receipts[3]}")
    assert checked.content.startswith(f"The ballot with receipt {receipts[3]} is in the count")

    # The roster before a group's meeting marks who voted by chat: they get no paper ballot.
    group_id = voters[0].group_id or 0
    roster = tmp_path / "roster.xlsx"
    code, output = await asyncio.to_thread(
        _cli,
        database_url,
        tmp_path,
        "tally",
        "roster",
        "--election",
        str(election_id),
        "--group",
        village.groups[group_id],
        "--out",
        str(roster),
    )
    assert code == 0, output
    sheet = list(openpyxl.load_workbook(roster).active.iter_rows(values_only=True))
    header = next(r for r in sheet if r and r[0] == "No.")
    column = header.index("Trust vote by chat")
    marked = {r[1] for r in sheet if r and r[column] == "yes — no paper ballot"}
    assert marked == {p.name for p in voters if p.group_id == group_id}

    # Each group's paper trust vote: everyone of the group who did not vote by chat.
    async with sessions() as session:
        registered = await elections_repo.registered_by_group(session, village.id, party_members_only=False)
        by_chat = await elections_repo.trust_voters_by_group(session, election_id)
        await session.commit()
    rows: list[list[object]] = []
    paper = 0
    for gid, name in sorted(village.groups.items()):
        ballots = registered.get(gid, 0) - by_chat.get(gid, 0)
        paper += ballots
        for _position, person in preliminary:
            yes = _share(ballots, 6) if person.id in trusted else ballots * 3 // 10
            rows.append([name, today.isoformat(), person.name, yes, ballots - yes, 0, ballots])
    header_row = ["村民小组", "会议日期", "姓名", "信任", "不信任", "弃权", "投票人数"]
    # One row too many ballots: refused whole, with the row and the numbers.
    wrong = _sheet(tmp_path / "wrong.xlsx", header_row, [[*rows[0][:6], rows[0][6] + 1], *rows[1:]])
    code, output = await asyncio.to_thread(
        _cli, database_url, tmp_path, "tally", "import-trust", str(wrong), "--election", str(election_id)
    )
    assert code == 1 and "Row 3: " in output and "Nothing was imported." in output, output
    sheet_path = _sheet(tmp_path / "trust.xlsx", header_row, rows)
    code, output = await asyncio.to_thread(
        _cli, database_url, tmp_path, "tally", "import-trust", str(sheet_path), "--election", str(election_id)
    )
    assert code == 0 and f"Imported {len(rows)} counts from {len(village.groups)} meetings" in output, output

    committee = await _link(harness, next(p for p in village.people if p.phone == village.member.phone))
    await harness.say(committee, "/tally")
    counted = await harness.emu.wait_for(committee, lambda m: "the trust vote counted" in m.content)
    assert f"({len(voters)} by chat, {paper} on paper)" in counted.content
    assert f"✅ {a.name}: trust" in counted.content and f"▫️ {f.name}: trust" in counted.content
    await harness.emu.user_presses(committee, counted, text="📋 Publish the formal candidate list")
    early = await harness.emu.wait_for(committee, lambda m: "still going on" in m.content)
    assert early.content == "The trust vote is still going on. Publish the formal list after it ends."

    async with sessions() as session:
        await session.exec(
            update(Election)
            .where(col(Election.id) == election_id)
            .values(trust_vote_closes=datetime.now(UTC))
        )
        await session.commit()
    await harness.emu.user_presses(committee, counted, text="📋 Publish the formal candidate list")
    published = await harness.emu.wait_for(
        committee, lambda m: m.content.startswith("Published:"), timeout=30
    )
    assert "Published: 5 formal candidates." in published.content, published.content
    stated = re.search(r"[0-9a-f]{64}", published.content)
    assert stated is not None
    spreadsheet = await harness.emu.wait_for(
        user,
        lambda m: (
            m.document is not None and "xlsx" in m.document.file_name and "formal" in m.document.file_name
        ),
        timeout=30,
    )
    assert spreadsheet.document is not None
    received = tmp_path / "formal.xlsx"
    received.write_bytes(harness.emu.file_bytes(spreadsheet.document.file_id))
    plist = read_publicity_xlsx(received)
    assert plist.fingerprint() == stated.group(0)
    assert {(row[1], row[2]) for row in plist.rows} == {
        ("Party secretary", a.name),
        ("Party secretary", b.name),
        ("Branch committee member", c.name),
        ("Branch committee member", d.name),
        ("Branch committee member", e.name),
    }
    assert plist.title == "Formal candidates: Qingshan two-ballot election"

    # Nothing in the database joins a ballot to a voter: no shared column but the election, no time
    # finer than the day, random ballot ids, so the ballots in the database's own order are not in
    # the order the villagers voted.
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {
                t: {c["name"] for c in inspect(sync).get_columns(t)} for t in ("trust_ballot", "trust_voter")
            }
        )
        in_key_order = [
            r[0]
            for r in (
                await connection.execute(text("SELECT receipt_hash FROM trust_ballot ORDER BY id"))
            ).all()
        ]
    assert columns["trust_ballot"] & columns["trust_voter"] == {"election_id"}
    assert sorted(in_key_order) == sorted(receipt_hash(r) for r in receipts)
    assert in_key_order != [receipt_hash(r) for r in receipts]
    async with sessions() as session:
        cast_on = {b.cast_on for b in (await session.exec(select(TrustBallot))).all()}
        assert cast_on <= {date.today() - DAYS, date.today(), date.today() + DAYS}
        assert len((await session.exec(select(TrustVoter))).all()) == len(voters)
        assert len((await session.exec(select(TrustMark))).all()) == 7 * len(voters)
