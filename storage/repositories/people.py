"""Queries over the people on a roll, for the committee's views."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Binding, Person, VillagerGroup


@dataclass(frozen=True)
class GroupCounts:
    group: str | None
    registered: int
    voters: int
    bound: int
    migrants: int
    party_members: int


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def counts_by_group(session: AsyncSession, village_id: int) -> list[GroupCounts]:
    statement = (
        sa_select(
            col(VillagerGroup.name),
            func.count(col(Person.id)),
            _flag(col(Person.eligible_voter).is_(True)),
            _flag(col(Binding.id).is_not(None)),
            _flag(col(Person.migrant).is_(True)),
            _flag(col(Person.party_member).is_(True)),
        )
        .select_from(Person)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .join(Binding, col(Binding.person_id) == col(Person.id), isouter=True)
        .where(col(Person.village_id) == village_id, col(Person.removed_at).is_(None))
        .group_by(VillagerGroup.name)
        .order_by(VillagerGroup.name)
    )
    rows = (await session.execute(statement)).all()  # a multi-column aggregate: plain SQLAlchemy rows
    return [GroupCounts(row[0], *(int(value) for value in row[1:])) for row in rows]


@dataclass(frozen=True)
class PersonMatch:
    person: Person
    group: str | None
    bound: bool


async def search_by_name(session: AsyncSession, village_id: int, text: str, limit: int) -> list[PersonMatch]:
    """People of a village whose name contains `text` (Chinese names: a substring, not a prefix)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = (
        sa_select(Person, col(VillagerGroup.name), func.cast(col(Binding.id).is_not(None), Integer))
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .join(Binding, col(Binding.person_id) == col(Person.id), isouter=True)
        .where(
            col(Person.village_id) == village_id,
            col(Person.removed_at).is_(None),
            col(Person.name).like(f"%{escaped}%", escape="\\"),
        )
        .order_by(col(Person.name), col(Person.id))
        .limit(limit)
    )
    rows = (await session.execute(statement)).all()  # a multi-column aggregate: plain SQLAlchemy rows
    return [PersonMatch(person=row[0], group=row[1], bound=bool(row[2])) for row in rows]


async def get_active(session: AsyncSession, person_id: int) -> Person | None:
    person = await session.get(Person, person_id)
    return person if person is not None and person.removed_at is None else None
