"""Translations: gettext catalogs compiled at start-up, and the choice of locale.

The .po files are the only source; compiling them while loading means a plain install from a
fresh clone is translated with no build step to forget.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.catalogs import DOMAIN, LOCALES_DIR, compile_catalogs
from bot.locale_choice import locale_from_telegram, resolve_locale

__all__ = [
    "DOMAIN",
    "LOCALES_DIR",
    "build_i18n",
    "compile_catalogs",
    "locale_from_telegram",
    "resolve_locale",
]


def build_i18n(default_locale: str, path: Path = LOCALES_DIR) -> I18n:
    """aiogram's I18n over catalogs compiled just now (it reads them all into memory at once)."""
    with tempfile.TemporaryDirectory(prefix="cunmin-locales-") as compiled:
        compile_catalogs(path, Path(compiled))
        return I18n(path=compiled, default_locale=default_locale, domain=DOMAIN)
