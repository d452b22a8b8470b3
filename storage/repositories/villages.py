"""Villages: looked up by id, by name (a name may repeat across townships), or all of them."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Village


async def get(session: AsyncSession, village_id: int) -> Village | None:
    return await session.get(Village, village_id)


async def lock(session: AsyncSession, village_id: int) -> Village | None:
    """The village, locked until the transaction ends (PostgreSQL; SQLite's one writer already is)."""
    statement = (
        select(Village)
        .where(Village.id == village_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


async def get_by_township_and_name(session: AsyncSession, township: str, name: str) -> Village | None:
    statement = select(Village).where(Village.township == township, Village.name == name)
    return (await session.exec(statement)).first()


async def find_by_name(session: AsyncSession, name: str, *, township: str | None = None) -> list[Village]:
    """Every village of that name, in the given township only when one is given."""
    statement = select(Village).where(Village.name == name)
    if township is not None:
        statement = statement.where(Village.township == township)
    return list((await session.exec(statement.order_by(col(Village.township), col(Village.id)))).all())


async def list_all(session: AsyncSession) -> list[Village]:
    statement = select(Village).order_by(col(Village.county), col(Village.township), col(Village.name))
    return list((await session.exec(statement)).all())


async def lock_with_committee_group(session: AsyncSession, chat_id: int) -> list[Village]:
    """The villages whose committee group is ``chat_id``, locked until the transaction ends.

    Usually one; a member of two committees may have linked one group for both villages.
    """
    statement = (
        select(Village)
        .where(col(Village.committee_group_chat_id) == chat_id)
        .order_by(col(Village.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(statement)).all())
