"""The audit trail: appended inside the action's transaction, chained per village, verified."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from sqlmodel import col, select, update

from bot.rules.audit_chain import BrokenReason
from bot.services.audit import AuditAction, append_audit, audit_page, audit_rows, verify_audit
from bot.services.identity import Me, RoleName
from bot.services.roles import grant_role, revoke_role
from storage.db import SessionFactory
from storage.models import Account, AuditEntry
from tests.factories import make_village

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


async def entries(sessions: SessionFactory, village_id: int) -> list[AuditEntry]:
    async with sessions() as session:
        statement = (
            select(AuditEntry).where(AuditEntry.village_id == village_id).order_by(col(AuditEntry.seq))
        )
        return list((await session.exec(statement)).all())


async def test_role_changes_are_logged_and_the_log_verifies(sessions: SessionFactory) -> None:
    roll = await make_village(sessions)
    vid = roll.village.id
    assert vid is not None
    async with sessions() as session:
        assert (await grant_role(session, vid, "13800138000", RoleName.COMMITTEE, now=NOW)).refusal is None
        assert (await grant_role(session, vid, "13800138001", RoleName.SUPERVISOR, now=NOW)).refusal is None
        assert (await revoke_role(session, vid, "13800138001", RoleName.SUPERVISOR)).refusal is None
        # Refused: nothing changes, nothing is logged.
        assert (await revoke_role(session, vid, "13800138001", RoleName.SUPERVISOR)).refusal is not None
    rows = await entries(sessions, vid)
    assert [(r.seq, r.action, r.actor) for r in rows] == [
        (1, "role_granted", "shell"),
        (2, "role_granted", "shell"),
        (3, "role_revoked", "shell"),
    ]
    assert json.loads(rows[0].details) == {"phone": "+8613800138000", "role": "committee"}
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    async with sessions() as session:
        verified = await verify_audit(session, vid)
    assert verified.intact and verified.entries == 3


async def test_a_tampered_row_is_named(sessions: SessionFactory) -> None:
    roll = await make_village(sessions)
    vid = roll.village.id
    assert vid is not None
    async with sessions() as session:
        for n in range(4):
            await grant_role(session, vid, f"1380013800{n}", RoleName.COMMITTEE, now=NOW)
    async with sessions() as session:
        await session.exec(
            update(AuditEntry)
            .where(col(AuditEntry.village_id) == vid, col(AuditEntry.seq) == 2)
            .values(details=json.dumps({"phone": "+8613900000000", "role": "committee"}))
        )
        await session.commit()
    async with sessions() as session:
        verified = await verify_audit(session, vid)
    assert not verified.intact
    assert verified.broken is not None
    assert (verified.broken.seq, verified.broken.reason) == (2, BrokenReason.HASH_MISMATCH)


async def test_a_deleted_row_is_found(sessions: SessionFactory) -> None:
    roll = await make_village(sessions)
    vid = roll.village.id
    assert vid is not None
    async with sessions() as session:
        for n in range(3):
            await grant_role(session, vid, f"1380013800{n}", RoleName.COMMITTEE, now=NOW)
    [_, second, _] = await entries(sessions, vid)
    async with sessions() as session:
        doomed = await session.get(AuditEntry, second.id)
        await session.delete(doomed)
        await session.commit()
    async with sessions() as session:
        verified = await verify_audit(session, vid)
    assert verified.broken is not None and verified.broken.seq == 3
    assert verified.broken.reason is BrokenReason.SEQ_GAP


async def test_a_rolled_back_action_leaves_no_row(sessions: SessionFactory) -> None:
    roll = await make_village(sessions)
    vid = roll.village.id
    assert vid is not None
    async with sessions() as session:
        await append_audit(session, vid, None, AuditAction.ROLL_IMPORTED, {"rows": 1}, now=NOW)
        await session.rollback()
    assert await entries(sessions, vid) == []


async def test_villages_have_their_own_chains(sessions: SessionFactory) -> None:
    east = (await make_village(sessions, "东山村")).village
    west = (await make_village(sessions, "西山村")).village
    assert east.id is not None and west.id is not None
    async with sessions() as session:
        await append_audit(session, east.id, None, AuditAction.ROLL_IMPORTED, {"rows": 1}, now=NOW)
        await append_audit(session, west.id, None, AuditAction.ROLL_IMPORTED, {"rows": 2}, now=NOW)
        await append_audit(session, east.id, None, AuditAction.ROLL_IMPORTED, {"rows": 3}, now=NOW)
        await session.commit()
    assert [r.seq for r in await entries(sessions, east.id)] == [1, 2]
    assert [r.seq for r in await entries(sessions, west.id)] == [1]
    async with sessions() as session:
        assert (await verify_audit(session, east.id)).intact
    async with sessions() as session:
        assert (await verify_audit(session, west.id)).intact


async def test_concurrent_appends_keep_one_chain(sessions: SessionFactory) -> None:
    roll = await make_village(sessions)
    vid = roll.village.id
    assert vid is not None

    async def one(n: int) -> None:
        async with sessions() as session:
            await append_audit(session, vid, None, AuditAction.ROLL_IMPORTED, {"n": n}, now=NOW)
            await asyncio.sleep(0.01)  # hold the lock a while: the others must wait, not fork
            await session.commit()

    await asyncio.gather(*(one(n) for n in range(6)))
    rows = await entries(sessions, vid)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    async with sessions() as session:
        assert (await verify_audit(session, vid)).intact


async def test_only_supervisors_observers_and_the_committee_page_through_it(sessions: SessionFactory) -> None:
    roll = await make_village(sessions)
    vid = roll.village.id
    assert vid is not None
    async with sessions() as session:
        for n in range(12):
            await append_audit(session, vid, None, AuditAction.ROLL_IMPORTED, {"n": n}, now=NOW)
        account = Account(telegram_user_id=42, chat_id=42, phone="+8613800138000")
        session.add(account)
        await session.commit()
    stranger = Me(account=account)
    supervisor = Me(
        account=account, roles={vid: frozenset({RoleName.SUPERVISOR})}, role_villages={vid: roll.village}
    )
    async with sessions() as session:
        assert (await audit_page(session, stranger, vid, 0)).refusal is not None
    async with sessions() as session:
        first = await audit_page(session, supervisor, vid, 0)
    assert first.refusal is None and (first.total, first.pages) == (12, 2)
    assert [r.seq for r in first.rows] == list(range(12, 2, -1))
    async with sessions() as session:
        last = await audit_page(session, supervisor, vid, 5)
    assert last.page == 1 and [r.seq for r in last.rows] == [2, 1]
    async with sessions() as session:
        found = await audit_rows(session, vid)
    assert found is not None and [r.seq for r in found[1]] == list(range(1, 13))
