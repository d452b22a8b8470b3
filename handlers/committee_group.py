"""/committeegroup: sent in the election committee's Telegram group, it links that group to the
village, so that results are posted there too. In a private chat it explains how."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.committee_group import (
    GroupLinked,
    GroupRefusal,
    committee_group_status,
    link_committee_group,
)
from bot.services.identity import Me, RoleName
from handlers.access import not_allowed_text
from handlers.callbacks import VillageCallback

GROUP_CHATS = ("group", "supergroup")
PURPOSE = "cgroup"


def refused_in_group_text() -> str:
    return _(
        "Only a member of a village's election committee can make this group the committee group. "
        "If you are on the committee: first open a private chat with me and share your phone number, "
        "then send /committeegroup here again."
    )


def linked_text(outcome: GroupLinked) -> str:
    assert outcome.village is not None
    village = outcome.village.name
    if outcome.unchanged:
        return _("This group is already the committee group of {village}.").format(village=village)
    if outcome.moved_from is not None:
        return _(
            "This group is now the committee group of {village}, instead of the group linked before. "
            "When results are published, they are posted here too."
        ).format(village=village)
    return _(
        "This group is now the committee group of {village}. When results are published, they are "
        "posted here too."
    ).format(village=village)


async def _link(message: Message, session: AsyncSession, me: Me, village_id: int, chat: Chat) -> str:
    outcome = await link_committee_group(
        session, me, village_id=village_id, chat_id=chat.id, chat_title=chat.title, now=datetime.now(UTC)
    )
    if outcome.refusal is GroupRefusal.NOT_COMMITTEE:
        return refused_in_group_text()
    if outcome.refusal is not None:
        return _("That village no longer exists.")
    return linked_text(outcome)


async def committee_group_command(message: Message, session: AsyncSession, me: Me | None) -> None:
    villages = me.villages_with(RoleName.COMMITTEE) if me is not None else []
    if message.chat.type == "private":
        if me is None or not villages:
            await message.answer(not_allowed_text())
            return
        # Addressed to the bot by name: with privacy mode on, that is what reaches a bot in a group.
        me_bot = await message.bot.me() if message.bot is not None else None
        command = f"/committeegroup@{me_bot.username}" if me_bot and me_bot.username else "/committeegroup"
        lines = [
            _(
                "To post results to your committee's Telegram group as well: add me to that group, "
                "then send {command} in the group."
            ).format(command=command)
        ]
        for status in await committee_group_status(session, me):
            if status.linked:
                lines.append(_("{village}: a committee group is linked.").format(village=status.village.name))
            else:
                lines.append(_("{village}: no committee group yet.").format(village=status.village.name))
        await message.answer("\n".join(lines))
        return
    if message.chat.type not in GROUP_CHATS:
        return
    if me is None or not villages:
        await message.reply(refused_in_group_text())
        return
    if len(villages) == 1:
        await message.reply(await _link(message, session, me, villages[0].id or 0, message.chat))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=v.name, callback_data=VillageCallback(purpose=PURPOSE, village_id=v.id or 0).pack()
            )
        ]
        for v in villages
    ]
    await message.reply(
        _("You are on the election committee of several villages. Which one is this group for?"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def village_chosen(
    query: CallbackQuery, callback_data: VillageCallback, session: AsyncSession, me: Me | None
) -> None:
    message = query.message
    if not isinstance(message, Message) or message.chat.type not in GROUP_CHATS:
        await query.answer()
        return
    if me is None or not me.has_role(callback_data.village_id, RoleName.COMMITTEE):
        # Anyone in the group can press the button: only that village's committee may link it.
        await query.answer(not_allowed_text(), show_alert=True)
        return
    text = await _link(message, session, me, callback_data.village_id, message.chat)
    await query.answer()
    await message.edit_text(text)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(committee_group_command, Command("committeegroup"))
    router.callback_query.register(village_chosen, VillageCallback.filter(F.purpose == PURPOSE))
    return router
