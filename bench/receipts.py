"""Read receipts at a county's scale: "I have read this" pressed by every villager at once.

A village of 2,000 bound villagers gets one notice with a receipt button, delivered for real by
the outbox sender of the bot process to the Bot API emulator (paid broadcasts, so it is quick).
Then every villager presses the button: the benchmark registers a callback query in the emulator
for the button on that villager's message and POSTs the ``callback_query`` update to the bot's
webhook, over ``--connections`` parallel connections (Telegram uses up to 40), as fast as the
webhook takes them.

* cunmin: the real ``cunmin run --webhook`` in its own process (aiogram's SimpleRequestHandler,
  the real middlewares, FSM storage, handler, service and database);
* bare: an aiogram Dispatcher with one callback handler that only answers the query, behind the
  same kind of webhook server, in its own process, measured before and after cunmin in the same run.

The emulator and the load generator share the benchmark process. aiogram answers the webhook's
POST before it handles the update, so the response time means nothing: a run is timed from the
first POST until the emulator has recorded every callback answer. Afterwards the database must
hold one read_at per villager (``recorded``). Prints one line, e.g.::

    receipts villagers=2000 cunmin_per_s=763.5 bare_per_s=1084.7 fraction=0.704 recorded=2000 db=sqlite ...

``fraction`` is cunmin's rate over the bare handler's (the mean of its runs before and after
cunmin). ``bare_gc``: the same bare handler with the collector settings `cunmin run` applies after
start-up (bot.app.tune_gc), and ``fraction_vs_bare_gc`` against it. ``cpu_ms``: CPU time of the
bot process per acknowledged update, and ``cpu_fraction`` the bare handler's over cunmin's: what
the fraction would be with a whole core for each, less sensitive to other work on the machine
(``bot_core``/``bare_core``: how much of a core each bot process got). ``p50_ms``/``p99_ms``:
from POST to answer (Telegram drops answers after about 15 s).

Usage: .venv/bin/python bench/receipts.py [--villagers 2000] [--connections 40]
       [--postgres postgresql+asyncpg://user@host:port/db]  (a fresh database is created beside it)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "123456:bench-Receipts_token"
SECRET = "bench-receipts-secret"
WEBHOOK_PATH = "/telegram/webhook"
ZONE = "Asia/Shanghai"
LANGUAGE = "zh-hans"  # the villagers' Telegram language, as stored on their accounts


# ----------------------------------------------------------------------------- the bare baseline


async def serve_bare(port: int, api: str, tuned_gc: bool) -> None:
    """The baseline bot: one callback handler that only answers, behind aiogram's webhook handler.

    `tuned_gc`: the collector settings `cunmin run` applies after start-up (bot.app.tune_gc), so
    that the fraction can also be read against a baseline that has them.
    """
    import logging

    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    # As `cunmin run` does: INFO to stderr (aiogram logs one line per handled update at INFO).
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The same connection limit as bot.app.build_bot gives cunmin at 1000 messages/s.
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api), limit=200))
    dispatcher = Dispatcher()

    @dispatcher.callback_query()
    async def answer(query: CallbackQuery) -> None:
        await query.answer()

    web_app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=SECRET).register(web_app, path=WEBHOOK_PATH)
    setup_application(web_app, dispatcher, bot=bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        if tuned_gc:
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 50, 100)
        print("ready", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------------- the database


def _asyncpg_dsn(url: str, database: str) -> str:
    from sqlalchemy.engine.url import make_url

    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def database(postgres: str | None, directory: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: a SQLite file, or a new database on the PostgreSQL server."""
    from sqlalchemy.engine.url import make_url

    from storage.db import create_engine
    from storage.migrate import upgrade_database

    if postgres is None:
        url = f"sqlite+aiosqlite:///{directory / 'receipts.sqlite3'}"
        name = None
    else:
        import asyncpg  # type: ignore[import-untyped]

        name = f"cunmin_bench_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(_asyncpg_dsn(postgres, make_url(postgres).database or "postgres"))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()
    try:
        yield url
    finally:
        if postgres is not None and name is not None:
            import asyncpg

            admin = await asyncpg.connect(_asyncpg_dsn(postgres, make_url(postgres).database or "postgres"))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


