from __future__ import annotations

from bot.services.accounts import LocaleRefusal, choose_locale, register_account
from storage.db import SessionFactory
from storage.repositories import accounts as accounts_repo


async def test_first_contact_creates_the_account_and_later_ones_reuse_it(sessions: SessionFactory) -> None:
    async with sessions() as session:
        first = await register_account(
            session, telegram_user_id=2**40 + 7, private_chat_id=2**40 + 7, language_code="zh-hans"
        )
    async with sessions() as session:
        again = await register_account(
            session, telegram_user_id=2**40 + 7, private_chat_id=None, language_code="en"
        )
        assert again.id == first.id
        assert again.chat_id == 2**40 + 7  # a group message does not erase the private chat
        assert again.telegram_language_code == "en"
    async with sessions() as session:
        stored = await accounts_repo.get_by_telegram_user_id(session, 2**40 + 7)
        assert stored is not None and stored.telegram_language_code == "en"
        assert stored.created_at.tzinfo is not None


async def test_chosen_locale_is_stored_and_unknown_one_refused(sessions: SessionFactory) -> None:
    async with sessions() as session:
        account = await register_account(session, telegram_user_id=5, private_chat_id=5, language_code="en")
        refused = await choose_locale(session, account, "fr")
        assert refused.refusal is LocaleRefusal.UNKNOWN_LOCALE
        chosen = await choose_locale(session, account, "zh_Hant")
        assert chosen.locale == "zh_Hant"
    async with sessions() as session:
        stored = await accounts_repo.get_by_telegram_user_id(session, 5)
        assert stored is not None and stored.locale == "zh_Hant"
