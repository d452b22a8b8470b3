from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)


@router.message(CommandStart())
async def start(message: Message) -> None:
    await message.answer(
        _(
            "Hello! I am Cunmin, the assistant for your village's elections.\n\n"
            "I bring you the election committee's notices and public lists, remind you of "
            "deadlines, and help villagers who work far from home take part.\n\n"
            "Voting itself still happens on paper; what the election committee publishes is "
            "what counts.\n\n"
            "Send /help to see what you can do."
        )
    )
