"""The committee's Telegram group through the emulator: a committee member links it with
/committeegroup, published results (text, chart, PDF) are posted there too; a villager cannot link a
group; linking another group moves it; copies queued for a group the bot was then removed from are
recorded unreachable and the villagers still get the correction; a member of two committees picks the
village."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from sqlmodel import col, select

from bot.delivery.sender import OutboxSender
from bot.rules.fingerprint import format_fingerprint
from bot.services.results import VoteLine, enter_results
from sandbox.world import ChatEvent, SimChat, SimUser
from storage.db import SessionFactory
from storage.models import AuditEntry, Broadcast, Delivery, ResultEntry, Village
from tests.e2e.conftest import Harness
from tests.e2e.test_results import _label, _offers
from tests.factories import grant, make_village
from tests.results_setup import ResultsElection, good_tally, results_election

FIRST, SECOND = "+8613900000001", "+8613900000002"
VILLAGER = "+8613800000001"


async def _in_group(harness: Harness, user: SimUser, group: SimChat, text: str) -> ChatEvent:
    await harness.emu.user_sends(user, text, chat=group)
    return await harness.emu.wait_for(group)


async def _publish_next_count(
    harness: Harness, sessions: SessionFactory, setup: ResultsElection, member: SimUser, director: int
) -> tuple[ResultEntry, ChatEvent]:
    """A count imported from the shell (a draft), confirmed and published in chat by `member`."""
    tally = good_tally()
    votes = [VoteLine("王伟", director), VoteLine("李娜", 15 - director)]
    tally = replace(tally, positions=[replace(tally.positions[0], votes=votes), tally.positions[1]])
    async with sessions() as session:
        entered = await enter_results(session, None, setup.id, tally, now=datetime.now(UTC))
    assert entered.entry is not None
    await harness.emu.user_sends(member, "/count")
    to_confirm = await harness.emu.wait_for(member, _offers("confirm"))
    await harness.emu.user_presses(member, to_confirm, text=_label(to_confirm, "confirm"))
    confirmed = await harness.emu.wait_for(member, _offers("publish"))
    await harness.emu.user_presses(member, confirmed, text=_label(confirmed, "publish"))
    grouped = format_fingerprint(entered.entry.fingerprint)
    done = await harness.emu.wait_for(
        member, lambda e: grouped in e.content and "已发给" in e.content, timeout=30
    )
    return entered.entry, done


async def _settled(sessions: SessionFactory, broadcast_id: int) -> list[Delivery]:
    """The broadcast's delivery rows once the sender is done with all of them."""
    for _attempt in range(100):
        async with sessions() as session:
            rows = list(
                (await session.exec(select(Delivery).where(Delivery.broadcast_id == broadcast_id))).all()
            )
        if rows and all(r.status not in ("pending", "claimed") for r in rows):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"broadcast {broadcast_id} not settled: {[r.status for r in rows]}")


async def _village(sessions: SessionFactory, village_id: int) -> Village:
    async with sessions() as session:
        found = await session.get(Village, village_id)
    assert found is not None
    return found


