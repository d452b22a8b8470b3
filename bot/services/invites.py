"""Invitations: a single-use link a committee hands to one person on the roll.

The link is https://t.me/<bot>?start=<code>. The code is as strong as a password (192 random
bits) and the database keeps only its SHA-256, so a copy of the database opens no account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.phones import normalize_phone
from storage.models import Account, Binding, Invite, Person, Village
from storage.repositories import invites as invites_repo
from storage.repositories import roll as roll_repo
from storage.repositories import villages as villages_repo

DEFAULT_TTL = timedelta(days=30)
# 24 random bytes -> 32 characters of [A-Za-z0-9_-]: inside Telegram's /start payload rule
# (1-64 such characters) and far past guessing (at least 128 bits were asked for).
CODE_BYTES = 24
CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def is_invite_code(payload: str | None) -> bool:
    return payload is not None and CODE_SHAPE.fullmatch(payload) is not None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


class UnknownPeopleError(LookupError):
    """Invitations were asked for people who are not on any roll (a caller's mistake)."""


async def _issue(
    session: AsyncSession, person_ids: Iterable[int], *, now: datetime, ttl: timedelta
) -> list[tuple[int, str]]:
    ids = list(dict.fromkeys(person_ids))
    found = await roll_repo.active_people(session, ids)
    missing = [person_id for person_id in ids if person_id not in found]
    if missing:
        await session.rollback()
        raise UnknownPeopleError(f"not on a roll: {missing[:10]}")
    issued = [(person_id, new_code()) for person_id in ids]
    if issued:
        rows = [
            {"code_hash": code_hash(code), "person_id": person_id, "created_at": now, "expires_at": now + ttl}
            for person_id, code in issued
        ]
        await session.exec(insert(Invite), params=rows)
    return issued


async def create_invites(
    session: AsyncSession, person_ids: Iterable[int], *, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> list[tuple[int, str]]:
    """One fresh code per person, in the order given. The codes are returned once, never stored.

    Raises UnknownPeopleError when a person is not (or no longer) on a roll. Earlier codes of the
    same people stay valid until they expire: a printed sheet is not spoilt by a new one.
    """
    issued = await _issue(session, person_ids, now=now, ttl=ttl)
    await session.commit()
    return issued


class InviteRefusal(StrEnum):
    BAD_PHONE = "bad_phone"
    NOT_ON_ROLL = "not_on_roll"
    ALREADY_BOUND = "already_bound"


@dataclass(frozen=True)
class IssuedInvite:
    person: Person
    group: str | None
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class InviteOutcome:
    refusal: InviteRefusal | None = None
    invite: IssuedInvite | None = None


async def invite_person(
    session: AsyncSession, village_id: int, phone: str, *, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> InviteOutcome:
    """An invitation for the person with this phone on the village's roll."""
    normalized = normalize_phone(phone)
    if normalized is None:
        return InviteOutcome(refusal=InviteRefusal.BAD_PHONE)
    person = await roll_repo.active_person_by_phone(session, village_id, normalized)
    refusal: InviteRefusal | None = None
    if person is None or person.id is None:
        refusal = InviteRefusal.NOT_ON_ROLL
    elif await roll_repo.is_bound(session, person.id):
        refusal = InviteRefusal.ALREADY_BOUND
    if refusal is not None or person is None or person.id is None:
        await session.commit()  # ends the read transaction (storage/db.py)
        return InviteOutcome(refusal=refusal)
    group = await roll_repo.group_name(session, person.group_id) if person.group_id is not None else None
    [(_, code)] = await _issue(session, [person.id], now=now, ttl=ttl)
    await session.commit()
    return InviteOutcome(invite=IssuedInvite(person, group, code, now + ttl))


async def invite_unbound(
    session: AsyncSession, village_id: int, *, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> list[IssuedInvite]:
    """An invitation for everyone on the village's roll who has not bound an account yet."""
    entries = await roll_repo.list_roll(session, village_id, unbound_only=True)
    person_ids = [entry.person.id for entry in entries if entry.person.id is not None]
    codes = dict(await _issue(session, person_ids, now=now, ttl=ttl))
    await session.commit()
    return [
        IssuedInvite(entry.person, entry.group, codes[entry.person.id], now + ttl)
        for entry in entries
        if entry.person.id is not None
    ]


class RedeemRefusal(StrEnum):
    NOT_AN_INVITE = "not_an_invite"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    PERSON_REMOVED = "person_removed"
    PERSON_ALREADY_BOUND = "person_already_bound"
    ACCOUNT_ALREADY_BOUND = "account_already_bound"


@dataclass(frozen=True)
class RedeemOutcome:
    refusal: RedeemRefusal | None = None
    person: Person | None = None
    village: Village | None = None
    # The account was already bound to this very person (a second tap on the same link).
    already_bound: bool = False


async def _settled(session: AsyncSession, account_id: int, invite: Invite) -> RedeemOutcome | None:
    """Why this invite cannot bind this account now; None when it can."""
    person = await session.get(Person, invite.person_id)
    if person is None or person.removed_at is not None:
        return RedeemOutcome(refusal=RedeemRefusal.PERSON_REMOVED)
    village = await villages_repo.get(session, person.village_id)
    bindings = await invites_repo.bindings_of(session, invite.person_id, account_id)
    of_person = next((b for b in bindings if b.person_id == invite.person_id), None)
    of_account = next((b for b in bindings if b.account_id == account_id), None)
    if of_person is not None and of_person.account_id == account_id:
        return RedeemOutcome(person=person, village=village, already_bound=True)
    if (of_person is not None or of_account is not None) and invite.used_at is None:
        # The invite may have been read just before a racing tap on this very code committed
        # (PostgreSQL reads each statement afresh): look again, so the loser is told USED.
        await session.refresh(invite)
    if invite.used_at is not None:
        return RedeemOutcome(refusal=RedeemRefusal.USED)
    if of_person is not None:
        return RedeemOutcome(refusal=RedeemRefusal.PERSON_ALREADY_BOUND, village=village)
    if of_account is not None:
        return RedeemOutcome(refusal=RedeemRefusal.ACCOUNT_ALREADY_BOUND, village=village)
    return None


async def redeem_invite(
    session: AsyncSession, account: Account, code: str, *, now: datetime
) -> RedeemOutcome:
    """Bind `account` to the invited person: the invite is spent and the binding made in one commit.

    Two taps racing on one code: the conditional UPDATE lets exactly one of them spend it; the
    other sees the invite used (or, from the same account, the binding it just made).
    """
    if not is_invite_code(code):
        return RedeemOutcome(refusal=RedeemRefusal.NOT_AN_INVITE)
    account_id = account.id
    assert account_id is not None
    invite = await invites_repo.get_by_code_hash(session, code_hash(code))
    settled: RedeemOutcome | None
    if invite is None:
        settled = RedeemOutcome(refusal=RedeemRefusal.UNKNOWN)
    elif invite.used_at is None and invite.expires_at <= now:
        settled = RedeemOutcome(refusal=RedeemRefusal.EXPIRED)
    else:
        settled = await _settled(session, account_id, invite)
    if settled is not None or invite is None:
        await session.commit()  # ends the read transaction (storage/db.py)
        return settled or RedeemOutcome(refusal=RedeemRefusal.UNKNOWN)

    spent = await session.exec(
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return await _lost_race(session, account, account_id, invite.code_hash)
    person = await session.get(Person, invite.person_id)
    assert person is not None and person.id is not None
    village = await villages_repo.get(session, person.village_id)
    session.add(Binding(account_id=account_id, person_id=person.id, method="invite", bound_at=now))
    try:
        await session.commit()
    except IntegrityError:  # the person or the account was bound another way at the same moment
        return await _lost_race(session, account, account_id, invite.code_hash)
    return RedeemOutcome(person=person, village=village)


async def _lost_race(session: AsyncSession, account: Account, account_id: int, hashed: str) -> RedeemOutcome:
    await session.rollback()
    if account in session:
        # A rollback expires every loaded object; the caller still renders the account.
        await session.refresh(account)
    invite = await invites_repo.get_by_code_hash(session, hashed)
    assert invite is not None
    settled = await _settled(session, account_id, invite)
    await session.commit()  # ends the read transaction (storage/db.py)
    return settled or RedeemOutcome(refusal=RedeemRefusal.USED)
