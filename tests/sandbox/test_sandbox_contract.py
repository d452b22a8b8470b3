"""Contract tests: the real ``aiogram.Bot`` against the emulator over HTTP on 127.0.0.1.

Each test checks both sides of the contract: aiogram gets a response it can parse (or the exception
class real Telegram would cause), and the emulator's world reflects what happened.
"""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    KeyboardButton,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator
from sandbox.limits import FaultPlan, RateLimitConfig
from sandbox.testing import bot_for, close_bot, make_png

YES_NO = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="同意", callback_data="vote:yes"),
            InlineKeyboardButton(text="反对", callback_data="vote:no"),
        ]
    ]
)


async def _started_user(emu: Emulator, name: str = "Li") -> Any:
    user = emu.create_user(name)
    await emu.user_starts(user)
    return user


async def test_get_me_describes_the_bot(bot: Bot, emu: Emulator) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == emu.bot["username"]


async def test_send_message_with_inline_keyboard(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    sent = await bot.send_message(
        user.id, "<b>请投票</b>：村委会选举", parse_mode="HTML", reply_markup=YES_NO
    )
    assert sent.text == "请投票：村委会选举"
    assert sent.entities is not None and sent.entities[0].type == "bold" and sent.entities[0].length == 3
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == YES_NO.model_dump()
    assert sent.from_user is not None and sent.from_user.id == 123456
    event = await emu.wait_for(user)
    assert event.message_id == sent.message_id
    assert event.sender == "bot"
    assert event.callback_datas == ["vote:yes", "vote:no"]
    assert [e.sender for e in emu.transcript(user)] == ["user", "bot"]


async def test_message_ids_are_per_chat_and_dates_follow_the_emulator_clock(emu: Emulator) -> None:
    clock = VirtualClock(start=1_800_000_000, speed=0)
    async with Emulator(clock=clock) as frozen:
        bot = bot_for(frozen)
        try:
            a, b = await _started_user(frozen, "A"), await _started_user(frozen, "B")
            first = await bot.send_message(a.id, "1")
            second = await bot.send_message(b.id, "1")
            clock.advance(90)
            third = await bot.send_message(a.id, "2")
        finally:
            await close_bot(bot)
    # Each user's /start took id 1 in their chat.
    assert (first.message_id, second.message_id, third.message_id) == (2, 2, 3)
    assert int(first.date.timestamp()) == 1_800_000_000
    assert int(third.date.timestamp()) == 1_800_000_090


async def test_reply_keyboard_is_kept_in_the_transcript_but_not_in_the_message(
    bot: Bot, emu: Emulator
) -> None:
    user = await _started_user(emu)
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]], resize_keyboard=True
    )
    sent = await bot.send_message(user.id, "请分享手机号", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    event = await emu.wait_for(user)
    assert event.reply_keyboard() == [[{"text": "分享手机号", "request_contact": True}]]


async def test_reply_to_a_message(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    question = await emu.user_sends(user, "我什么时候投票？")
    answer = await bot.send_message(
        user.id, "周日", reply_parameters=ReplyParameters(message_id=question.message_id)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "我什么时候投票？"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(user.id, "?", reply_parameters=ReplyParameters(message_id=999))


async def test_edit_message_text_and_markup_keep_history(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    sent = await bot.send_message(user.id, "第一版", reply_markup=YES_NO)
    edited = await bot.edit_message_text(
        "第二版", chat_id=user.id, message_id=sent.message_id, reply_markup=YES_NO
    )
    assert isinstance(edited, type(sent))
    assert edited.text == "第二版" and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "第二版", chat_id=user.id, message_id=sent.message_id, reply_markup=YES_NO
        )
    await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id, reply_markup=None)
    [event] = emu.bot_messages(user)
    assert event.text == "第二版"
    assert event.reply_markup is None
    assert [e.text for e in event.edits] == ["第一版", "第二版"]
    kinds = [(await emu.wait_for(user)).kind for _ in range(3)]
    assert kinds == ["message", "edit", "edit"]


async def test_editing_without_reply_markup_removes_the_inline_keyboard(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    sent = await bot.send_message(user.id, "选一个", reply_markup=YES_NO)
    edited = await bot.edit_message_text("已选择", chat_id=user.id, message_id=sent.message_id)
    assert edited.reply_markup is None  # type: ignore[union-attr]
    assert emu.message(user, sent.message_id).buttons() == []


async def test_edit_errors(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    own = await emu.user_sends(user, "hello")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=own.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=404)
    sent = await bot.send_message(user.id, "text only")
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=user.id, message_id=sent.message_id, caption="c")


async def test_delete_message(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    sent = await bot.send_message(user.id, "temporary")
    assert await bot.delete_message(user.id, sent.message_id) is True
    assert emu.bot_messages(user) == []
    [deleted] = emu.bot_messages(user, include_deleted=True)
    assert deleted.deleted and deleted.text == "temporary"
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_messages_older_than_48_hours_cannot_be_deleted(
    bot: Bot, emu: Emulator, clock: VirtualClock
) -> None:
    user = await _started_user(emu)
    sent = await bot.send_message(user.id, "old")
    clock.advance(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="can't be deleted for everyone"):
        await bot.delete_message(user.id, sent.message_id)


async def test_send_document_upload_get_file_and_download(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    content = "姓名,电话\n李伟,13800000000\n".encode()
    sent = await bot.send_document(
        user.id, BufferedInputFile(content, filename="名单.csv"), caption="<i>选民名单</i>", parse_mode="HTML"
    )
    assert sent.document is not None
    assert sent.document.file_name == "名单.csv" and sent.document.file_size == len(content)
    assert sent.caption == "选民名单" and sent.caption_entities is not None
    assert emu.file_bytes(sent.document.file_id) == content
    event = await emu.wait_for(user)
    assert event.document is not None and event.document.file_name == "名单.csv"
    file = await bot.get_file(sent.document.file_id)
    assert file.file_size == len(content) and file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == content
    resent = await bot.send_document(user.id, sent.document.file_id)
    assert resent.document is not None and resent.document.file_unique_id == sent.document.file_unique_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(user.id, "no-such-file-id")


async def test_send_photo_checks_that_it_is_an_image(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    sent = await bot.send_photo(
        user.id, BufferedInputFile(make_png(64, 32), filename="qr.png"), caption="二维码"
    )
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (64, 32)
    assert emu.file_bytes(sent.photo[-1].file_id) == make_png(64, 32)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user.id, BufferedInputFile(b"not an image", filename="x.png"))
    with pytest.raises(TelegramBadRequest, match="PHOTO_INVALID_DIMENSIONS"):
        await bot.send_photo(user.id, BufferedInputFile(make_png(2100, 100), filename="wide.png"))


async def test_documents_over_50_mb_are_refused(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_document(
            user.id, BufferedInputFile(b"\0" * (50 * 1024 * 1024 + 1), filename="big.bin")
        )


async def test_set_my_commands_per_scope_and_language(bot: Bot, emu: Emulator) -> None:
    zh = [BotCommand(command="start", description="开始"), BotCommand(command="vote", description="投票")]
    en = [BotCommand(command="start", description="Start")]
    assert await bot.set_my_commands(zh, scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert await bot.set_my_commands(en)
    stored_zh = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert [c.model_dump() for c in stored_zh] == [c.model_dump() for c in zh]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.get_my_commands(language_code="zh") == []
    assert emu.commands("all_private_chats", "zh") == [c.model_dump(exclude_none=True) for c in zh]
    villager = emu.create_user("Li", language_code="zh-hans")
    foreigner = emu.create_user("Bob", language_code="en")
    assert [c["command"] for c in emu.resolve_commands(villager)] == ["start", "vote"]
    assert [c["command"] for c in emu.resolve_commands(foreigner)] == ["start"]
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert emu.commands("all_private_chats", "zh") == []
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(en, scope=BotCommandScopeChat(chat_id=42))
    with pytest.raises(TelegramBadRequest, match="invalid language code specified"):
        await bot.set_my_commands(en, language_code="zh-hans")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Vote", description="x")])


async def test_profile_settings_are_stored(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    assert await bot.set_chat_menu_button(chat_id=user.id, menu_button=MenuButtonCommands())
    assert emu.menu_button(user) == {"type": "commands"}
    assert await bot.set_my_description("村民选举助手", language_code="zh")
    assert await bot.set_my_short_description("选举助手")
    assert emu.description("zh") == "村民选举助手"
    assert (await bot.get_my_description(language_code="zh")).description == "村民选举助手"
    assert (await bot.get_my_short_description()).short_description == "选举助手"


async def test_get_chat_and_get_chat_member(bot: Bot, emu: Emulator) -> None:
    head = await _started_user(emu, "Head")
    member = emu.create_user("Member")
    outsider = emu.create_user("Outsider")
    group = emu.create_group("第三村民小组", [head, member], admins=[])
    chat = await bot.get_chat(group.id)
    assert chat.type == "group" and chat.title == "第三村民小组"
    assert (await bot.get_chat(head.id)).first_name == "Head"
    assert (await bot.get_chat_member(group.id, head.id)).status == "creator"
    assert (await bot.get_chat_member(group.id, member.id)).status == "member"
    assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"
    assert (await bot.get_chat_member(group.id, 123456)).status == "administrator"
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(group.id, 1)


async def test_send_chat_action(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    assert await bot.send_chat_action(user.id, "typing")
    assert emu.chat_actions(user) == ["typing"]
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(user.id, "dancing")


# ------------------------------------------------------------------------------ errors and states


async def test_unknown_chat_blocked_and_deactivated_users(bot: Bot, emu: Emulator) -> None:
    never_started = emu.create_user("Silent")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(never_started.id, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(99, "hello")
    user = await _started_user(emu)
    emu.block(user)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user.id, "hello")
    emu.unblock(user)
    await bot.send_message(user.id, "welcome back")
    emu.deactivate(user)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_message(user.id, "hello")


async def test_validation_errors_reach_aiogram_as_bad_requests(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    too_long_data = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "hi", reply_markup=too_long_data)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "长" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(user.id, "<b>unclosed", parse_mode="HTML")
    assert [v.description.split(":")[1].strip() for v in emu.violations] == [
        "BUTTON_DATA_INVALID",
        "message is too long",
        "can't parse entities",
    ]
    assert emu.bot_messages(user) == []


class _FooBar(TelegramMethod[bool]):
    __returning__: ClassVar[type] = bool
    __api_method__: ClassVar[str] = "fooBar"


async def test_unknown_method_is_404(bot: Bot, emu: Emulator) -> None:
    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot(_FooBar())
    assert emu.violations[-1].code == "unknown_method"


async def test_spec_methods_the_emulator_lacks_are_reported(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    with pytest.raises(TelegramBadRequest, match="method is not supported by the emulator"):
        await bot.send_poll(
            user.id, "哪天开会？", [InputPollOption(text="周六"), InputPollOption(text="周日")]
        )
    assert emu.unsupported_calls == ["sendPoll"]
    assert emu.violations[-1].code == "unsupported"


async def test_wrong_and_malformed_tokens_are_401(emu: Emulator) -> None:
    wrong = bot_for(emu, token="654321:XYZ")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await close_bot(wrong)
    assert [(c.method, c.status, c.description) for c in emu.calls] == [("getMe", 401, "Unauthorized")]
    async with aiohttp.ClientSession() as http, http.get(f"{emu.base_url}/botnot-a-token/getMe") as resp:
        assert resp.status == 401
        assert await resp.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized: invalid token specified",
        }


async def test_rate_limits_answer_429_with_retry_after(bot: Bot, emu: Emulator, clock: VirtualClock) -> None:
    user = await _started_user(emu)
    clock.freeze()
    emu.rate_limits = True
    for i in range(3):  # the private-chat burst
        await bot.send_message(user.id, f"msg {i}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(user.id, "one too many")
    assert info.value.retry_after == 1
    assert emu.stats.too_many_requests == 1
    raw = {"chat_id": user.id, "text": "raw"}
    async with aiohttp.ClientSession() as http, http.post(f"{emu.api_url}/sendMessage", json=raw) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
        assert await resp.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
    clock.advance(1)
    await bot.send_message(user.id, "after waiting")
    emu.rate_limits = False
    for i in range(5):
        await bot.send_message(user.id, f"unlimited {i}")
    assert emu.stats.too_many_requests == 2


async def test_global_and_group_buckets(bot: Bot, emu: Emulator, clock: VirtualClock) -> None:
    clock.freeze()
    emu.rate_limits = RateLimitConfig(global_per_second=5, global_burst=5, group_per_minute=2, group_burst=2)
    users = [await _started_user(emu, f"U{i}") for i in range(6)]
    for user in users[:5]:
        await bot.send_message(user.id, "broadcast")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[5].id, "broadcast")
    clock.advance(1)
    group = emu.create_group("村务群", users[:2])
    await bot.send_message(group.id, "1")
    await bot.send_message(group.id, "2")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(group.id, "3")
    assert info.value.retry_after == 30
    assert emu.stats.max_send_rate(1.0) == 5


async def test_paid_broadcast_needs_to_be_enabled(bot: Bot, emu: Emulator, clock: VirtualClock) -> None:
    users = [await _started_user(emu, f"U{i}") for i in range(3)]
    with pytest.raises(TelegramBadRequest, match="paid broadcasts are not enabled"):
        await bot.send_message(users[0].id, "x", allow_paid_broadcast=True)
    clock.freeze()
    emu.rate_limits = RateLimitConfig(global_per_second=1, global_burst=1)
    emu.paid_broadcast = True
    for user in users:  # three sends in one frozen second: only possible through the paid bucket
        await bot.send_message(user.id, "paid", allow_paid_broadcast=True)
    await bot.send_message(users[0].id, "free")  # the free bucket is untouched by paid sends
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[1].id, "free again")


async def test_faults_are_seeded_and_reach_aiogram_as_server_errors(bot: Bot, emu: Emulator) -> None:
    user = await _started_user(emu)
    emu.faults = FaultPlan(seed=7, p_5xx=1.0)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(user.id, "lost")
    assert emu.bot_messages(user) == []
    emu.faults = FaultPlan(seed=7, p_lost_response=1.0)
    with pytest.raises(TelegramServerError):
        await bot.send_message(user.id, "sent but unacknowledged")
    assert [e.text for e in emu.bot_messages(user)] == ["sent but unacknowledged"]
    emu.faults = FaultPlan(seed=7, p_slow=1.0, slow_seconds=0.05, methods=frozenset({"getMe"}))
    await bot.get_me()
    await bot.send_message(user.id, "fast")
    assert emu.stats.slow_responses == 1
    assert emu.stats.server_errors == 2


def test_fault_plans_replay_identically() -> None:
    from sandbox.limits import FaultInjector

    plan = FaultPlan(seed=42, p_5xx=0.3, p_slow=0.2, p_429=0.1)
    first = [FaultInjector(plan).decide("sendMessage") for _ in range(1)]
    a = FaultInjector(plan)
    b = FaultInjector(plan)
    assert [a.decide("sendMessage") for _ in range(50)] == [b.decide("sendMessage") for _ in range(50)]
    assert first[0] == FaultInjector(plan).decide("sendMessage")


# --------------------------------------------------------------------------------- wire formats


async def test_all_four_request_encodings(emu: Emulator) -> None:
    user = await _started_user(emu)
    markup = '{"inline_keyboard":[[{"text":"ok","callback_data":"ok"}]]}'
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{emu.api_url}/sendMessage", params={"chat_id": str(user.id), "text": "query"}
        ) as r:
            assert (await r.json())["result"]["text"] == "query"
        form = {"chat_id": str(user.id), "text": "form", "reply_markup": markup, "protect_content": "true"}
        async with http.post(f"{emu.api_url}/sendmessage", data=form) as r:
            body = await r.json()
            assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"
            assert body["result"]["has_protected_content"] is True
        async with http.post(f"{emu.api_url}/SendMessage", json={"chat_id": user.id, "text": "json"}) as r:
            assert (await r.json())["result"]["text"] == "json"
        data = aiohttp.FormData()
        data.add_field("chat_id", str(user.id))
        data.add_field("document", "attach://upload")
        data.add_field("upload", b"%PDF-1.4", filename="notice.pdf", content_type="application/pdf")
        async with http.post(f"{emu.api_url}/sendDocument", data=data) as r:
            assert (await r.json())["result"]["document"]["mime_type"] == "application/pdf"
        async with http.post(
            f"{emu.api_url}/sendMessage", data={"chat_id": str(user.id), "text": "x", "reply_markup": "{"}
        ) as r:
            assert r.status == 400
            assert (await r.json())["description"] == "Bad Request: can't parse reply_markup JSON object"
    assert [e.content for e in emu.bot_messages(user)] == ["query", "form", "json", ""]
