"""The emulator's honesty: its own responses are validated against the spec and parsed by aiogram.

The ``emu`` fixture audits every test of this suite at teardown (``sandbox.testing.audit``). The
tests here check that the audit really bites, and run one scenario that calls every method the
emulator implements, so that no implemented method escapes response validation.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramServerError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
)

from sandbox.emulator import Emulator
from sandbox.testing import audit, bot_for, close_bot, make_png


async def test_an_invalid_emulator_response_is_caught() -> None:
    async with Emulator() as emu:
        bot = bot_for(emu)

        async def broken_get_me(params: dict[str, Any]) -> Any:
            return {"id": "not-an-integer", "is_bot": True}

        emu.api.handlers["getMe"] = broken_get_me
        try:
            with pytest.raises(TelegramServerError, match="emulator response violates the spec"):
                await bot.get_me()
        finally:
            await close_bot(bot)
        assert {v.parameter for v in emu.response_violations} == {"id", "first_name"}
        with pytest.raises(AssertionError, match="invalid responses"):
            audit(emu)


async def test_an_invalid_emulator_update_is_caught(emu: Emulator) -> None:
    user = emu.create_user("Li")
    with pytest.raises(AssertionError, match="invalid Update"):
        await emu.user_shares_contact(user, 8613800000000)  # type: ignore[arg-type]
    assert emu.response_violations[0].parameter == "message.contact.phone_number"
    emu.response_violations.clear()  # keep the fixture's own audit green


async def test_every_implemented_method_is_validated_and_parsed(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    group = emu.create_group("村民小组", [user])
    await emu.user_starts(user)
    await bot.get_me()
    await bot.get_updates()
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="好", callback_data="ok")]])
    message = await bot.send_message(user.id, "<b>通知</b>", parse_mode="HTML", reply_markup=markup)
    await bot.edit_message_text(
        "<i>通知</i>", chat_id=user.id, message_id=message.message_id, parse_mode="HTML"
    )
    await bot.edit_message_reply_markup(chat_id=user.id, message_id=message.message_id, reply_markup=markup)
    document = await bot.send_document(user.id, BufferedInputFile(b"x", filename="a.txt"), caption="c")
    await bot.edit_message_caption(chat_id=user.id, message_id=document.message_id, caption="新说明")
    photo = await bot.send_photo(user.id, BufferedInputFile(make_png(8, 8), filename="p.png"))
    assert photo.photo is not None
    await bot.get_file(photo.photo[0].file_id)
    await bot.send_chat_action(user.id, "upload_document")
    query = await emu.user_presses(user, message.message_id, callback_data="ok")
    await bot.answer_callback_query(query)
    await bot.delete_message(user.id, message.message_id)
    await bot.set_my_commands(
        [BotCommand(command="help", description="帮助")], scope=BotCommandScopeChat(chat_id=group.id)
    )
    await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=group.id))
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=group.id))
    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    await bot.get_chat_menu_button()
    await bot.set_my_description("描述")
    await bot.get_my_description()
    await bot.set_my_short_description("短描述")
    await bot.get_my_short_description()
    await bot.set_my_name("村民助手", language_code="zh")
    await bot.get_my_name(language_code="zh")
    await bot.get_chat(group.id)
    await bot.get_chat_member(group.id, user.id)
    await bot.set_webhook("http://127.0.0.1:9/unused")
    await bot.get_webhook_info()
    await bot.delete_webhook()

    checked = audit(emu)
    assert checked == len(emu.calls)
    assert {c.method for c in emu.calls} == set(emu.api.handlers)
    assert emu.violations == []
