"""Translations: gettext catalogs compiled in memory at start-up, and the choice of locale.

The .po files are the only source; compiling them while loading means a plain install from a
fresh clone is translated with no build step to forget.
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales
from bot.config import SUPPORTED_LOCALES

DOMAIN = "messages"
LOCALES_DIR = Path(locales.__file__).resolve().parent


class CatalogI18n(I18n):
    """aiogram's I18n, reading `.po` catalogs directly instead of pre-compiled `.mo` files."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            name = po_path.parent.parent.name
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=name, domain=self.domain)
            buffer = BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            translations[name] = gettext.GNUTranslations(buffer)
        return translations


def build_i18n(default_locale: str, path: Path = LOCALES_DIR) -> CatalogI18n:
    return CatalogI18n(path=path, default_locale=default_locale, domain=DOMAIN)


_TRADITIONAL_REGIONS = ("hant", "tw", "hk", "mo")


def locale_from_telegram(language_code: str | None) -> str | None:
    """Map Telegram's IETF language tag (``zh-hans``, ``zh-TW``, ``en-US``…) onto our locales."""
    if not language_code:
        return None
    parts = language_code.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh_Hant" if any(part in _TRADITIONAL_REGIONS for part in parts[1:]) else "zh_Hans"
    if parts[0] == "en":
        return "en"
    return None


def resolve_locale(chosen: str | None, language_code: str | None, default: str) -> str:
    """The person's own choice first, then Telegram's language, then the deployment's default."""
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return locale_from_telegram(language_code) or default
