from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.services.identity import Me
from handlers.keyboards import share_phone_keyboard

INTRO = __(
    "Hello! I am Cunmin, the assistant for your village's elections.\n\n"
    "I bring you the election committee's notices and public lists, remind you of "
    "deadlines, and help villagers who work far from home take part.\n\n"
    "Voting itself still happens on paper; what the election committee publishes is "
    "what counts."
)


async def start(message: Message, me: Me) -> None:
    if me.person is not None and me.village is not None:
        await message.answer(
            _("Welcome back, {name} ({village}). Send /help to see what you can do.").format(
                name=me.person.name, village=me.village.name
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await message.answer(
        str(INTRO)
        + "\n\n"
        + _(
            "To begin, press the button below to share your phone number. I only use it to find "
            "you on your village's voter roll."
        ),
        reply_markup=share_phone_keyboard(),
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, CommandStart(), F.chat.type == "private")
    return router
