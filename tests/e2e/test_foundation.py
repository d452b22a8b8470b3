"""/start, /help, /language, /cancel, menus and the error router, as users see them."""

from __future__ import annotations

import pytest

from sandbox.emulator import Emulator
from tests.e2e.conftest import Harness


async def test_start_answers_in_the_users_telegram_language(harness: Harness) -> None:
    zh = harness.emu.create_user("王芳", language_code="zh-hans")
    hant = harness.emu.create_user("陳美玲", language_code="zh-hant")
    en = harness.emu.create_user("Li", language_code="en")

    assert "村里选举的小助手" in (await harness.start(zh)).content
    assert "村裡選舉的小助手" in (await harness.start(hant)).content
    reply = await harness.start(en)
    assert "assistant for your village's elections" in reply.content
    # Not on a roll yet: the only thing to do is share the phone number, offered as a button.
    keyboard = reply.reply_keyboard()
    assert keyboard[0][0]["request_contact"] is True
    assert keyboard[0][0]["text"] == "📱 Share my phone number"


async def test_unknown_language_falls_back_to_the_default(harness: Harness) -> None:
    user = harness.emu.create_user("Ivan", language_code="ru")
    assert "小助手" in (await harness.start(user)).content


async def test_help_lists_the_commands(harness: Harness) -> None:
    user = harness.emu.create_user("Li", language_code="en")
    reply = await harness.say(user, "/help")
    for command in ("/start", "/help", "/language", "/cancel", "/me", "/forget"):
        assert command in reply.content
    assert "What you can do here" in reply.content


async def test_language_choice_is_stored_and_wins_over_telegram(harness: Harness) -> None:
    user = harness.emu.create_user("张伟", language_code="zh-hans")
    menu = await harness.say(user, "/language")
    assert menu.button_texts == ["简体中文", "繁體中文", "English"]

    edited = await harness.press(user, menu, "English")
    assert edited.message_id == menu.message_id
    assert edited.content == "Language set to English."
    # From now on English, although Telegram still says zh-hans.
    assert "What you can do here" in (await harness.say(user, "/help")).content

    again = await harness.say(user, "/language")
    assert (await harness.press(user, again, "繁體中文")).content == "語言已設為繁體中文。"
    assert "在這裡您可以" in (await harness.say(user, "/help")).content


async def test_cancel_with_nothing_to_cancel(harness: Harness) -> None:
    user = harness.emu.create_user("Li", language_code="en")
    assert (await harness.say(user, "/cancel")).content == "There is nothing to cancel."


async def test_command_menus_are_registered_for_zh_and_en(harness: Harness) -> None:
    zh = {c["command"]: c["description"] for c in harness.emu.commands(language_code="zh")}
    en = {c["command"]: c["description"] for c in harness.emu.commands(language_code="en")}
    default = {c["command"] for c in harness.emu.commands()}
    assert zh["language"] == "切换语言"
    assert en["language"] == "Change the language"
    assert set(zh) == set(en) == default
    assert {"start", "help", "language", "cancel"} <= default
    # In groups only what is answered there (handlers/groups.py).
    for language in ("zh", "en", ""):
        group = [c["command"] for c in harness.emu.commands("all_group_chats", language_code=language)]
        assert group == ["results", "committeegroup", "help"], language


async def test_a_failing_handler_gets_a_translated_apology(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("handlers.language.choose_locale", broken)
    user = harness.emu.create_user("王芳", language_code="zh-hans")
    menu = await harness.say(user, "/language")
    query_id = await harness.emu.user_presses(user, menu, text="English")
    answer = await harness.emu.wait_for_callback_answer(query_id)
    assert answer.text == "抱歉，我们这边出了点问题，请稍后再试。"
    assert answer.show_alert is True


async def test_the_emulator_sees_no_invalid_request(harness: Harness, emulator: Emulator) -> None:
    user = harness.emu.create_user("Li", language_code="en")
    await harness.start(user)
    await harness.say(user, "/help")
    await harness.say(user, "something random")
    assert emulator.violations == []
    assert {call.method for call in emulator.calls} >= {"getMe", "getUpdates", "setMyCommands", "sendMessage"}
