"""Planning reminder waves for a county: 50,000 villagers across 100 villages, one open election each.

Loads the villages, people (half of them linked to Telegram, a fifth of those already recommended,
one in eight a migrant worker) and elections with bulk inserts — half of the villages hold a party
branch election (two-ballot system), the other half a village committee election, which has the
proxy waves too (migrant workers who have not answered, holders, forms, election-day lists) — then
times, on the real services:

* ``plan``: the first `plan_reminders` (every wave of every election and publicity list written);
* ``replan``: the same again with nothing changed (what start-up and the periodic re-plan cost);
* ``reach``: how many people each village's next waves would reach now, as `/reminders` shows the
  committee (the audiences of 8 waves per village, computed in SQL, for all 100 villages);
* ``fire``: firing every election's "48 h before recommending closes" wave (100 broadcasts, one
  delivery row per linked villager who has not recommended).

Memory: ``plan_peak_kib``, the peak of Python allocations during a first plan (tracemalloc, in a
separate run: tracing slows the code), and ``maxrss_mib``, the process's peak resident size at
the end. Prints one line
per backend (SQLite always; PostgreSQL when --postgres is given), e.g.::

    reminders_plan villagers=50000 villages=100 backend=sqlite waves=800 plan_s=0.41 ...

Usage: .venv/bin/python bench/reminders_plan.py [--villagers 50000] [--villages 100]
       [--postgres postgresql+asyncpg://…/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
import uuid
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import delete, insert, select
from sqlalchemy.engine.url import make_url

from bot.services.identity import Me, RoleName
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.reminders import WaveSubject, fire_wave, plan_reminders, upcoming_waves
from storage.db import SessionFactory, create_engine, create_session_factory
from storage.migrate import upgrade_database
from storage.models import Account, Binding, Election, Participation, Person, ReminderWave, Village

warnings.filterwarnings("ignore", message=r"\s*🚨 You probably want to use", category=DeprecationWarning)
CHUNK = 5_000
T = TypeVar("T")


async def _admin(url: str, sql: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def render(subject: WaveSubject, recipient: Recipient) -> MessagePayload:
    return MessagePayload(text=f"{subject.wave.kind} {recipient.name}")


async def _insert(sessions: SessionFactory, model: Any, rows: list[dict[str, Any]]) -> None:
    async with sessions() as session:
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(model), rows[start : start + CHUNK])
        await session.commit()


async def _load(sessions: SessionFactory, villagers: int, villages: int, now: datetime) -> list[int]:
    await _insert(
        sessions,
        Village,
        [
            {"name": f"村{v:03d}", "township": f"镇{v // 10}", "province": "ZJ", "created_at": now}
            for v in range(villages)
        ],
    )
    async with sessions() as session:
        village_ids = [
            int(i) for i in (await session.execute(select(Village.id).order_by(Village.id))).scalars()
        ]
    per_village = villagers // villages
    await _insert(
        sessions,
        Person,
        [
            {
                "village_id": village_id,
                "name": f"村民{n}",
                "party_member": n % 10 == 0,
                "migrant": n % 8 == 3,
                "eligible_voter": True,
                "created_at": now,
                "updated_at": now,
            }
            for village_id in village_ids
            for n in range(per_village)
        ],
    )
    async with sessions() as session:
        people = [int(i) for i in (await session.execute(select(Person.id).order_by(Person.id))).scalars()]
    linked = people[::2]
    await _insert(
        sessions,
        Account,
        [
            {
                "telegram_user_id": 10_000_000 + p,
                "chat_id": 10_000_000 + p,
                "created_at": now,
                "updated_at": now,
            }
            for p in linked
        ],
    )
    async with sessions() as session:
        accounts = [
            int(i) for i in (await session.execute(select(Account.id).order_by(Account.id))).scalars()
        ]
    await _insert(
        sessions,
        Binding,
        [
            {"account_id": a, "person_id": p, "method": "contact", "bound_at": now}
            for a, p in zip(accounts, linked, strict=True)
        ],
    )
    opens = now + timedelta(days=1)
    await _insert(
        sessions,
        Election,
        [
            {
                "village_id": village_id,
                "kind": "party_two_ballots" if index % 2 == 0 else "village_committee",
                "province": "zj",
                "title": f"换届{village_id}",
                "status": "open",
                "election_day": date(2027, 1, 20),
                "recommendation_opens": opens,
                "recommendation_closes": opens + timedelta(days=4),
                # The trust vote (两票制) is the party branch's only.
                "trust_vote_opens": opens + timedelta(days=6) if index % 2 == 0 else None,
                "trust_vote_closes": opens + timedelta(days=9) if index % 2 == 0 else None,
                "policy_overrides": "{}",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for index, village_id in enumerate(village_ids)
        ],
    )
    async with sessions() as session:
        elections = {
            int(v): int(e) for e, v in (await session.execute(select(Election.id, Election.village_id))).all()
        }
        villages_of = {
            int(p): int(v) for p, v in (await session.execute(select(Person.id, Person.village_id))).all()
        }
    await _insert(
        sessions,
        Participation,
        [
            {"election_id": elections[villages_of[p]], "round": "public", "person_id": p, "created_at": now}
            for p in linked[::5]
        ],
    )
    return village_ids


async def _measure(step: Callable[[], Awaitable[T]], *, trace: bool = False) -> tuple[T, float, int]:
    """The step's result, its seconds, and (traced) the peak of Python allocations in KiB.

    Tracing slows allocation-heavy code several times: timings come from untraced runs."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = await step()
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak // 1024


