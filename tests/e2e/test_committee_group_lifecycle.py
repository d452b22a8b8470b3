"""The committee group changing on Telegram's side, through the emulator: the bot removed from it (the
link is cleared, audited, the committee told in private, the next results skip the group; added back
and linked again, results go there again) and the group upgraded to a supergroup (the link follows the
new id; a delivery queued for the old id reaches the new one)."""

from __future__ import annotations

import asyncio
import json

from sqlmodel import col, select

from bot.delivery.sender import OutboxSender
from bot.rules.fingerprint import format_fingerprint
from storage.db import SessionFactory
from storage.models import AuditEntry, Broadcast, Delivery
from tests.e2e.conftest import Harness
from tests.e2e.test_committee_group import _in_group, _publish_next_count, _settled, _village
from tests.factories import grant
from tests.results_setup import results_election

FIRST, SECOND = "+8613900000001", "+8613900000002"
VILLAGER = "+8613800000001"


async def _audited(sessions: SessionFactory, action: str) -> list[AuditEntry]:
    async with sessions() as session:
        statement = select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.seq))
        return list((await session.exec(statement)).all())


async def _results_broadcasts(sessions: SessionFactory) -> list[Broadcast]:
    async with sessions() as session:
        statement = select(Broadcast).where(Broadcast.kind == "results").order_by(col(Broadcast.id))
        return list((await session.exec(statement)).all())


async def _link_becomes(sessions: SessionFactory, village_id: int, chat_id: int | None) -> None:
    for _attempt in range(100):
        if (await _village(sessions, village_id)).committee_group_chat_id == chat_id:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the committee group link never became {chat_id}")


async def test_the_bot_removed_from_the_group_clears_the_link_and_tells_the_committee(
    harness: Harness, sessions: SessionFactory
) -> None:
    emu = harness.emu
    setup = await results_election(sessions, {"村民00": FIRST, "村民01": SECOND, "村民02": VILLAGER})
    village_id = setup.roll.village.id or 0
    await grant(sessions, setup.roll.village, FIRST, "committee")
    await grant(sessions, setup.roll.village, SECOND, "committee")
    first = await harness.linked("一号委员", FIRST, "zh-hans")
    second = await harness.linked("Second", SECOND, "en")
    villager = await harness.linked("村民", VILLAGER, "zh-hans")
    group = emu.create_group("青山村选举委员会", [first, second, villager])
    linked = await _in_group(harness, first, group, "/committeegroup")
    assert "这个群现在是青山村选举委员会的工作群" in linked.content
    heard_by_villager = len(emu.bot_messages(villager))
    calls_before = len(emu.calls)

    # A villager in the group removes the bot.
    emu.remove_bot_from_group(group, by=villager)
    told = await emu.wait_for(first, lambda e: "我被移出了青山村选举委员会的工作群" in e.content, timeout=10)
    assert "/committeegroup" in told.content
    told_en = await emu.wait_for(
        second, lambda e: "I was removed from the committee group of 青山村" in e.content, timeout=10
    )
    assert "Results will not be posted there" in told_en.content
    await _link_becomes(sessions, village_id, None)
    [unlinked] = await _audited(sessions, "committee_group_unlinked")
    assert (unlinked.actor, json.loads(unlinked.details)) == (
        VILLAGER,
        {"chat_id": group.id, "status": "kicked"},
    )
    assert len(emu.bot_messages(villager)) == heard_by_villager  # villagers are not told
    assert "青山村：还没有设" in (await harness.say(first, "/committeegroup")).content

    # The next results are not tried in the group: no copy for it, not even an unreachable one.
    entry, said = await _publish_next_count(harness, sessions, setup, first, director=11)
    assert "也已发到选举委员会的群里" not in said.content and "/committeegroup" in said.content
    await emu.wait_for(villager, lambda e: format_fingerprint(entry.fingerprint) in e.content, timeout=20)
    assert await _results_broadcasts(sessions) == []
    async with sessions() as session:
        tried = (await session.exec(select(Delivery).where(Delivery.chat_id == group.id))).all()
    assert tried == []
    assert all(c.params.get("chat_id") != group.id for c in emu.calls[calls_before:])

    # Added back and linked again: results are posted there again.
    emu.add_bot_to_group(group, by=first)
    relinked = await _in_group(harness, first, group, "/committeegroup")
    assert "这个群现在是青山村选举委员会的工作群" in relinked.content
    assert (await _village(sessions, village_id)).committee_group_chat_id == group.id
    correction, said = await _publish_next_count(harness, sessions, setup, first, director=10)
    assert "也已发到选举委员会的群里" in said.content
    fixed = format_fingerprint(correction.fingerprint)
    await emu.wait_for(group, lambda e: fixed in e.content and e.photo is None, timeout=20)
    assert len(await _audited(sessions, "committee_group_linked")) == 2


