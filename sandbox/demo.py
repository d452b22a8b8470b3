"""A demo village for `cunmin sandbox`: a few hundred villagers with realistic names, seeded reproducibly.

The roll is generated household by household with Faker's ``zh_CN`` locale (given names, the
surnames of wives who married in, phone numbers), with the few clan surnames a Chinese village
really has, then written through the same services the committee's clerk uses from the shell
(``add_village``, ``import_roll``, ``grant_role``), so that what the bot reads is what a real import
writes. Some people are picked out as the sandbox's personas: an election committee member, a
supervision committee member, an ordinary villager, a migrant worker and a near relative of theirs
who would hold their proxy vote.

Nothing here talks to Telegram: the sandbox gives the personas their Telegram accounts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from faker import Faker

from bot.files.roll import Gender, PartyStatus, RollRow
from bot.phones import normalize_phone
from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.services.elections import create_election, open_election
from bot.services.identity import RoleName
from bot.services.roles import grant_role
from bot.services.roll import import_roll, list_roll
from bot.services.villages import add_village
from storage.db import SessionFactory
from storage.models import Account, Binding

__all__ = [
    "COUNTY",
    "GROUPS",
    "PROVINCE",
    "TOWNSHIP",
    "VILLAGE",
    "AccountLink",
    "DemoPerson",
    "DemoRoll",
    "DemoSeedError",
    "DemoVillage",
    "PersonaKind",
    "generate_roll",
    "link_accounts",
    "seed_demo_village",
    "seed_election",
]

VILLAGE = "青山村"
TOWNSHIP = "城关镇"
COUNTY = "安吉县"
PROVINCE = "ZJ"
COMMITTEE_CONTACT = "青山村村委会办公室 0572-5123456"
GROUPS: tuple[str, ...] = ("一组", "二组", "三组", "四组", "五组", "六组")
MIN_SIZE = 20

# A village is a handful of clans: most heads of household share a few surnames; wives married in
# from elsewhere bring the others (Chinese women keep their own surname).
_CLAN_SURNAMES: tuple[tuple[str, int], ...] = (("王", 34), ("李", 12), ("张", 8), ("陈", 6))
_OTHER_SURNAME_WEIGHT = 40
# Where people from a Zhejiang village go to work: the province's cities first, then the big ones.
_WORK_CITIES: tuple[tuple[str, int], ...] = (
    ("杭州", 22), ("湖州", 10), ("宁波", 9), ("上海", 12), ("义乌", 7), ("苏州", 6),
    ("绍兴", 5), ("温州", 4), ("深圳", 6), ("广州", 4), ("北京", 2),
)  # fmt: skip
_MIGRANT_NOTES: tuple[str, ...] = ("春节回村", "在{city}开出租车", "{city}电子厂", "在{city}做装修", "")
_NO_PHONE_NOTE = "无手机，由家人代为联系"


class PersonaKind(StrEnum):
    """The people the sandbox offers first; anyone else on the roll can be picked by search."""

    COMMITTEE = "committee"
    SUPERVISOR = "supervisor"
    VILLAGER = "villager"
    MIGRANT = "migrant"
    PROXY_HOLDER = "proxy_holder"


@dataclass(frozen=True)
class DemoPerson:
    """One person of the demo roll; ``person_id`` is set once the roll is in the database."""

    name: str
    phone: str | None
    group: str
    household: str
    gender: Gender
    birth_year: int
    party_member: bool = False
    party_status: PartyStatus | None = None
    migrant: bool = False
    works_in: str | None = None
    notes: str | None = None
    person_id: int | None = None

    def row(self, row_number: int) -> RollRow:
        return RollRow(
            row_number=row_number,
            name=self.name,
            phone=self.phone,
            group=self.group,
            household=self.household,
            gender=self.gender,
            birth_year=self.birth_year,
            party_member=self.party_member,
            party_status=self.party_status,
            migrant=self.migrant,
            works_in=self.works_in,
            notes=self.notes,
        )


@dataclass(frozen=True)
class DemoRoll:
    """The generated roll (no database yet) and who among it plays each persona."""

    people: tuple[DemoPerson, ...]
    featured: dict[PersonaKind, DemoPerson]

    def rows(self) -> list[RollRow]:
        # Row 1 is the header in the committee's spreadsheet: people start on row 2.
        return [person.row(number) for number, person in enumerate(self.people, start=2)]


@dataclass(frozen=True)
class DemoVillage:
    """The seeded village: its id, everyone on its roll (with ids) and the featured personas."""

    village_id: int
    name: str
    township: str
    people: tuple[DemoPerson, ...]
    featured: dict[PersonaKind, DemoPerson]

    def person(self, person_id: int) -> DemoPerson:
        for person in self.people:
            if person.person_id == person_id:
                return person
        raise KeyError(f"no person {person_id} in the demo village")

    @property
    def proxy_principal(self) -> DemoPerson:
        """Whose proxy vote the proxy holder would carry: the migrant worker of their household."""
        return self.featured[PersonaKind.MIGRANT]


class DemoSeedError(RuntimeError):
    """The demo village could not be written (a bug in the generator, never the user's fault)."""


# ------------------------------------------------------------------------------------ generating


class _Generator:
    def __init__(self, seed: int, election_year: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.year = election_year
        self.phones: set[str] = set()

    def surname(self) -> str:
        names = [name for name, _ in _CLAN_SURNAMES] + [""]
        weights = [weight for _, weight in _CLAN_SURNAMES] + [_OTHER_SURNAME_WEIGHT]
        return self.rng.choices(names, weights)[0] or self.fake.last_name()

    def given_name(self, gender: Gender) -> str:
        return self.fake.first_name_male() if gender is Gender.MALE else self.fake.first_name_female()

    def phone(self) -> str:
        while True:
            candidate = normalize_phone(self.fake.phone_number())
            if candidate is not None and candidate not in self.phones:
                self.phones.add(candidate)
                return candidate

    def city(self) -> str:
        if self.rng.random() < 0.1:
            return self.fake.city_name()
        return self.rng.choices([c for c, _ in _WORK_CITIES], [w for _, w in _WORK_CITIES])[0]

    def person(
        self, surname: str, gender: Gender, birth_year: int, group: str, household: str, taken: set[str]
    ) -> DemoPerson:
        name = surname + self.given_name(gender)
        while name in taken:  # two people of one name in one household cannot be told apart
            name = surname + self.given_name(gender)
        taken.add(name)
        has_phone = self.rng.random() >= (0.6 if birth_year < 1945 else 0.04)
        party = self.rng.random() < (0.09 if birth_year < 1990 else 0.04)
        status = None
        if party:
            status = PartyStatus.PROBATIONARY if self.rng.random() < 0.12 else PartyStatus.FULL
        age = self.year - birth_year
        migrant = has_phone and self.rng.random() < (0.45 if 22 <= age <= 50 else 0.1 if age <= 60 else 0.0)
        works_in = self.city() if migrant else None
        notes: str | None = None
        if not has_phone:
            notes = _NO_PHONE_NOTE
        elif works_in is not None:
            notes = self.rng.choice(_MIGRANT_NOTES).format(city=works_in) or None
        return DemoPerson(
            name=name,
            phone=self.phone() if has_phone else None,
            group=group,
            household=household,
            gender=gender,
            birth_year=birth_year,
            party_member=party,
            party_status=status,
            migrant=migrant,
            works_in=works_in,
            notes=notes,
        )

    def household(self, group_index: int, number: int) -> list[DemoPerson]:
        """A household's voters: a head, usually a spouse, grown-up children, sometimes an elder."""
        group = GROUPS[group_index]
        code = f"{group_index + 1:02d}{number:02d}"
        taken: set[str] = set()
        rng = self.rng
        surname = self.surname()
        head_gender = Gender.MALE if rng.random() < 0.9 else Gender.FEMALE
        head_born = rng.randint(1952, 1990)
        members = [self.person(surname, head_gender, head_born, group, code, taken)]
        if rng.random() < 0.85:
            spouse_gender = Gender.FEMALE if head_gender is Gender.MALE else Gender.MALE
            spouse_surname = self.fake.last_name() if spouse_gender is Gender.FEMALE else self.surname()
            spouse_born = min(head_born + rng.randint(-2, 4), self.year - 20)
            members.append(self.person(spouse_surname, spouse_gender, spouse_born, group, code, taken))
        youngest_parent = max(head_born, members[-1].birth_year)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            born = rng.randint(youngest_parent + 21, youngest_parent + 34)
            if born > self.year - 18:  # the voter roll holds the 18-year-olds and older
                continue
            gender = rng.choice((Gender.MALE, Gender.FEMALE))
            members.append(self.person(surname, gender, born, group, code, taken))
        if rng.random() < 0.25 and head_born > 1962:
            born = rng.randint(max(1932, head_born - 32), head_born - 22)
            gender = rng.choice((Gender.MALE, Gender.FEMALE))
            elder_surname = surname if gender is Gender.MALE else self.fake.last_name()
            members.append(self.person(elder_surname, gender, born, group, code, taken))
        return members


def _first(used: set[int], *preferences: Iterable[bool]) -> int | None:
    """The first index not yet used that passes the first preference, else the second, and so on."""
    for wanted in preferences:
        for index, ok in enumerate(wanted):
            if ok and index not in used:
                return index
    return None


def _feature(people: list[DemoPerson], year: int) -> dict[PersonaKind, DemoPerson]:
    """Pick the personas among the generated people, adjusting them a little where the roll must fit.

    The committee member must be a party member at home; the migrant worker must have, in their
    household, a near relative at home with a phone (who would carry their proxy vote).
    """
    used: set[int] = set()

    def age(p: DemoPerson) -> int:
        return year - p.birth_year

    def take(index: int | None, what: str) -> int:
        if index is None:
            raise DemoSeedError(f"the demo roll has nobody who can be the {what}; generate more people")
        used.add(index)
        return index

    committee = take(
        _first(
            used,
            (p.phone is not None and 40 <= age(p) <= 65 for p in people),
            (p.phone is not None for p in people),
        ),
        "committee member",
    )
    people[committee] = replace(
        people[committee],
        party_member=True,
        party_status=PartyStatus.FULL,
        migrant=False,
        works_in=None,
        notes=None,
    )

    migrant: int | None = None
    holder: int | None = None
    for index, person in enumerate(people):
        if index in used or person.phone is None or not 20 <= age(person) <= 50:
            continue
        relatives = [
            other
            for other, candidate in enumerate(people)
            if other != index
            and other not in used
            and candidate.household == person.household
            and candidate.phone is not None
        ]
        if relatives:
            migrant, holder = index, relatives[0]
            break
    migrant = take(migrant, "migrant worker")
    holder = take(holder, "proxy holder")
    city = people[migrant].works_in if people[migrant].works_in and people[migrant].migrant else "杭州"
    people[migrant] = replace(people[migrant], migrant=True, works_in=city, notes="春节回村")
    people[holder] = replace(people[holder], migrant=False, works_in=None, notes=None)
    home = people[migrant].household

    supervisor = take(
        _first(
            used,
            (p.phone is not None and not p.migrant and age(p) >= 50 and p.household != home for p in people),
            (p.phone is not None and not p.migrant for p in people),
        ),
        "supervision committee member",
    )
    villager = take(
        _first(
            used,
            (
                p.phone is not None
                and not p.migrant
                and not p.party_member
                and 28 <= age(p) <= 60
                and p.household != home
                for p in people
            ),
            (p.phone is not None and not p.migrant for p in people),
        ),
        "villager",
    )
    return {
        PersonaKind.COMMITTEE: people[committee],
        PersonaKind.SUPERVISOR: people[supervisor],
        PersonaKind.VILLAGER: people[villager],
        PersonaKind.MIGRANT: people[migrant],
        PersonaKind.PROXY_HOLDER: people[holder],
    }


def generate_roll(*, size: int = 300, seed: int = 2026, election_year: int | None = None) -> DemoRoll:
    """``size`` people in households spread over the villagers' groups; the same seed, the same roll."""
    if size < MIN_SIZE:
        raise ValueError(f"a demo village needs at least {MIN_SIZE} people")
    year = election_year or datetime.now(UTC).year
    generator = _Generator(seed, year)
    people: list[DemoPerson] = []
    numbers = [0] * len(GROUPS)
    index = 0
    while len(people) < size:
        group_index = index % len(GROUPS)
        index += 1
        numbers[group_index] += 1
        people.extend(generator.household(group_index, numbers[group_index]))
    people = people[:size]
    # Households are listed group by group, as a committee's spreadsheet is.
    people.sort(key=lambda p: p.household)
    featured = _feature(people, year)
    return DemoRoll(people=tuple(people), featured=featured)


# --------------------------------------------------------------------------------------- seeding


async def seed_demo_village(
    sessions: SessionFactory, *, size: int = 300, seed: int = 2026, now: datetime | None = None
) -> DemoVillage:
    """Write the demo village, its roll and its roles; return it with everyone's person id."""
    now = now or datetime.now(UTC)
    roll = generate_roll(size=size, seed=seed, election_year=now.year)
    async with sessions() as session:
        added = await add_village(
            session,
            name=VILLAGE,
            township=TOWNSHIP,
            county=COUNTY,
            province=PROVINCE,
            committee_contact=COMMITTEE_CONTACT,
        )
    if added.village is None or added.village.id is None:
        raise DemoSeedError(f"the demo village could not be added: {added.refusal}")
    village_id = added.village.id
    async with sessions() as session:
        imported = await import_roll(session, village_id, roll.rows(), now=now)
    if imported.refusal is not None:
        problems = "; ".join(f"row {p.row_number}: {p.reason}" for p in imported.problems[:5])
        raise DemoSeedError(f"the demo roll was refused ({imported.refusal}): {problems}")
    featured = roll.featured
    for kind, role in (
        (PersonaKind.COMMITTEE, RoleName.COMMITTEE),
        (PersonaKind.SUPERVISOR, RoleName.SUPERVISOR),
    ):
        phone = featured[kind].phone
        assert phone is not None
        async with sessions() as session:
            granted = await grant_role(session, village_id, phone, role, now=now)
        if granted.refusal is not None:
            raise DemoSeedError(f"the {kind} role could not be granted: {granted.refusal}")
    async with sessions() as session:
        entries = await list_roll(session, village_id)
    ids = {(e.person.name, e.person.household): e.person.id for e in entries}
    people = tuple(replace(p, person_id=ids[(p.name, p.household)]) for p in roll.people)
    by_key = {(p.name, p.household): p for p in people}
    village = DemoVillage(
        village_id=village_id,
        name=VILLAGE,
        township=TOWNSHIP,
        people=people,
        featured={kind: by_key[(p.name, p.household)] for kind, p in featured.items()},
    )
    await seed_election(sessions, village, now=now)
    return village


async def seed_election(sessions: SessionFactory, village: DemoVillage, *, now: datetime) -> None:
    """The demo village's committee election, opened, in its recommendation phase.

    A village committee election under the village's provincial preset: the voter roll is
    published today, recommendations run from now for ten days (an election cannot be created
    with a window already begun), the candidate list comes a week before election day, five
    weeks from now. A proxy request from the migrant
    worker is for when proxy voting lands (issue #6).
    """
    zone = ZoneInfo("Asia/Shanghai")
    today = now.astimezone(zone).date()
    opens = now.astimezone(zone)
    schedule = Schedule(
        election_day=today + timedelta(days=35),
        voter_list_published=today,
        recommendation=Window(
            opens=opens, closes=datetime.combine(today + timedelta(days=11), time(0), tzinfo=zone)
        ),
        candidate_list_published=today + timedelta(days=28),
    )
    async with sessions() as session:
        created = await create_election(
            session,
            None,
            village_id=village.village_id,
            kind=ElectionKind.VILLAGE_COMMITTEE,
            title=f"{village.name}第十二届村民委员会选举",
            schedule=schedule,
            seats={Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 3},
            overrides={},
            now=now,
            zone=zone,
        )
    if created.election is None or created.election.id is None:
        problems = [p.reason.value for p in created.schedule_problems]
        raise RuntimeError(f"the demo election was refused: {created.refusal} {problems}")
    async with sessions() as session:
        opened = await open_election(session, None, created.election.id, now=now)
    if opened.refusal is not None:
        raise RuntimeError(f"the demo election could not be opened: {opened.refusal}")


@dataclass(frozen=True)
class AccountLink:
    """A person who already linked Telegram before the sandbox started (by sharing their contact)."""

    person: DemoPerson
    telegram_user_id: int
    language_code: str = "zh-hans"


async def link_accounts(sessions: SessionFactory, links: Sequence[AccountLink], *, now: datetime) -> int:
    """Bind these people's Telegram accounts as if each had shared their own contact with the bot.

    The rows are what ``bind_by_contact`` writes for a first contact (an account with its proven
    phone, a binding by contact), written in one transaction: the background villagers are there
    so that a notice reaches a village-sized audience, and two hundred conversations one by one
    would slow the sandbox's start. Returns how many people were bound.
    """
    async with sessions() as session:
        accounts: list[tuple[Account, int]] = []
        for link in links:
            if link.person.phone is None or link.person.person_id is None:
                raise ValueError(f"{link.person.name} has no phone or is not on the roll: cannot be linked")
            account = Account(
                telegram_user_id=link.telegram_user_id,
                chat_id=link.telegram_user_id,
                telegram_language_code=link.language_code,
                phone=link.person.phone,
                created_at=now,
                updated_at=now,
            )
            session.add(account)
            accounts.append((account, link.person.person_id))
        await session.flush()
        for account, person_id in accounts:
            assert account.id is not None
            session.add(Binding(account_id=account.id, person_id=person_id, method="contact", bound_at=now))
        await session.commit()
    return len(accounts)