async def test_a_member_links_the_group_results_go_there_and_relinking_moves_it(
    harness: Harness, sessions: SessionFactory
) -> None:
    emu = harness.emu
    setup = await results_election(sessions, {"村民00": FIRST, "村民01": SECOND, "村民02": VILLAGER})
    village_id = setup.roll.village.id or 0
    await grant(sessions, setup.roll.village, FIRST, "committee")
    await grant(sessions, setup.roll.village, SECOND, "committee")
    first = await harness.linked("一号委员", FIRST, "zh-hans")
    second = await harness.linked("二号委员", SECOND, "zh-hans")
    villager = await harness.linked("村民", VILLAGER, "zh-hans")
    group = emu.create_group("青山村选举委员会", [first, second, villager])

    # In a private chat the command says what to do.
    explained = await harness.say(first, "/committeegroup")
    assert (
        "拉进那个群" in explained.content
        and "/committeegroup@cunmin_test_bot" in explained.content
        and "青山村：还没有设" in explained.content
    )

    # A villager cannot make the group the committee's; nothing is stored.
    refused = await _in_group(harness, villager, group, "/committeegroup")
    assert "只有村选举委员会的成员" in refused.content
    assert (await _village(sessions, village_id)).committee_group_chat_id is None

    linked = await _in_group(harness, first, group, "/committeegroup@cunmin_test_bot")
    assert "这个群现在是青山村选举委员会的工作群" in linked.content
    assert (await _village(sessions, village_id)).committee_group_chat_id == group.id
    assert "青山村：已经设了" in (await harness.say(first, "/committeegroup")).content

    # Published results reach the group too: the same text, chart and PDF, without the objection button.
    entry, said = await _publish_next_count(harness, sessions, setup, second, director=11)
    assert "也已发到选举委员会的群里" in said.content
    grouped = format_fingerprint(entry.fingerprint)
    text = await emu.wait_for(group, lambda e: grouped in e.content and e.photo is None, timeout=20)
    assert "王伟" in text.content and "当选" in text.content
    photo = await emu.wait_for(group, lambda e: e.photo is not None, timeout=20)
    pdf = await emu.wait_for(group, lambda e: e.document is not None, timeout=20)
    assert entry.fingerprint[:4] in photo.content and pdf.document is not None
    assert pdf.document.file_name is not None and pdf.document.file_name.endswith(".pdf")
    assert not pdf.button_texts
    # The villager's own copy keeps the objection button.
    villager_pdf = await emu.wait_for(villager, lambda e: e.document is not None, timeout=20)
    assert villager_pdf.button_texts == ["✋ 提出异议"]

    # Linking another group moves it there, in the audit trail.
    other = emu.create_group("选委会新群", [first, second])
    moved = await _in_group(harness, first, other, "/committeegroup")
    assert "原来设的那个群不再是了" in moved.content
    assert (await _village(sessions, village_id)).committee_group_chat_id == other.id
    again = await _in_group(harness, first, other, "/committeegroup")
    assert "已经是青山村选举委员会的工作群" in again.content
    async with sessions() as session:
        audited = (
            await session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == "committee_group_linked")
                .order_by(col(AuditEntry.seq))
            )
        ).all()
    assert [(a.details, a.actor) for a in audited] == [
        (f'{{"chat_id":{group.id},"previous_chat_id":null,"title":"青山村选举委员会"}}', FIRST),
        (f'{{"chat_id":{other.id},"previous_chat_id":{group.id},"title":"选委会新群"}}', FIRST),
    ]

    # The bot is removed from the new group while its copies of a correction are still queued: the
    # villagers get the correction, the group's copies are recorded unreachable (403), the link is
    # cleared (tests/e2e/test_committee_group_lifecycle.py), and the old group hears nothing more.
    outbox: OutboxSender = harness.app.dispatcher["outbox"]
    await outbox.stop()
    before = len(emu.bot_messages(group))
    correction, _said = await _publish_next_count(harness, sessions, setup, first, director=10)
    emu.remove_bot_from_group(other, by=first)
    for _attempt in range(100):  # the bot has handled the removal: the link is cleared
        if (await _village(sessions, village_id)).committee_group_chat_id is None:
            break
        await asyncio.sleep(0.05)
    await outbox.start()
    outbox.wake()
    fixed = format_fingerprint(correction.fingerprint)
    await emu.wait_for(villager, lambda e: fixed in e.content and e.photo is None, timeout=20)
    async with sessions() as session:
        results_broadcasts = (
            await session.exec(
                select(Broadcast).where(Broadcast.kind == "results").order_by(col(Broadcast.id))
            )
        ).all()
    assert len(results_broadcasts) == 2  # one per publication: the committee group's copies
    rows = await _settled(sessions, results_broadcasts[1].id or 0)
    assert {r.chat_id for r in rows} == {other.id}
    assert {r.status for r in rows} == {"unreachable"}
    assert all("kicked" in (r.error or "") for r in rows)
    assert len(emu.bot_messages(group)) == before
    assert (await _village(sessions, village_id)).committee_group_chat_id is None
    await emu.wait_for(first, lambda e: "我被移出了青山村选举委员会的工作群" in e.content, timeout=10)


async def test_a_member_of_two_committees_picks_the_village_with_a_button(
    harness: Harness, sessions: SessionFactory
) -> None:
    emu = harness.emu
    setup = await results_election(sessions, {"村民00": FIRST, "村民02": VILLAGER})
    other = await make_village(sessions, "白云村", people=[{"name": "白一", "group": "一组"}])
    await grant(sessions, setup.roll.village, FIRST, "committee")
    await grant(sessions, other.village, FIRST, "committee")
    first = await harness.linked("一号委员", FIRST, "zh-hans")
    villager = await harness.linked("村民", VILLAGER, "zh-hans")
    group = emu.create_group("白云村选委会", [first, villager])

    asked = await _in_group(harness, first, group, "/committeegroup")
    assert sorted(asked.button_texts) == ["白云村", "青山村"]
    # Anyone in the group sees the buttons; only that village's committee can use them.
    pressed = await emu.user_presses(villager, asked, text="白云村")
    refusal = await emu.wait_for_callback_answer(pressed)
    assert refusal.show_alert and refusal.text == "抱歉，这个功能只有本村的选举委员会可以用。"
    assert (await _village(sessions, other.village.id or 0)).committee_group_chat_id is None

    await emu.user_presses(first, asked, text="白云村")
    edited = await emu.wait_for(group, lambda e: e.message_id == asked.message_id and not e.button_texts)
    assert "这个群现在是白云村选举委员会的工作群" in edited.content
    assert (await _village(sessions, other.village.id or 0)).committee_group_chat_id == group.id
    assert (await _village(sessions, setup.roll.village.id or 0)).committee_group_chat_id is None
