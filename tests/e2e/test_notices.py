"""A notice composed in chat reaches exactly its audience, each in their language, with read receipts
and a delivery report that names whom to phone or visit."""

from __future__ import annotations

from sqlmodel import func, select

from sandbox.world import ChatEvent, SimUser
from storage.db import SessionFactory
from storage.models import Delivery, Notice
from tests.e2e.conftest import Harness
from tests.factories import Roll, grant, make_village

MEMBER = "+8613900000001"
PEOPLE = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组"},
    {"name": "王建国", "phone": "+8613800000001", "group": "一组", "party_member": True},
    {"name": "李秀英", "phone": "+8613800000002", "group": "二组", "migrant": True},
    {"name": "陳美玲", "phone": "+8613800000003", "group": "二组"},
    {"name": "张三", "phone": "+8613800000004", "group": "二组"},
    {"name": "孙老汉", "phone": None, "group": "一组"},  # no phone, never linked
]


async def _village(sessions: SessionFactory) -> Roll:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    return roll


async def _compose(
    harness: Harness, member: SimUser, *, title: str, body: str, audience: str, receipt: bool
) -> ChatEvent:
    assert "发送标题" in (await harness.say(member, "/notice")).content
    assert "公告正文" in (await harness.say(member, title)).content
    attach = await harness.say(member, body)
    who = await harness.press(member, attach, "不加附件")
    ask = await harness.press(member, who, audience)
    await harness.emu.user_presses(member, ask, text="要，请村民点“已阅”" if receipt else "不了")
    await harness.emu.wait_for(member, lambda e: e.content.startswith("预览"))
    return await harness.emu.wait_for(member, lambda e: "现在发送吗" in e.content)


async def test_notice_reaches_its_audience_in_each_language_with_receipts_and_report(
    harness: Harness, sessions: SessionFactory
) -> None:
    await _village(sessions)
    member = await harness.linked("赵主任", MEMBER, "zh-hans")
    wang = await harness.linked("建国", "+8613800000001", "zh-hans")
    li = await harness.linked("Li", "+8613800000002", "en")
    chen = await harness.linked("美玲", "+8613800000003", "zh-hant")
    zhang = await harness.linked("张三", "+8613800000004", "zh-hans")
    harness.emu.block(zhang)

    body = "定于12月1日上午9点在村委会开会。\n\n请准时参加。"
    confirm = await _compose(
        harness, member, title="关于召开村民会议的通知", body=body, audience="全体村民", receipt=True
    )
    # 5 linked people (the member included); 孙老汉 has no Telegram.
    assert "将发给 5 人" in confirm.content and "其中 1 人还没绑定" in confirm.content
    await harness.emu.user_presses(member, confirm, text="现在发送")

    zh = await harness.emu.wait_for(wang, lambda e: "关于召开村民会议的通知" in e.content, timeout=10)
    assert "青山村村民选举委员会公告" in zh.content and "请准时参加" in zh.content
    assert (
        "Notice from the election committee of 青山村" in (await harness.emu.wait_for(li, timeout=10)).content
    )
    hant = await harness.emu.wait_for(chen, timeout=10)
    assert "青山村村民選舉委員會公告" in hant.content and hant.button_texts == ["✅ 已閱"]

    # Read receipt: recorded once, the button shows it.
    query = await harness.emu.user_presses(wang, zh, text="✅ 已阅")
    assert (await harness.emu.wait_for_callback_answer(query)).text == "谢谢，已记录。"
    edited = await harness.emu.wait_for(wang, lambda e: e.kind == "edit")
    assert edited.button_texts[0].startswith("✅ 已阅（")
    again = await harness.emu.user_presses(wang, edited, text=edited.button_texts[0])
    assert (await harness.emu.wait_for_callback_answer(again)).text == "已经记录过了。"

    report = await harness.emu.wait_for(member, lambda e: "发送报告" in e.content, timeout=15)
    assert "已送达：4 / 5 人" in report.content
    assert "发送失败：1 人" in report.content and "张三（二组）" in report.content
    assert "未绑定 Telegram（没收到）：1 人" in report.content and "孙老汉（一组）" in report.content
    sheet = await harness.emu.wait_for(member, lambda e: e.document is not None, timeout=5)
    assert sheet.document is not None and sheet.document.file_name.endswith(".xlsx")

    async with sessions() as session:
        copies = (await session.exec(select(func.count()).select_from(Delivery))).one()
        read = (await session.exec(select(func.count()).where(Delivery.read_at.is_not(None)))).one()  # type: ignore[union-attr]
    assert copies == 5 and read == 1


async def test_group_audience_and_double_send(harness: Harness, sessions: SessionFactory) -> None:
    await _village(sessions)
    member = await harness.linked("赵主任", MEMBER, "zh-hans")
    wang = await harness.linked("建国", "+8613800000001", "zh-hans")
    li = await harness.linked("Li", "+8613800000002", "zh-hans")
    confirm = await _compose(
        harness, member, title="二组通知", body="二组明天修路。", audience="二组", receipt=False
    )
    await harness.emu.user_presses(member, confirm, text="现在发送")
    await harness.emu.user_presses(member, confirm, text="现在发送")  # a second tap must not send twice
    assert "二组明天修路" in (await harness.emu.wait_for(li, timeout=10)).content
    await harness.emu.wait_for(member, lambda e: "发送报告" in e.content, timeout=15)
    assert all("二组明天修路" not in e.content for e in harness.emu.bot_messages(wang))
    assert [e.content for e in harness.emu.bot_messages(li)].count(
        harness.emu.last_bot_message(li).content  # type: ignore[union-attr]
    ) == 1
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Notice))).one() == 1


async def test_villagers_cannot_send_notices(harness: Harness, sessions: SessionFactory) -> None:
    await _village(sessions)
    wang = await harness.linked("建国", "+8613800000001", "zh-hans")
    assert (await harness.say(wang, "/notice")).content == "抱歉，这个功能只有本村的选举委员会可以用。"


async def test_empty_title_is_asked_again(harness: Harness, sessions: SessionFactory) -> None:
    await _village(sessions)
    member = await harness.linked("赵主任", MEMBER, "zh-hans")
    await harness.say(member, "/notice")
    too_long = await harness.say(member, "标" * 201)
    assert "标题太长了" in too_long.content
    assert "公告正文" in (await harness.say(member, "正常标题")).content
