"""Callback data factories: every inline button's payload is typed and stays within 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LocaleOption(StrEnum):
    ZH_HANS = "zh_Hans"
    ZH_HANT = "zh_Hant"
    EN = "en"


class LanguageCallback(CallbackData, prefix="lang"):
    locale: LocaleOption


class ForgetCallback(CallbackData, prefix="forget"):
    confirm: bool


class MigrantCallback(CallbackData, prefix="migrant"):
    person_id: int
    migrant: bool
