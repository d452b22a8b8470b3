"""Keyboards shared by several features."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _


def share_phone_keyboard() -> ReplyKeyboardMarkup:
    # request_contact works in private chats only (Bot API, KeyboardButton).
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=_("Press the button below"),
    )
