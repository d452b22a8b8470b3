"""How close the outbox sender gets to Telegram's broadcast limit, with flood control enforced.

The emulator runs in its own process (as Telegram would be another machine) with its default
flood control: 30 messages/s overall (burst 30), 1/s per private chat, 1000/s for paid broadcasts.
3,000 villagers are bound on one roll; one notice goes to each of them through the real sender
(real aiogram Bot, real database). Prints one line, e.g.::

    outbox_rate mode=free recipients=3000 limit=30 achieved=29.9 fraction=1.00 http429=0 ...

Usage: .venv/bin/python bench/outbox_rate.py [--mode free|paid] [--recipients 3000]
       [--database-url postgresql+asyncpg://...]  (default: a fresh SQLite file)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlmodel import col  # noqa: E402

from bot.delivery.sender import FREE_BROADCAST_RATE, PAID_BROADCAST_RATE, OutboxSender  # noqa: E402
from bot.services.outbox import BroadcastKind, MessagePayload, OutgoingMessage, enqueue_broadcast  # noqa: E402
from storage.db import SessionFactory, create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade_database  # noqa: E402
from storage.models import Account, Binding, Person, Village  # noqa: E402

TOKEN = "123456:bench-Outbox_token"
URL_LINE = re.compile(r"Bot API emulator on (http://\S+)")


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[str]
    base_url: str

    @property
    def control(self) -> str:
        return f"{self.base_url}/_emu"


@contextlib.contextmanager
def emulator_process(*flags: str) -> Any:
    """`python -m sandbox.emulator` on a free port, in its own process (its own CPU core)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.emulator", "--port", "0", "--token", TOKEN, *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = URL_LINE.search(line)
        if found is None:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield EmulatorProcess(process, found.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


async def create_users(emu: EmulatorProcess, count: int) -> list[int]:
    """`count` users who pressed Start (so that the bot may write to them)."""
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(n: int) -> int:
            async with http.post(f"{emu.control}/users", json={"first_name": f"村民{n}"}) as response:
                user_id = int((await response.json())["result"]["id"])
            async with http.post(f"{emu.control}/users/{user_id}/start", json={}) as response:
                response.raise_for_status()
            return user_id

        return list(await asyncio.gather(*(one(n) for n in range(count))))


async def emulator_json(emu: EmulatorProcess, path: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(f"{emu.control}/{path}") as response:
        return (await response.json())["result"]


@dataclass
class Roll:
    account_ids: list[int]
    chat_ids: list[int]


async def bind_villagers(sessions: SessionFactory, user_ids: Sequence[int]) -> Roll:
    """One village, one person per user, each bound to the user's account (bulk inserts)."""
    async with sessions() as session:
        village = Village(name="基准村", township="城关镇", province="ZJ")
        session.add(village)
        await session.flush()
        connection = await session.connection()
        await connection.execute(
            insert(Person.__table__),  # type: ignore[attr-defined]
            [
                {"village_id": village.id, "name": f"村民{n}", "party_member": False, "migrant": False}
                | {"eligible_voter": True, "created_at": village.created_at, "updated_at": village.created_at}
                for n in range(len(user_ids))
            ],
        )
        await connection.execute(
            insert(Account.__table__),  # type: ignore[attr-defined]
            [
                {"telegram_user_id": u, "chat_id": u, "created_at": village.created_at}
                | {"updated_at": village.created_at}
                for u in user_ids
            ],
        )
        people = (await connection.execute(select(col(Person.id)).order_by(col(Person.id)))).scalars().all()
        accounts = (
            (await connection.execute(select(col(Account.id)).order_by(col(Account.id)))).scalars().all()
        )
        await connection.execute(
            insert(Binding.__table__),  # type: ignore[attr-defined]
            [
                {"account_id": a, "person_id": p, "method": "contact", "bound_at": village.created_at}
                for a, p in zip(accounts, people, strict=True)
            ],
        )
        await session.commit()
    return Roll(account_ids=[int(a) for a in accounts if a is not None], chat_ids=list(user_ids))


async def enqueue_notice(sessions: SessionFactory, roll: Roll) -> float:
    """Enqueue one notice to everyone; return how long the one transaction took (seconds)."""
    messages = [
        OutgoingMessage(
            account_id=account_id,
            chat_id=chat_id,
            payload=MessagePayload(text=f"村民{n}，您好：请于本周日上午九点到村委会参加村民代表会议。"),
            locale="zh_Hans",
        )
        for n, (account_id, chat_id) in enumerate(zip(roll.account_ids, roll.chat_ids, strict=True))
    ]
    started = time.perf_counter()
    async with sessions() as session:
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.NOTICE,
            title="村民代表会议通知",
            village_id=None,
            created_by_account_id=None,
            messages=messages,
        )
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[tuple[str, SessionFactory]]:
    with tempfile.TemporaryDirectory() as directory:
        resolved = url or f"sqlite+aiosqlite:///{directory}/bench.sqlite3"
        engine = create_engine(resolved)
        try:
            await upgrade_database(engine)
            yield resolved, create_session_factory(engine)
        finally:
            await engine.dispose()


def make_bot(base_url: str, connections: int) -> Bot:
    # aiohttp's default of 100 connections would cap the requests in flight below the sender's.
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url), limit=max(100, connections))
    return Bot(TOKEN, session=session)