async def test_an_upgraded_group_keeps_its_link_and_a_queued_delivery_reaches_the_supergroup(
    harness: Harness, sessions: SessionFactory
) -> None:
    emu = harness.emu
    outbox: OutboxSender = harness.app.dispatcher["outbox"]
    setup = await results_election(sessions, {"村民00": FIRST, "村民01": SECOND, "村民02": VILLAGER})
    village_id = setup.roll.village.id or 0
    await grant(sessions, setup.roll.village, FIRST, "committee")
    await grant(sessions, setup.roll.village, SECOND, "committee")
    first = await harness.linked("一号委员", FIRST, "zh-hans")
    second = await harness.linked("二号委员", SECOND, "zh-hans")
    villager = await harness.linked("村民", VILLAGER, "zh-hans")
    group = emu.create_group("青山村选举委员会", [first, second, villager])
    await _in_group(harness, first, group, "/committeegroup")
    assert (await _village(sessions, village_id)).committee_group_chat_id == group.id
    in_old_group = len(emu.bot_messages(group))  # the answer to /committeegroup

    # Results are published while the sender is paused: the group's copies are queued for the old id.
    await outbox.stop()
    entry, said = await _publish_next_count(harness, sessions, setup, first, director=11)
    assert "也已发到选举委员会的群里" in said.content
    [queued] = await _results_broadcasts(sessions)

    # A member upgrades the group: the service messages move the link to the supergroup's new id.
    supergroup = await emu.upgrade_group_to_supergroup(group, by=second)
    assert supergroup.type == "supergroup" and str(supergroup.id).startswith("-100")
    await _link_becomes(sessions, village_id, supergroup.id)
    [upgraded] = await _audited(sessions, "committee_group_upgraded")
    assert (upgraded.actor, json.loads(upgraded.details)) == (
        SECOND,
        {"chat_id": supergroup.id, "previous_chat_id": group.id},
    )

    # The sender meets Telegram's 400 with migrate_to_chat_id and sends to the new id instead.
    await outbox.start()
    outbox.wake()
    grouped = format_fingerprint(entry.fingerprint)
    await emu.wait_for(supergroup, lambda e: grouped in e.content and e.photo is None, timeout=20)
    await emu.wait_for(supergroup, lambda e: e.document is not None, timeout=20)
    rows = await _settled(sessions, queued.id or 0)
    assert {(r.status, r.chat_id) for r in rows} == {("sent", supergroup.id)} and len(rows) == 3
    refused = [c for c in emu.calls if not c.ok and c.params.get("chat_id") == group.id]
    assert refused and {c.status for c in refused} == {400}
    assert refused[0].description == "Bad Request: group chat was upgraded to a supergroup chat"
    assert len(emu.bot_messages(group)) == in_old_group
    assert len(await _audited(sessions, "committee_group_upgraded")) == 1  # learnt three times, moved once

    # The next results go straight to the supergroup.
    calls_before = len(emu.calls)
    correction, _said = await _publish_next_count(harness, sessions, setup, first, director=10)
    fixed = format_fingerprint(correction.fingerprint)
    await emu.wait_for(supergroup, lambda e: fixed in e.content and e.photo is None, timeout=20)
    broadcasts = await _results_broadcasts(sessions)
    rows = await _settled(sessions, broadcasts[-1].id or 0)
    assert {(r.status, r.chat_id) for r in rows} == {("sent", supergroup.id)}
    assert all(c.params.get("chat_id") != group.id for c in emu.calls[calls_before:])
