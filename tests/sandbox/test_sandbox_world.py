"""The simulated world: users' actions, transcripts, wait_for, the control API and the CLI."""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramMigrateToChat
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update

from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator
from sandbox.testing import make_png

REPO_ROOT = Path(__file__).resolve().parents[2]

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="确认", callback_data="confirm:1")],
        [InlineKeyboardButton(text="说明", url="https://example.org/help")],
    ]
)


async def _updates(bot: Bot) -> list[Update]:
    """Fetch and confirm everything pending (aiogram parses each update: part of the contract)."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


def test_users_get_unique_64_bit_safe_ids(emu: Emulator) -> None:
    users = [emu.create_user(f"U{i}") for i in range(50)]
    ids = [u.id for u in users]
    assert len(set(ids)) == 50
    assert all(2**32 < i < 2**52 for i in ids)
    assert users[0].language_code == "zh-hans"


async def test_start_with_payload_is_a_bot_command(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li", username="li_wei")
    await emu.user_starts(user, payload="proxy-AbC_123")
    [update] = await _updates(bot)
    assert update.message is not None
    assert update.message.text == "/start proxy-AbC_123"
    assert update.message.entities is not None
    assert (update.message.entities[0].type, update.message.entities[0].length) == ("bot_command", 6)
    assert update.message.chat.type == "private" and update.message.chat.id == user.id


@pytest.mark.parametrize("payload", ["x" * 65, "has space", "中文", "a+b", ""])
async def test_invalid_start_payloads_are_refused(emu: Emulator, payload: str) -> None:
    with pytest.raises(ValueError, match="start payload"):
        await emu.user_starts(emu.create_user("Li"), payload=payload)


async def test_contact_variants(bot: Bot, emu: Emulator) -> None:
    li = emu.create_user("Li", "Wei")
    wang = emu.create_user("Wang")
    await emu.user_shares_contact(li, "+8613800000001")
    await emu.user_shares_contact(li, "+8613800000002", of_user=wang)
    await emu.user_shares_contact(li, "+8613800000003", of_user="张三")
    await emu.user_shares_contact(li, "+8613800000004", of_user=wang, forwarded=True)
    await emu.user_shares_contact(li, "+8613800000005", forwarded=True)
    await emu.user_shares_contact(li, "ignored", with_phone=False)
    messages = [u.message for u in await _updates(bot) if u.message]
    contacts = [m.contact for m in messages]
    assert all(c is not None for c in contacts)
    own, other, unknown, forwarded_other, forwarded_own, no_phone = messages
    assert own.contact and own.from_user and own.contact.user_id == own.from_user.id == li.id
    assert own.contact.last_name == "Wei" and own.forward_origin is None
    assert other.contact and other.contact.user_id == wang.id
    assert unknown.contact and unknown.contact.user_id is None and unknown.contact.first_name == "张三"
    assert forwarded_other.forward_origin is not None and forwarded_other.forward_origin.type == "user"
    assert forwarded_own.contact and forwarded_own.contact.user_id == li.id
    assert forwarded_own.forward_origin is not None
    assert no_phone.contact and no_phone.contact.phone_number == ""
    assert [e.contact["phone_number"] for e in emu.transcript(li) if e.contact][:2] == [
        "+8613800000001",
        "+8613800000002",
    ]


async def test_pressing_buttons(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "hi")
    sent = await bot.send_message(user.id, "请确认", reply_markup=KEYBOARD)
    event = await emu.wait_for(user)
    by_data = await emu.user_presses(user, event, callback_data="confirm:1")
    by_text = await emu.user_presses(user, sent.message_id, text="确认")
    assert by_data != by_text
    updates = await _updates(bot)
    queries = [u.callback_query for u in updates if u.callback_query]
    assert [q.id for q in queries] == [by_data, by_text]
    assert queries[0].data == "confirm:1" and queries[0].from_user.id == user.id
    assert queries[0].message is not None and queries[0].message.message_id == sent.message_id
    assert await bot.answer_callback_query(by_data, text="已确认", show_alert=True)
    answer = await emu.wait_for_callback_answer(by_data)
    assert (answer.text, answer.show_alert, answer.user_id) == ("已确认", True, user.id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(by_data)  # answered twice
    with pytest.raises(LookupError, match="no inline button"):
        await emu.user_presses(user, event, callback_data="confirm:2")
    with pytest.raises(LookupError, match="has no callback_data"):
        await emu.user_presses(user, event, text="说明")
    with pytest.raises(LookupError, match="no message"):
        await emu.user_presses(user, 1, text="确认")  # message 1 is the user's own "hi"


async def test_callback_queries_expire(bot: Bot, emu: Emulator, clock: VirtualClock) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "hi")
    sent = await bot.send_message(user.id, "?", reply_markup=KEYBOARD)
    query = await emu.user_presses(user, sent.message_id, callback_data="confirm:1")
    clock.advance(16)
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query)


async def test_user_documents_and_photos(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    pdf = b"%PDF-1.7 recommendation letter"
    await emu.user_sends_document(user, "推荐信.pdf", pdf, "application/pdf", caption="推荐材料")
    await emu.user_sends_photo(user, make_png(40, 30))
    doc_update, photo_update = await _updates(bot)
    assert doc_update.message and doc_update.message.document
    document = doc_update.message.document
    assert (document.file_name, document.mime_type, document.file_size) == (
        "推荐信.pdf",
        "application/pdf",
        len(pdf),
    )
    assert doc_update.message.caption == "推荐材料"
    file = await bot.get_file(document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == pdf
    assert photo_update.message and photo_update.message.photo
    assert (photo_update.message.photo[0].width, photo_update.message.photo[0].height) == (40, 30)
    [doc_event, photo_event] = emu.transcript(user)
    assert doc_event.document is not None and emu.file_bytes(doc_event.document.file_id) == pdf
    assert photo_event.photo is not None and emu.file_bytes(photo_event.photo.file_id) == make_png(40, 30)


async def test_block_and_unblock_send_my_chat_member_updates(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    await emu.user_starts(user)
    emu.block(user)
    with pytest.raises(ValueError, match="blocked the bot"):
        await emu.user_sends(user, "cannot write while blocking")
    await emu.user_starts(user)  # "Restart" unblocks
    kinds: list[str] = []
    for u in await _updates(bot):
        if u.message:
            kinds.append("message")
        elif u.my_chat_member:
            change = u.my_chat_member
            kinds.append(f"{change.old_chat_member.status}->{change.new_chat_member.status}")
    assert kinds == ["message", "member->kicked", "kicked->member", "message"]
    assert not user.blocked


async def test_groups(bot: Bot, emu: Emulator) -> None:
    head, member, outsider = emu.create_user("Head"), emu.create_user("Member"), emu.create_user("Out")
    group = emu.create_group("村委会", [head, member], supergroup=True, username="cunweihui")
    assert str(group.id).startswith("-100")
    await emu.user_sends(member, "/vote@cunmin_test_bot", chat=group)
    with pytest.raises(ValueError, match="not a member"):
        await emu.user_sends(outsider, "hi", chat=group)
    [update] = await _updates(bot)
    assert update.message and update.message.chat.type == "supergroup"
    sent = await bot.send_message("@cunweihui", "会议通知")
    assert sent.chat.id == group.id
    assert [e.sender for e in emu.transcript(group)] == ["user", "bot"]


async def test_bot_removed_from_a_group_and_added_back(bot: Bot, emu: Emulator) -> None:
    head, member = emu.create_user("Head"), emu.create_user("Member")
    group = emu.create_group("村委会", [head, member])
    assert (await bot.get_chat_member(group.id, emu.bot["id"])).status == "administrator"
    emu.remove_bot_from_group(group, by=head)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "会议通知")
    assert (await bot.get_chat_member(group.id, emu.bot["id"])).status == "kicked"
    await emu.user_sends(member, "/results", chat=group)  # the bot is not there to see it
    emu.add_bot_to_group(group, by=head)
    await emu.user_sends(member, "/results", chat=group)
    changes = []
    for u in await _updates(bot):
        if u.my_chat_member:
            assert u.my_chat_member.chat.id == group.id and u.my_chat_member.from_user.id == head.id
            changes.append(
                f"{u.my_chat_member.old_chat_member.status}->{u.my_chat_member.new_chat_member.status}"
            )
        elif u.message:
            changes.append("message")
    assert changes == ["administrator->kicked", "kicked->member", "message"]
    assert (await bot.send_message(group.id, "又回来了")).chat.id == group.id


async def test_group_upgrade_to_supergroup(bot: Bot, emu: Emulator) -> None:
    head = emu.create_user("Head")
    group = emu.create_group("村民小组", [head])
    supergroup = await emu.upgrade_group(group)
    service = [u.message for u in await _updates(bot) if u.message]
    assert [m.migrate_to_chat_id for m in service] == [supergroup.id, None]
    assert [m.migrate_from_chat_id for m in service] == [None, group.id]
    with pytest.raises(TelegramMigrateToChat) as info:
        await bot.send_message(group.id, "旧群")
    assert info.value.migrate_to_chat_id == supergroup.id
    assert (await bot.send_message(supergroup.id, "新群")).chat.type == "supergroup"


async def test_upgrade_by_a_member_keeps_the_bot_status_and_ids_look_like_supergroups(
    bot: Bot, emu: Emulator
) -> None:
    head, member = emu.create_user("Head"), emu.create_user("Member")
    group = emu.create_group("村民小组", [head, member])
    supergroup = await emu.upgrade_group_to_supergroup(group, by=member)
    assert str(supergroup.id).startswith("-100") and supergroup.member_ids == group.member_ids
    service = [u.message for u in await _updates(bot) if u.message]
    assert [m.from_user.id for m in service if m.from_user] == [member.id, member.id]
    # A group the bot was removed from: no service message reaches it, and the supergroup refuses it too.
    gone = emu.create_group("旧群", [head])
    emu.remove_bot_from_group(gone, by=head)
    await _updates(bot)
    upgraded = await emu.upgrade_group(gone)
    assert [u for u in await _updates(bot) if u.message] == []
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(upgraded.id, "还在吗")


async def test_wait_for_uses_a_read_cursor(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "hi")
    for text in ("one", "two", "three"):
        await bot.send_message(user.id, text)
    assert (await emu.wait_for(user)).text == "one"
    assert (await emu.wait_for(user, lambda e: e.text == "three")).text == "three"
    with pytest.raises(TimeoutError, match="recent transcript"):
        await emu.wait_for(user, timeout=0.05)  # "two" was skipped by the predicate
    emu.skip_pending(user)
    waiter = asyncio.create_task(emu.wait_for(user, lambda e: "later" in e.content))
    await bot.send_message(user.id, "not this")
    await bot.send_message(user.id, "later, this")
    assert (await asyncio.wait_for(waiter, timeout=5)).text == "later, this"


async def test_wait_for_sees_edits_as_snapshots(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "hi")
    sent = await bot.send_message(user.id, "counting: 0")
    await bot.edit_message_text("counting: 1", chat_id=user.id, message_id=sent.message_id)
    original = await emu.wait_for(user)
    edit = await emu.wait_for(user)
    assert (original.text, original.kind) == ("counting: 0", "message")
    assert (edit.text, edit.kind, edit.is_edit) == ("counting: 1", "edit", True)
    assert [e.text for e in edit.edits] == ["counting: 0"]
    emu.skip_pending(user)
    await bot.edit_message_text("counting: 2", chat_id=user.id, message_id=sent.message_id)
    await bot.send_message(user.id, "new message")
    assert (await emu.wait_for(user, include_edits=False)).text == "new message"


# ----------------------------------------------------------------------------------- control API


async def test_control_api(emu: Emulator, bot: Bot) -> None:
    base = f"{emu.base_url}/_emu"
    async with aiohttp.ClientSession() as http:

        async def post(path: str, body: dict[str, Any] | None = None) -> Any:
            async with http.post(f"{base}{path}", json=body or {}) as resp:
                data = await resp.json()
                assert resp.status == 200, data
                return data["result"]

        async def get(path: str) -> Any:
            async with http.get(f"{base}{path}") as resp:
                data = await resp.json()
                assert resp.status == 200, data
                return data["result"]

        uid = (await post("/users", {"first_name": "李", "language_code": "zh-hans"}))["id"]
        await post(f"/users/{uid}/start", {"payload": "web"})
        await post(f"/users/{uid}/send", {"text": "你好"})
        await post(f"/users/{uid}/contact", {"phone": "+8613800000000"})
        encoded = base64.b64encode(b"data").decode()
        await post(
            f"/users/{uid}/document",
            {"filename": "a.txt", "mime_type": "text/plain", "content_base64": encoded},
        )
        sent = await bot.send_message(uid, "按钮", reply_markup=KEYBOARD)
        assert (await get(f"/chats/{uid}/wait?timeout=2"))["message_id"] == sent.message_id
        pressed = await post(
            f"/users/{uid}/press", {"message_id": sent.message_id, "callback_data": "confirm:1"}
        )
        assert pressed["callback_query_id"]
        transcript = await get(f"/chats/{uid}/transcript")
        assert [m["sender"] for m in transcript] == ["user", "user", "user", "user", "bot"]
        assert transcript[2]["contact"]["phone_number"] == "+8613800000000"
        await post(f"/users/{uid}/block")
        assert (await get("/state"))["users"][0]["blocked"] is True
        assert [c["method"] for c in await get("/calls")] == ["sendMessage"]
        assert await get("/violations") == {
            "violations": [],
            "response_violations": [],
            "unsupported_calls": [],
        }
        clock_before = emu.clock.time()
        await post("/clock/advance", {"seconds": 3600})
        assert emu.clock.time() - clock_before >= 3600
        async with http.post(f"{base}/users/1/send", json={"text": "x"}) as resp:
            assert resp.status == 404
        async with http.post(f"{base}/users/{uid}/start", json={"payload": "bad payload"}) as resp:
            assert resp.status == 400
        async with http.get(f"{base}/chats/{uid}/wait?timeout=0.05") as resp:
            assert resp.status == 408
        assert (await get("/stats"))["requests"] == 1
        assert await get("/commands?scope_type=default") == []
        assert await get("/callback_answers") == []


async def test_standalone_process_serves_the_bot_api() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.emulator",
        "--port",
        "0",
        "--token",
        "42:standalone",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        banner = (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode()
        base_url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base_url}/bot42:standalone/getMe") as resp:
                assert (await resp.json())["result"]["id"] == 42
            async with http.post(f"{base_url}/_emu/users", json={"first_name": "Li"}) as resp:
                assert (await resp.json())["ok"] is True
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), timeout=10) is not None
