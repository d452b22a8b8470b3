from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.accounts import choose_locale
from handlers.callbacks import LanguageCallback, LocaleOption
from storage.models import Account

# Each language is named in itself, so a person can find theirs whatever the screen's language.
LANGUAGE_NAMES: dict[LocaleOption, str] = {
    LocaleOption.ZH_HANS: "简体中文",
    LocaleOption.ZH_HANT: "繁體中文",
    LocaleOption.EN: "English",
}


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=name, callback_data=LanguageCallback(locale=option).pack())
                for option, name in LANGUAGE_NAMES.items()
            ]
        ]
    )


async def ask_language(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard())


async def set_language(
    query: CallbackQuery, callback_data: LanguageCallback, session: AsyncSession, account: Account, i18n: I18n
) -> None:
    outcome = await choose_locale(session, account, callback_data.locale.value)
    if outcome.locale is None:
        await query.answer(_("This language is not available."), show_alert=True)
        return
    with i18n.use_locale(outcome.locale):
        confirmation = _("Language set to {language}.").format(language=LANGUAGE_NAMES[callback_data.locale])
        await query.answer(confirmation)
        if isinstance(query.message, Message):
            await query.message.edit_text(confirmation)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(ask_language, Command("language"))
    router.callback_query.register(set_language, LanguageCallback.filter())
    return router
