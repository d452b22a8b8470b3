"""`cunmin sandbox` in one process: the Bot API emulator, the real bot, a demo village and the web chat.

The bot is built by ``bot.app.open_application`` exactly as ``cunmin run`` builds it and polls the
emulator over HTTP: the sandbox shows the production code path, not a mock of it. The database is
a throw-away SQLite file in a temporary directory, removed on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from bot.app import Application, open_application
from bot.config import Settings
from sandbox.demo import AccountLink, DemoVillage, PersonaKind, link_accounts, seed_demo_village
from sandbox.emulator import Emulator
from sandbox.web.app import WebContext, build_web_app
from sandbox.web.personas import FEATURED_ORDER, PersonaDirectory
from storage.db import SessionFactory

__all__ = ["SANDBOX_TOKEN", "Sandbox", "SandboxOptions"]

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "424242:sandbox-Cunmin_demo_token"
BOT_USERNAME = "cunmin_sandbox_bot"
BOT_NAME = "村民 Cunmin"
STARTUP_TIMEOUT = 20.0


@dataclass(frozen=True)
class SandboxOptions:
    host: str = "127.0.0.1"
    # 0 picks a free port (tests); the real one is in Sandbox.url.
    port: int = 8080
    people: int = 300
    seed: int = 2026
    # Enforce Telegram's flood control from the start (the page can toggle it at any time).
    rate_limits: bool = False
    # Share of the villagers with a phone who linked Telegram before the sandbox started.
    linked_share: float = 0.6
    # Of those, how many have since blocked the bot (the delivery report names them).
    blocked: int = 4
    # Keep the database here instead of a temporary directory (it is still new at each start).
    data_dir: Path | None = None


class Sandbox:
    """Start with ``async with Sandbox(options) as sandbox:``; ``sandbox.url`` is the web page."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.emulator = Emulator(
            SANDBOX_TOKEN,
            rate_limits=self.options.rate_limits,
            bot_username=BOT_USERNAME,
            bot_first_name=BOT_NAME,
        )
        self._stack = AsyncExitStack()
        self._polling: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._url: str | None = None
        self.application: Application | None = None
        self.village: DemoVillage | None = None
        self.directory: PersonaDirectory | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox is not started")
        return self._url

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------------------------ start

    async def start(self) -> None:
        options = self.options
        if options.data_dir is None:
            data_dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="cunmin-sandbox-")))
        else:
            data_dir = options.data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
            (data_dir / "sandbox.sqlite3").unlink(missing_ok=True)
        await self.emulator.start()
        self._stack.push_async_callback(self.emulator.stop)

        settings = Settings(
            _env_file=None,
            bot_token=SANDBOX_TOKEN,
            telegram_api_url=self.emulator.base_url,
            database_url=f"sqlite+aiosqlite:///{data_dir / 'sandbox.sqlite3'}",
            data_dir=data_dir,
            default_locale="zh_Hans",
            bot_username=BOT_USERNAME,
            paid_broadcast=False,
            broadcast_rate=30.0,
        )
        app = await self._stack.enter_async_context(open_application(settings))
        self.application = app
        now = datetime.now(UTC)
        village = await seed_demo_village(app.sessions, size=options.people, seed=options.seed, now=now)
        self.village = village
        directory = PersonaDirectory(self.emulator, village)
        self.directory = directory
        for kind in FEATURED_ORDER:
            directory.create(village.featured[kind], kind)
        await self._link_background_villagers(app.sessions, directory, village, now)

        await self._start_polling(app)
        await self._committee_member_links_up(directory)

        context = WebContext(
            emulator=self.emulator,
            directory=directory,
            sessions=app.sessions,
            village=village,
            bot_name=BOT_NAME,
            bot_username=BOT_USERNAME,
            stopping=self._stopping,
        )
        runner = web.AppRunner(build_web_app(context), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        port = int(runner.addresses[0][1])
        shown = f"[{options.host}]" if ":" in options.host else options.host
        self._url = f"http://{shown}:{port}/"

    async def _link_background_villagers(
        self, sessions: SessionFactory, directory: PersonaDirectory, village: DemoVillage, now: datetime
    ) -> None:
        """Most villagers with a phone linked Telegram long ago; a few have blocked the bot since."""
        rng = random.Random(self.options.seed)
        featured = {p.person_id for p in village.featured.values()}
        candidates = [p for p in village.people if p.phone and p.person_id not in featured]
        chosen = rng.sample(candidates, round(len(candidates) * self.options.linked_share))
        chosen.sort(key=lambda p: p.person_id or 0)
        links: list[AccountLink] = []
        for person in chosen:
            # Some read Traditional Chinese or English on their phones: the bot follows the app.
            language = rng.choices(("zh-hans", "zh-hant", "en"), (90, 6, 4))[0]
            persona = directory.create(person, language_code=language)
            persona.user.started = True
            links.append(AccountLink(person, persona.user.id, language))
        await link_accounts(sessions, links, now=now)
        linked = [directory.by_user[link.telegram_user_id] for link in links]
        for persona in rng.sample(linked, min(self.options.blocked, len(linked))):
            # Blocked long before the sandbox started: no my_chat_member update now.
            persona.user.blocked = True

    async def _start_polling(self, app: Application) -> None:
        started = asyncio.Event()

        async def mark_started() -> None:
            started.set()

        app.dispatcher.startup.register(mark_started)
        self._polling = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=app.dispatcher.resolve_used_update_types(),
            ),
            name="cunmin-sandbox-polling",
        )
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait(
            {waiter, self._polling}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if self._polling in done:
                self._polling.result()  # raises what stopped the bot
            raise TimeoutError("the bot did not start polling the emulator in time")

    async def _committee_member_links_up(self, directory: PersonaDirectory) -> None:
        """The committee member starts the bot and shares their phone, through the bot, as anyone would."""
        member = directory.featured[0]
        assert member.kind is PersonaKind.COMMITTEE
        emu = self.emulator
        await emu.user_starts(member.user)
        await emu.wait_for(member.user, timeout=STARTUP_TIMEOUT)
        await emu.user_shares_contact(member.user, member.telegram_phone.removeprefix("+"))
        await emu.wait_for(member.user, timeout=STARTUP_TIMEOUT)

    # ------------------------------------------------------------------------------------- stop

    async def stop(self) -> None:
        self._stopping.set()
        self.emulator.notifier.notify()  # wakes the pages' event streams, which then end
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._polling is not None:
            app = self.application
            if app is not None and not self._polling.done():
                with contextlib.suppress(RuntimeError):  # polling had not started yet
                    await app.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, timeout=10)
            self._polling = None
        await self._stack.aclose()
        self._url = None
