"""Accounts: the Telegram side of a person (who wrote to the bot, in which language)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SUPPORTED_LOCALES
from bot.services.identity import Me, identify, me_of
from storage.models import Account, Role, Village
from storage.repositories import accounts as accounts_repo
from storage.repositories import identity as identity_repo
from storage.types import utcnow


async def recognize_sender(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    private_chat_id: int | None,
    language_code: str | None,
) -> Me:
    """Who sent this update: their account (created on first contact), binding and roles.

    Runs at the start of every update, so it ends its transaction before the handler goes on:
    an open SQLite transaction holds the write lock (storage/db.py), and the handler may wait on
    Telegram or write FSM state through another session.
    """
    account = await register_account(
        session,
        telegram_user_id=telegram_user_id,
        private_chat_id=private_chat_id,
        language_code=language_code,
    )
    me = await identify(session, account)
    await session.commit()
    return me


async def register_account(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    private_chat_id: int | None,
    language_code: str | None,
) -> Account:
    """Find the account of a Telegram user, creating it on first contact (commits)."""
    account = await accounts_repo.get_by_telegram_user_id(session, telegram_user_id)
    if account is None:
        account = Account(
            telegram_user_id=telegram_user_id,
            chat_id=private_chat_id,
            telegram_language_code=language_code,
        )
        session.add(account)
    elif _outdated(account, private_chat_id, language_code):
        if private_chat_id is not None:
            account.chat_id = private_chat_id
        if language_code is not None:
            account.telegram_language_code = language_code
        account.updated_at = utcnow()
        session.add(account)
    else:
        return account
    await session.commit()
    return account


def _outdated(account: Account, private_chat_id: int | None, language_code: str | None) -> bool:
    """The update shows a private chat or a Telegram language that the account does not have yet."""
    return (private_chat_id is not None and account.chat_id != private_chat_id) or (
        language_code is not None and account.telegram_language_code != language_code
    )


@dataclass(frozen=True)
class Sender:
    """The sender of an update as Telegram describes it."""

    telegram_user_id: int
    private_chat_id: int | None
    language_code: str | None


async def recognize_known_senders(session: AsyncSession, senders: Sequence[Sender]) -> list[Me | None]:
    """`recognize_sender` for many updates at once, as far as it only reads (two reads, one commit).

    For each sender in order: who they are, if their account exists and the update changes nothing
    in it. None when `recognize_sender` must write (a first contact, a new chat or language) and for
    a sender already earlier in `senders`, so that each update gets objects of its own.
    """
    found = await identity_repo.senders(session, {s.telegram_user_id for s in senders})
    by_user = {account.telegram_user_id: (account, person, village) for account, person, village in found}
    phones = {account.phone for account, _, _ in found if account.phone}
    roles: dict[str, list[tuple[Role, Village]]] = {}
    if phones:
        for role, role_village in await identity_repo.roles_of_phones(session, phones):
            roles.setdefault(role.phone, []).append((role, role_village))
    await session.commit()  # ends the read (storage/db.py)

    known: list[Me | None] = []
    for sender in senders:
        row = by_user.pop(sender.telegram_user_id, None)
        if row is None or _outdated(row[0], sender.private_chat_id, sender.language_code):
            known.append(None)
            continue
        account, person, village = row
        known.append(me_of(account, person, village, roles.get(account.phone, []) if account.phone else []))
    return known


class LocaleRefusal(StrEnum):
    UNKNOWN_LOCALE = "unknown_locale"


@dataclass(frozen=True)
class LocaleChoice:
    locale: str | None = None
    refusal: LocaleRefusal | None = None


async def choose_locale(session: AsyncSession, account: Account, locale: str) -> LocaleChoice:
    """Store the language a person picked; it wins over Telegram's language from now on."""
    if locale not in SUPPORTED_LOCALES:
        return LocaleChoice(refusal=LocaleRefusal.UNKNOWN_LOCALE)
    account.locale = locale
    account.updated_at = utcnow()
    session.add(account)
    await session.commit()
    return LocaleChoice(locale=locale)
