"""The township's commands, run as a clerk would, against the per-test database.

The CLI runs its own event loop, so each call goes through a worker thread.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import openpyxl
import pytest
from click.testing import Result
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.files.roll import read_roll
from storage.db import SessionFactory
from storage.models import Invite, Person, Role

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Cunmin(Protocol):
    def __call__(self, *args: str, **env: str) -> Awaitable[Result]: ...


@pytest.fixture
def cunmin(database_url: str, tmp_path: Path) -> Cunmin:
    runner = CliRunner()
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path / "data"),
        "CUNMIN_BOT_USERNAME": None,
        "COLUMNS": "200",
    }

    async def run(*args: str, **extra_env: str) -> Result:
        return await asyncio.to_thread(runner.invoke, app, list(args), env={**env, **extra_env})

    return run


async def count(sessions: SessionFactory, model: type[Person] | type[Role] | type[Invite]) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def add_east(cunmin: Cunmin) -> None:
    result = await cunmin("village", "add", "东山村", "--township", "城关镇", "--province", "ZJ")
    assert result.exit_code == 0, result.output


async def test_village_add_list_and_duplicate(cunmin: Cunmin) -> None:
    run = cunmin
    await add_east(run)
    added = await run(
        "village", "add", "东山村", "--township", "梅溪镇", "--province", "national", "--county", "安吉县"
    )
    assert (
        added.exit_code == 0
        and "Added 东山村 in 梅溪镇 (election rules: national rules only)." in added.output
    )
    twice = await run("village", "add", "东山村", "--township", "城关镇", "--province", "ZJ")
    assert twice.exit_code == 1 and "城关镇 already has a village called 东山村." in twice.output
    unknown = await run("village", "add", "西山村", "--township", "城关镇", "--province", "GD")
    assert unknown.exit_code == 1 and "NATIONAL, BJ, SH, ZJ, HN" in unknown.output
    listed = await run("village", "list")
    assert listed.exit_code == 0
    assert "梅溪镇" in listed.output and "安吉县" in listed.output and "Zhejiang" in listed.output


async def test_import_reports_then_reimport_changes_nothing(cunmin: Cunmin, sessions: SessionFactory) -> None:
    run = cunmin
    await add_east(run)
    first = await run(
        "roll", "import", str(EXAMPLES / "roll.xlsx"), "--village", "东山村", "--election-year", "2026"
    )
    assert first.exit_code == 0, first.output
    assert "Added" in first.output and "New villagers' groups: 一组, 二组, 三组." in first.output
    assert "People on the roll of 东山村 now: 20." in first.output
    assert await count(sessions, Person) == 20

    again = await run("roll", "import", str(EXAMPLES / "roll-gbk.csv"), "--village", "东山村")
    assert again.exit_code == 0, again.output
    assert "│ Unchanged                                  │ 20     │" in again.output


async def test_a_file_with_problems_shows_them_and_writes_nothing(
    cunmin: Cunmin, sessions: SessionFactory, tmp_path: Path
) -> None:
    run = cunmin
    await add_east(run)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "姓名,手机号,村民小组\n张三,13800138000,一组\n李四,12345,一组\n王五,13800138000,1组\n",
        encoding="utf-8",
    )
    result = await run("roll", "import", str(bad), "--village", "东山村")
    assert result.exit_code == 1
    assert "Problems in bad.csv" in result.output
    assert "“12345” is not a phone number." in result.output
    assert "The phone number 13800138000 is also on row 2." in result.output
    assert "The group “1组” is written “一组” on other rows" in result.output
    assert "Nothing was imported." in result.output
    assert await count(sessions, Person) == 0


async def test_a_phone_on_another_village_names_both(cunmin: Cunmin, sessions: SessionFactory) -> None:
    run = cunmin
    await add_east(run)
    await run("village", "add", "西山村", "--township", "梅溪镇", "--province", "ZJ")
    assert (await run("roll", "import", str(EXAMPLES / "roll.csv"), "--village", "东山村")).exit_code == 0
    result = await run("roll", "import", str(EXAMPLES / "roll.csv"), "--village", "西山村")
    assert result.exit_code == 1
    assert "is already on the roll of 城关镇东山村" in result.output and "梅溪镇西山村" in result.output
    assert await count(sessions, Person) == 20


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        (os.urandom(200_000), "This file is not a spreadsheet."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "This is an old Excel file (.xls)"),
        ("手机号\n13800138000\n".encode(), "No column of names was found."),
        (b"", "The file has nobody in it."),
    ],
)
async def test_file_problems_are_one_sentence(
    cunmin: Cunmin, tmp_path: Path, content: bytes, sentence: str
) -> None:
    await add_east(cunmin)
    path = tmp_path / "roll.xlsx"
    path.write_bytes(content)
    result = await cunmin("roll", "import", str(path), "--village", "东山村")
    assert result.exit_code == 1 and sentence in result.output
    assert "Traceback" not in result.output


async def test_missing_file_and_unknown_or_ambiguous_village(cunmin: Cunmin, tmp_path: Path) -> None:
    run = cunmin
    missing = await run("roll", "import", str(tmp_path / "nope.xlsx"), "--village", "东山村")
    assert missing.exit_code == 1 and "There is no file" in missing.output
    unknown = await run("roll", "import", str(EXAMPLES / "roll.csv"), "--village", "北山村")
    assert unknown.exit_code == 1 and "There is no village called 北山村." in unknown.output
    await add_east(run)
    await run("village", "add", "东山村", "--township", "梅溪镇", "--province", "ZJ")
    ambiguous = await run("roll", "export", "--village", "东山村", "--out", str(tmp_path / "x.xlsx"))
    assert ambiguous.exit_code == 1
    assert "There are villages called 东山村 in several townships (城关镇, 梅溪镇)" in ambiguous.output
    assert "--township" in ambiguous.output


async def test_export_reads_back(cunmin: Cunmin, tmp_path: Path) -> None:
    run = cunmin
    await add_east(run)
    await run("roll", "import", str(EXAMPLES / "roll.xlsx"), "--village", "东山村")
    out = tmp_path / "export.xlsx"
    result = await run("roll", "export", "--village", "东山村", "--township", "城关镇", "--out", str(out))
    assert result.exit_code == 0 and "(people on it: 20)" in result.output
    assert (
        read_roll(out, election_year=2026).rows == read_roll(EXAMPLES / "roll.xlsx", election_year=2026).rows
    )
    wrong = await run("roll", "export", "--village", "东山村", "--out", str(tmp_path / "x.csv"))
    assert wrong.exit_code == 1 and "must end in .xlsx" in wrong.output


async def test_committee_grant_list_revoke(cunmin: Cunmin, sessions: SessionFactory) -> None:
    run = cunmin
    await add_east(run)
    granted = await run("committee", "grant", "138 0013 8000", "--village", "东山村", "--role", "committee")
    assert granted.exit_code == 0
    assert "13800138000 is now a member of the election committee in 东山村." in granted.output
    twice = await run("committee", "grant", "+8613800138000", "--village", "东山村", "--role", "committee")
    assert twice.exit_code == 1 and "Nothing changed." in twice.output
    listed = await run("committee", "list", "--village", "东山村")
    assert "13800138000" in listed.output and "a member of the election committee" in listed.output
    bad = await run("committee", "grant", "12", "--village", "东山村", "--role", "observer")
    assert bad.exit_code == 1 and "“12” is not a phone number." in bad.output
    revoked = await run("committee", "revoke", "13800138000", "--village", "东山村", "--role", "committee")
    assert revoked.exit_code == 0 and "is no longer a member of the election committee" in revoked.output
    assert await count(sessions, Role) == 0


async def test_invites_need_the_bot_username(
    cunmin: Cunmin, sessions: SessionFactory, tmp_path: Path
) -> None:
    run = cunmin
    await add_east(run)
    await run("roll", "import", str(EXAMPLES / "roll.xlsx"), "--village", "东山村")

    nameless = await run("invite", "create", "--village", "东山村", "--phone", "13800138002")
    assert nameless.exit_code == 2
    assert "give it with --bot-username or set CUNMIN_BOT_USERNAME" in nameless.output
    bad_name = await run(
        "invite", "create", "--village", "东山村", "--phone", "13800138002", "--bot-username", "a b"
    )
    assert bad_name.exit_code == 2 and "is not a bot username" in bad_name.output
    assert await count(sessions, Invite) == 0

    one = await run(
        "invite",
        "create",
        "--village",
        "东山村",
        "--phone",
        "13800138002",
        CUNMIN_BOT_USERNAME="cunmin_demo_bot",
    )
    assert one.exit_code == 0, one.output
    assert "Invitation for 李秀英 (一组)" in one.output
    assert "https://t.me/cunmin_demo_bot?start=" in one.output
    stranger = await run(
        "invite",
        "create",
        "--village",
        "东山村",
        "--phone",
        "13900000000",
        "--bot-username",
        "cunmin_demo_bot",
    )
    assert stranger.exit_code == 1 and "Nobody with the phone number 13900000000" in stranger.output

    out = tmp_path / "invites.xlsx"
    everyone = await run(
        "invite",
        "create",
        "--village",
        "东山村",
        "--all-unbound",
        "--out",
        str(out),
        "--bot-username",
        "@cunmin_demo_bot",
    )
    assert everyone.exit_code == 0, everyone.output
    assert "Wrote the invitations for 东山村 to" in everyone.output
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("Name", "Villagers' group", "Invitation link", "Valid until")
    assert len(rows) == 21 and all(
        str(r[2]).startswith("https://t.me/cunmin_demo_bot?start=") for r in rows[1:]
    )
    assert await count(sessions, Invite) == 21

    neither = await run("invite", "create", "--village", "东山村", "--bot-username", "cunmin_demo_bot")
    assert neither.exit_code == 2 and "Give either --phone or --all-unbound." in neither.output


async def test_a_malformed_bot_username_setting_is_one_sentence(cunmin: Cunmin) -> None:
    result = await cunmin("village", "list", CUNMIN_BOT_USERNAME="no spaces allowed")
    assert result.exit_code == 2
    assert "CUNMIN_BOT_USERNAME is not valid: it must be the bot's username" in result.output
