"""/roll for the committee: counts of the roll, a search by name, and the migrant flag."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.phones import mask_phone
from bot.services.identity import Me
from bot.services.roll_views import (
    ROLL_READERS,
    MarkRefusal,
    RollSearch,
    VillageRoll,
    count_roll,
    mark_migrant,
    search_roll,
)
from handlers.access import HasRole, not_allowed_text
from handlers.callbacks import MigrantCallback


def _counts_text(roll: VillageRoll) -> str:
    total = roll.total
    lines = [
        _("Voter roll of {village}").format(village=roll.village.name),
        _("On the roll: {registered} (registered voters: {voters})").format(
            registered=total.registered, voters=total.voters
        ),
        _("Linked to Telegram: {bound}; not yet: {unbound}").format(
            bound=total.bound, unbound=total.registered - total.bound
        ),
        _("Working away from the village: {migrants}").format(migrants=total.migrants),
        _("Party members: {party}").format(party=total.party_members),
        "",
        _("By villagers' group:"),
    ]
    for group in roll.groups:
        lines.append(
            _("{group}: {registered} on the roll, {bound} linked, {migrants} away").format(
                group=group.group or _("(no group)"),
                registered=group.registered,
                bound=group.bound,
                migrants=group.migrants,
            )
        )
    return "\n".join(lines)


def _search_text(found: RollSearch, query: str) -> str:
    if not found.matches:
        return _("Nobody on the roll of {village} has “{query}” in their name.").format(
            village=found.village.name, query=query
        )
    lines = [
        _("People on the roll of {village} matching “{query}”:").format(
            village=found.village.name, query=query
        )
    ]
    for match in found.matches:
        person = match.person
        parts = [person.name, match.group or _("(no group)")]
        if person.birth_year:
            parts.append(_("born {year}").format(year=person.birth_year))
        parts.append(_("linked") if match.bound else _("not linked"))
        if person.migrant:
            parts.append(_("works away"))
        if person.phone:
            parts.append(person.phone if found.show_phones else mask_phone(person.phone))
        lines.append(" · ".join(parts))
    return "\n".join(lines)


def _migrant_keyboard(found: RollSearch) -> InlineKeyboardMarkup | None:
    if not found.can_edit or not found.matches:
        return None
    rows = []
    for match in found.matches:
        assert match.person.id is not None
        label = (
            _("{name}: mark as living in the village")
            if match.person.migrant
            else _("{name}: mark as working away")
        ).format(name=match.person.name)
        data = MigrantCallback(person_id=match.person.id, migrant=not match.person.migrant).pack()
        rows.append([InlineKeyboardButton(text=label, callback_data=data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_roll(message: Message, command: CommandObject, session: AsyncSession, me: Me) -> None:
    query = (command.args or "").strip()
    if not query:
        for roll in await count_roll(session, me):
            await message.answer(
                _counts_text(roll)
                + "\n\n"
                + _("To find someone, send /roll and part of a name, e.g. /roll 王")
            )
        return
    for found in await search_roll(session, me, query):
        await message.answer(_search_text(found, query), reply_markup=_migrant_keyboard(found))


async def refuse_roll(message: Message) -> None:
    await message.answer(not_allowed_text())


async def toggle_migrant(
    query: CallbackQuery, callback_data: MigrantCallback, session: AsyncSession, me: Me
) -> None:
    outcome = await mark_migrant(
        session, me, callback_data.person_id, migrant=callback_data.migrant, now=datetime.now(UTC)
    )
    if outcome.refusal is MarkRefusal.NOT_ALLOWED:
        await query.answer(not_allowed_text(), show_alert=True)
        return
    if outcome.refusal is MarkRefusal.NOT_FOUND or outcome.person is None:
        await query.answer(_("This person is no longer on the roll."), show_alert=True)
        return
    text = (
        _("{name} is now marked as working away from the village.")
        if outcome.person.migrant
        else _("{name} is now marked as living in the village.")
    ).format(name=outcome.person.name)
    await query.answer(text, show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_roll, Command("roll"), HasRole(*ROLL_READERS))
    router.message.register(refuse_roll, Command("roll"))
    router.callback_query.register(toggle_migrant, MigrantCallback.filter())
    return router
