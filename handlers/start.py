from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services.identity import Me
from bot.services.invites import RedeemOutcome, RedeemRefusal, redeem_invite
from handlers.keyboards import share_phone_keyboard

INTRO = __(
    "Hello! I am Cunmin, the assistant for your village's elections.\n\n"
    "I bring you the election committee's notices and public lists, remind you of "
    "deadlines, and help villagers who work far from home take part.\n\n"
    "Voting itself still happens on paper; what the election committee publishes is "
    "what counts."
)


def _share_prompt() -> str:
    return (
        str(INTRO)
        + "\n\n"
        + _(
            "To begin, press the button below to share your phone number. I only use it to find "
            "you on your village's voter roll."
        )
    )


def _invite_refusal(outcome: RedeemOutcome, settings: Settings) -> str:
    contact = settings.help_contact
    ask = (
        _("Please contact your village election committee: {contact}.").format(contact=contact)
        if contact
        else _("Please ask your village election committee.")
    )
    match outcome.refusal:
        case RedeemRefusal.NOT_AN_INVITE | RedeemRefusal.UNKNOWN:
            reason = _("This link is not a valid invitation.")
        case RedeemRefusal.EXPIRED:
            reason = _("This invitation link has expired.")
        case RedeemRefusal.USED:
            reason = _("This invitation link has already been used.")
        case RedeemRefusal.PERSON_REMOVED:
            reason = _("The person this invitation was for is no longer on the roll.")
        case RedeemRefusal.PERSON_ALREADY_BOUND:
            reason = _("The person this invitation was for is already linked to another Telegram account.")
        case RedeemRefusal.ACCOUNT_ALREADY_BOUND:
            return _(
                "Your Telegram account is already linked to another person on the roll. "
                "Send /forget first if you want to change it."
            )
        case _:
            reason = ""
    return reason + " " + ask + "\n\n" + _("You can also press the button below to share your phone number.")


async def start(
    message: Message, command: CommandObject, session: AsyncSession, me: Me, settings: Settings
) -> None:
    if command.args:
        outcome = await redeem_invite(session, me.account, command.args.strip(), now=datetime.now(UTC))
        if outcome.refusal is not None:
            await message.answer(_invite_refusal(outcome, settings), reply_markup=share_phone_keyboard())
            return
        assert outcome.person is not None and outcome.village is not None
        await message.answer(
            _("Welcome, {name}! You are on the voter roll of {village}.").format(
                name=outcome.person.name, village=outcome.village.name
            )
            + "\n\n"
            + _("Send /help to see what you can do."),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    if me.person is not None and me.village is not None:
        await message.answer(
            _("Welcome back, {name} ({village}). Send /help to see what you can do.").format(
                name=me.person.name, village=me.village.name
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await message.answer(_share_prompt(), reply_markup=share_phone_keyboard())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, CommandStart(), F.chat.type == "private")
    return router
