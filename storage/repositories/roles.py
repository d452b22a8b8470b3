"""Roles granted to phone numbers in a village (committee, supervisor, observer)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Role


async def get(session: AsyncSession, village_id: int, phone: str, role: str) -> Role | None:
    statement = select(Role).where(Role.village_id == village_id, Role.phone == phone, Role.role == role)
    return (await session.exec(statement)).first()


async def of_village(session: AsyncSession, village_id: int) -> list[Role]:
    statement = select(Role).where(Role.village_id == village_id).order_by(col(Role.role), col(Role.phone))
    return list((await session.exec(statement)).all())
