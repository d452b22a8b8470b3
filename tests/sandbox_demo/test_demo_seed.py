"""The demo village of `cunmin sandbox`: realistic, reproducible, and written by the real services."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.services.accounts import register_account
from bot.services.identity import bind_by_contact
from bot.services.roll import list_roll
from sandbox.demo import (
    GROUPS,
    AccountLink,
    PersonaKind,
    generate_roll,
    link_accounts,
    seed_demo_village,
)
from storage.db import SessionFactory
from storage.models import Election, Role, Village

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")


def test_the_same_seed_gives_the_same_village_and_another_seed_another() -> None:
    first = generate_roll(size=120, seed=7, election_year=2026)
    again = generate_roll(size=120, seed=7, election_year=2026)
    other = generate_roll(size=120, seed=8, election_year=2026)
    assert first == again
    assert [p.name for p in first.people] != [p.name for p in other.people]


def test_a_roll_looks_like_a_village() -> None:
    roll = generate_roll(size=300, seed=2026, election_year=2026)
    people = roll.people
    assert len(people) == 300
    assert all(HAN_NAME.fullmatch(p.name) for p in people), [
        p.name for p in people if not HAN_NAME.fullmatch(p.name)
    ]
    assert {p.group for p in people} == set(GROUPS)
    assert all(
        re.fullmatch(r"0[1-6]\d{2}", p.household) and p.household[:2] == f"{GROUPS.index(p.group) + 1:02d}"
        for p in people
    )
    # Everyone on a voter roll is 18 or older in the election year (OL art. 13).
    assert all(2026 - p.birth_year >= 18 for p in people)
    phones = [p.phone for p in people if p.phone]
    assert len(phones) == len(set(phones)) and all(re.fullmatch(r"\+861\d{10}", p) for p in phones)
    # A handful of clans: the most common surname is far ahead, as in a real village.
    surnames = Counter(p.name[0] for p in people)
    assert surnames.most_common(1)[0][1] > 0.2 * len(people)
    assert 0.1 * len(people) <= sum(p.migrant for p in people) <= 0.45 * len(people)
    assert 0.03 * len(people) <= sum(p.party_member for p in people) <= 0.15 * len(people)
    assert all(p.works_in for p in people if p.migrant)
    assert all(p.party_status is not None for p in people if p.party_member)
    # Nobody shares a name within a household: the roll could not tell them apart.
    assert len({(p.household, p.name) for p in people}) == len(people)
    # People without a phone are mostly the elderly, and the roll says how to reach them.
    assert all(p.notes for p in people if p.phone is None)


@pytest.mark.parametrize("seed", range(12))
def test_every_persona_is_found_even_in_a_small_village(seed: int) -> None:
    roll = generate_roll(size=20, seed=seed, election_year=2026)
    featured = roll.featured
    assert set(featured) == set(PersonaKind)
    assert len({(p.household, p.name) for p in featured.values()}) == len(PersonaKind)
    assert all(p.phone for p in featured.values())
    committee, migrant, holder = (
        featured[PersonaKind.COMMITTEE],
        featured[PersonaKind.MIGRANT],
        featured[PersonaKind.PROXY_HOLDER],
    )
    assert committee.party_member and not committee.migrant
    assert migrant.migrant and migrant.works_in
    # A proxy may only be held by a near relative: here, someone of the migrant's household at home.
    assert holder.household == migrant.household and not holder.migrant
    villager = featured[PersonaKind.VILLAGER]
    assert not villager.migrant
    # The personas are the roll's people, not extra rows.
    assert all(p in roll.people for p in featured.values())


def test_a_village_needs_a_few_people() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        generate_roll(size=5)


async def test_seeding_writes_the_village_roll_and_roles(sessions: SessionFactory) -> None:
    village = await seed_demo_village(sessions, size=80, seed=3, now=NOW)
    async with sessions() as session:
        entries = await list_roll(session, village.village_id)
        roles = (await session.exec(select(Role))).all()
        stored = await session.get(Village, village.village_id)
    assert stored is not None and (stored.township, stored.name, stored.province) == (
        "城关镇",
        "青山村",
        "ZJ",
    )
    assert len(entries) == 80 and not any(e.bound for e in entries)
    by_id = {e.person.id: e.person for e in entries}
    for person in village.people:
        assert person.person_id is not None
        assert by_id[person.person_id].name == person.name
        assert by_id[person.person_id].phone == person.phone
    assert {(r.phone, r.role) for r in roles} == {
        (village.featured[PersonaKind.COMMITTEE].phone, "committee"),
        (village.featured[PersonaKind.SUPERVISOR].phone, "supervisor"),
    }
    assert village.proxy_principal == village.featured[PersonaKind.MIGRANT]
    async with sessions() as session:
        elections = (await session.exec(select(Election))).all()
    # The demo election is open, in its recommendation phase, so /recommend works at once.
    assert [(e.village_id, e.status, e.kind) for e in elections] == [
        (village.village_id, "open", "village_committee")
    ]


async def test_linked_accounts_are_what_sharing_a_contact_would_have_written(
    sessions: SessionFactory,
) -> None:
    village = await seed_demo_village(sessions, size=40, seed=5, now=NOW)
    with_phones = [p for p in village.people if p.phone][:10]
    links = [AccountLink(p, 8_000_000_000 + i, "zh-hans") for i, p in enumerate(with_phones)]
    assert await link_accounts(sessions, links, now=NOW) == 10
    async with sessions() as session:
        bound = {e.person.id for e in await list_roll(session, village.village_id) if e.bound}
    assert bound == {p.person_id for p in with_phones}
    # The bot's own binding service sees them as already linked, with nothing left to write.
    link = links[0]
    assert link.person.phone is not None
    async with sessions() as session:
        account = await register_account(
            session,
            telegram_user_id=link.telegram_user_id,
            private_chat_id=link.telegram_user_id,
            language_code="zh-hans",
        )
        outcome = await bind_by_contact(
            session,
            account,
            contact_phone=link.person.phone.removeprefix("+"),
            contact_user_id=link.telegram_user_id,
            sender_user_id=link.telegram_user_id,
            forwarded=False,
            now=NOW,
        )
    assert outcome.refusal is None and outcome.already_bound
    assert outcome.person is not None and outcome.person.id == link.person.person_id
