"""`cunmin audit verify` and `cunmin audit export`, run as the township's clerk would."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import openpyxl
import pytest
from click.testing import Result
from sqlmodel import col, update
from typer.testing import CliRunner

from bot.cli import app
from storage.db import SessionFactory
from storage.models import AuditEntry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Cunmin(Protocol):
    def __call__(self, *args: str) -> Awaitable[Result]: ...


@pytest.fixture
def cunmin(database_url: str, tmp_path: Path) -> Cunmin:
    runner = CliRunner()
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }

    async def run(*args: str) -> Result:
        return await asyncio.to_thread(runner.invoke, app, list(args), env=env)

    return run


async def logged_village(cunmin: Cunmin) -> None:
    for args in (
        ("village", "add", "东山村", "--township", "城关镇", "--province", "ZJ"),
        ("roll", "import", str(EXAMPLES / "roll.xlsx"), "--village", "东山村"),
        ("committee", "grant", "13800138000", "--village", "东山村", "--role", "committee"),
        ("committee", "grant", "13800138001", "--village", "东山村", "--role", "supervisor"),
    ):
        result = await cunmin(*args)
        assert result.exit_code == 0, result.output


async def test_verify_a_clean_log_then_a_tampered_one(cunmin: Cunmin, sessions: SessionFactory) -> None:
    await logged_village(cunmin)
    result = await cunmin("audit", "verify", "--village", "东山村")
    assert result.exit_code == 0, result.output
    assert "intact: 3 entries" in result.output

    async with sessions() as session:
        await session.exec(
            update(AuditEntry)
            .where(col(AuditEntry.seq) == 2)
            .values(details=json.dumps({"phone": "+8613999999999"}))
        )
        await session.commit()
    result = await cunmin("audit", "verify", "--village", "东山村")
    assert result.exit_code == 1
    assert "Entry 2 was changed after it was written." in result.output


async def test_export_csv_and_xlsx(cunmin: Cunmin, tmp_path: Path) -> None:
    await logged_village(cunmin)
    out_csv, out_xlsx = tmp_path / "log.csv", tmp_path / "log.xlsx"
    result = await cunmin("audit", "export", "--village", "东山村", "--out", str(out_csv))
    assert result.exit_code == 0, result.output
    with out_csv.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "No." and [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert [r[3] for r in rows[1:]] == ["roll_imported", "role_granted", "role_granted"]
    assert rows[2][5] == rows[1][6]  # each entry carries the previous entry's hash

    result = await cunmin("audit", "export", "--village", "东山村", "--out", str(out_xlsx))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out_xlsx).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [v[:4] for v in values[1:]] == [[r[0] and int(r[0]), r[1], r[2], r[3]] for r in rows[1:]]

    result = await cunmin("audit", "export", "--village", "东山村", "--out", str(tmp_path / "log.pdf"))
    assert result.exit_code == 1
    result = await cunmin("audit", "verify", "--village", "西山村")
    assert result.exit_code == 1
