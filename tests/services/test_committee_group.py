"""The committee group: linked by a committee member only, moved by linking another one (audited),
and given the same results announcement as the villagers, in the deployment's language, without the
objection button (that part is checked end to end)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from bot.services.audit import verify_audit
from bot.services.committee_group import GroupRefusal, committee_group_status, link_committee_group
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.results import confirm_results
from storage.db import SessionFactory
from storage.models import AuditEntry, Broadcast, Delivery, Village
from tests.results_setup import good_tally, results_election
from tests.services.test_results import NOW, bind_villagers, enter, member, publish

GROUP, OTHER = -4_000_000_001, -1_002_000_000_002
NOW_LINK = datetime(2026, 12, 19, 2, 0, tzinfo=UTC)


async def test_only_the_committee_links_and_another_group_moves_it(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    vid = setup.roll.village.id or 0
    chair, villager = await member(sessions, setup, 1), await member(sessions, setup, 2, committee=False)

    async with sessions() as session:
        refused = await link_committee_group(
            session, villager, village_id=vid, chat_id=GROUP, chat_title="群", now=NOW_LINK
        )
        assert not session.in_transaction()
    assert refused.refusal is GroupRefusal.NOT_COMMITTEE

    async with sessions() as session:
        first = await link_committee_group(
            session, chair, village_id=vid, chat_id=GROUP, chat_title="选委会", now=NOW_LINK
        )
    assert first.refusal is None and first.moved_from is None and not first.unchanged
    async with sessions() as session:
        same = await link_committee_group(
            session, chair, village_id=vid, chat_id=GROUP, chat_title="选委会", now=NOW_LINK
        )
    assert same.unchanged
    async with sessions() as session:
        moved = await link_committee_group(
            session, chair, village_id=vid, chat_id=OTHER, chat_title="新群", now=NOW_LINK
        )
    assert moved.moved_from == GROUP

    async with sessions() as session:
        village = await session.get(Village, vid)
        audit = (
            await session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == "committee_group_linked")
                .order_by(col(AuditEntry.seq))
            )
        ).all()
        assert (await verify_audit(session, vid)).intact
    assert village is not None and village.committee_group_chat_id == OTHER
    assert [json.loads(a.details)["previous_chat_id"] for a in audit] == [None, GROUP]  # the repeat: no row
    async with sessions() as session:
        [status] = await committee_group_status(session, chair)
    assert status.linked and status.village.id == vid


async def test_published_results_are_posted_to_the_group_too(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    vid = setup.roll.village.id or 0
    await bind_villagers(sessions, setup, ["村民00", "村民01"])
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    async with sessions() as session:
        await link_committee_group(session, first, village_id=vid, chat_id=GROUP, chat_title=None, now=NOW)
    entry = (await enter(sessions, first, setup, good_tally())).entry
    assert entry is not None and entry.id is not None
    async with sessions() as session:
        await confirm_results(session, second, entry.id, now=NOW)

    published = await publish(sessions, first, entry.id, tmp_path)
    assert published.refusal is None and published.committee_group and published.recipients == 2
    async with sessions() as session:
        [group_broadcast] = (await session.exec(select(Broadcast).where(Broadcast.kind == "results"))).all()
        rows = (
            await session.exec(
                select(Delivery).where(Delivery.broadcast_id == group_broadcast.id).order_by(col(Delivery.id))
            )
        ).all()
        villagers = (await session.exec(select(Delivery).where(Delivery.chat_id != GROUP))).all()
    payloads = [MessagePayload.from_json(r.payload) for r in rows]
    assert [p.method for p in payloads] == [
        SendMethod.SEND_MESSAGE,
        SendMethod.SEND_PHOTO,
        SendMethod.SEND_DOCUMENT,
    ]
    assert {r.chat_id for r in rows} == {GROUP} and not any(r.requires_binding for r in rows)
    assert {r.locale for r in rows} == {"zh_Hans"}
    assert "王伟" in (payloads[0].text or "") and entry.fingerprint[:4] in (payloads[0].text or "")
    assert len(villagers) == 6  # and the villagers' own copies, in their broadcast
