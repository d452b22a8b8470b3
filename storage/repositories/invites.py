"""Invitation codes, found by the SHA-256 of the code (the code itself is never stored)."""

from __future__ import annotations

from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Binding, Invite


async def get_by_code_hash(session: AsyncSession, code_hash: str) -> Invite | None:
    return (await session.exec(select(Invite).where(Invite.code_hash == code_hash))).first()


async def bindings_of(session: AsyncSession, person_id: int, account_id: int) -> list[Binding]:
    """The binding of the person and the binding of the account, read in one statement (one snapshot)."""
    statement = select(Binding).where(or_(Binding.person_id == person_id, Binding.account_id == account_id))
    return list((await session.exec(statement)).all())
