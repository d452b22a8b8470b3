"""A real aiogram Dispatcher against the emulator, in polling and in webhook mode.

These are the shapes the bot's end-to-end tests will take: start the bot's entry point, act as
villagers through the emulator, and wait for what the bot says back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from sandbox.emulator import Emulator


def build_dispatcher() -> Dispatcher:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="报名", callback_data="join")]]
        )
        await message.answer(
            f"欢迎！邀请码：<code>{command.args or '-'}</code>", parse_mode="HTML", reply_markup=keyboard
        )

    @router.callback_query(F.data == "join")
    async def join(query: CallbackQuery) -> None:
        await query.answer("已报名")
        if isinstance(query.message, Message):
            await query.message.edit_text("您已报名")

    @router.message(F.text == "ping")
    async def ping(message: Message) -> SendMessage:
        # Returned, not awaited: in webhook mode aiogram puts this call into the HTTP response.
        return message.answer("pong")

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        sender = message.from_user
        own = (
            message.contact is not None
            and sender is not None
            and message.contact.user_id == sender.id
            and message.forward_origin is None
        )
        await message.answer("手机号已验证" if own else "请分享您自己的手机号")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


@pytest.fixture
async def polling(bot: Bot) -> AsyncIterator[Dispatcher]:
    dispatcher = build_dispatcher()
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    try:
        yield dispatcher
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


async def test_polling_bot_conversation(emu: Emulator, polling: Dispatcher) -> None:
    villager = emu.create_user("李伟")
    await emu.user_starts(villager, payload="cun_7")
    welcome = await emu.wait_for(villager)
    assert welcome.text == "欢迎！邀请码：cun_7"
    query = await emu.user_presses(villager, welcome, text="报名")
    assert (await emu.wait_for_callback_answer(query)).text == "已报名"
    edited = await emu.wait_for(villager)
    assert (edited.kind, edited.text, edited.buttons()) == ("edit", "您已报名", [])
    await emu.user_shares_contact(villager, "+8613800000000")
    assert (await emu.wait_for(villager)).text == "手机号已验证"
    await emu.user_shares_contact(villager, "+8613900000000", of_user=emu.create_user("王芳"))
    assert (await emu.wait_for(villager)).text == "请分享您自己的手机号"
    await emu.user_shares_contact(villager, "+8613800000000", forwarded=True)
    assert (await emu.wait_for(villager)).text == "请分享您自己的手机号"
    assert emu.violations == []


async def test_webhook_bot_with_secret_and_reply_in_response(emu: Emulator, bot: Bot) -> None:
    dispatcher = build_dispatcher()
    app = web.Application()
    # handle_in_background=False makes aiogram answer with the method call in the response body.
    SimpleRequestHandler(dispatcher, bot, secret_token="cunmin_secret", handle_in_background=False).register(
        app, path="/webhook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
        await bot.set_webhook(url, secret_token="cunmin_secret")
        villager = emu.create_user("李伟")
        await emu.user_starts(villager)
        welcome = await emu.wait_for(villager)
        assert welcome.text == "欢迎！邀请码：-"
        await emu.user_sends(villager, "ping")
        assert (await emu.wait_for(villager)).text == "pong"
        assert [c.source for c in emu.calls_to("sendMessage")] == ["http", "webhook_reply"]
        await bot.set_webhook(url, secret_token="wrong_secret")  # aiogram now refuses our POSTs (401)
        await emu.user_sends(villager, "/start again")
        await emu.wait_until(lambda: emu.webhook_info().get("last_error_message") is not None)
        assert emu.webhook_info()["last_error_message"].startswith("Wrong response from the webhook: 401")
        await bot.delete_webhook()
    finally:
        await runner.cleanup()
