"""The voter roll of a village: its people, its villagers' groups, who has bound an account."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Binding, Person, Village, VillagerGroup

# Bound parameters per IN list: far below SQLite's 32,766 and asyncpg's 32,767.
_CHUNK = 1_000


_T = TypeVar("_T")


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass(frozen=True)
class RollEntry:
    person: Person
    group: str | None
    bound: bool


@dataclass(frozen=True)
class RollSize:
    people: int
    bound: int


@dataclass(slots=True)
class PersonState:
    """A person's roll fields as stored: plain values, not a session-tracked object, so a
    bulk import can compare thousands of them and then write with bulk statements."""

    id: int
    name: str
    phone: str | None
    group_id: int | None
    household: str | None
    gender: str | None
    birth_year: int | None
    party_member: bool
    party_status: str | None
    migrant: bool
    works_in: str | None
    eligible_voter: bool
    notes: str | None
    removed_at: datetime | None


_STATE_COLUMNS = tuple(getattr(Person, name) for name in PersonState.__slots__)


async def roll_states(session: AsyncSession, village_id: int) -> list[PersonState]:
    """Everyone ever on the village's roll, removed people included, in the order they were added."""
    statement = select(*_STATE_COLUMNS).where(Person.village_id == village_id).order_by(col(Person.id))
    return [PersonState(*row) for row in (await session.exec(statement)).all()]


async def groups_of_village(session: AsyncSession, village_id: int) -> list[VillagerGroup]:
    statement = select(VillagerGroup).where(VillagerGroup.village_id == village_id)
    return list((await session.exec(statement.order_by(col(VillagerGroup.id)))).all())


async def active_phones_elsewhere(
    session: AsyncSession, village_id: int, phones: Collection[str]
) -> dict[str, Village]:
    """Which of `phones` are on another village's roll right now, and which village that is."""
    found: dict[str, Village] = {}
    for chunk in _chunks(sorted(phones)):
        statement = (
            select(Person.phone, Village)
            .join(Village, col(Village.id) == col(Person.village_id))
            .where(
                col(Person.phone).in_(chunk),
                col(Person.removed_at).is_(None),
                col(Person.village_id) != village_id,
            )
        )
        for phone, village in (await session.exec(statement)).all():
            if phone is not None:
                found[phone] = village
    return found


async def list_roll(session: AsyncSession, village_id: int, *, unbound_only: bool = False) -> list[RollEntry]:
    """The people now on the roll, group by group in the order the groups first appeared."""
    statement = (
        select(Person, VillagerGroup.name, Binding.id)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .join(Binding, col(Binding.person_id) == col(Person.id), isouter=True)
        .where(col(Person.village_id) == village_id, col(Person.removed_at).is_(None))
        .order_by(col(Person.group_id).asc().nulls_last(), col(Person.id))
    )
    if unbound_only:
        statement = statement.where(col(Binding.id).is_(None))
    rows = (await session.exec(statement)).all()
    return [RollEntry(person=row[0], group=row[1], bound=row[2] is not None) for row in rows]


async def active_person_by_phone(session: AsyncSession, village_id: int, phone: str) -> Person | None:
    statement = select(Person).where(
        Person.village_id == village_id, Person.phone == phone, col(Person.removed_at).is_(None)
    )
    return (await session.exec(statement)).first()


async def is_bound(session: AsyncSession, person_id: int) -> bool:
    statement = select(Binding.id).where(Binding.person_id == person_id)
    return (await session.exec(statement)).first() is not None


async def active_people(session: AsyncSession, person_ids: Collection[int]) -> dict[int, Person]:
    found: dict[int, Person] = {}
    for chunk in _chunks(sorted(person_ids)):
        statement = select(Person).where(col(Person.id).in_(chunk), col(Person.removed_at).is_(None))
        found.update((person.id, person) for person in (await session.exec(statement)).all() if person.id)
    return found


async def roll_sizes(session: AsyncSession) -> dict[int, RollSize]:
    """Per village id: people now on the roll and how many of them have bound an account."""
    statement = (
        select(Person.village_id, func.count(col(Person.id)), func.count(col(Binding.id)))
        .join(Binding, col(Binding.person_id) == col(Person.id), isouter=True)
        .where(col(Person.removed_at).is_(None))
        .group_by(col(Person.village_id))
    )
    rows = (await session.exec(statement)).all()
    return {int(row[0]): RollSize(people=int(row[1]), bound=int(row[2])) for row in rows}


async def group_name(session: AsyncSession, group_id: int) -> str | None:
    group = await session.get(VillagerGroup, group_id)
    return group.name if group is not None else None
