from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.menus import COMMANDS


async def show_help(message: Message) -> None:
    lines = [f"/{name} — {description}" for name, description in COMMANDS]
    await message.answer(_("What you can do here:") + "\n\n" + "\n".join(lines))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_help, Command("help"))
    return router
