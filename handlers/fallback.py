"""Anything no feature understood: say so plainly instead of staying silent."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)


@router.message(F.chat.type == "private")
async def not_understood(message: Message) -> None:
    await message.answer(_("Sorry, I did not understand that. Send /help to see what you can do."))


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    # A button from an old message whose conversation is over (or from before a restart).
    await query.answer(_("This button is no longer active."), show_alert=True)
