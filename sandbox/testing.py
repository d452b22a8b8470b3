"""Helpers for test suites that drive the real bot through the emulator.

* :func:`bot_for` builds an ``aiogram.Bot`` whose session talks to the emulator;
* :func:`audit` is the end-of-test honesty check: no spec violation in any emulator response or
  update, every success validated, every result parsed again with aiogram's own models;
* :func:`make_png` makes a real image, because the emulator (like Telegram) rejects photo uploads
  that are not images.
"""

from __future__ import annotations

import inspect
import struct
import zlib
from functools import cache
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods.base import TelegramMethod
from aiohttp import ClientSession
from pydantic import TypeAdapter

from sandbox.emulator import Emulator

__all__ = ["aiogram_return_types", "audit", "bot_for", "close_bot", "make_png"]


def bot_for(emu: Emulator, token: str | None = None) -> Bot:
    """An aiogram ``Bot`` talking to ``emu``; close it with :func:`close_bot`."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    return Bot(token or emu.token, session=session)


async def close_bot(bot: Bot) -> None:
    """Close the bot's HTTP session without aiogram's 250 ms SSL grace sleep.

    ``AiohttpSession.close()`` sleeps 0.25 s so that TLS connections can shut down; on plain HTTP to
    127.0.0.1 there is nothing to wait for, and across a test suite the sleeps add up to many seconds.
    """
    session = bot.session
    client = getattr(session, "_session", None)
    if isinstance(session, AiohttpSession) and isinstance(client, ClientSession):
        if not client.closed:
            await client.close()
        return
    await session.close()


@cache
def aiogram_return_types() -> dict[str, Any]:
    """Bot API method name -> the type aiogram parses that method's result into."""
    import aiogram.methods as methods

    out: dict[str, Any] = {}
    for obj in vars(methods).values():
        if inspect.isclass(obj) and issubclass(obj, TelegramMethod) and obj is not TelegramMethod:
            name = getattr(obj, "__api_method__", None)
            if isinstance(name, str):
                out[name] = obj.__returning__
    return out


def audit(emu: Emulator) -> int:
    """Assert the emulator stayed honest; return how many results were checked.

    Raises ``AssertionError`` if any response or update failed spec validation, if a success skipped
    validation, or if aiogram cannot parse a recorded result.
    """
    if emu.response_violations:
        raise AssertionError(f"emulator produced invalid responses: {emu.response_violations}")
    successes = [c for c in emu.calls if c.result is not None and (c.status == 200 or c.status == 502)]
    if emu.stats.responses_validated != len(successes):
        raise AssertionError(
            f"{len(successes)} successful calls but {emu.stats.responses_validated} validated responses"
        )
    returns = aiogram_return_types()
    for call in successes:
        TypeAdapter(returns[call.method]).validate_python(call.result)
    return len(successes)


def make_png(width: int, height: int) -> bytes:
    """A valid 8-bit greyscale PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
