"""In a group chat (the committee's group), only what is meant for everyone in it is answered there.

Ballots, recommendations, proxies, the roll and the audit log are private: shown in a group they would
be read by everyone in it (a trust ballot most of all). So a command sent in a group, other than the few
of `GROUP_COMMANDS`, gets one short line sending the person to their private chat with the bot, and
nothing else happens. Ordinary group talk is left alone (other routers still see service messages, such
as a group's upgrade to a supergroup).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.middlewares import command_name, for_this_bot
from handlers.menus import GROUP_MENU

GROUP_CHATS = frozenset({"group", "supergroup"})
# /committeegroup links the group; /results are public; /help says what the bot does (the group menu).
GROUP_COMMANDS = frozenset(name for name, _ in GROUP_MENU)


class PrivateOnlyCommand(Filter):
    """A command addressed to this bot (not to another bot in the group) that is not for groups."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        found = command_name(message)
        if found is None:
            return False
        name, mention = found
        return name not in GROUP_COMMANDS and await for_this_bot(mention, bot)


async def private_only(message: Message, bot: Bot) -> None:
    me = await bot.me()
    await message.reply(
        _("Please send this to me in a private chat, where nobody else can read it: @{bot}.").format(
            bot=me.username or ""
        )
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type.in_(GROUP_CHATS))
    router.message.register(private_only, PrivateOnlyCommand())
    return router
