"""Anything no feature understood: say so plainly instead of staying silent."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services.identity import Me
from handlers.keyboards import share_phone_keyboard


async def not_understood(message: Message, me: Me) -> None:
    if me.person is None and not me.roles:
        # Someone not on a roll yet has exactly one thing to do; say which, with the button.
        await message.answer(
            _("To use Cunmin, first press the button below to share your phone number."),
            reply_markup=share_phone_keyboard(),
        )
        return
    await message.answer(_("Sorry, I did not understand that. Send /help to see what you can do."))


async def stale_button(query: CallbackQuery) -> None:
    # A button from an old message whose conversation is over (or from before a restart).
    await query.answer(_("This button is no longer active."), show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(not_understood, F.chat.type == "private")
    router.callback_query.register(stale_button)
    return router
