"""Who is this account: its binding, its person on a roll, its roles."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Account, Binding, Person, Role, Village


async def bound_person(session: AsyncSession, account_id: int) -> tuple[Binding, Person, Village] | None:
    statement = (
        select(Binding, Person, Village)
        .join(Person, col(Person.id) == col(Binding.person_id))
        .join(Village, col(Village.id) == col(Person.village_id))
        # Someone removed from the roll is no longer a villager here, even if still bound.
        .where(Binding.account_id == account_id, col(Person.removed_at).is_(None))
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1], row[2]) if row else None


async def active_person_by_phone(session: AsyncSession, phone: str) -> tuple[Person, Village] | None:
    statement = (
        select(Person, Village)
        .join(Village, col(Village.id) == col(Person.village_id))
        .where(Person.phone == phone, col(Person.removed_at).is_(None))
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1]) if row else None


async def binding_of_person(session: AsyncSession, person_id: int) -> Binding | None:
    return (await session.exec(select(Binding).where(Binding.person_id == person_id))).first()


async def binding_of_account(session: AsyncSession, account_id: int) -> Binding | None:
    return (await session.exec(select(Binding).where(Binding.account_id == account_id))).first()


async def roles_of_phone(session: AsyncSession, phone: str) -> list[tuple[Role, Village]]:
    statement = (
        select(Role, Village)
        .join(Village, col(Village.id) == col(Role.village_id))
        .where(Role.phone == phone)
        .order_by(col(Village.name), col(Role.role))
    )
    return [(role, village) for role, village in (await session.exec(statement)).all()]


async def senders(
    session: AsyncSession, telegram_user_ids: Collection[int]
) -> list[tuple[Account, Person | None, Village | None]]:
    """Accounts of these Telegram users, each with the person it is bound to (as `bound_person`)."""
    statement = (
        select(Account, Person, Village)
        .outerjoin(Binding, col(Binding.account_id) == col(Account.id))
        # Someone removed from the roll is no longer a villager here, even if still bound.
        .outerjoin(Person, and_(col(Person.id) == col(Binding.person_id), col(Person.removed_at).is_(None)))
        .outerjoin(Village, col(Village.id) == col(Person.village_id))
        .where(col(Account.telegram_user_id).in_(list(telegram_user_ids)))
    )
    rows = (await session.exec(statement)).all()
    return [(account, person, village) for account, person, village in rows]


async def roles_of_phones(session: AsyncSession, phones: Collection[str]) -> list[tuple[Role, Village]]:
    """The roles of several phones, in the order of `roles_of_phone` (village name, then role)."""
    statement = (
        select(Role, Village)
        .join(Village, col(Village.id) == col(Role.village_id))
        .where(col(Role.phone).in_(list(phones)))
        .order_by(col(Village.name), col(Role.role))
    )
    return [(role, village) for role, village in (await session.exec(statement)).all()]