async def seed_village(url: str, user_ids: list[int]) -> int:
    """One village, a person per user, each bound to the user's account; a notice asking for receipts.

    Returns the notice id. The notice is published by the real service (one delivery row per
    villager, rendered by the real renderer); the bot process's outbox sender delivers it.
    """
    from sqlalchemy import insert, select
    from sqlmodel import col

    from bot.i18n import build_i18n
    from bot.services.notices import Audience, NoticeDraft, publish_notice
    from handlers.notice_render import notice_renderer
    from storage.db import create_engine, create_session_factory
    from storage.models import Account, Binding, Person, Village

    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            village = Village(name="基准村", township="城关镇", province="ZJ")
            session.add(village)
            await session.flush()
            assert village.id is not None
            village_id = village.id
            now = village.created_at
            connection = await session.connection()
            await connection.execute(
                insert(Person.__table__),  # type: ignore[attr-defined]
                [
                    {"village_id": village_id, "name": f"村民{n}", "party_member": False, "migrant": False}
                    | {"eligible_voter": True, "created_at": now, "updated_at": now}
                    for n in range(len(user_ids))
                ],
            )
            await connection.execute(
                insert(Account.__table__),  # type: ignore[attr-defined]
                [
                    {"telegram_user_id": u, "chat_id": u, "telegram_language_code": LANGUAGE}
                    | {"created_at": now, "updated_at": now}
                    for u in user_ids
                ],
            )
            people = (await connection.execute(select(col(Person.id)).order_by(col(Person.id)))).scalars()
            accounts = (await connection.execute(select(col(Account.id)).order_by(col(Account.id)))).scalars()
            await connection.execute(
                insert(Binding.__table__),  # type: ignore[attr-defined]
                [
                    {"account_id": a, "person_id": p, "method": "contact", "bound_at": now}
                    for a, p in zip(accounts.all(), people.all(), strict=True)
                ],
            )
            await session.commit()
        async with sessions() as session:
            outcome = await publish_notice(
                session,
                me=None,
                draft=NoticeDraft(
                    village_id=village_id,
                    title="关于核对选民名单的通知",
                    body="请各位村民核对本户的选民登记信息，如有错漏请于本周五前到村委会说明。",
                    audience=Audience.ALL,
                    ask_receipt=True,
                    draft_key=uuid.uuid4().hex,
                ),
                render=notice_renderer(build_i18n("zh_Hans"), village_name="基准村", zone=ZoneInfo(ZONE)),
                default_locale="zh_Hans",
                now=datetime.now(UTC),
            )
        assert outcome.notice is not None and outcome.notice.id is not None, outcome.refusal
        assert outcome.recipients == len(user_ids)
        return outcome.notice.id
    finally:
        await engine.dispose()


async def count_read(url: str, notice_id: int) -> tuple[int, int]:
    """(copies of the notice whose read_at is set, copies in all)."""
    from sqlmodel import col, func, select

    from storage.db import create_engine, create_session_factory
    from storage.models import Delivery, Notice

    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            notice = await session.get(Notice, notice_id)
            assert notice is not None
            of_notice = col(Delivery.broadcast_id) == notice.broadcast_id
            read = (
                await session.exec(select(func.count()).where(of_notice, col(Delivery.read_at).is_not(None)))
            ).one()
            copies = (await session.exec(select(func.count()).where(of_notice))).one()
            await session.commit()
            return int(read), int(copies)
    finally:
        await engine.dispose()


# -------------------------------------------------------------------------------- the processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BotProcess:
    name: str
    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def errors(self) -> int:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return sum(1 for line in text.splitlines() if " ERROR " in line or line.startswith("Traceback"))