async def bench(villagers: int, villages: int, url: str, backend: str) -> str:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        sessions = create_session_factory(engine)
        now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in the villages
        load_started = time.perf_counter()
        village_ids = await _load(sessions, villagers, villages, now)
        load_seconds = time.perf_counter() - load_started

        async def plan() -> int:
            async with sessions() as session:
                summary = await plan_reminders(session, now=now)
            return summary.planned

        waves, plan_s, _ = await _measure(plan)
        moved, replan_s, _ = await _measure(plan)
        # The memory of a first plan: the same again from an empty plan, traced.
        async with sessions() as session:
            await session.execute(delete(ReminderWave))
            await session.commit()
        _, _, plan_peak = await _measure(plan, trace=True)

        async with sessions() as session:
            account = (await session.execute(select(Account).limit(1))).scalars().one()
            village_rows = list((await session.execute(select(Village))).scalars())
            await session.commit()
        member = Me(
            account=account,
            roles={v.id or 0: frozenset({RoleName.COMMITTEE}) for v in village_rows},
            role_villages={v.id or 0: v for v in village_rows},
        )

        async def reach() -> int:
            total = 0
            for village in village_rows:
                single = Me(
                    account=member.account,
                    roles={village.id or 0: frozenset({RoleName.COMMITTEE})},
                    role_villages={village.id or 0: village},
                )
                async with sessions() as session:
                    lines = await upcoming_waves(session, single, default_locale="zh_Hans")
                total += sum(line.reach for line in lines)
            return total

        reached, reach_s, _ = await _measure(reach)

        async with sessions() as session:
            keys = list(
                (
                    await session.execute(
                        select(ReminderWave.key).where(ReminderWave.kind == "recommendation_close_48h")
                    )
                ).scalars()
            )
            await session.commit()
        fire_at = now + timedelta(days=3)

        async def fire() -> int:
            copies = 0
            for key in keys:
                async with sessions() as session:
                    outcome = await fire_wave(
                        session, key=key, now=fire_at, render=render, default_locale="zh_Hans"
                    )
                copies += outcome.recipients
            return copies

        copies, fire_s, _ = await _measure(fire)
    finally:
        await engine.dispose()
    maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"reminders_plan villagers={villagers} villages={len(village_ids)} backend={backend} waves={waves} "
        f"plan_s={plan_s:.3f} plan_peak_kib={plan_peak} replan_s={replan_s:.3f} replan_new={moved} "
        f"reach_s={reach_s:.2f} reached={reached} fire_waves={len(keys)} fire_s={fire_s:.2f} "
        f"fire_copies={copies} maxrss_mib={maxrss_mib:.0f} "
        f"load_s={load_seconds:.1f}"
    )


async def run(villagers: int, villages: int, postgres: str | None, workdir: Path) -> list[str]:
    lines = [await bench(villagers, villages, f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}", "sqlite")]
    if postgres:
        database = f"cunmin_bench_{uuid.uuid4().hex[:8]}"
        await _admin(postgres, f'CREATE DATABASE "{database}"')
        try:
            url = make_url(postgres).set(database=database).render_as_string(hide_password=False)
            lines.append(await bench(villagers, villages, url, "postgresql"))
        finally:
            await _admin(postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--villagers", type=int, default=50_000)
    parser.add_argument("--villages", type=int, default=100)
    parser.add_argument(
        "--postgres", help="a server URL (postgresql+asyncpg://…/postgres); default: SQLite only"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cunmin-bench-") as workdir:
        for line in asyncio.run(run(args.villagers, args.villages, args.postgres, Path(workdir))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
