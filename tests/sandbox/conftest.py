"""Fixtures for the emulator's own tests.

Every test that uses the ``emu`` fixture is audited at teardown (:func:`sandbox.testing.audit`): the
emulator must not have produced a single response or update that fails spec validation, every
successful call must have gone through response validation, and every recorded result must parse
with aiogram's own models. That is how "every response the emulator produced in these tests
validated against the spec" is enforced for the whole suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator
from sandbox.testing import audit, bot_for, close_bot

TOKEN = "123456:ABC-DEF"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[Emulator]:
    async with Emulator(TOKEN, clock=clock, webhook_retry_base=0.5) as emulator:
        yield emulator
        audit(emulator)


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    bot = bot_for(emu)
    try:
        yield bot
    finally:
        await close_bot(bot)
