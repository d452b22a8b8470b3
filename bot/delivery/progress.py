"""The committee member's progress message: one message, edited in place while a broadcast runs.

`ProgressMessage` is the sender's progress hook. It edits the message named by the broadcast
(`progress_chat_id`, `progress_message_id`), or sends one first if the caller only gave the chat.
"""

from __future__ import annotations

from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.utils.i18n import I18n

from bot.delivery.sender import BroadcastProgress
from storage.db import SessionFactory
from storage.repositories import outbox as outbox_repo

# The reference server's wording when the new text equals the old one (LIMITS.md §2): harmless here.
NOT_MODIFIED = "message is not modified"


class Translate(Protocol):
    def __call__(self, msgid: str, /, **values: object) -> str: ...


def progress_text(progress: BroadcastProgress, _: Translate) -> str:
    if progress.finished:
        return _(
            "Finished “{title}”: {sent} of {total} sent, {undelivered} not delivered, {skipped} skipped.",
            title=progress.title,
            sent=progress.sent,
            total=progress.total,
            undelivered=progress.undelivered,
            skipped=progress.skipped,
        )
    return _(
        "Sending “{title}”: {sent} of {total} sent, {undelivered} not delivered, {pending} to go "
        "({rate} per second).",
        title=progress.title,
        sent=progress.sent,
        total=progress.total,
        undelivered=progress.undelivered,
        pending=progress.pending,
        rate=f"{progress.rate:.0f}",
    )


class ProgressMessage:
    """Keeps each broadcast's progress message current (wire it as `OutboxSender(progress=...)`)."""

    def __init__(self, bot: Bot, sessions: SessionFactory, i18n: I18n, default_locale: str) -> None:
        self._bot = bot
        self._sessions = sessions
        self._i18n = i18n
        self._default_locale = default_locale

    def _translator(self, locale: str | None) -> Translate:
        chosen = locale or self._default_locale

        def translate(msgid: str, /, **values: object) -> str:
            text = self._i18n.gettext(msgid, locale=chosen)
            return text.format(**values) if values else text

        return translate

    async def __call__(self, progress: BroadcastProgress) -> None:
        chat_id = progress.progress_chat_id
        if chat_id is None:
            return
        text = progress_text(progress, self._translator(progress.progress_locale))
        if progress.progress_message_id is None:
            message = await self._bot.send_message(chat_id=chat_id, text=text)
            async with self._sessions() as session:
                await outbox_repo.set_progress_message(
                    session, progress.broadcast_id, chat_id=chat_id, message_id=message.message_id
                )
                await session.commit()
            return
        try:
            await self._bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=progress.progress_message_id
            )
        except TelegramBadRequest as exc:
            if NOT_MODIFIED not in exc.message:
                raise
