"""The committee's roll views: who may see and change what."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.identity import identify
from bot.services.roll_views import MarkRefusal, count_roll, mark_migrant, search_roll
from storage.db import SessionFactory
from storage.models import Account, Person
from tests.factories import grant, make_village

NOW = datetime(2026, 11, 22, tzinfo=UTC)


async def _account(sessions: SessionFactory, phone: str) -> Account:
    async with sessions() as session:
        account = Account(telegram_user_id=abs(hash(phone)) % 10**9, phone=phone)
        session.add(account)
        await session.commit()
        return account


async def test_only_the_persons_own_committee_changes_the_migrant_flag(sessions: SessionFactory) -> None:
    east = await make_village(sessions, "东山村", people=[{"name": "王五", "phone": "+8613800000005"}])
    west = await make_village(sessions, "西山村", people=[{"name": "赵六", "phone": "+8613800000006"}])
    await grant(sessions, west.village, "+8613900000009", "committee")
    await grant(sessions, east.village, "+8613900000008", "supervisor")
    outsider = await _account(sessions, "+8613900000009")
    supervisor = await _account(sessions, "+8613900000008")
    target = east.people["王五"].id or 0

    for account in (outsider, supervisor):
        async with sessions() as session:
            me = await identify(session, account)
            outcome = await mark_migrant(session, me, target, migrant=True, now=NOW)
        assert outcome.refusal is MarkRefusal.NOT_ALLOWED
    async with sessions() as session:
        person = await session.get(Person, target)
        assert person is not None and person.migrant is False  # no trace of the refused attempts
        me = await identify(session, outsider)
        assert await mark_migrant(session, me, 999_999, migrant=True, now=NOW) == type(outcome)(
            refusal=MarkRefusal.NOT_FOUND
        )


async def test_views_cover_only_villages_where_the_phone_holds_a_role(sessions: SessionFactory) -> None:
    east = await make_village(sessions, "东山村", people=[{"name": "王五", "phone": "+8613800000005"}])
    await make_village(sessions, "西山村", people=[{"name": "王六", "phone": "+8613800000006"}])
    await grant(sessions, east.village, "+8613900000007", "observer")
    observer = await _account(sessions, "+8613900000007")
    async with sessions() as session:
        me = await identify(session, observer)
        rolls = await count_roll(session, me)
        found = await search_roll(session, me, "王")
    assert [r.village.name for r in rolls] == ["东山村"] and rolls[0].show_phones is False
    assert [[m.person.name for m in f.matches] for f in found] == [["王五"]]
    assert found[0].can_edit is False
