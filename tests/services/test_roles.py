"""Granting and revoking a village role to a phone number."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.services.identity import RoleName
from bot.services.roles import RoleRefusal, grant_role, list_roles, revoke_role
from bot.services.villages import add_village
from storage.db import SessionFactory
from storage.models import Role, Village

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def village(sessions: SessionFactory, name: str = "东山村") -> Village:
    async with sessions() as session:
        added = (await add_village(session, name=name, township="城关镇", province="ZJ")).village
    assert added is not None and added.id is not None
    return added


async def roles(sessions: SessionFactory) -> list[tuple[int, str, str]]:
    async with sessions() as session:
        return [(r.village_id, r.phone, r.role) for r in (await session.exec(select(Role))).all()]


async def test_grant_normalises_the_phone_and_twice_is_a_no_op(sessions: SessionFactory) -> None:
    place = await village(sessions)
    assert place.id is not None
    async with sessions() as session:
        granted = await grant_role(session, place.id, "138 0013 8000", RoleName.COMMITTEE, now=NOW)
    assert granted.refusal is None
    assert (granted.phone, granted.role, granted.village) == ("+8613800138000", RoleName.COMMITTEE, place)
    async with sessions() as session:
        again = await grant_role(session, place.id, "+86-138-0013-8000", "committee")
    assert again.refusal is RoleRefusal.ALREADY_GRANTED
    assert await roles(sessions) == [(place.id, "+8613800138000", "committee")]
    async with sessions() as session:
        [stored] = await list_roles(session, place.id)
    assert stored.granted_at == NOW


async def test_one_phone_may_hold_several_roles_in_several_villages(sessions: SessionFactory) -> None:
    east, west = await village(sessions), await village(sessions, "西山村")
    assert east.id is not None and west.id is not None
    async with sessions() as session:
        assert (await grant_role(session, east.id, "13800138000", RoleName.COMMITTEE)).refusal is None
        assert (await grant_role(session, east.id, "13800138000", RoleName.SUPERVISOR)).refusal is None
        assert (await grant_role(session, west.id, "13800138000", RoleName.OBSERVER)).refusal is None
    assert len(await roles(sessions)) == 3


async def test_refusals(sessions: SessionFactory) -> None:
    place = await village(sessions)
    assert place.id is not None
    async with sessions() as session:
        assert (
            await grant_role(session, 999, "13800138000", "committee")
        ).refusal is RoleRefusal.VILLAGE_NOT_FOUND
        assert (await grant_role(session, place.id, "12345", "committee")).refusal is RoleRefusal.BAD_PHONE
        assert (
            await grant_role(session, place.id, "13800138000", "mayor")
        ).refusal is RoleRefusal.UNKNOWN_ROLE
    assert await roles(sessions) == []


async def test_revoke_then_revoke_again(sessions: SessionFactory) -> None:
    place = await village(sessions)
    assert place.id is not None
    async with sessions() as session:
        await grant_role(session, place.id, "13800138000", RoleName.SUPERVISOR)
        await grant_role(session, place.id, "13800138000", RoleName.COMMITTEE)
    async with sessions() as session:
        revoked = await revoke_role(session, place.id, "138 0013 8000", RoleName.SUPERVISOR)
    assert revoked.refusal is None and revoked.phone == "+8613800138000"
    assert await roles(sessions) == [(place.id, "+8613800138000", "committee")]
    async with sessions() as session:
        again = await revoke_role(session, place.id, "13800138000", RoleName.SUPERVISOR)
        assert again.refusal is RoleRefusal.NOT_GRANTED
        assert (await revoke_role(session, place.id, "x", "committee")).refusal is RoleRefusal.BAD_PHONE
