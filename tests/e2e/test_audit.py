"""The supervision committee pages through the village's hash-chained log in chat (/audit)."""

from __future__ import annotations

from bot.services.identity import RoleName
from bot.services.roles import grant_role
from storage.db import SessionFactory
from tests.e2e.conftest import Harness
from tests.factories import make_village

SUPERVISOR, VILLAGER = "+8613900000002", "+8613800000001"


async def test_a_supervisor_pages_through_the_log_a_villager_may_not(
    harness: Harness, sessions: SessionFactory
) -> None:
    people = [
        {"name": "钱监督", "phone": SUPERVISOR, "group": "一组"},
        {"name": "王建国", "phone": VILLAGER, "group": "一组"},
    ]
    roll = await make_village(sessions, "青山村", people=people)
    vid = roll.village.id
    assert vid is not None
    async with sessions() as session:  # twelve logged actions, from the shell
        await grant_role(session, vid, SUPERVISOR, RoleName.SUPERVISOR)
        for n in range(11):
            await grant_role(session, vid, f"+86137000000{n:02d}", RoleName.OBSERVER)
    supervisor = await harness.linked("钱监督", SUPERVISOR, "zh-hans")
    villager = await harness.linked("建国", VILLAGER, "zh-hans")

    refused = await harness.say(villager, "/audit")
    assert "只给本村的村务监督委员会" in refused.content

    first = await harness.say(supervisor, "/audit")
    assert "共 12 条，第 1/2 页" in first.content
    assert "第12条" in first.content and "第3条" in first.content and "第2条" not in first.content
    assert "授予职务" in first.content and "+8613700000010" in first.content
    assert first.button_texts == ["更早 ▶"]
    older = await harness.press(supervisor, first, "更早 ▶")
    assert older.message_id == first.message_id  # edited in place
    assert "第 2/2 页" in older.content and "第1条" in older.content and "第3条" not in older.content
    assert older.button_texts == ["◀ 更新"]
