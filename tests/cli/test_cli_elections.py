"""`cunmin election create|show|open` and `cunmin tally import|roster|show` from a clerk's shell."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_elections import read_election_file
from bot.cli_text import translator
from bot.rules.policy import ElectionKind, Position
from storage.db import SessionFactory
from storage.models import Election, PaperTally
from tests.factories import make_village

ROOT = Path(__file__).resolve().parent.parent.parent
ZONE = ZoneInfo("Asia/Shanghai")


def _invoke(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path),
        "COLUMNS": "250",  # rich tables: one row per line
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def _toml(tmp_path: Path, overrides: str = "candidate_list_lead_days = 7") -> Path:
    today = datetime.now(ZONE).date()
    path = tmp_path / "election.toml"
    path.write_text(
        f"""
village = "青山村"
kind = "village_committee"
title = "青山村第十二届村民委员会选举"

[dates]
election_day = {today + timedelta(days=40)}
recommendation_opens = {today + timedelta(days=1)}
recommendation_closes = {today + timedelta(days=10)}
candidate_list_published = {today + timedelta(days=12)}

[seats]
director = 1
deputy = 1
member = 3

[overrides]
{overrides}
""",
        encoding="utf-8",
    )
    return path


async def _village(sessions: SessionFactory) -> None:
    await make_village(
        sessions,
        "青山村",
        people=[
            {"name": "王建国", "group": "一组", "birth_year": 1960},
            {"name": "李秀英", "group": "二组", "birth_year": 1980},
            {"name": "张三", "group": "一组", "migrant": True},
        ],
    )


def test_the_example_file_reads_without_problems() -> None:
    described = read_election_file(ROOT / "examples" / "election.toml", ZONE, translator("en"))
    assert described.problems == []
    assert described.kind is ElectionKind.VILLAGE_COMMITTEE and described.village == "东山村"
    assert described.seats == {Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 3}
    assert described.schedule is not None and described.schedule.recommendation is not None
    # A closing date is the last day, included: the window closes at the start of the next day.
    assert described.schedule.recommendation.closes.date().isoformat() == "2027-01-04"
    assert described.overrides == {"candidate_list_lead_days": 7}


def test_file_problems_are_listed_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('village = "青山村"\nkind = "mayor"\n[dates]\nelection_day = "soon"\n', encoding="utf-8")
    problems = read_election_file(path, ZONE, translator("en")).problems
    assert "The file needs a “title” line (text)." in problems
    assert any(p.startswith("“kind” must be one of") for p in problems)
    assert "[dates] election_day must be a date like 2026-12-20." in problems
    assert any("[seats] section is missing" in p for p in problems)


async def test_create_show_open(sessions: SessionFactory, database_url: str, tmp_path: Path) -> None:
    await _village(sessions)
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "election", "create", str(_toml(tmp_path))
    )
    assert code == 0, output
    assert "Election 1 created for 青山村" in output
    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, "election", "show", "1")
    assert code == 0, output
    assert "candidate_list_lead_days" in output and "decision of the election committee" in output
    assert "Zhejiang village committee election rules, art. 17" in " ".join(output.split())
    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, "election", "open", "1")
    assert code == 0, output
    assert output.strip().splitlines() == [
        "Election 1 is open for recommendations.",
        "Asked 0 migrant workers how they will take part.",  # 张三 works away and is not on Telegram
        "Not on Telegram yet, please phone them: 张三",
    ]
    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, "election", "open", "1")
    assert code == 1 and "already open" in output


async def test_create_refuses_what_breaks_the_law(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    await _village(sessions)
    path = _toml(tmp_path, "candidate_list_lead_days = 3\nrecommendation_quota_per_seat = 2")
    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, "election", "create", str(path))
    assert code == 1
    assert "These changes would break the law, so nothing was saved:" in output
    text = " ".join(output.split())
    assert (
        "Candidate list published, days before election day (at least): this is below the legal minimum "
        "(Zhejiang village committee election rules, art. 18)." in text
    )
    assert "this is above the legal maximum (Zhejiang village committee election rules, art. 17)" in text
    async with sessions() as session:
        assert (await session.exec(select(Election))).all() == []


async def test_tally_import_roster_and_show(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    await _village(sessions)
    await asyncio.to_thread(_invoke, database_url, tmp_path, "election", "create", str(_toml(tmp_path)))
    day = (datetime.now(ZONE).date() + timedelta(days=2)).isoformat()

    wrong = tmp_path / "wrong.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["村民小组", "会议日期", "姓名", "票数"])
    workbook.active.append(["一组", day, "王建国", 3])
    workbook.save(wrong)
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "tally", "import", str(wrong), "--election", "1"
    )
    assert code == 1 and "Columns are missing: position, round, participants." in output

    counts = tmp_path / "counts.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["村民小组", "会议日期", "职位", "轮次", "姓名", "票数", "参会人数"])
    sheet.append(["一组", day, "主任", "", "王建国", 2, 2])
    sheet.append(["一组", day, "主任", "", "李秀英", "x", 2])
    sheet.append(["1组", day, "主任", "", "无名氏", 1, 2])
    workbook.save(counts)
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "tally", "import", str(counts), "--election", "1"
    )
    assert code == 1 and "Row 3: the count “x” is not a whole number." in output
    sheet.cell(row=3, column=6, value=0)
    workbook.save(counts)
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "tally", "import", str(counts), "--election", "1"
    )
    assert code == 1 and "Row 4: nobody called “无名氏” is on the roll of this village." in output
    assert "Nothing was imported." in output
    sheet.delete_rows(4)
    workbook.save(counts)
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "tally", "import", str(counts), "--election", "1"
    )
    assert code == 0 and "Imported 2 counts from 1 meetings" in output, output
    async with sessions() as session:
        assert len((await session.exec(select(PaperTally))).all()) == 2

    roster = tmp_path / "roster.xlsx"
    args = ("tally", "roster", "--election", "1", "--group", "第一组", "--out", str(roster))
    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, *args)
    assert code == 0 and "Wrote the roster of 一组" in output and "2 voters, 0 of whom" in output, output
    names = [row[1] for row in openpyxl.load_workbook(roster).active.iter_rows(min_row=6, values_only=True)]
    assert names == ["王建国", "张三"]
    args = ("tally", "roster", "--election", "1", "--group", "三组", "--out", str(roster))
    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, *args)
    assert code == 1 and "no villagers' group “三组”" in output

    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "tally", "show", "--election", "1"
    )
    assert (
        code == 0
        and "王建国" in output
        and "Taken part in the villagers' round: 0 by chat, 2 on paper" in output
    )
