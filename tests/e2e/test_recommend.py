"""Two pushes, one election (两推一选) through the emulator: the committee sets it up with the wizard,
a party member and two villagers recommend by chat in the two rounds within their quota, paper counts
come in from the shell, the committee tallies, cuts and publishes the preliminary candidates; the
list's fingerprint is recomputed from the spreadsheet a villager received.

Everyone here speaks English: the assertions hold whatever the Chinese catalogs say.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import update
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.files.publicity import read_publicity_xlsx
from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.services.elections import create_election, open_election
from sandbox.world import ChatEvent, SimUser
from storage.db import SessionFactory
from storage.models import Election, ElectionCandidate, PaperTally, Recommendation, TrustBallot, TrustVoter
from tests.e2e.conftest import Harness
from tests.factories import grant, make_village

ZONE = ZoneInfo("Asia/Shanghai")
MEMBER = "+8613900000001"
PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组", "birth_year": 1970},
    {"name": "王建国", "phone": "+8613800000001", "group": "一组", "birth_year": 1960, "party_member": True},
    {"name": "李秀英", "phone": "+8613800000002", "group": "二组", "birth_year": 1980, "gender": "F"},
    {"name": "张三", "phone": "+8613800000003", "group": "一组", "birth_year": 1975},
    {"name": "王建军", "phone": "+8613800000004", "group": "二组", "birth_year": 1958, "party_member": True},
    {"name": "钱党员", "phone": "+8613800000005", "group": "二组", "birth_year": 1970, "party_member": True},
    {"name": "孙党员", "phone": "+8613800000006", "group": "一组", "birth_year": 1972, "party_member": True},
    {"name": "周党员", "phone": "+8613800000007", "group": "一组", "birth_year": 1968, "party_member": True},
    {"name": "吴村民", "phone": None, "group": "二组", "birth_year": 1965},
    {"name": "郑村民", "phone": None, "group": "二组", "birth_year": 1977},
]


async def _press(harness: Harness, user: SimUser, message: ChatEvent, text: str) -> ChatEvent:
    await harness.emu.user_presses(user, message, text=text)
    return await harness.emu.wait_for(user, include_edits=False)


def _cli(database_url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(data_dir),
    }
    result = CliRunner().invoke(cli_app, list(args), env=env)
    return result.exit_code, result.output


def _count_sheet(path: Path, rows: list[tuple[object, ...]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["推荐票统计"])  # a title above the header, as committees write them
    sheet.append(["村民小组", "会议日期", "职位", "轮次", "姓名", "票数", "参会人数"])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)


async def _create_with_the_wizard(harness: Harness, member: SimUser, today: date) -> None:
    kinds = await harness.say(member, "/election")
    assert "New election for 青山村 (Zhejiang rules apply)" in kinds.content
    asked_title = await _press(harness, member, kinds, "Party branch: two recommendations, one election")
    assert "Send the title of the election" in asked_title.content
    assert (
        "On which day is the election?"
        in (await harness.say(member, "Qingshan party branch election")).content
    )
    day = today + timedelta(days=40)
    assert "On which day do recommendations start?" in (await harness.say(member, day.isoformat())).content
    assert "last day of recommendations" in (await harness.say(member, today.isoformat())).content
    seats = await harness.say(member, (today + timedelta(days=5)).isoformat())
    assert "How many seats has each position?" in seats.content and seats.button_texts == ["Usual: 1 1 3"]
    summary = await harness.say(member, "1 0 2")
    assert summary.content.startswith("Please check the new election:")
    assert (
        "Party secretary: seats 1, at least 2 candidates — Party grassroots election interim rules of 1990"
        in (summary.content)
    )
    assert "Recommendations per person for each seat: 1 — Cunmin's default" in summary.content
    assert "Weight of the party members' round: 1 — local practice (not confirmed" in summary.content
    created = await _press(harness, member, summary, "Create")
    assert "Created “Qingshan party branch election”" in created.content
    opened = await _press(harness, member, created, "Open for recommendations")
    assert "“Qingshan party branch election” is open" in opened.content


async def _recommend(
    harness: Harness,
    user: SimUser,
    positions: ChatEvent,
    position_button: str,
    typed: str,
    person_button: str,
) -> ChatEvent:
    asked = await _press(harness, user, positions, position_button)
    assert asked.content.startswith("Whom do you recommend as")
    assert asked.button_texts == []  # no "Recommend myself": 两推一选 relies on others' recommendations
    matches = await harness.say(user, typed)
    return await _press(harness, user, matches, person_button)


async def test_two_rounds_by_chat_and_paper_tally_cut_and_published_list(
    harness: Harness, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    member = await harness.linked("Zhao", MEMBER)
    party_member = await harness.linked("Wang Jianguo", "+8613800000001")
    li = await harness.linked("Li", "+8613800000002")
    zhang = await harness.linked("Zhang", "+8613800000003")
    candidate = await harness.linked("Wang Jianjun", "+8613800000004")
    today = datetime.now(ZONE).date()
    age = (today + timedelta(days=40)).year - 1958

    assert (
        await harness.say(li, "/election")
    ).content == "Sorry, this is only for the village's election committee."
    await _create_with_the_wizard(harness, member, today)
    async with sessions() as session:
        election = (await session.exec(select(Election))).one()
    assert election.id is not None and election.status == "open"

    # The party member: the party members' round, quota shown after each choice.
    positions = await harness.say(party_member, "/recommend")
    assert positions.button_texts == [
        "Party secretary (0 of 1 used)",
        "Branch committee member (0 of 2 used)",
    ]
    done = await _recommend(
        harness,
        party_member,
        positions,
        "Party secretary (0 of 1 used)",
        "王",
        f"王建军 · 二组 · {age} years old",
    )
    assert (
        done.content == "✅ Recorded: you recommend 王建军 as Party secretary.\nParty secretary: 1 of 1 used."
    )
    positions = await _press(harness, party_member, done, "➕ Recommend someone else")
    done = await _recommend(
        harness,
        party_member,
        positions,
        "Branch committee member (0 of 2 used)",
        "钱",
        f"钱党员 · 二组 · {age - 12} years old",
    )
    assert done.content.endswith("Branch committee member: 1 of 2 used.")
    positions = await _press(harness, party_member, done, "➕ Recommend someone else")
    done = await _recommend(
        harness,
        party_member,
        positions,
        "Branch committee member (1 of 2 used)",
        "孙",
        f"孙党员 · 一组 · {age - 14} years old",
    )
    assert done.content.endswith("Branch committee member: 2 of 2 used.")

    # A villager: the villagers' round; takes a choice back and makes another.
    positions = await harness.say(li, "/recommend")
    await _recommend(
        harness, li, positions, "Party secretary (0 of 1 used)", "钱", f"钱党员 · 二组 · {age - 12} years old"
    )
    mine = await harness.say(li, "/recommend")
    assert "You recommend in the villagers' round. Your choices so far:" in mine.content
    assert "Party secretary (1 of 1 used): 钱党员" in mine.content
    assert "Branch committee member (0 of 2 used): —" in mine.content
    assert mine.button_texts == ["Take back 钱党员 (Party secretary)", "➕ Recommend someone", "Done"]
    taken_back = await _press(harness, li, mine, "Take back 钱党员 (Party secretary)")
    assert taken_back.content == "Taken back: 钱党员 as Party secretary. Party secretary: 0 of 1 used."
    positions = await _press(harness, li, taken_back, "➕ Recommend someone")
    done = await _recommend(
        harness, li, positions, "Party secretary (0 of 1 used)", "王建", f"王建军 · 二组 · {age} years old"
    )
    assert done.content.startswith("✅ Recorded: you recommend 王建军 as Party secretary.")

    # Another villager: only full party members can be found for a branch position; over the quota.
    positions = await harness.say(zhang, "/recommend")
    asked = await _press(harness, zhang, positions, "Party secretary (0 of 1 used)")
    assert asked.content.startswith("Whom do you recommend as Party secretary?")
    assert (
        "Nobody who can be recommended as Party secretary matches “张”"
        in (await harness.say(zhang, "张")).content
    )
    matches = await harness.say(zhang, "周")
    done = await _press(harness, zhang, matches, f"周党员 · 一组 · {age - 10} years old")
    positions = await _press(harness, zhang, done, "➕ Recommend someone else")
    over = await _recommend(
        harness, zhang, positions, "Party secretary (1 of 1 used)", "王建", f"王建军 · 二组 · {age} years old"
    )
    assert over.content.startswith(
        "You have already made all 1 of your recommendations for Party secretary ("
    )
    assert "first take one back: send /recommend" in over.content

    async with sessions() as session:
        rounds = sorted((r.round, r.position) for r in (await session.exec(select(Recommendation))).all())
    assert rounds == [
        ("party", "committee_member"),
        ("party", "committee_member"),
        ("party", "secretary"),
        ("public", "secretary"),
        ("public", "secretary"),
    ]

    # The roster before 二组's meeting, then its paper counts: a wrong sheet is refused whole.
    roster = tmp_path / "roster.xlsx"
    code, output = await asyncio.to_thread(
        _cli,
        database_url,
        tmp_path,
        "tally",
        "roster",
        "--election",
        str(election.id),
        "--group",
        "二组",
        "--out",
        str(roster),
    )
    assert code == 0, output
    sheet = openpyxl.load_workbook(roster).active
    marked = {
        row[1]: row[5] for row in sheet.iter_rows(values_only=True) if row and row[1] in {"李秀英", "吴村民"}
    }
    assert marked["李秀英"] == "yes — no paper form" and not marked["吴村民"]
    day = today.isoformat()
    good = [
        ("二组", day, "书记", "党员推荐", "王建军", 2, 2),
        ("二组", day, "委员", "党员推荐", "钱党员", 2, 2),
        ("二组", day, "委员", "党员推荐", "孙党员", 1, 2),
        ("二组", day, "书记", "群众推荐", "王建军", 2, 3),
        ("二组", day, "书记", "群众推荐", "周党员", 1, 3),
        ("二组", day, "委员", "群众推荐", "钱党员", 3, 3),
        ("二组", day, "委员", "群众推荐", "孙党员", 2, 3),
        ("二组", day, "委员", "群众推荐", "周党员", 1, 3),
    ]
    too_many = tmp_path / "too-many.xlsx"
    _count_sheet(too_many, [*good[:3], *((*row[:6], 9) for row in good[3:])])
    code, output = await asyncio.to_thread(
        _cli, database_url, tmp_path, "tally", "import", str(too_many), "--election", str(election.id)
    )
    assert code == 1
    assert "Row 6: group 二组 has 5 registered voters, but 9 took part on paper and 1 by chat." in output
    assert "Nothing was imported." in output
    async with sessions() as session:
        assert (await session.exec(select(PaperTally))).all() == []
    counts = tmp_path / "counts.xlsx"
    _count_sheet(counts, good)
    code, output = await asyncio.to_thread(
        _cli, database_url, tmp_path, "tally", "import", str(counts), "--election", str(election.id)
    )
    assert code == 0 and "Imported 8 counts from 2 meetings" in output, output

    # The tally: chat and paper apart and together, each round as a share of its participants.
    tally = await harness.say(member, "/tally")
    assert "Taken part in the party members' round: 1 by chat, 2 on paper" in tally.content
    assert "Taken part in the villagers' round: 2 by chat, 3 on paper" in tally.content
    assert (
        "1. ✅ 王建军 (二组): party members' round: chat 1 + paper 2; villagers' round: chat 1 + paper 2 "
        "— score 1.600"
    ) in tally.content
    assert (
        "2. ✅ 周党员 (一组): party members' round: chat 0 + paper 0; villagers' round: chat 1 + paper 1"
        in (tally.content)
    )
    assert "3. ✅ 周党员 (一组)" in tally.content  # third of the branch committee members
    assert tally.button_texts == ["📋 Publish the candidate list"]
    await harness.emu.user_presses(member, tally, text="📋 Publish the candidate list")
    refused = await harness.emu.wait_for(member, lambda e: "still open" in e.content)
    assert refused.content == "Recommendations are still open. Publish the list after they end."

    # Time passes: the recommendation period ends.
    async with sessions() as session:
        await session.exec(
            update(Election)
            .where(col(Election.id) == election.id)
            .values(recommendation_closes=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    over = await harness.say(li, "/recommend")
    assert over.content.startswith("Recommendations for “Qingshan party branch election” ended on")

    await harness.emu.user_presses(member, tally, text="📋 Publish the candidate list")
    published = await harness.emu.wait_for(member, lambda e: e.content.startswith("Published:"), timeout=20)
    assert "Published: 4 candidates." in published.content
    assert "1 of them were also told privately" in published.content
    stated = re.search(r"[0-9a-f]{64}", published.content)
    assert stated is not None

    text = await harness.emu.wait_for(
        li, lambda e: "Preliminary candidates: Qingshan party branch election" in e.content, timeout=10
    )
    assert "Party secretary: 2" in text.content and "Branch committee member: 3" in text.content
    grouped = " ".join(stated.group(0)[i : i + 4] for i in range(0, 64, 4))
    assert grouped in text.content
    spreadsheet = await harness.emu.wait_for(
        li, lambda e: e.document is not None and e.document.file_name.endswith(".xlsx"), timeout=10
    )
    assert spreadsheet.document is not None
    received = tmp_path / "received.xlsx"
    received.write_bytes(harness.emu.file_bytes(spreadsheet.document.file_id))
    plist = read_publicity_xlsx(received)
    assert plist.fingerprint() == stated.group(0)
    assert [(row[1], row[2]) for row in plist.rows] == [
        ("Party secretary", "王建军"),
        ("Party secretary", "周党员"),
        ("Branch committee member", "钱党员"),
        ("Branch committee member", "孙党员"),
        ("Branch committee member", "周党员"),
    ]
    note = await harness.emu.wait_for(
        candidate, lambda e: "You are on the candidate list" in e.content, timeout=10
    )
    assert "for: Party secretary." in note.content
    assert all("You are on the candidate list" not in e.content for e in harness.emu.bot_messages(li))
    await harness.emu.wait_for(member, lambda e: "report" in e.content.lower(), timeout=15)


async def test_villagers_without_an_open_election_or_a_link(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    li = await harness.linked("Li", "+8613800000002")
    stranger = harness.emu.create_user("Stranger", language_code="en")
    assert (await harness.say(li, "/recommend")).content == (
        "There is no recommendation of candidates going on in 青山村 now."
    )
    assert "Send /start and share your phone number" in (await harness.say(stranger, "/recommend")).content
    member = await harness.linked("Zhao", MEMBER)
    assert "青山村 has no election yet" in (await harness.say(member, "/elections")).content
    assert "No election is taking recommendations yet" in (await harness.say(member, "/tally")).content


async def test_the_trust_vote_by_chat_with_a_receipt(harness: Harness, sessions: SessionFactory) -> None:
    """两票制: a villager marks each preliminary candidate, submits once, and checks the receipt."""
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    now = datetime.now(UTC)
    days = timedelta(days=1)
    async with sessions() as session:
        created = await create_election(
            session,
            None,
            village_id=roll.village.id or 0,
            kind=ElectionKind.PARTY_TWO_BALLOTS,
            title="Qingshan two-ballot election",
            schedule=Schedule(
                election_day=(now + 30 * days).date(),
                recommendation=Window(now - 2 * days, now - days),
                trust_vote=Window(now - days, now + 2 * days),
            ),
            seats={Position.SECRETARY: 1, Position.COMMITTEE_MEMBER: 2},
            overrides={},
            now=now - 3 * days,
            zone=ZONE,
        )
    assert created.election is not None and created.election.id is not None, created
    election_id = created.election.id
    async with sessions() as session:
        await open_election(session, None, election_id, now=now)
        for position, name in (
            (Position.SECRETARY, "王建军"),
            (Position.SECRETARY, "钱党员"),
            (Position.COMMITTEE_MEMBER, "孙党员"),
        ):
            session.add(
                ElectionCandidate(
                    election_id=election_id,
                    position=position.value,
                    person_id=roll.people[name].id or 0,
                    stage="preliminary",
                    fingerprint="0" * 64,
                )
            )
        await session.commit()
    li = await harness.linked("Li", "+8613800000002")

    intro = await harness.say(li, "/trust")
    assert intro.content.startswith("Trust vote for “Qingshan two-ballot election”")
    first = await harness.emu.wait_for(li, lambda e: "candidate 1 of 3" in e.content)
    assert "王建军 (二组), for Party secretary" in first.content
    assert first.button_texts == ["👍 Trust", "👎 No trust", "Abstain"]
    second = await _press(harness, li, first, "👍 Trust")
    assert "candidate 2 of 3" in second.content
    third = await _press(harness, li, second, "👎 No trust")
    assert "孙党员 (一组), for Branch committee member" in third.content
    ballot = await _press(harness, li, third, "Abstain")
    assert "1. 王建军: trust\n2. 钱党员: no trust\n3. 孙党员: abstain" in ballot.content
    done = await _press(harness, li, ballot, "✅ Submit my ballot")
    found = re.search(r"Receipt code: ([2-9A-Z]{4}-[2-9A-Z]{4})", done.content)
    assert found is not None
    assert harness.emu.message(li, ballot.message_id).button_texts == []  # pressed once, then gone
    checked = await harness.say(li, f"/receipt {found.group(1).lower()}")
    assert checked.content.startswith(f"The ballot with receipt {found.group(1)} is in the count")
    assert (
        "No ballot has the receipt code 2222-2222." in (await harness.say(li, "/receipt 2222-2222")).content
    )
    assert "You have already voted" in (await harness.say(li, "/trust")).content
    async with sessions() as session:
        assert len((await session.exec(select(TrustBallot))).all()) == 1
        assert len((await session.exec(select(TrustVoter))).all()) == 1
