"""The gettext catalogs without aiogram: compiled from `locales/*.po` at start-up.

The bot wraps these in aiogram's I18n (bot/i18n.py); the shell commands use them directly, so a
`cunmin roll import` does not pay for importing the whole Telegram framework.
"""

from __future__ import annotations

import gettext
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales

DOMAIN = "messages"
LOCALES_DIR = Path(locales.__file__).resolve().parent


def compile_catalogs(source: Path, target: Path, domain: str = DOMAIN) -> list[str]:
    """Compile every ``<locale>/LC_MESSAGES/<domain>.po`` under `source` into `target`."""
    compiled = []
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{domain}.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale, domain=domain)
        mo_path = target / locale / "LC_MESSAGES" / f"{domain}.mo"
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        compiled.append(locale)
    return compiled


class Catalogs:
    """Every locale's translations, loaded once."""

    def __init__(self, default_locale: str, path: Path = LOCALES_DIR) -> None:
        self.default_locale = default_locale
        self._translations: dict[str, gettext.GNUTranslations] = {}
        with tempfile.TemporaryDirectory(prefix="cunmin-locales-") as compiled:
            for locale in compile_catalogs(path, Path(compiled)):
                mo_path = Path(compiled) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
                with mo_path.open("rb") as mo_file:
                    self._translations[locale] = gettext.GNUTranslations(mo_file)

    def gettext(self, msgid: str, locale: str | None = None) -> str:
        translations = self._translations.get(locale or self.default_locale)
        return translations.gettext(msgid) if translations else msgid

    def ngettext(self, singular: str, plural: str, n: int, locale: str | None = None) -> str:
        translations = self._translations.get(locale or self.default_locale)
        if translations is None:
            return singular if n == 1 else plural
        return translations.ngettext(singular, plural, n)
