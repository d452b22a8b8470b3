"""How long a village's roll takes to import: read an .xlsx, import it, import it again changed.

    .venv/bin/python bench/roll_import.py [--rows 10000] [--postgres postgresql+asyncpg://…/postgres]

Prints one line, e.g.
    roll_import rows=10000 backend=sqlite seconds=3.2 read_seconds=1.9 reimport_seconds=2.1
`seconds` is the first import into an empty roll; `reimport_seconds` a second import of the same
file with a tenth of the people changed and a hundredth gone; `read_seconds` reading the .xlsx.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine.url import make_url

from bot.files.roll import read_roll, write_roll_xlsx
from bot.services.roll import import_roll
from bot.services.villages import add_village
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_database
from storage.models import Person
from storage.repositories.roll import RollEntry

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰"


def people(count: int) -> list[RollEntry]:
    entries = []
    for n in range(count):
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 13) % len(GIVEN)]
        person = Person(
            village_id=0,
            name=f"{name}{n}",
            phone=f"+86139{n:08d}" if n % 12 else None,  # some elderly people have no phone
            household=f"{n // 4:05d}",
            gender="M" if n % 2 else "F",
            birth_year=1940 + n % 65,
            party_member=n % 15 == 0,
            party_status="full" if n % 15 == 0 else None,
            migrant=n % 4 == 0,
            works_in="杭州" if n % 4 == 0 else None,
        )
        entries.append(RollEntry(person=person, group=f"{n % 12 + 1}组", bound=False))
    return entries


async def _admin(url: str, sql: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def bench(rows: int, postgres: str | None, workdir: Path) -> str:
    path = workdir / "roll.xlsx"
    write_roll_xlsx(path, people(rows))
    started = time.perf_counter()
    reading = read_roll(path, election_year=2026)
    read_seconds = time.perf_counter() - started
    assert reading.ok and len(reading.rows) == rows, reading.problems[:3]

    database = f"cunmin_bench_{uuid.uuid4().hex[:8]}"
    if postgres:
        await _admin(postgres, f'CREATE DATABASE "{database}"')
        url = make_url(postgres).set(database=database).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        sessions = create_session_factory(engine)
        async with sessions() as session:
            village = (await add_village(session, name="东山村", township="城关镇", province="ZJ")).village
        assert village is not None and village.id is not None
        now = datetime.now(UTC)

        started = time.perf_counter()
        async with sessions() as session:
            first = await import_roll(session, village.id, reading.rows, now=now)
        seconds = time.perf_counter() - started
        assert first.refusal is None and first.added == rows

        changed = [replace(row, notes="已核对") if row.row_number % 10 == 0 else row for row in reading.rows]
        changed = [row for row in changed if row.row_number % 100 != 1]
        started = time.perf_counter()
        async with sessions() as session:
            second = await import_roll(session, village.id, changed, now=now + timedelta(days=1))
        reimport_seconds = time.perf_counter() - started
        assert second.refusal is None and second.removed
    finally:
        await engine.dispose()
        if postgres:
            await _admin(postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    backend = "postgresql" if postgres else "sqlite"
    return (
        f"roll_import rows={rows} backend={backend} seconds={seconds:.2f} "
        f"read_seconds={read_seconds:.2f} reimport_seconds={reimport_seconds:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", help="a server URL (postgresql+asyncpg://…/postgres); default: SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cunmin-bench-") as workdir:
        print(asyncio.run(bench(args.rows, args.postgres, Path(workdir))))


if __name__ == "__main__":
    main()
