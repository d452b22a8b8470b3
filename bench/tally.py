"""How long tallying a county-sized recommendation takes: 1,000,000 chat recommendations, counted by
the database (GROUP BY), ranked and cut per position (bot.services.recommendations.tally_election).

    .venv/bin/python bench/tally.py [--recommendations 1000000] [--postgres postgresql+asyncpg://…/postgres]

Prints one line per backend (SQLite always; PostgreSQL when --postgres is given), e.g.
    tally recommendations=1000000 backend=sqlite seconds=0.29 group_by_seconds=0.16 candidates=150 …
`seconds` is the whole `tally_election` call (the cold first run is not counted: best of 3);
`group_by_seconds` the chat count query alone; `load_seconds` writing the test data.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.engine.url import make_url
from sqlmodel import col

from bot.services.recommendations import tally_election
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_database
from storage.models import Election, ElectionPosition, Participation, Person, Recommendation, Village
from storage.repositories import elections as elections_repo

POSITIONS = (("secretary", 1), ("deputy_secretary", 1), ("committee_member", 3))
CANDIDATES_PER_POSITION = 50
CHUNK = 20_000
# SQLModel nudges towards session.exec(); bulk inserts and aggregates need execute().
warnings.filterwarnings("ignore", message=r"\s*🚨 You probably want to use", category=DeprecationWarning)


async def _admin(url: str, sql: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _rows(recommenders: int, first_person: int, election_id: int, now: datetime) -> list[dict[str, object]]:
    """Each recommender fills their quota: 1 secretary, 1 deputy, 3 committee members (5 rows)."""
    rng = random.Random(20261122)
    rows: list[dict[str, object]] = []
    for n in range(recommenders):
        person = first_person + n
        round_ = "party" if n % 10 == 0 else "public"
        for index, (position, seats) in enumerate(POSITIONS):
            base = first_person + index * CANDIDATES_PER_POSITION
            # A few favourites get most votes, as in a real village.
            picks: list[int] = []
            while len(picks) < seats:
                pick = base + min(int(rng.expovariate(0.15)), CANDIDATES_PER_POSITION - 1)
                if pick not in picks:
                    picks.append(pick)
            for candidate in picks:
                rows.append(
                    {
                        "election_id": election_id,
                        "position": position,
                        "round": round_,
                        "recommender_person_id": person,
                        "candidate_person_id": candidate,
                        "created_at": now,
                    }
                )
    return rows


async def bench(recommendations: int, url: str, backend: str) -> str:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        sessions = create_session_factory(engine)
        now = datetime.now(UTC)
        recommenders = recommendations // sum(seats for _p, seats in POSITIONS)
        started = time.perf_counter()
        async with sessions() as session:
            village = Village(name="东山村", township="城关镇", province="ZJ")
            session.add(village)
            await session.flush()
            assert village.id is not None
            election = Election(
                village_id=village.id,
                kind="party_two_pushes",
                province="zj",
                title="bench",
                status="open",
                election_day=date.today() + timedelta(days=60),
                recommendation_opens=now - timedelta(days=1),
                recommendation_closes=now + timedelta(days=5),
            )
            session.add(election)
            await session.flush()
            assert election.id is not None
            for position, seats in POSITIONS:
                session.add(ElectionPosition(election_id=election.id, position=position, seats=seats))
            people = [
                {
                    "village_id": village.id,
                    "name": f"村民{n}",
                    "party_member": n < 3 * CANDIDATES_PER_POSITION or n % 10 == 0,
                    "birth_year": 1940 + n % 60,
                    "created_at": now,
                    "updated_at": now,
                    "eligible_voter": True,
                    "migrant": False,
                }
                for n in range(recommenders)
            ]
            for start in range(0, len(people), CHUNK):
                await session.execute(insert(Person), people[start : start + CHUNK])
            first_id = (await session.execute(select(func.min(col(Person.id))))).scalar_one()
            rows = _rows(recommenders, first_id, election.id, now)
            for start in range(0, len(rows), CHUNK):
                await session.execute(insert(Recommendation), rows[start : start + CHUNK])
            took_part = [
                {
                    "election_id": election.id,
                    "round": "party" if n % 10 == 0 else "public",
                    "person_id": first_id + n,
                    "created_at": now,
                }
                for n in range(recommenders)
            ]
            for start in range(0, len(took_part), CHUNK):
                await session.execute(insert(Participation), took_part[start : start + CHUNK])
            await session.commit()
            election_id = election.id
        load_seconds = time.perf_counter() - started
        if backend == "postgresql":
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE")

        timings, group_by = [], []
        for _attempt in range(4):
            async with sessions() as session:
                started = time.perf_counter()
                await elections_repo.chat_counts(session, election_id)
                group_by.append(time.perf_counter() - started)
                await session.commit()
            async with sessions() as session:
                started = time.perf_counter()
                tally = await tally_election(session, election_id)
                timings.append(time.perf_counter() - started)
            assert tally is not None
        candidates = sum(len(p.lines) for p in tally.positions)
        counted = sum(line.chat_total for p in tally.positions for line in p.lines)
        assert counted == len(rows), (counted, len(rows))
    finally:
        await engine.dispose()
    return (
        f"tally recommendations={len(rows)} backend={backend} seconds={min(timings[1:]):.2f} "
        f"group_by_seconds={min(group_by[1:]):.2f} candidates={candidates} load_seconds={load_seconds:.1f}"
    )


async def run(recommendations: int, postgres: str | None, workdir: Path) -> list[str]:
    lines = [await bench(recommendations, f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}", "sqlite")]
    if postgres:
        database = f"cunmin_bench_{uuid.uuid4().hex[:8]}"
        await _admin(postgres, f'CREATE DATABASE "{database}"')
        try:
            url = make_url(postgres).set(database=database).render_as_string(hide_password=False)
            lines.append(await bench(recommendations, url, "postgresql"))
        finally:
            await _admin(postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recommendations", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", help="a server URL (postgresql+asyncpg://…/postgres); default: SQLite only"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cunmin-bench-") as workdir:
        for line in asyncio.run(run(args.recommendations, args.postgres, Path(workdir))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
