"""Binding by contact, /me, /forget, and the nudge for people who are not bound yet."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services.identity import BindOutcome, BindRefusal, Me, bind_by_contact, forget_binding
from handlers.callbacks import ForgetCallback
from handlers.keyboards import share_phone_keyboard
from handlers.render import describe_person, role_lines


def _refusal_text(outcome: BindOutcome, settings: Settings) -> str:
    contact = (outcome.village.committee_contact if outcome.village else None) or settings.help_contact
    ask = (
        _("Please contact your village election committee: {contact}.").format(contact=contact)
        if contact
        else _("Please ask your village election committee.")
    )
    match outcome.refusal:
        case BindRefusal.FORWARDED:
            return _("That contact was forwarded. Please press the button below to share your own number.")
        case BindRefusal.NOT_OWN_CONTACT:
            return _("That is not your own contact. Please press the button below to share your own number.")
        case BindRefusal.NO_PHONE:
            return _("That contact has no phone number I can read. Please press the button below.")
        case BindRefusal.UNKNOWN_PHONE:
            return _("Your phone number is not on any village's voter roll here.") + " " + ask
        case BindRefusal.PHONE_BOUND_TO_OTHER_ACCOUNT:
            return _("This phone number is already linked to another Telegram account.") + " " + ask
        case BindRefusal.ACCOUNT_BOUND_TO_OTHER_PERSON:
            return _(
                "Your Telegram account is already linked to another person on the roll. "
                "Send /forget first if you want to change it."
            )
        case _:
            return ask


async def contact_shared(message: Message, session: AsyncSession, me: Me, settings: Settings) -> None:
    assert message.contact is not None and message.from_user is not None
    outcome = await bind_by_contact(
        session,
        me.account,
        contact_phone=message.contact.phone_number,
        contact_user_id=message.contact.user_id,
        sender_user_id=message.from_user.id,
        forwarded=message.forward_origin is not None,
        now=datetime.now(UTC),
    )
    if outcome.refusal is not None:
        retry = outcome.refusal in {BindRefusal.FORWARDED, BindRefusal.NOT_OWN_CONTACT, BindRefusal.NO_PHONE}
        await message.answer(
            _refusal_text(outcome, settings),
            reply_markup=share_phone_keyboard() if retry else ReplyKeyboardRemove(),
        )
        return
    if outcome.person is not None and outcome.village is not None:
        text = _("Welcome, {name}! You are on the voter roll of {village}.").format(
            name=outcome.person.name, village=outcome.village.name
        )
        if outcome.already_bound:
            text = _("You are already linked, {name} ({village}).").format(
                name=outcome.person.name, village=outcome.village.name
            )
    else:
        text = _("Your phone number is confirmed. You are not on a voter roll, but you hold a role:")
        text += "\n" + "\n".join(role_lines(outcome.roles))
    await message.answer(
        text + "\n\n" + _("Send /help to see what you can do."), reply_markup=ReplyKeyboardRemove()
    )


async def show_me(message: Message, me: Me) -> None:
    if me.person is None or me.village is None:
        await message.answer(
            _("You are not linked to a voter roll yet. Press the button below to share your phone number."),
            reply_markup=share_phone_keyboard(),
        )
        return
    lines = [describe_person(me.person, me.village, show_phone=True)]
    lines.extend(role_lines(me.role_list()))
    await message.answer("\n".join(lines))


async def ask_forget(message: Message, me: Me) -> None:
    if me.person is None and me.account.phone is None:
        await message.answer(_("You are not linked to anyone; there is nothing to forget."))
        return
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, unlink me"), callback_data=ForgetCallback(confirm=True).pack()
                ),
                InlineKeyboardButton(text=_("No"), callback_data=ForgetCallback(confirm=False).pack()),
            ]
        ]
    )
    await message.answer(
        _(
            "Unlink this Telegram account from your name on the roll? You will stop receiving "
            "notices until you share your phone number again."
        ),
        reply_markup=keyboard,
    )


async def confirm_forget(
    query: CallbackQuery, callback_data: ForgetCallback, session: AsyncSession, me: Me
) -> None:
    if not callback_data.confirm:
        text = _("Nothing changed.")
    else:
        outcome = await forget_binding(session, me.account, now=datetime.now(UTC))
        text = _("Done: you are unlinked.") if outcome.refusal is None else _("You were not linked.")
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(contact_shared, F.contact)
    router.message.register(show_me, Command("me"))
    router.message.register(ask_forget, Command("forget"))
    router.callback_query.register(confirm_forget, ForgetCallback.filter())
    return router
