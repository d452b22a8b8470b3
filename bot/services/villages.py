"""Villages a deployment serves: added by the township, found again by name."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.policy import Province
from storage.models import Village
from storage.repositories import roll as roll_repo
from storage.repositories import villages as villages_repo
from storage.repositories.roll import RollSize

# Column lengths of storage.models.Village.
MAX_NAME_LENGTH = 100
MAX_CONTACT_LENGTH = 200


def clean_name(text: str | None) -> str:
    """Village, township and county names compare after NFKC and with single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def parse_province(text: str | Province) -> Province | None:
    """Zhejiang is "ZJ", "zj" or Province.ZJ; None for a province we have no rules for."""
    if isinstance(text, Province):
        return text
    try:
        return Province[text.strip().upper()]
    except KeyError:
        return None


class VillageRefusal(StrEnum):
    EMPTY_NAME = "empty_name"
    EMPTY_TOWNSHIP = "empty_township"
    NAME_TOO_LONG = "name_too_long"
    UNKNOWN_PROVINCE = "unknown_province"
    ALREADY_EXISTS = "already_exists"


@dataclass(frozen=True)
class VillageOutcome:
    village: Village | None = None
    refusal: VillageRefusal | None = None


async def add_village(
    session: AsyncSession,
    *,
    name: str,
    township: str,
    province: str | Province,
    county: str | None = None,
    committee_contact: str | None = None,
) -> VillageOutcome:
    """Add a village; its province picks the election rules (RULES.md) and is stored by its
    name (NATIONAL, BJ, SH, ZJ, HN). Names repeat across townships: a village is unique by
    (township, name)."""
    name, township = clean_name(name), clean_name(township)
    county_name, contact = clean_name(county) or None, clean_name(committee_contact) or None
    if not name:
        return VillageOutcome(refusal=VillageRefusal.EMPTY_NAME)
    if not township:
        return VillageOutcome(refusal=VillageRefusal.EMPTY_TOWNSHIP)
    if any(len(text) > MAX_NAME_LENGTH for text in (name, township, county_name or "")) or (
        contact is not None and len(contact) > MAX_CONTACT_LENGTH
    ):
        return VillageOutcome(refusal=VillageRefusal.NAME_TOO_LONG)
    rules = parse_province(province)
    if rules is None:
        return VillageOutcome(refusal=VillageRefusal.UNKNOWN_PROVINCE)
    if await villages_repo.get_by_township_and_name(session, township, name) is not None:
        await session.commit()  # ends the read transaction (storage/db.py)
        return VillageOutcome(refusal=VillageRefusal.ALREADY_EXISTS)
    village = Village(
        name=name, township=township, county=county_name, province=rules.name, committee_contact=contact
    )
    session.add(village)
    try:
        await session.commit()
    except IntegrityError:  # added by someone else between the check and the commit
        await session.rollback()
        return VillageOutcome(refusal=VillageRefusal.ALREADY_EXISTS)
    return VillageOutcome(village=village)


class VillageLookupRefusal(StrEnum):
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class VillageLookup:
    village: Village | None = None
    refusal: VillageLookupRefusal | None = None
    # AMBIGUOUS: the villages of that name, one per township.
    candidates: tuple[Village, ...] = ()


async def locate_village(session: AsyncSession, name: str, *, township: str | None = None) -> VillageLookup:
    """The one village a committee means by its name (and township, when the name repeats)."""
    found = await villages_repo.find_by_name(
        session, clean_name(name), township=clean_name(township) if township is not None else None
    )
    await session.commit()  # ends the read transaction (storage/db.py)
    if not found:
        return VillageLookup(refusal=VillageLookupRefusal.NOT_FOUND)
    if len(found) > 1:
        return VillageLookup(refusal=VillageLookupRefusal.AMBIGUOUS, candidates=tuple(found))
    return VillageLookup(village=found[0])


@dataclass(frozen=True)
class VillageSummary:
    village: Village
    # People on the roll now, and how many of them have bound a Telegram account.
    people: int
    bound: int


async def list_villages(session: AsyncSession) -> list[VillageSummary]:
    villages = await villages_repo.list_all(session)
    sizes = await roll_repo.roll_sizes(session)
    await session.commit()  # ends the read transaction (storage/db.py)
    empty = RollSize(people=0, bound=0)
    return [
        VillageSummary(
            village, sizes.get(village.id or 0, empty).people, sizes.get(village.id or 0, empty).bound
        )
        for village in villages
    ]
