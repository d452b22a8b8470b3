"""Binding by phone (own contact only), /me, /forget, and the committee's /roll, through the emulator."""

from __future__ import annotations

from sqlmodel import func, select

from sandbox.world import SimUser
from storage.db import SessionFactory
from storage.models import Binding, Person
from tests.e2e.conftest import Harness
from tests.factories import Roll, grant, make_village

WANG = "+8613800138001"
LI = "+8613800138002"
ZHAO = "+8613800138003"
OTHER_COMMITTEE = "+8613900139000"


async def _qingshan(sessions: SessionFactory) -> Roll:
    return await make_village(
        sessions,
        "青山村",
        committee_contact="村委会 0571-1234567",
        people=[
            {"name": "王建国", "phone": WANG, "group": "一组", "birth_year": 1968, "party_member": True},
            {
                "name": "李秀英",
                "phone": LI,
                "group": "一组",
                "birth_year": 1975,
                "migrant": True,
                "works_in": "深圳",
            },
            {"name": "赵强", "phone": ZHAO, "group": "二组", "birth_year": 1990},
            {"name": "王小红", "phone": None, "group": "二组", "birth_year": 2001},
        ],
    )


async def _bindings(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(Binding))).one()


async def _bind(harness: Harness, user: SimUser, phone: str) -> str:
    await harness.emu.user_shares_contact(user, phone.removeprefix("+"))
    return (await harness.emu.wait_for(user)).content


async def test_own_contact_binds_and_greets_by_name(harness: Harness, sessions: SessionFactory) -> None:
    await _qingshan(sessions)
    user = harness.emu.create_user("建国", language_code="zh-hans")
    await harness.start(user)
    reply = await _bind(harness, user, WANG)
    assert "欢迎您，王建国！您在青山村的选民名单上。" in reply
    me = await harness.say(user, "/me")
    assert "姓名：王建国" in me.content and WANG in me.content and "党员：是" in me.content
    # Back at /start, the bot knows them.
    assert "欢迎回来，王建国（青山村）" in (await harness.start(user)).content


async def test_refused_contacts_change_nothing(harness: Harness, sessions: SessionFactory) -> None:
    await _qingshan(sessions)
    user = harness.emu.create_user("某人", language_code="zh-hans")
    other = harness.emu.create_user("秀英", language_code="zh-hans")
    await harness.start(user)

    await harness.emu.user_shares_contact(user, LI.removeprefix("+"), of_user=other)
    assert "这不是您本人的名片" in (await harness.emu.wait_for(user)).content
    await harness.emu.user_shares_contact(user, WANG.removeprefix("+"), forwarded=True)
    assert "这是转发来的名片" in (await harness.emu.wait_for(user)).content
    await harness.emu.user_shares_contact(user, "", with_phone=False)
    assert "没有能识别的手机号" in (await harness.emu.wait_for(user)).content
    await harness.emu.user_shares_contact(user, "8613700000000")
    unknown = (await harness.emu.wait_for(user)).content
    assert "不在这里任何一个村的选民名单上" in unknown
    # Text where a contact is expected: the button again, not silence.
    nudge = await harness.say(user, "我是王建国")
    assert "请先按下面的按钮发送您的手机号" in nudge.content
    assert nudge.reply_keyboard()[0][0]["request_contact"] is True
    assert await _bindings(sessions) == 0


async def test_a_phone_bound_to_another_account_is_refused(
    harness: Harness, sessions: SessionFactory
) -> None:
    await _qingshan(sessions)
    first = harness.emu.create_user("建国", language_code="en")
    second = harness.emu.create_user("冒名", language_code="en")
    assert "Welcome, 王建国!" in await _bind(harness, first, WANG)
    reply = await _bind(harness, second, WANG)
    assert "already linked to another Telegram account" in reply
    assert "村委会 0571-1234567" in reply  # the village's contact is shown
    assert await _bindings(sessions) == 1


