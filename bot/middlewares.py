"""Update-level middlewares (one database session per update, the account, the locale) and the
message-level one that lets a command end a conversation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Chat, Message, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _

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


def command_name(message: Message) -> tuple[str, str] | None:
    """The command a message starts with, as Telegram marked it: (name, mention), or None.

    Only a ``bot_command`` entity at offset 0 counts (of the text, or of a caption, as aiogram's
    `Command` filter reads both): "/ 3 people" or a slash further on is ordinary text.
    """
    text, entities = (
        (message.text, message.entities)
        if message.text is not None
        else (message.caption, message.caption_entities)
    )
    if not text or not entities:
        return None
    first = next((e for e in entities if e.type == "bot_command" and e.offset == 0), None)
    if first is None:
        return None
    # Commands are ASCII, so UTF-16 units and characters agree up to the entity's end.
    name, _at, mention = text[1 : first.length].partition("@")
    return name.lower(), mention


async def for_this_bot(mention: str, bot: Bot | None) -> bool:
    """Is a command's ``@mention`` (from `command_name`) this bot? In a group, "/help@other_bot" is
    meant for another bot; no mention means whoever reads it."""
    if not mention or bot is None:
        return True
    me = await bot.me()
    return me.username is not None and me.username.lower() == mention.lower()


class CommandEndsConversationMiddleware(BaseMiddleware):
    """A command sent while a conversation waits for typed text ends that conversation first.

    Without this the waiting step takes the command as its answer: "/help" became the objection's
    text or a name to search for. So before routing, the state and its data are cleared and the
    command is routed as if no conversation were open, after a short line saying that what was
    half entered is gone. aiogram's FSM middleware has already put ``raw_state`` into the handler
    data (StateFilter reads it), so that is reset too.

    Commands in ``keep`` pass untouched: /cancel clears the state itself and says so. A step that
    should one day take a command of its own (a "/skip") must be named here as well.
    Callback queries are not messages and never pass through here: a button press leaves the
    conversation as it is.
    """

    def __init__(self, keep: frozenset[str] = frozenset({"cancel"})) -> None:
        self._keep = keep

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if not isinstance(event, Message) or state is None or data.get("raw_state") is None:
            return await handler(event, data)
        command = command_name(event)
        if command is None or command[0] in self._keep or not await for_this_bot(command[1], data.get("bot")):
            return await handler(event, data)
        await state.clear()
        data["raw_state"] = None
        await event.answer(_("What you had started was stopped; nothing from it was saved."))
        return await handler(event, data)
