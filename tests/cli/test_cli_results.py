"""`cunmin results import`: the paper count from a spreadsheet, entered as a draft, or refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import pytest
from click.testing import Result
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.files.results_sheet import write_results_template
from bot.rules.fingerprint import fingerprint
from storage.db import SessionFactory
from storage.models import ResultEntry, ResultVote
from tests.results_setup import expected_document, results_election


class Cunmin(Protocol):
    def __call__(self, *args: str) -> Awaitable[Result]: ...


@pytest.fixture
def cunmin(database_url: str, tmp_path: Path) -> Cunmin:
    runner = CliRunner()
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path),
    }

    async def run(*args: str) -> Result:
        return await asyncio.to_thread(runner.invoke, app, list(args), env=env)

    return run


GOOD = [
    ("主任", 18, 16, 15, 1, "王伟", 11, ""),
    ("主任", 18, 16, 15, 1, "李娜", 4, ""),
    ("委员", 18, 16, 16, 0, "张强", 12, ""),
    ("委员", 18, 16, 16, 0, "刘芳", 9, None),
    ("委员", 18, 16, 16, 0, "陈明", 8, "否"),
    ("委员", 18, 16, 16, 0, "赵六", 2, "是"),
]


async def test_import_a_good_sheet_as_a_draft(
    cunmin: Cunmin, sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    sheet = tmp_path / "count.xlsx"
    write_results_template(sheet, GOOD)
    result = await cunmin("results", "import", str(sheet), "--election", str(setup.id))
    assert result.exit_code == 0, result.output
    assert "version 1" in result.output and "/count" in result.output
    async with sessions() as session:
        [entry] = (await session.exec(select(ResultEntry))).all()
        votes = (await session.exec(select(ResultVote))).all()
    assert entry.status == "draft" and entry.entered_by_account_id is None
    # The sheet and the chat wizard give the same canonical count, so the same fingerprint.
    assert entry.fingerprint == fingerprint(expected_document("青山村", "城关镇", setup.id))
    assert {v.name: v.write_in for v in votes}["赵六"] is True


async def test_bad_sheets_are_refused_naming_the_problem(
    cunmin: Cunmin, sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    sheet = tmp_path / "count.xlsx"

    write_results_template(sheet, [*GOOD[:2], ("委员", 18, 16, 16, 0, "张强", "十二", "")])
    result = await cunmin("results", "import", str(sheet), "--election", str(setup.id))
    assert result.exit_code == 1 and "Row 4" in result.output and "十二" in result.output

    write_results_template(sheet, [("主任", 18, 19, 15, 1, "王伟", 11, ""), *GOOD[1:]])
    result = await cunmin("results", "import", str(sheet), "--election", str(setup.id))
    assert result.exit_code == 1 and "differ" in result.output

    wrong = [("主任", 18, 19, 15, 1, name, n, w) for _p, *_b, name, n, w in GOOD[:2]] + GOOD[2:]
    write_results_template(sheet, wrong)
    result = await cunmin("results", "import", str(sheet), "--election", str(setup.id))
    assert result.exit_code == 1
    assert "More ballots returned (19) than issued (18)." in result.output

    write_results_template(sheet, [*GOOD[:5], ("委员", 18, 16, 16, 0, "赵六", 2, "")])
    result = await cunmin("results", "import", str(sheet), "--election", str(setup.id))
    assert result.exit_code == 1 and "赵六 is not on the formal candidate list" in result.output

    write_results_template(sheet, [*GOOD, ("书记", 1, 1, 1, 0, "王伟", 1, "")])
    result = await cunmin("results", "import", str(sheet), "--election", str(setup.id))
    assert result.exit_code == 1 and "书记" in result.output
    async with sessions() as session:
        assert (await session.exec(select(ResultEntry))).all() == []
