"""In a group chat the bot answers only what is meant for the whole group (/committeegroup, /results,
/help): a trust ballot, a recommendation, the roll or the audit log asked for in a group is refused
with a pointer to the private chat, and nothing of it is shown or stored; group talk gets no answer."""

from __future__ import annotations

import asyncio

from sqlmodel import func, select

from sandbox.world import SimChat, SimUser
from storage.db import SessionFactory
from storage.models import FsmRecord
from tests.e2e.conftest import Harness
from tests.factories import grant, make_village

MEMBER = "+8613900000001"
PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组"},
    {"name": "王建国", "phone": "+8613800000001", "group": "一组", "party_member": True},
]
PRIVATE_ONLY = "Please send this to me in a private chat, where nobody else can read it: @cunmin_test_bot."


async def _sent_in_group(harness: Harness, user: SimUser, group: SimChat, text: str) -> list[str]:
    """What the bot says in the group after ``user`` sends ``text`` there (waits for it to settle)."""
    before = len(harness.emu.bot_messages(group.id))
    await harness.emu.user_sends(user, text, chat=group)
    await asyncio.sleep(0.6)
    return [e.content for e in harness.emu.bot_messages(group.id)[before:]]


async def test_private_commands_in_a_group_are_sent_to_the_private_chat(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    member = await harness.linked("Zhao", MEMBER)
    villager = await harness.linked("Wang", "+8613800000001")
    group = harness.emu.create_group("青山村选举委员会", [member, villager])

    for user, command in (
        (villager, "/trust"),
        (villager, "/recommend"),
        (villager, "/proxy"),
        (member, "/roll"),
        (member, "/audit"),
        (member, "/count"),
        (villager, "/start"),
    ):
        assert await _sent_in_group(harness, user, group, command) == [PRIVATE_ONLY], command
    # Addressed to the bot by name it is refused the same way; to another bot, it is not ours.
    assert await _sent_in_group(harness, villager, group, "/trust@cunmin_test_bot") == [PRIVATE_ONLY]
    assert await _sent_in_group(harness, villager, group, "/trust@other_bot") == []
    # Group talk gets no answer at all.
    assert await _sent_in_group(harness, villager, group, "大家好，明天开会吗？") == []
    # What is for everyone is answered in the group.
    (results,) = await _sent_in_group(harness, villager, group, "/results")
    assert results != PRIVATE_ONLY
    (helped,) = await _sent_in_group(harness, member, group, "/help")
    assert helped != PRIVATE_ONLY
    # Nothing was started: no conversation waits in the group for anyone.
    async with sessions() as session:
        waiting = (await session.exec(select(func.count()).select_from(FsmRecord))).one()
    assert waiting == 0
    # In the private chat the same command works as always.
    assert "private chat" not in (await harness.say(member, "/roll")).content
