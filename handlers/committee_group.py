"""/committeegroup: sent in the election committee's Telegram group, it links that group to the
village, so that results are posted there too. In a private chat it explains how.

Also what Telegram tells the bot about such a group: the bot was removed from it (``my_chat_member``)
or the group was upgraded to a supergroup (a service message with ``migrate_to_chat_id`` in the old
chat, ``migrate_from_chat_id`` in the new one)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.services.audit import UNKNOWN
from bot.services.committee_group import (
    GroupLinked,
    GroupRefusal,
    RemovalRenderer,
    committee_group_status,
    follow_group_upgrade,
    link_committee_group,
    unlink_committee_group,
)
from bot.services.identity import Me, RoleName
from bot.services.outbox import MessagePayload
from handlers.access import not_allowed_text
from handlers.callbacks import VillageCallback
from handlers.groups import GROUP_CHATS
from storage.models import Village

PURPOSE = "cgroup"
# The bot's own status once it is out of a group: it left (or was removed), or was banned from it.
GONE = ("left", "kicked")


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


def removed_text(village: Village) -> str:
    return _(
        "I was removed from the committee group of {village}. Results will not be posted there until "
        "someone adds me to a group and sends /committeegroup there again."
    ).format(village=village.name)


def removal_renderer(i18n: I18n) -> RemovalRenderer:
    def render(village: Village, locale: str) -> list[MessagePayload]:
        with i18n.context(), i18n.use_locale(locale):
            return [MessagePayload(text=removed_text(village))]

    return render


async def bot_removed(
    update: ChatMemberUpdated,
    session: AsyncSession,
    me: Me | None,
    i18n: I18n,
    settings: Settings,
    outbox: OutboxSender,
) -> None:
    """The bot left or was removed from a group: if it was a committee group, forget it."""
    outcome = await unlink_committee_group(
        session,
        me if me is not None else UNKNOWN,  # `from` is who removed it; None only if Telegram names nobody
        chat_id=update.chat.id,
        status=update.new_chat_member.status,
        render=removal_renderer(i18n),
        default_locale=settings.default_locale,
        now=datetime.now(UTC),
    )
    if outcome.told:
        outbox.wake()


async def group_upgraded(message: Message, session: AsyncSession, me: Me | None) -> None:
    """A group became a supergroup with a new chat id: the committee group link follows it."""
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old, new = message.migrate_from_chat_id, message.chat.id
    await follow_group_upgrade(
        session, me if me is not None else UNKNOWN, from_chat_id=old, to_chat_id=new, now=datetime.now(UTC)
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(committee_group_command, Command("committeegroup"))
    router.callback_query.register(village_chosen, VillageCallback.filter(F.purpose == PURPOSE))
    router.my_chat_member.register(
        bot_removed, F.chat.type.in_(GROUP_CHATS), F.new_chat_member.status.in_(GONE)
    )
    router.message.register(group_upgraded, F.migrate_to_chat_id | F.migrate_from_chat_id)
    return router
