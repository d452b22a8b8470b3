"""Test data written straight into the tables (the services under test are not used to set up)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import SessionFactory
from storage.models import Person, Role, Village, VillagerGroup


@dataclass
class Roll:
    village: Village
    groups: dict[str, VillagerGroup]
    people: dict[str, Person]


async def make_village(
    sessions: SessionFactory,
    name: str = "青山村",
    *,
    township: str = "城关镇",
    province: str = "ZJ",
    people: list[dict[str, object]] | None = None,
    committee_contact: str | None = None,
) -> Roll:
    """A village with groups and people; each person dict holds Person fields plus "group"."""
    async with sessions() as session:
        village = Village(
            name=name, township=township, province=province, committee_contact=committee_contact
        )
        session.add(village)
        await session.flush()
        assert village.id is not None
        groups: dict[str, VillagerGroup] = {}
        persons: dict[str, Person] = {}
        for spec in people or []:
            fields = dict(spec)
            group_name = fields.pop("group", None)
            group_id = None
            if isinstance(group_name, str):
                if group_name not in groups:
                    groups[group_name] = VillagerGroup(village_id=village.id, name=group_name)
                    session.add(groups[group_name])
                    await session.flush()
                group_id = groups[group_name].id
            person = Person(village_id=village.id, group_id=group_id, **fields)  # type: ignore[arg-type]
            session.add(person)
            persons[person.name] = person
        await session.commit()
        return Roll(village=village, groups=groups, people=persons)


async def grant(sessions: SessionFactory, village: Village, phone: str, role: str = "committee") -> None:
    assert village.id is not None
    async with sessions() as session:
        session.add(Role(village_id=village.id, phone=phone, role=role))
        await session.commit()
