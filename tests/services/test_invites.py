"""Invitation codes: their shape, storage as a hash, expiry, single use under a double tap."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.files.roll import RollRow
from bot.services import invites
from bot.services.accounts import register_account
from bot.services.invites import (
    InviteRefusal,
    RedeemOutcome,
    RedeemRefusal,
    UnknownPeopleError,
    create_invites,
    invite_link,
    invite_person,
    invite_unbound,
    redeem_invite,
)
from bot.services.roll import import_roll
from bot.services.villages import add_village
from storage.db import SessionFactory
from storage.models import Account, Binding, Invite, Person, Village

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# Telegram's rule for a /start payload: 1-64 characters of A-Z, a-z, 0-9, _ and -.
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def roll(sessions: SessionFactory) -> tuple[Village, dict[str, Person]]:
    async with sessions() as session:
        village = (await add_village(session, name="东山村", township="城关镇", province="ZJ")).village
        assert village is not None and village.id is not None
        rows = [
            RollRow(2, "王建国", phone="+8613800138001", group="一组"),
            RollRow(3, "李秀英", phone="+8613800138002", group="一组"),
            RollRow(4, "张桂兰", group="二组", household="0201"),
        ]
        outcome = await import_roll(session, village.id, rows, now=NOW)
        assert outcome.refusal is None
        found = (await session.exec(select(Person).where(Person.village_id == village.id))).all()
    return village, {person.name: person for person in found}


async def account(sessions: SessionFactory, telegram_user_id: int) -> Account:
    async with sessions() as session:
        return await register_account(
            session, telegram_user_id=telegram_user_id, private_chat_id=telegram_user_id, language_code="zh"
        )


async def redeem(sessions: SessionFactory, who: Account, code: str, now: datetime = NOW) -> RedeemOutcome:
    async with sessions() as session:
        return await redeem_invite(session, who, code, now=now)


async def code_for(sessions: SessionFactory, person: Person, ttl: timedelta = invites.DEFAULT_TTL) -> str:
    assert person.id is not None
    async with sessions() as session:
        [(person_id, code)] = await create_invites(session, [person.id], now=NOW, ttl=ttl)
    assert person_id == person.id
    return code


async def test_codes_fit_telegram_cannot_be_guessed_and_are_stored_only_hashed(
    sessions: SessionFactory,
) -> None:
    _, people = await roll(sessions)
    ids = [p.id for p in people.values() if p.id is not None]
    async with sessions() as session:
        issued = await create_invites(session, ids, now=NOW)
    codes = [code for _, code in issued]
    assert [person_id for person_id, _ in issued] == ids
    assert len(set(codes)) == 3
    for code in codes:
        assert START_PAYLOAD.match(code) and invites.is_invite_code(code)
        assert len(code) * 6 >= 128
    async with sessions() as session:
        stored = (await session.exec(select(Invite))).all()
    assert {s.code_hash for s in stored} == {hashlib.sha256(c.encode()).hexdigest() for c in codes}
    assert not {c for c in codes for s in stored if c in (s.code_hash, str(s.id))}
    assert all(s.expires_at == NOW + timedelta(days=30) and s.used_at is None for s in stored)
    assert invite_link("cunmin_bot", codes[0]) == f"https://t.me/cunmin_bot?start={codes[0]}"


async def test_unknown_or_removed_people_get_no_codes(sessions: SessionFactory) -> None:
    await roll(sessions)
    async with sessions() as session:
        with pytest.raises(UnknownPeopleError):
            await create_invites(session, [12345], now=NOW)


async def test_redeeming_binds_the_account_and_spends_the_code(sessions: SessionFactory) -> None:
    village, people = await roll(sessions)
    code = await code_for(sessions, people["李秀英"])
    villager = await account(sessions, 501)

    outcome = await redeem(sessions, villager, code, NOW + timedelta(days=1))

    assert outcome.refusal is None and not outcome.already_bound
    assert outcome.person is not None and outcome.person.name == "李秀英"
    assert outcome.village is not None and outcome.village.id == village.id
    async with sessions() as session:
        [binding] = (await session.exec(select(Binding))).all()
        [invite] = (await session.exec(select(Invite))).all()
    assert (binding.account_id, binding.person_id, binding.method) == (
        villager.id,
        people["李秀英"].id,
        "invite",
    )
    assert invite.used_at == NOW + timedelta(days=1)
    # The same person taps the link again: nothing new, and they are told they are in.
    again = await redeem(sessions, villager, code)
    assert again.refusal is None and again.already_bound and again.person is not None


@pytest.mark.parametrize("payload", ["", "hello", "a" * 31, "a" * 33, "a" * 65, "a" * 31 + "/", "中" * 32])
async def test_payloads_that_are_not_invites(sessions: SessionFactory, payload: str) -> None:
    outcome = await redeem(sessions, await account(sessions, 502), payload)
    assert outcome.refusal is RedeemRefusal.NOT_AN_INVITE


async def test_unknown_expired_and_used(sessions: SessionFactory) -> None:
    _, people = await roll(sessions)
    first, second = await account(sessions, 503), await account(sessions, 504)
    assert (await redeem(sessions, first, invites.new_code())).refusal is RedeemRefusal.UNKNOWN

    short = await code_for(sessions, people["王建国"], ttl=timedelta(hours=1))
    assert (await redeem(sessions, first, short, NOW + timedelta(hours=1))).refusal is RedeemRefusal.EXPIRED

    code = await code_for(sessions, people["王建国"])
    assert (await redeem(sessions, first, code)).refusal is None
    assert (await redeem(sessions, second, code)).refusal is RedeemRefusal.USED


async def test_person_removed_or_bound_and_account_bound(sessions: SessionFactory) -> None:
    village, people = await roll(sessions)
    first, second = await account(sessions, 505), await account(sessions, 506)
    wang, li = await code_for(sessions, people["王建国"]), await code_for(sessions, people["李秀英"])
    wang_again = await code_for(sessions, people["王建国"])
    zhang = await code_for(sessions, people["张桂兰"])

    assert (await redeem(sessions, first, wang)).refusal is None
    assert (await redeem(sessions, second, wang_again)).refusal is RedeemRefusal.PERSON_ALREADY_BOUND
    assert (await redeem(sessions, first, li)).refusal is RedeemRefusal.ACCOUNT_ALREADY_BOUND

    async with sessions() as session:
        assert village.id is not None
        await import_roll(session, village.id, [RollRow(2, "王建国", phone="+8613800138001")], now=NOW)
    assert (await redeem(sessions, second, zhang)).refusal is RedeemRefusal.PERSON_REMOVED
    async with sessions() as session:
        assert len((await session.exec(select(Binding))).all()) == 1


@pytest.mark.parametrize("same_account", [False, True], ids=["two accounts", "one account"])
async def test_a_double_tap_binds_exactly_once(sessions: SessionFactory, same_account: bool) -> None:
    _, people = await roll(sessions)
    code = await code_for(sessions, people["王建国"])
    first = await account(sessions, 507)
    second = first if same_account else await account(sessions, 508)

    outcomes = await asyncio.gather(redeem(sessions, first, code), redeem(sessions, second, code))

    async with sessions() as session:
        bindings = (await session.exec(select(Binding))).all()
    assert len(bindings) == 1
    winners = [o for o in outcomes if o.refusal is None and not o.already_bound]
    assert len(winners) == 1
    [loser] = [o for o in outcomes if o is not winners[0]]
    if same_account:
        assert loser.refusal is None and loser.already_bound
    else:
        assert loser.refusal is RedeemRefusal.USED


async def test_invite_one_person_by_phone(sessions: SessionFactory) -> None:
    village, _ = await roll(sessions)
    assert village.id is not None
    async with sessions() as session:
        outcome = await invite_person(session, village.id, "138 0013 8002", now=NOW)
    assert outcome.invite is not None
    assert (outcome.invite.person.name, outcome.invite.group) == ("李秀英", "一组")
    assert outcome.invite.expires_at == NOW + timedelta(days=30)
    async with sessions() as session:
        assert (await invite_person(session, village.id, "12", now=NOW)).refusal is InviteRefusal.BAD_PHONE
        missing = await invite_person(session, village.id, "13800138999", now=NOW)
        assert missing.refusal is InviteRefusal.NOT_ON_ROLL
    assert (await redeem(sessions, await account(sessions, 509), outcome.invite.code)).refusal is None
    async with sessions() as session:
        bound = await invite_person(session, village.id, "+8613800138002", now=NOW)
    assert bound.refusal is InviteRefusal.ALREADY_BOUND


async def test_invite_everyone_not_yet_bound(sessions: SessionFactory) -> None:
    village, people = await roll(sessions)
    assert village.id is not None
    assert (
        await redeem(sessions, await account(sessions, 510), await code_for(sessions, people["王建国"]))
    ).person
    async with sessions() as session:
        issued = await invite_unbound(session, village.id, now=NOW, ttl=timedelta(days=10))
    assert [(i.person.name, i.group) for i in issued] == [("李秀英", "一组"), ("张桂兰", "二组")]
    assert all(i.expires_at == NOW + timedelta(days=10) and invites.is_invite_code(i.code) for i in issued)
