"""Translations: gettext catalogs compiled at start-up, and the choice of locale.

The .po files are the only source; compiling them while loading means a plain install from a
fresh clone is translated with no build step to forget.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales
from bot.config import SUPPORTED_LOCALES

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


def build_i18n(default_locale: str, path: Path = LOCALES_DIR) -> I18n:
    """aiogram's I18n over catalogs compiled just now (it reads them all into memory at once)."""
    with tempfile.TemporaryDirectory(prefix="cunmin-locales-") as compiled:
        compile_catalogs(path, Path(compiled))
        return I18n(path=compiled, default_locale=default_locale, domain=DOMAIN)


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
