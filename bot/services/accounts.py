"""Accounts: the Telegram side of a person (who wrote to the bot, in which language)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SUPPORTED_LOCALES
from bot.services.identity import Me, identify
from storage.models import Account
from storage.repositories import accounts as accounts_repo
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
    elif (private_chat_id is not None and account.chat_id != private_chat_id) or (
        language_code is not None and account.telegram_language_code != language_code
    ):
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
