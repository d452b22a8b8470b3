"""The committee group: linked by a committee member only, moved by linking another one (audited),
and given the same results announcement as the villagers, in the deployment's language, without the
objection button (that part is checked end to end). The bot removed from it clears the link and tells
the committee; an upgrade to a supergroup moves the link to the new id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from bot.services.audit import UNKNOWN, verify_audit
from bot.services.committee_group import (
    GroupRefusal,
    committee_group_status,
    follow_group_upgrade,
    link_committee_group,
    unlink_committee_group,
)
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.results import confirm_results
from storage.db import SessionFactory
from storage.models import Account, AuditEntry, Broadcast, Delivery, Village
from tests.factories import grant, make_village
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


def removal_copy(village: Village, locale: str) -> list[MessagePayload]:
    return [MessagePayload(text=f"{locale}: removed from {village.name}")]


async def _audited(sessions: SessionFactory, action: str) -> list[AuditEntry]:
    async with sessions() as session:
        statement = select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id))
        return list((await session.exec(statement)).all())


async def test_the_bot_removed_clears_the_link_and_tells_the_committee_in_their_language(
    sessions: SessionFactory,
) -> None:
    setup = await results_election(sessions)
    village = setup.roll.village
    vid = village.id or 0
    chair, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    for me in (chair, second):
        await grant(sessions, village, me.account.phone or "")
    # A committee member who never wrote to the bot has no chat: nobody to tell.
    await grant(sessions, village, "+8613899999999")
    async with sessions() as session:
        english = await session.get(Account, second.account.id)
        assert english is not None
        english.locale = "en"
        session.add(english)
        await session.commit()
        await link_committee_group(session, chair, village_id=vid, chat_id=GROUP, chat_title="群", now=NOW)
    other = await make_village(sessions, "白云村", people=[{"name": "白一", "group": "一组"}])

    async with sessions() as session:
        stranger = await unlink_committee_group(
            session,
            chair,
            chat_id=OTHER,
            status="kicked",
            render=removal_copy,
            default_locale="zh_Hans",
            now=NOW,
        )
    assert stranger.villages == () and stranger.told == 0  # not a committee group: nothing happens

    async with sessions() as session:
        outcome = await unlink_committee_group(
            session,
            second,
            chat_id=GROUP,
            status="kicked",
            render=removal_copy,
            default_locale="zh_Hans",
            now=NOW,
        )
        assert not session.in_transaction()
    assert [v.id for v in outcome.villages] == [vid] and outcome.told == 2
    async with sessions() as session:
        found = await session.get(Village, vid)
        assert found is not None and found.committee_group_chat_id is None
        [broadcast] = (await session.exec(select(Broadcast))).all()
        rows = (await session.exec(select(Delivery).order_by(col(Delivery.chat_id)))).all()
        assert (await verify_audit(session, vid)).intact
    assert (broadcast.village_id, broadcast.created_by_account_id) == (vid, second.account.id)
    assert [(r.chat_id, MessagePayload.from_json(r.payload).text) for r in rows] == [
        (1, "zh_Hans: removed from 青山村"),
        (2, "en: removed from 青山村"),
    ]
    [row] = await _audited(sessions, "committee_group_unlinked")
    assert (row.village_id, row.actor_account_id, row.actor) == (vid, second.account.id, second.account.phone)
    assert json.loads(row.details) == {"chat_id": GROUP, "status": "kicked"}
    assert (await _village_link(sessions, other.village.id or 0)) is None

    # Told once: the group is no committee group any more.
    async with sessions() as session:
        again = await unlink_committee_group(
            session,
            UNKNOWN,
            chat_id=GROUP,
            status="left",
            render=removal_copy,
            default_locale="zh_Hans",
            now=NOW,
        )
    assert again.villages == () and len(await _audited(sessions, "committee_group_unlinked")) == 1


async def _village_link(sessions: SessionFactory, village_id: int) -> int | None:
    async with sessions() as session:
        village = await session.get(Village, village_id)
    assert village is not None
    return village.committee_group_chat_id


async def test_removed_by_nobody_known_is_audited_as_unknown_for_every_village_of_the_group(
    sessions: SessionFactory,
) -> None:
    setup = await results_election(sessions)
    other = await make_village(sessions, "白云村", people=[{"name": "白一", "group": "一组"}])
    chair = await member(sessions, setup, 1)
    both = type(chair)(
        account=chair.account,
        roles={
            v.id or 0: chair.roles[setup.roll.village.id or 0] for v in (setup.roll.village, other.village)
        },
        role_villages={v.id or 0: v for v in (setup.roll.village, other.village)},
    )
    for village in (setup.roll.village, other.village):
        async with sessions() as session:
            await link_committee_group(
                session, both, village_id=village.id or 0, chat_id=GROUP, chat_title=None, now=NOW
            )
    async with sessions() as session:
        outcome = await unlink_committee_group(
            session,
            UNKNOWN,
            chat_id=GROUP,
            status="left",
            render=removal_copy,
            default_locale="zh_Hans",
            now=NOW,
        )
    assert len(outcome.villages) == 2 and outcome.told == 0  # no Role rows: nobody to tell
    async with sessions() as session:
        assert (await session.exec(select(Broadcast))).all() == []
    rows = await _audited(sessions, "committee_group_unlinked")
    assert [(r.actor_account_id, r.actor) for r in rows] == [(None, "unknown"), (None, "unknown")]
    assert {r.village_id for r in rows} == {setup.roll.village.id, other.village.id}


async def test_an_upgrade_moves_the_link_once(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    vid = setup.roll.village.id or 0
    chair = await member(sessions, setup, 1)
    async with sessions() as session:
        await link_committee_group(session, chair, village_id=vid, chat_id=GROUP, chat_title="群", now=NOW)
    async with sessions() as session:
        moved = await follow_group_upgrade(session, chair, from_chat_id=GROUP, to_chat_id=OTHER, now=NOW)
        assert not session.in_transaction()
    assert [v.id for v in moved.villages] == [vid]
    assert await _village_link(sessions, vid) == OTHER
    # The second service message, or the outbox's refused send: nothing left to move.
    async with sessions() as session:
        again = await follow_group_upgrade(session, UNKNOWN, from_chat_id=GROUP, to_chat_id=OTHER, now=NOW)
    assert again.villages == ()
    [row] = await _audited(sessions, "committee_group_upgraded")
    assert (row.actor_account_id, json.loads(row.details)) == (
        chair.account.id,
        {"chat_id": OTHER, "previous_chat_id": GROUP},
    )
    async with sessions() as session:
        assert (await verify_audit(session, vid)).intact
