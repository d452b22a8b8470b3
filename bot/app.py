"""The composition root: settings in, a running bot out. Nothing here is global.

Bot, dispatcher, engine (and later the scheduler and the outbox sender) are built in
`open_application` and handed to handlers through aiogram's workflow data.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, SettingsError
from bot.database import prepare_database
from bot.delivery.progress import ProgressMessage
from bot.delivery.receipts import ReceiptRecorder
from bot.delivery.sender import BroadcastProgress, OutboxSender
from bot.fsm_storage import DatabaseStorage
from bot.i18n import build_i18n
from bot.middlewares import (
    AccountMiddleware,
    CommandEndsConversationMiddleware,
    DbSessionMiddleware,
    LocaleMiddleware,
)
from bot.scheduling import ReminderScheduler
from bot.services.audit import UNKNOWN
from bot.services.committee_group import follow_group_upgrade
from handlers import build_root_router
from handlers.delivery_report import DeliveryReporter
from handlers.menus import register_command_menus
from handlers.reminder_render import wave_renderer
from storage.db import SessionFactory, create_engine, create_session_factory
from storage.leader import SenderLock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Application:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    i18n: I18n
    bot: Bot
    dispatcher: Dispatcher


def build_dispatcher(sessions: SessionFactory, i18n: I18n, settings: Settings) -> Dispatcher:
    dispatcher = Dispatcher(storage=DatabaseStorage(sessions), settings=settings, sessions=sessions)
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessions))
    dispatcher.update.outer_middleware(AccountMiddleware(settings.default_locale, sessions))
    locale = LocaleMiddleware(i18n)
    dispatcher.update.outer_middleware(locale)
    # Errors are handled after the update's own locale context has closed: apply it again.
    dispatcher.errors.outer_middleware(locale)
    # Before any router: a command typed mid-conversation is a command, never the awaited text.
    dispatcher.message.outer_middleware(CommandEndsConversationMiddleware())
    dispatcher.include_router(build_root_router())
    # Handlers get it as `receipts`: "I have read this" is written in batches by this one writer.
    dispatcher["receipts"] = ReceiptRecorder(sessions)

    async def on_startup(bot: Bot) -> None:
        await register_command_menus(bot, i18n)
        me = await bot.get_me()
        log.info("Cunmin is running as @%s (id %s)", me.username, me.id)

    dispatcher.startup.register(on_startup)
    return dispatcher


def attach_outbox(
    dispatcher: Dispatcher, bot: Bot, sessions: SessionFactory, i18n: I18n, settings: Settings
) -> OutboxSender:
    """The outbox sender runs exactly while the dispatcher runs (polling or webhook).

    Handlers get it as `outbox` (to call `outbox.wake()` after enqueueing a broadcast).
    """
    progress_message = ProgressMessage(bot, sessions, i18n, settings.default_locale)
    report = DeliveryReporter(bot, sessions, i18n, settings.default_locale)

    async def on_progress(progress: BroadcastProgress) -> None:
        # The progress message first, so that the report arrives below its final state; a failed
        # edit (the member deleted the message) must not cost them the report.
        for hook in (progress_message, report):
            try:
                await hook(progress)
            except Exception:
                log.exception("progress hook failed for broadcast %s", progress.broadcast_id)

    async def on_chat_migrated(old_chat_id: int, new_chat_id: int) -> None:
        # A send to an upgraded group: the committee group link follows (Telegram names nobody).
        async with sessions() as session:
            await follow_group_upgrade(
                session, UNKNOWN, from_chat_id=old_chat_id, to_chat_id=new_chat_id, now=datetime.now(UTC)
            )

    outbox = OutboxSender(
        bot,
        sessions,
        rate=settings.broadcast_rate,
        paid_broadcast=settings.paid_broadcast,
        progress=on_progress,
        chat_migrated=on_chat_migrated,
    )
    dispatcher["outbox"] = outbox
    dispatcher.startup.register(outbox.start)
    # Shutdown hooks run before the bot's HTTP session closes: in-flight sends finish and are recorded.
    dispatcher.shutdown.register(outbox.stop)
    return outbox


def attach_reminders(
    dispatcher: Dispatcher,
    engine: AsyncEngine,
    url: str,
    sessions: SessionFactory,
    i18n: I18n,
    settings: Settings,
    outbox: OutboxSender,
) -> ReminderScheduler:
    """The reminder scheduler runs while the dispatcher runs, in the one process holding the sender lock.

    Handlers get it as `reminders` (to call `refresh()` after scheduling or cancelling a wave).
    """
    scheduler = ReminderScheduler(
        sessions,
        SenderLock(engine, url),
        wave_renderer(i18n),
        default_locale=settings.default_locale,
        wake_outbox=outbox.wake,
    )
    dispatcher["reminders"] = scheduler
    dispatcher.startup.register(scheduler.start)
    dispatcher.shutdown.register(scheduler.stop)
    return scheduler


def build_bot(settings: Settings) -> Bot:
    server = TelegramAPIServer.from_base(settings.telegram_api_url)
    # aiohttp's default of 100 connections caps the rate at 100 / round trip (DESIGN.md): the
    # outbox keeps about rate x 0.15 requests in flight, so leave room for that and the handlers.
    connections = max(100, int(settings.broadcast_rate * 0.15) + 50)
    return Bot(token=settings.require_token(), session=AiohttpSession(api=server, limit=connections))


@asynccontextmanager
async def open_application(settings: Settings) -> AsyncIterator[Application]:
    token_checked_bot = build_bot(settings)  # fails fast on a missing token, before touching the DB
    url = settings.resolved_database_url
    engine = create_engine(url)
    try:
        await prepare_database(engine, url)
        sessions = create_session_factory(engine)
        i18n = build_i18n(settings.default_locale)
        dispatcher = build_dispatcher(sessions, i18n, settings)
        outbox = attach_outbox(dispatcher, token_checked_bot, sessions, i18n, settings)
        attach_reminders(dispatcher, engine, url, sessions, i18n, settings, outbox)
        yield Application(settings, engine, sessions, i18n, token_checked_bot, dispatcher)
    finally:
        await token_checked_bot.session.close()
        await engine.dispose()


def tune_gc() -> None:
    """After start-up: freeze what exists, collect less often (DESIGN.md: 1.1-1.3x throughput).

    Under load the cyclic collector otherwise walks every update in flight again and again (a
    webhook backlog holds thousands); objects built at start-up live as long as the process.
    Only the `cunmin run` entry points call this: tests build many applications in one process.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def run_polling(settings: Settings) -> None:
    async with open_application(settings) as app:

        async def after_startup() -> None:
            tune_gc()

        app.dispatcher.startup.register(after_startup)  # the last start-up hook
        # start_polling installs SIGINT/SIGTERM handlers and returns once they stopped it.
        await app.dispatcher.start_polling(
            app.bot, allowed_updates=app.dispatcher.resolve_used_update_types(), handle_signals=True
        )


async def run_webhook(settings: Settings) -> None:
    if settings.webhook_secret is None:
        raise SettingsError(
            "CUNMIN_WEBHOOK_SECRET is not set: the webhook needs a secret "
            "(1-256 characters of A-Z, a-z, 0-9, _ and -)."
        )
    if not settings.webhook_url:
        raise SettingsError(
            "CUNMIN_WEBHOOK_URL is not set: give the public https:// address Telegram should call."
        )
    secret = settings.webhook_secret.get_secret_value()
    async with open_application(settings) as app:
        web_app = web.Application()
        SimpleRequestHandler(app.dispatcher, app.bot, secret_token=secret).register(
            web_app, path=settings.webhook_path
        )
        setup_application(web_app, app.dispatcher, bot=app.bot)
        runner = web.AppRunner(web_app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
            await site.start()
            await app.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=app.dispatcher.resolve_used_update_types(),
            )
            log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
            tune_gc()
            await _wait_for_stop_signal()
        finally:
            await runner.cleanup()


async def _wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