async def test_forget_and_rebind(harness: Harness, sessions: SessionFactory) -> None:
    await _qingshan(sessions)
    user = harness.emu.create_user("秀英", language_code="en")
    await _bind(harness, user, LI)
    ask = await harness.say(user, "/forget")
    assert (await harness.press(user, ask, "Yes, unlink me")).content == "Done: you are unlinked."
    assert await _bindings(sessions) == 0
    assert "not linked to a voter roll yet" in (await harness.say(user, "/me")).content
    assert "Welcome, 李秀英!" in await _bind(harness, user, LI)
    assert await _bindings(sessions) == 1


async def test_committee_roll_counts_search_and_migrant_flag(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await _qingshan(sessions)
    await grant(sessions, roll.village, ZHAO, "committee")
    member = harness.emu.create_user("赵强", language_code="zh-hans")
    await _bind(harness, member, ZHAO)

    counts = await harness.say(member, "/roll")
    assert "青山村选民名单" in counts.content
    assert "名单上共 4 人" in counts.content
    assert "已绑定 Telegram：1 人；未绑定：3 人" in counts.content
    assert "一组：名单 2 人，已绑定 0 人，外出 1 人" in counts.content

    found = await harness.say(member, "/roll 王")
    assert "王建国" in found.content and "王小红" in found.content and "李秀英" not in found.content
    assert WANG in found.content  # the village's own committee sees whole numbers
    flipped = await harness.emu.user_presses(member, found, text="王建国：标记为外出务工")
    answer = await harness.emu.wait_for_callback_answer(flipped)
    assert answer.text == "已把王建国标记为外出务工。"
    async with sessions() as session:
        person = await session.get(Person, roll.people["王建国"].id)
        assert person is not None and person.migrant is True


async def test_committee_commands_are_refused_to_villagers_and_other_villages(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await _qingshan(sessions)
    other = await make_village(sessions, "白水村", people=[{"name": "孙丽", "phone": OTHER_COMMITTEE}])
    await grant(sessions, other.village, OTHER_COMMITTEE, "committee")
    villager = harness.emu.create_user("建国", language_code="zh-hans")
    outsider = harness.emu.create_user("孙丽", language_code="zh-hans")
    await _bind(harness, villager, WANG)
    await _bind(harness, outsider, OTHER_COMMITTEE)

    assert (await harness.say(villager, "/roll")).content == "抱歉，这个功能只有本村的选举委员会可以用。"
    # The other village's committee sees only its own village, never 青山村's people.
    found = await harness.say(outsider, "/roll 王")
    assert "白水村" in found.content and "王建国" not in found.content
    assert roll.people["王建国"].migrant is False


async def test_supervisors_see_masked_phones_and_cannot_edit(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await _qingshan(sessions)
    await grant(sessions, roll.village, "+8613600136000", "supervisor")
    supervisor = harness.emu.create_user("监督", language_code="zh-hans")
    reply = await _bind(harness, supervisor, "+8613600136000")
    assert "您不在选民名单上，但您有以下职责" in reply and "青山村村务监督委员会成员" in reply
    found = await harness.say(supervisor, "/roll 王建国")
    assert "+86138****8001" in found.content and WANG not in found.content
    assert found.button_texts == []


async def test_invite_link_binds_once_and_refuses_expired_reused_and_garbage(
    harness: Harness, sessions: SessionFactory
) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.services.invites import create_invites

    roll = await _qingshan(sessions)
    xiaohong, jianguo = roll.people["王小红"], roll.people["王建国"]
    now = datetime.now(UTC)
    async with sessions() as session:
        [(_, code)] = await create_invites(session, [xiaohong.id or 0], now=now)
    async with sessions() as session:
        [(_, stale)] = await create_invites(session, [jianguo.id or 0], now=now - timedelta(days=40))

    holder = harness.emu.create_user("小红", language_code="zh-hans")
    assert "欢迎您，王小红！您在青山村的选民名单上。" in (await harness.start(holder, code)).content
    assert await _bindings(sessions) == 1

    thief = harness.emu.create_user("别人", language_code="zh-hans")
    reused = await harness.start(thief, code)
    assert "这个邀请链接已经用过了" in reused.content
    assert reused.reply_keyboard()[0][0]["request_contact"] is True
    assert "这个邀请链接已经过期了" in (await harness.start(thief, stale)).content
    assert "这个链接不是有效的邀请" in (await harness.start(thief, "hello")).content
    assert await _bindings(sessions) == 1
