from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services.identity import Me
from handlers.menus import COMMANDS, COMMITTEE_COMMANDS


async def show_help(message: Message, me: Me) -> None:
    lines = [f"/{name} — {description}" for name, description in COMMANDS]
    text = _("What you can do here:") + "\n\n" + "\n".join(lines)
    if me.roles:
        committee = [f"/{name} — {description}" for name, description in COMMITTEE_COMMANDS]
        text += "\n\n" + _("For the election committee:") + "\n\n" + "\n".join(committee)
    await message.answer(text)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_help, Command("help"))
    return router
