"""Kill the outbox sender at a random point (SIGKILL), restart it, and count copies per villager.

The sender runs in a child process against the emulator (its own process too) and a database
file; the parent kills the child after a random number of successful sends, starts a second
child on the same database, and reads from the emulator how many copies each villager got:
0 (lost), 1, or 2+ (duplicates). Prints one line, e.g.::

    outbox_crash recipients=3000 killed_after=1234 claimed_at_kill=57 zero=0 once=2990 twice_or_more=10 ...

The claim is committed before each request and the outcome after, so nobody may get 0 copies and
at most `concurrency` may get 2 (those in flight, or sent but not yet recorded, at the kill).

Usage: .venv/bin/python bench/outbox_crash.py [--recipients 3000] [--rate 300] [--seed N]
       [--database-url postgresql+asyncpg://...]  (default: a fresh SQLite file)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outbox_rate import (
    ROOT,
    bind_villagers,
    create_users,
    emulator_json,
    emulator_process,
    enqueue_notice,
    make_bot,
    sends_per_chat,
    tune_gc,
)

from bot.delivery.sender import OutboxSender
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_database
from storage.models import Delivery, DeliveryStatus


async def child(base_url: str, database_url: str, rate: float) -> None:
    """One sender process: run until the outbox is empty (or until killed)."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    bot = make_bot(base_url, 200)
    sender = OutboxSender(bot, sessions, rate=rate, paid_broadcast=True)
    tune_gc()
    try:
        await sender.start()
        print(f"started concurrency={sender.concurrency}", flush=True)
        await sender.run_until_idle(timeout=3600)
    finally:
        await sender.stop()
        await bot.session.close()
        await engine.dispose()


def spawn(base_url: str, database_url: str, rate: float) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [
            *(sys.executable, __file__, "--child"),
            *("--base-url", base_url, "--database-url", database_url, "--rate", str(rate)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("started"):
        raise RuntimeError(f"the sender did not start: {line!r}")
    return process, int(line.split("concurrency=")[1])


async def successful_sends(http: aiohttp.ClientSession, control: str) -> int:
    async with http.get(f"{control}/stats") as response:
        stats = (await response.json())["result"]
    return int(stats["by_status"].get("200", 0))


async def claimed_rows(database_url: str) -> int:
    from sqlalchemy import func
    from sqlmodel import col, select

    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            statement = select(func.count()).where(col(Delivery.status) == DeliveryStatus.CLAIMED)
            return int((await session.exec(statement)).one())
    finally:
        await engine.dispose()


async def parent(recipients: int, rate: float, seed: int, database_url: str | None) -> str:
    rng = random.Random(seed)
    kill_after = rng.randint(recipients // 10, recipients * 9 // 10)
    # Some slow answers keep requests in flight at the moment of the kill, as on a real network.
    flags = ["--rate-limits", "--paid-broadcast", "--seed", str(seed)]
    flags += ["--p-slow", "0.1", "--slow-seconds", "0.1"]
    with emulator_process(*flags) as emu, tempfile.TemporaryDirectory() as directory:
        url = database_url or f"sqlite+aiosqlite:///{directory}/crash.sqlite3"
        engine = create_engine(url)
        await upgrade_database(engine)
        sessions = create_session_factory(engine)
        roll = await bind_villagers(sessions, await create_users(emu, recipients))
        await enqueue_notice(sessions, roll)
        await engine.dispose()

        first, concurrency = spawn(emu.base_url, url, rate)
        async with aiohttp.ClientSession() as http:
            # Polling another process's counter: there is no event to wait on.
            while (sent := await successful_sends(http, emu.control)) < kill_after and first.poll() is None:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        claimed = await claimed_rows(url)
        started = time.perf_counter()
        second, _ = spawn(emu.base_url, url, rate)
        second.wait(timeout=3600)
        resume_seconds = time.perf_counter() - started
        calls = await emulator_json(emu, "calls")
    copies = sends_per_chat(calls)
    histogram = Counter(min(copies.get(chat, 0), 2) for chat in roll.chat_ids)
    duplicates = sum(max(0, n - 1) for n in copies.values())
    ok = histogram[0] == 0 and duplicates <= concurrency
    return (
        f"outbox_crash recipients={recipients} rate={rate:.0f} seed={seed} killed_after={sent} "
        f"claimed_at_kill={claimed} zero={histogram[0]} once={histogram[1]} twice_or_more={histogram[2]} "
        f"duplicates={duplicates} concurrency={concurrency} resume_seconds={resume_seconds:.1f} "
        f"ok={int(ok)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.base_url, args.database_url, args.rate))
        return
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    print(asyncio.run(parent(args.recipients, args.rate, seed, args.database_url)), flush=True)


if __name__ == "__main__":
    main()
