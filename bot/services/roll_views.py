"""What the committee (and supervisors, observers) see of a roll, and the one edit they make in chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.identity import Me, RoleName
from storage.models import Person, Village
from storage.repositories import people as people_repo
from storage.repositories.people import GroupCounts, PersonMatch

# Who may look at a village's roll in chat; only the election committee changes it.
ROLL_READERS = (RoleName.COMMITTEE, RoleName.SUPERVISOR, RoleName.OBSERVER)
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class VillageRoll:
    village: Village
    groups: list[GroupCounts]
    # Whole phone numbers are for the village's own election committee only.
    show_phones: bool

    @property
    def total(self) -> GroupCounts:
        return GroupCounts(
            group=None,
            registered=sum(g.registered for g in self.groups),
            voters=sum(g.voters for g in self.groups),
            bound=sum(g.bound for g in self.groups),
            migrants=sum(g.migrants for g in self.groups),
            party_members=sum(g.party_members for g in self.groups),
        )


async def count_roll(session: AsyncSession, me: Me) -> list[VillageRoll]:
    result = []
    for village in me.villages_with(*ROLL_READERS):
        assert village.id is not None
        groups = await people_repo.counts_by_group(session, village.id)
        result.append(VillageRoll(village, groups, show_phones=me.has_role(village.id, RoleName.COMMITTEE)))
    await session.commit()  # end the read: the handler goes on to talk to Telegram (storage/db.py)
    return result


@dataclass(frozen=True)
class RollSearch:
    village: Village
    matches: list[PersonMatch]
    show_phones: bool
    can_edit: bool


async def search_roll(session: AsyncSession, me: Me, text: str) -> list[RollSearch]:
    result = []
    for village in me.villages_with(*ROLL_READERS):
        assert village.id is not None
        matches = await people_repo.search_by_name(session, village.id, text.strip(), SEARCH_LIMIT)
        is_committee = me.has_role(village.id, RoleName.COMMITTEE)
        result.append(RollSearch(village, matches, show_phones=is_committee, can_edit=is_committee))
    await session.commit()  # end the read: the handler goes on to talk to Telegram (storage/db.py)
    return result


class MarkRefusal(StrEnum):
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True)
class MarkOutcome:
    refusal: MarkRefusal | None = None
    person: Person | None = None


async def mark_migrant(
    session: AsyncSession, me: Me, person_id: int, *, migrant: bool, now: datetime
) -> MarkOutcome:
    """Only the election committee of the person's own village may change the flag."""
    person = await people_repo.get_active(session, person_id)
    outcome: MarkOutcome
    if person is None:
        outcome = MarkOutcome(refusal=MarkRefusal.NOT_FOUND)
    elif not me.has_role(person.village_id, RoleName.COMMITTEE):
        outcome = MarkOutcome(refusal=MarkRefusal.NOT_ALLOWED)
    else:
        if person.migrant != migrant:
            person.migrant = migrant
            person.updated_at = now
            session.add(person)
        outcome = MarkOutcome(person=person)
    await session.commit()  # one commit, also on refusal: it ends the transaction (storage/db.py)
    return outcome
