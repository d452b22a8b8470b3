"""Notices, their audiences, receipts and objections. Queries only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Account, Binding, Delivery, Notice, Objection, Person, Role, VillagerGroup


@dataclass(frozen=True)
class AudienceMember:
    person_id: int
    name: str
    group: str | None
    # None when the person has not linked a Telegram account yet (the committee must reach them).
    account_id: int | None
    chat_id: int | None
    locale: str | None
    telegram_language_code: str | None


def _audience_filter(village_id: int, audience: str, group_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [col(Person.village_id) == village_id, col(Person.removed_at).is_(None)]
    if audience == "party":
        conditions.append(col(Person.party_member).is_(True))
    elif audience == "migrants":
        conditions.append(col(Person.migrant).is_(True))
    elif audience == "group":
        conditions.append(col(Person.group_id) == group_id)
    return conditions


async def audience_members(
    session: AsyncSession, village_id: int, audience: str, group_id: int | None
) -> list[AudienceMember]:
    """Everyone on the roll the audience covers, bound or not, in roll order."""
    statement = (
        sa_select(
            col(Person.id),
            col(Person.name),
            col(VillagerGroup.name),
            col(Account.id),
            col(Account.chat_id),
            col(Account.locale),
            col(Account.telegram_language_code),
        )
        .select_from(Person)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .join(Binding, col(Binding.person_id) == col(Person.id), isouter=True)
        .join(Account, col(Account.id) == col(Binding.account_id), isouter=True)
        .where(and_(*_audience_filter(village_id, audience, group_id)))
        .order_by(col(VillagerGroup.name), col(Person.id))
    )
    rows = (await session.execute(statement)).all()  # several columns: plain SQLAlchemy rows
    return [AudienceMember(*row) for row in rows]


async def group_in_village(session: AsyncSession, village_id: int, group_id: int) -> VillagerGroup | None:
    group = await session.get(VillagerGroup, group_id)
    return group if group is not None and group.village_id == village_id else None


async def groups_of_village(session: AsyncSession, village_id: int) -> list[VillagerGroup]:
    statement = (
        select(VillagerGroup).where(VillagerGroup.village_id == village_id).order_by(col(VillagerGroup.name))
    )
    return list((await session.exec(statement)).all())


async def by_draft_key(session: AsyncSession, draft_key: str) -> Notice | None:
    return (await session.exec(select(Notice).where(Notice.draft_key == draft_key))).first()


async def get(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id)


async def by_broadcast(session: AsyncSession, broadcast_id: int) -> Notice | None:
    return (await session.exec(select(Notice).where(Notice.broadcast_id == broadcast_id))).first()


async def copies_for_update(
    session: AsyncSession, broadcast_id: int, account_ids: list[int]
) -> list[tuple[int, datetime | None]]:
    """(account, read_at) of each copy of a broadcast sent to these accounts, locked until the commit.

    SQLite: the write lock of BEGIN IMMEDIATE (storage/db.py); PostgreSQL: FOR UPDATE, taken in one
    order (account, id) by every writer so that two batches cannot deadlock.
    """
    statement = (
        sa_select(col(Delivery.account_id), col(Delivery.read_at))
        .where(col(Delivery.broadcast_id) == broadcast_id, col(Delivery.account_id).in_(account_ids))
        .order_by(col(Delivery.account_id), col(Delivery.id))
        .with_for_update()
    )
    return [(int(account_id), read_at) for account_id, read_at in (await session.execute(statement)).all()]


async def mark_read_many(session: AsyncSession, broadcast_id: int, read_at: dict[int, datetime]) -> None:
    """Set read_at, each account's own, on the accounts' unread copies of a broadcast (one executemany)."""
    if not read_at:
        return
    deliveries = Delivery.__table__  # type: ignore[attr-defined]
    statement = (
        update(deliveries)
        .where(
            deliveries.c.broadcast_id == bindparam("of_broadcast"),
            deliveries.c.account_id == bindparam("of_account"),
            deliveries.c.read_at.is_(None),
        )
        .values(read_at=bindparam("pressed_at", type_=deliveries.c.read_at.type))
    )
    await session.execute(
        statement,
        [{"of_broadcast": broadcast_id, "of_account": a, "pressed_at": now} for a, now in read_at.items()],
    )


async def readers(session: AsyncSession, broadcast_id: int) -> set[int]:
    statement = select(Delivery.account_id).where(
        Delivery.broadcast_id == broadcast_id, col(Delivery.read_at).is_not(None)
    )
    return set((await session.exec(statement)).all())


async def recent_for_account(session: AsyncSession, account_id: int, limit: int) -> list[Notice]:
    """The notices that were sent to this account, newest first."""
    sent_to = select(Delivery.broadcast_id).where(Delivery.account_id == account_id).distinct()
    statement = (
        select(Notice)
        .where(col(Notice.broadcast_id).in_(sent_to))
        .order_by(col(Notice.created_at).desc(), col(Notice.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def open_publicity(session: AsyncSession, village_id: int, now: datetime) -> list[Notice]:
    statement = (
        select(Notice)
        .where(
            Notice.village_id == village_id,
            Notice.kind == "publicity",
            col(Notice.objection_deadline).is_not(None),
            col(Notice.objection_deadline) > now,
        )
        .order_by(col(Notice.created_at).desc())
    )
    return list((await session.exec(statement)).all())


async def committee_accounts(session: AsyncSession, village_id: int, roles: tuple[str, ...]) -> list[Account]:
    """Accounts whose proven phone holds one of `roles` in the village (they get objections)."""
    statement = (
        select(Account)
        .join(Role, col(Role.phone) == col(Account.phone))
        .where(
            col(Role.village_id) == village_id, col(Role.role).in_(roles), col(Account.chat_id).is_not(None)
        )
        .distinct()
    )
    return list((await session.exec(statement)).all())


async def get_objection(session: AsyncSession, objection_id: int) -> Objection | None:
    return await session.get(Objection, objection_id)


async def objection_counts(session: AsyncSession, village_id: int) -> tuple[int, int]:
    """(open, answered) objections of a village."""
    statement = select(col(Objection.answer).is_(None), func.count()).where(
        Objection.village_id == village_id
    )
    counts = {
        bool(is_open): int(n)
        for is_open, n in (await session.exec(statement.group_by(col(Objection.answer).is_(None)))).all()
    }
    return counts.get(True, 0), counts.get(False, 0)


async def voters_for_publicity(session: AsyncSession, village_id: int) -> list[tuple[Person, str | None]]:
    """Registered voters of a village in the order the list is published: by group, then roll order."""
    statement = (
        select(Person, VillagerGroup.name)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .where(
            col(Person.village_id) == village_id,
            col(Person.removed_at).is_(None),
            col(Person.eligible_voter).is_(True),
        )
        .order_by(col(VillagerGroup.name), col(Person.id))
    )
    return [(person, group) for person, group in (await session.exec(statement)).all()]