def tune_gc() -> None:
    # DESIGN.md: after start-up, freeze what exists and collect less often (1.1-1.3x throughput).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def sends_per_chat(calls: list[dict[str, Any]]) -> Counter[int]:
    return Counter(
        int(c["params"]["chat_id"]) for c in calls if c["method"] == "sendMessage" and c["status"] == 200
    )


async def run(mode: str, recipients: int, database_url: str | None) -> str:
    paid = mode == "paid"
    limit = PAID_BROADCAST_RATE if paid else FREE_BROADCAST_RATE
    flags = ["--rate-limits", *(["--paid-broadcast"] if paid else [])]
    with emulator_process(*flags) as emu:
        user_ids = await create_users(emu, recipients)
        async with database(database_url) as (url, sessions):
            roll = await bind_villagers(sessions, user_ids)
            enqueue_seconds = await enqueue_notice(sessions, roll)
            bot = make_bot(emu.base_url, 200)
            sender = OutboxSender(bot, sessions, rate=limit, paid_broadcast=paid)
            tune_gc()
            started = time.perf_counter()
            try:
                await sender.run_until_idle(timeout=recipients / limit * 3 + 60)
            finally:
                await sender.stop()
                await bot.session.close()
            wall = time.perf_counter() - started
        stats = await emulator_json(emu, "stats")
        calls = await emulator_json(emu, "calls")
    sent = sorted(c["time"] for c in calls if c["method"] == "sendMessage" and c["status"] == 200)
    per_chat = sends_per_chat(calls)
    achieved = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
    # Without the sender's start-up burst (rate/10 tokens) and the tail: the pace it holds.
    middle = sent[len(sent) // 10 : len(sent) - len(sent) // 10]
    steady = (len(middle) - 1) / (middle[-1] - middle[0]) if len(middle) > 1 else 0.0
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    return (
        f"outbox_rate mode={mode} recipients={recipients} limit={limit:.0f} achieved={achieved:.1f} "
        f"fraction={achieved / limit:.3f} steady={steady:.1f} http429={stats['too_many_requests']} "
        f"delivered={len(per_chat)} duplicates={sum(n - 1 for n in per_chat.values())} "
        f"seconds={wall:.1f} enqueue_ms={enqueue_seconds * 1000:.0f} "
        f"concurrency={sender.concurrency} db={backend}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("free", "paid"), default="free")
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(asyncio.run(run(args.mode, args.recipients, args.database_url)), flush=True)


if __name__ == "__main__":
    main()
