"""`cunmin reminders settings|plan`: a village's quiet hours and zone change the plan it shows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_reminders import parse_quiet
from storage.db import SessionFactory
from storage.models import Election, VillageReminderSettings
from tests.factories import make_village


def _invoke(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_parse_quiet() -> None:
    assert parse_quiet("21:00-08:00") is not None
    assert parse_quiet(" 22:30 - 6:15 ") is not None
    assert parse_quiet("25:00-08:00") is None
    assert parse_quiet("evening") is None


async def test_settings_and_plan(sessions: SessionFactory, database_url: str, tmp_path: Path) -> None:
    roll = await make_village(sessions, "青山村", people=[{"name": "王建国", "phone": "+8613800000001"}])
    assert roll.village.id is not None
    opens = datetime.now(UTC) + timedelta(days=2)
    async with sessions() as session:
        session.add(
            Election(
                village_id=roll.village.id,
                kind="village_committee",
                province="zj",
                title="第十二届村委会换届",
                status="open",
                election_day=(opens + timedelta(days=20)).date(),
                recommendation_opens=opens,
                recommendation_closes=opens + timedelta(days=4),
            )
        )
        await session.commit()

    code, out = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "reminders", "settings", "--village", "青山村", "--quiet", "8-9"
    )
    assert code == 1 and "--quiet must look like 21:00-08:00" in out
    code, out = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "reminders", "settings", "--village", "青山村", "--time-zone", "X/Y"
    )
    assert code == 1 and "X/Y is not a time zone" in out
    code, out = await asyncio.to_thread(
        _invoke,
        database_url, tmp_path, "reminders", "settings", "--village", "青山村",
        "--quiet", "22:00-07:00", "--time-zone", "Asia/Urumqi", "--place", "村委会大院",
    )  # fmt: skip
    assert code == 0, out
    assert "time zone Asia/Urumqi, quiet hours 22:00-07:00, polling place: 村委会大院" in out
    async with sessions() as session:
        row = (await session.exec(select(VillageReminderSettings))).one()
        assert row.time_zone == "Asia/Urumqi" and row.polling_place == "村委会大院"

    code, out = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "reminders", "plan", "--village", "青山村"
    )
    assert code == 0, out
    assert (
        "recommendation_opens" in out and "recommendation_close_24h" in out and "election_day_morning" in out
    )