@contextlib.contextmanager
def bot_process(
    name: str, command: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[BotProcess]:
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        yield BotProcess(name, process, port, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cunmin_command(emu_url: str, url: str, port: int, data_dir: Path) -> tuple[list[str], dict[str, str]]:
    """`cunmin run --webhook`, configured through its environment as an operator would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUNMIN_")}
    env.update(
        CUNMIN_BOT_TOKEN=TOKEN,
        CUNMIN_TELEGRAM_API_URL=emu_url,
        CUNMIN_DATABASE_URL=url,
        CUNMIN_DATA_DIR=str(data_dir),
        CUNMIN_WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        CUNMIN_WEBHOOK_SECRET=SECRET,
        CUNMIN_WEBHOOK_HOST="127.0.0.1",
        CUNMIN_WEBHOOK_PORT=str(port),
        CUNMIN_WEBHOOK_PATH=WEBHOOK_PATH,
        CUNMIN_PAID_BROADCAST="true",
        CUNMIN_BROADCAST_RATE="1000",
        CUNMIN_TIMEZONE=ZONE,
    )
    return [sys.executable, "-m", "bot", "run", "--webhook"], env


# ------------------------------------------------------------------------------------ the load


@dataclass(frozen=True)
class Press:
    """What one villager presses: the button on the notice in their private chat."""

    user: Any  # sandbox.world.SimUser
    message: dict[str, Any]
    data: str


@dataclass
class Round:
    name: str
    seconds: float
    posting_seconds: float
    answered: int
    latencies: list[float]
    bot_cpu: float
    bench_cpu: float
    texts: dict[str | None, int]

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds the bot process spent per answered update."""
        return self.bot_cpu * self.seconds * 1000 / self.answered if self.answered else 0.0


async def press_all(
    emu: Any, bot: BotProcess, presses: list[Press], connections: int, first_update: int
) -> Round:
    """POST one callback_query update per villager; time it until every query is answered."""
    state = emu.state
    chat_instance = str(abs(hash((state.bot_id, "bench"))) % 10**18)
    work = deque(enumerate(presses))
    records: list[Any] = []
    answers_before = len(state.callback_answers)
    target = answers_before + len(presses)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    refused: list[int] = []

    async def one_connection(http: aiohttp.ClientSession) -> None:
        while work:
            index, press = work.popleft()
            # Registered just before it is sent: the emulator dates the query, as Telegram does.
            record = state.new_callback_query(
                press.user, press.user.id, press.message["message_id"], press.data
            )
            records.append(record)
            update = {
                "update_id": first_update + index,
                "callback_query": {
                    "id": record.id,
                    "from": press.user.to_api(),
                    "message": press.message,
                    "chat_instance": chat_instance,
                    "data": press.data,
                },
            }
            async with http.post(bot.webhook, data=json.dumps(update), headers=headers) as response:
                await response.read()
                if response.status != 200:
                    refused.append(response.status)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        cpu_bot, cpu_bench = bot.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one_connection(http) for _ in range(connections)))
        posted = time.perf_counter()
        done = await emu.notifier.wait_until(lambda: len(state.callback_answers) >= target, timeout=600)
        finished = time.perf_counter()
        cpu_bot, cpu_bench = bot.cpu_seconds() - cpu_bot, time.process_time() - cpu_bench
    if refused:
        raise RuntimeError(f"{bot.name}: the webhook refused {len(refused)} updates: {sorted(set(refused))}")
    if not done:
        raise RuntimeError(
            f"{bot.name}: only {len(state.callback_answers) - answers_before} answers in 600 s"
        )
    answered = [(r, r.answer) for r in records if r.answer is not None]
    texts: dict[str | None, int] = {}
    for _, answer in answered:
        texts[answer.text] = texts.get(answer.text, 0) + 1
    seconds = finished - started
    return Round(
        name=bot.name,
        seconds=seconds,
        posting_seconds=posted - started,
        answered=len(answered),
        latencies=sorted(a.date - r.date for r, a in answered),
        bot_cpu=cpu_bot / seconds,
        bench_cpu=cpu_bench / seconds,
        texts=texts,
    )


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(len(values) * fraction))] if values else 0.0


