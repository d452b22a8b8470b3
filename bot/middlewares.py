"""Update-level middlewares: one database session per update, the account, the locale."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.delivery.receipts import Batcher
from bot.locale_choice import resolve_locale
from bot.services.accounts import Sender, recognize_known_senders, recognize_sender
from bot.services.identity import Me
from storage.db import SessionFactory

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """Opens one session for the whole update and closes it (rolling back anything uncommitted)."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._sessions() as session:
            data["session"] = session
            return await handler(event, data)


class AccountMiddleware(BaseMiddleware):
    """Finds (or creates) the sender's account, who they are on the rolls (``me``), and the locale.

    Given the session factory, senders who are already known are looked up together: the updates
    in flight at the same moment share one read (DESIGN.md: per-update transactions cost more than
    the rest of an update). Only a first contact, or a new chat or language, takes the update's own
    write through `recognize_sender`.
    """

    def __init__(self, default_locale: str, sessions: SessionFactory | None = None) -> None:
        self._default_locale = default_locale
        self._sessions = sessions
        self._known: Batcher[Sender, Me | None] = Batcher(self._recognize_known, name="senders")

    async def _recognize_known(self, senders: list[Sender]) -> list[Me | None]:
        assert self._sessions is not None
        async with self._sessions() as session:
            return await recognize_known_senders(session, senders)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or user.is_bot:
            data["locale"] = self._default_locale
            return await handler(event, data)
        private_chat_id = chat.id if chat is not None and chat.type == "private" else None
        me = None
        if self._sessions is not None:
            # Loaded in a session of its own: `me` is detached; services add what they change.
            me = await self._known(Sender(user.id, private_chat_id, user.language_code))
        if me is None:
            me = await recognize_sender(
                data["session"],
                telegram_user_id=user.id,
                private_chat_id=private_chat_id,
                language_code=user.language_code,
            )
        data["me"] = me
        data["account"] = me.account
        data["locale"] = resolve_locale(me.account.locale, user.language_code, self._default_locale)
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """Applies the locale chosen by AccountMiddleware (also on the error observer, for apologies)."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n=i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        locale = data.get("locale")
        return locale if isinstance(locale, str) else self.i18n.default_locale
