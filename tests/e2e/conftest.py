"""The real bot (aiogram's HTTP session, the real dispatcher and database) against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Application, open_application
from bot.config import Settings
from sandbox.emulator import Emulator
from sandbox.testing import audit
from sandbox.world import ChatEvent, SimUser

TOKEN = "123456:e2e-Test_token"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(token=TOKEN)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@dataclass
class Harness:
    """A user's-eye view: say something, read the bot's answer."""

    app: Application
    emu: Emulator

    async def say(self, user: SimUser, text: str, timeout: float = 5.0) -> ChatEvent:  # noqa: ASYNC109
        await self.emu.user_sends(user, text)
        return await self.emu.wait_for(user, timeout=timeout)

    async def start(self, user: SimUser, payload: str | None = None) -> ChatEvent:
        await self.emu.user_starts(user, payload)
        return await self.emu.wait_for(user)

    async def linked(self, name: str, phone: str, language: str = "en") -> SimUser:
        """A new user who shares their phone number (linked to the roll if it is on it)."""
        user = self.emu.create_user(name, language_code=language)
        await self.emu.user_shares_contact(user, phone.removeprefix("+"))
        await self.emu.wait_for(user)
        return user

    async def press(self, user: SimUser, message: ChatEvent, text: str) -> ChatEvent:
        """Press the inline button labelled `text`; return the bot's next message or edit."""
        await self.emu.user_presses(user, message, text=text)
        return await self.emu.wait_for(user)


def settings_for(emu: Emulator, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": TOKEN,
        "telegram_api_url": emu.base_url,
        "database_url": database_url,
        "default_locale": "zh_Hans",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def bot_settings(emulator: Emulator, database_url: str, tmp_path: Path) -> Settings:
    return settings_for(emulator, database_url, data_dir=tmp_path / "data")


@pytest.fixture
async def harness(emulator: Emulator, bot_settings: Settings) -> AsyncIterator[Harness]:
    async with open_application(bot_settings) as app:
        started = asyncio.Event()

        async def mark_started() -> None:
            started.set()

        app.dispatcher.startup.register(mark_started)
        polling = asyncio.create_task(
            app.dispatcher.start_polling(app.bot, handle_signals=False, close_bot_session=False)
        )
        await asyncio.wait_for(started.wait(), timeout=10)
        try:
            yield Harness(app=app, emu=emulator)
        finally:
            await app.dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
    # Every request the bot made in the test was valid against the Bot API spec.
    assert emulator.violations == [], emulator.violations
    assert emulator.unsupported_calls == []
    audit(emulator)
