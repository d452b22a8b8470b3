"""`cunmin run` as an operator starts it: a separate process, long polling or webhook, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from sandbox.emulator import Emulator
from tests.e2e.conftest import TOKEN

CUNMIN = str(Path(sys.executable).parent / "cunmin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        CUNMIN, "run", *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    return process.returncode or 0, output.decode(errors="replace")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(token=TOKEN)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def _env(emu: Emulator, database_url: str) -> dict[str, str]:
    return {
        "CUNMIN_BOT_TOKEN": TOKEN,
        "CUNMIN_TELEGRAM_API_URL": emu.base_url,
        "CUNMIN_DATABASE_URL": database_url,
    }


async def test_cunmin_run_polls_answers_start_within_a_second_and_stops_on_sigterm(
    emulator: Emulator, database_url: str
) -> None:
    process = await _start(_env(emulator, database_url))
    try:
        await emulator.wait_until(lambda: bool(emulator.commands(language_code="en")), timeout=30)
        await emulator.wait_until(lambda: bool(emulator.calls_to("getUpdates")), timeout=30)
        for language, expected in (("zh-hans", "小助手"), ("en", "assistant for your village's elections")):
            user = emulator.create_user("村民", language_code=language)
            sent = time.monotonic()
            await emulator.user_starts(user)
            reply = await emulator.wait_for(user, timeout=5)
            assert time.monotonic() - sent < 1.0
            assert expected in reply.content
        assert emulator.commands(language_code="zh")[0]["command"] == "start"
        assert emulator.violations == []
    finally:
        code, output = await _stop(process)
    assert code == 0, output
    assert "Traceback" not in output, output


async def test_cunmin_run_webhook_needs_the_secret_header(emulator: Emulator, database_url: str) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    env = _env(emulator, database_url) | {
        "CUNMIN_WEBHOOK_URL": url,
        "CUNMIN_WEBHOOK_SECRET": "s3cret_Token-1",
        "CUNMIN_WEBHOOK_PORT": str(port),
    }
    process = await _start(env, "--webhook")
    try:
        await emulator.wait_until(lambda: emulator.webhook_info().get("url") == url, timeout=30)
        user = emulator.create_user("Li", language_code="en")
        await emulator.user_starts(user)  # delivered by POST with the secret header
        assert "assistant for your village's elections" in (await emulator.wait_for(user, timeout=5)).content

        chat = {"id": 1, "type": "private"}
        update = {
            "update_id": 999_999,
            "message": {"message_id": 1, "date": 0, "chat": chat, "text": "/start"},
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as no_header:
                assert no_header.status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with http.post(url, json=update, headers=headers) as wrong:
                assert wrong.status == 401
        assert emulator.violations == []
    finally:
        code, output = await _stop(process)
    assert code == 0, output


async def test_webhook_without_secret_is_one_clear_sentence(emulator: Emulator, database_url: str) -> None:
    process = await _start(
        _env(emulator, database_url) | {"CUNMIN_WEBHOOK_URL": "http://127.0.0.1:1/x"}, "--webhook"
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert output.decode().strip().startswith("CUNMIN_WEBHOOK_SECRET is not set")
    assert "Traceback" not in output.decode()


async def test_missing_token_is_one_clear_sentence(database_url: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "CUNMIN_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        CUNMIN, "run", env=env | {"CUNMIN_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert output.decode().strip().startswith("CUNMIN_BOT_TOKEN is not set")
