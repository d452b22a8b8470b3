"""The audit trail's rows: the last one of a village, pages of them, and the per-village lock."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEntry

# The first key of PostgreSQL's two-key advisory locks: "audit", so no other lock shares the space.
_AUDIT_LOCK_CLASS = 0x41554454


async def lock_village_chain(session: AsyncSession, village_id: int) -> None:
    """Serialise appends to one village's chain until the transaction ends.

    SQLite needs nothing: every transaction holds the single write lock (BEGIN IMMEDIATE, storage/db.py).
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(_AUDIT_LOCK_CLASS, village_id)))


async def last(session: AsyncSession, village_id: int) -> AuditEntry | None:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.village_id == village_id)
        .order_by(col(AuditEntry.seq).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def page(session: AsyncSession, village_id: int, *, offset: int, limit: int) -> Sequence[AuditEntry]:
    """Newest first."""
    statement = (
        select(AuditEntry)
        .where(AuditEntry.village_id == village_id)
        .order_by(col(AuditEntry.seq).desc())
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(statement)).all()


async def all_of(session: AsyncSession, village_id: int) -> Sequence[AuditEntry]:
    """Oldest first."""
    statement = select(AuditEntry).where(AuditEntry.village_id == village_id).order_by(col(AuditEntry.seq))
    return (await session.exec(statement)).all()


async def count(session: AsyncSession, village_id: int) -> int:
    statement = select(func.count()).select_from(AuditEntry).where(AuditEntry.village_id == village_id)
    return int((await session.exec(statement)).one())