def tune_gc() -> None:
    # The emulator keeps every call and message; a frozen heap keeps the collector off the bench's back.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def wait_for(predicate: Any, timeout: float, what: str, process: BotProcess | None = None) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and process.process.poll() is not None:
            raise RuntimeError(f"{process.name} exited: {process.log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.contextmanager
def sampled(bot: BotProcess, profile: Path | None) -> Iterator[None]:
    """With --profile: py-spy samples the bot process while it works (collapsed stacks, for a flame graph)."""
    if profile is None:
        yield
        return
    command = ["py-spy", "record", "--pid", str(bot.process.pid), "--format", "raw", "--rate", "500"]
    # --gil: only the thread holding the GIL (the Python work); the threads' CPU is printed below.
    spy = subprocess.Popen([*command, "--gil", "--nonblocking", "--output", str(profile)])
    time.sleep(1.0)  # py-spy attaches
    before = thread_cpu(bot)
    try:
        yield
    finally:
        after = thread_cpu(bot)
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        used = {name: after[name] - before.get(name, 0.0) for name in after}
        print(
            "thread CPU seconds:",
            {k: round(v, 2) for k, v in sorted(used.items()) if v > 0.01},
            file=sys.stderr,
        )


def thread_cpu(bot: BotProcess) -> dict[str, float]:
    """CPU seconds per thread of the bot process, keyed by thread id and name."""
    out = {}
    for task in Path(f"/proc/{bot.process.pid}/task").iterdir():
        with contextlib.suppress(OSError):
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            out[f"{task.name}:{name}"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


async def run(villagers: int, connections: int, postgres: str | None, profile: Path | None = None) -> str:
    from sandbox.emulator import Emulator
    from sandbox.world import find_button

    # Answers may come late under a backlog: measure them rather than have the emulator refuse them.
    emu = Emulator(TOKEN, paid_broadcast=True, callback_answer_timeout=3600)
    await emu.start()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        try:
            users = [emu.create_user(f"村民{n}", language_code=LANGUAGE) for n in range(villagers)]
            for user in users:
                user.started = True  # they pressed Start long ago; no update for it now
            async with database(postgres, directory) as url:
                notice_id = await seed_village(url, [u.id for u in users])

                def bare_command(port: int, *flags: str) -> list[str]:
                    script = str(ROOT / "bench" / "receipts.py")
                    return [sys.executable, script, "--serve-bare", str(port), "--api", emu.base_url, *flags]

                ports = [free_port() for _ in range(3)]
                command, env = cunmin_command(emu.base_url, url, ports[2], directory / "data")
                with (
                    bot_process(
                        "bare", bare_command(ports[0]), dict(os.environ), ports[0], directory / "b.log"
                    ) as bare,
                    bot_process(
                        "bare_gc",
                        bare_command(ports[1], "--tuned-gc"),
                        dict(os.environ),
                        ports[1],
                        directory / "g.log",
                    ) as bare_gc,
                    bot_process("cunmin", command, env, ports[2], directory / "cunmin.log") as cunmin,
                ):
                    for baseline in (bare, bare_gc):
                        assert baseline.process.stdout is not None
                        line = await asyncio.to_thread(baseline.process.stdout.readline)
                        if line.strip() != "ready":
                            raise RuntimeError(
                                f"{baseline.name} did not start: {baseline.log.read_text()[-3000:]}"
                            )

                    def delivered() -> int:
                        logs = emu.state.logs
                        return sum(1 for u in users if u.id in logs and logs[u.id].messages)

                    started = time.perf_counter()
                    webhook = cunmin.webhook
                    await wait_for(lambda: emu.webhook_info().get("url") == webhook, 60, "cunmin", cunmin)
                    await wait_for(lambda: delivered() == villagers, 120, "the outbox", cunmin)
                    delivery_seconds = time.perf_counter() - started

                    presses = []
                    for user in users:
                        (stored,) = emu.state.logs[user.id].messages.values()
                        button = find_button(stored.markup, None, "✅ 已阅")
                        assert button is not None, stored.markup
                        presses.append(Press(user, dict(stored.json), str(button["callback_data"])))
                    edits_before = emu.stats.by_method["editMessageReplyMarkup"]
                    await asyncio.sleep(1.0)  # let the outbox settle its last outcomes
                    tune_gc()

                    # The baselines before and after cunmin, so that drift in the machine shows.
                    rounds = [await press_all(emu, b, presses, connections, 1) for b in (bare, bare_gc)]
                    with sampled(cunmin, profile):
                        rounds.append(await press_all(emu, cunmin, presses, connections, 10_001))
                    edited = emu.stats.by_method
                    await wait_for(
                        lambda: edited["editMessageReplyMarkup"] - edits_before >= villagers,
                        120,
                        "edits",
                        cunmin,
                    )
                    rounds += [await press_all(emu, b, presses, connections, 20_001) for b in (bare, bare_gc)]
                    await asyncio.sleep(0.5)
                    errors = bare.errors() + bare_gc.errors() + cunmin.errors()
                recorded, copies = await count_read(url, notice_id)
        finally:
            await emu.stop()
    return report(
        rounds,
        villagers=villagers,
        recorded=recorded,
        copies=copies,
        db="postgresql" if postgres else "sqlite",
        edits=emu.stats.by_method["editMessageReplyMarkup"] - edits_before,
        failed_calls=sum(1 for c in emu.calls if c.status != 200),
        errors=errors,
        extra=f"connections={connections} delivery_s={delivery_seconds:.1f}",
    )


def report(
    rounds: list[Round], *, villagers: int, recorded: int, copies: int, db: str, extra: str, **more: Any
) -> str:
    """The line: cunmin against each baseline (mean of its runs before and after), by rate and by CPU."""
    (mine,) = [r for r in rounds if r.name == "cunmin"]
    bare = [r for r in rounds if r.name == "bare"]
    bare_gc = [r for r in rounds if r.name == "bare_gc"]
    bare_per_s = statistics.mean(r.per_second for r in bare)
    bare_gc_per_s = statistics.mean(r.per_second for r in bare_gc)
    bare_cpu_ms = statistics.mean(r.cpu_ms for r in bare)
    bare_gc_cpu_ms = statistics.mean(r.cpu_ms for r in bare_gc)
    fields = {
        "villagers": villagers,
        "cunmin_per_s": f"{mine.per_second:.1f}",
        "bare_per_s": f"{bare_per_s:.1f}",
        "fraction": f"{mine.per_second / bare_per_s:.3f}",
        "recorded": recorded,
        "db": db,
        "bare_gc_per_s": f"{bare_gc_per_s:.1f}",
        "fraction_vs_bare_gc": f"{mine.per_second / bare_gc_per_s:.3f}",
        # CPU time per acknowledged update in the bot process: what the rates would be on a core each.
        "cpu_ms": f"{mine.cpu_ms:.2f}",
        "bare_cpu_ms": f"{bare_cpu_ms:.2f}",
        "bare_gc_cpu_ms": f"{bare_gc_cpu_ms:.2f}",
        "cpu_fraction": f"{bare_cpu_ms / mine.cpu_ms:.3f}",
        "cpu_fraction_vs_bare_gc": f"{bare_gc_cpu_ms / mine.cpu_ms:.3f}",
        "runs": "/".join(f"{r.name}:{r.per_second:.0f}" for r in rounds),
        "bot_core": f"{mine.bot_cpu:.2f}",
        "bare_core": "/".join(f"{r.bot_cpu:.2f}" for r in bare),
        "bench_core": f"{mine.bench_cpu:.2f}",
        "p50_ms": f"{percentile(mine.latencies, 0.5) * 1000:.0f}",
        "p99_ms": f"{percentile(mine.latencies, 0.99) * 1000:.0f}",
        "bare_p99_ms": f"{percentile(bare[0].latencies, 0.99) * 1000:.0f}",
        "answered": mine.answered,
        "thanked": mine.texts.get("谢谢，已记录。", 0),
        "copies": copies,
        **more,
    }
    return "receipts " + " ".join(f"{k}={v}" for k, v in fields.items()) + " " + extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villagers", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--postgres", metavar="URL", default=None, help="postgresql+asyncpg://… (a server)")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="py-spy the cunmin round (figures skewed)"
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--tuned-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare is not None:
        asyncio.run(serve_bare(args.serve_bare, args.api, args.tuned_gc))
        return
    print(asyncio.run(run(args.villagers, args.connections, args.postgres, args.profile)), flush=True)


if __name__ == "__main__":
    main()
