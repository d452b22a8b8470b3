"""Every user-visible string is translated, in every locale, with the same placeholders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LOCALES
from bot.i18n import LOCALES_DIR, build_i18n, locale_from_telegram, resolve_locale

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?:[!:][^}]*)?\}")


def _catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _strings(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, tuple | list) else [value]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_entry_is_translated_and_not_fuzzy(locale: str) -> None:
    problems = [
        message.id
        for message in _catalog(locale)
        if message.id and (message.fuzzy or any(not s for s in _strings(message)))
    ]
    assert problems == [], f"{locale}: untranslated or fuzzy: {problems}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_placeholders_match_between_msgid_and_translation(locale: str) -> None:
    problems = []
    for message in _catalog(locale):
        if not message.id:
            continue
        expected = set().union(*(set(PLACEHOLDER.findall(i)) for i in _ids(message)))
        for translated in _strings(message):
            if set(PLACEHOLDER.findall(translated)) != expected:
                problems.append((message.id, translated))
    assert problems == [], f"{locale}: placeholders differ: {problems}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_has_every_msgid_of_the_template(locale: str) -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    catalog = {m.id for m in _catalog(locale) if m.id}
    assert template - catalog == set(), f"{locale} lacks entries: run scripts/i18n"


def test_template_is_up_to_date_with_the_source(tmp_path: Path) -> None:
    """A string added in code but not extracted would silently stay English for everybody."""
    fresh = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "--no-location", "--omit-header", "-F", "babel.cfg",
         "-k", "_", "-k", "__", "-k", "gettext", "-k", "lazy_gettext",
         "-k", "ngettext:1,2", "-k", "lazy_ngettext:1,2", "-o", str(fresh), "bot", "handlers"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with fresh.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        committed = {m.id for m in read_po(handle) if m.id}
    assert extracted == committed, "locales/messages.pot is stale: run scripts/i18n"


def test_catalogs_load_and_translate() -> None:
    i18n = build_i18n("zh_Hans")
    assert set(i18n.available_locales) == set(SUPPORTED_LOCALES)
    assert i18n.gettext("Choose your language:", locale="zh_Hans") == "请选择语言："
    assert i18n.gettext("Choose your language:", locale="zh_Hant") == "請選擇語言："
    assert i18n.gettext("Choose your language:", locale="en") == "Choose your language:"


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [
        ("zh-hans", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh-hant", "zh_Hant"),
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("en", "en"),
        ("en-US", "en"),
        ("ru", None),
        (None, None),
        ("", None),
    ],
)
def test_locale_from_telegram(language_code: str | None, expected: str | None) -> None:
    assert locale_from_telegram(language_code) == expected


def test_stored_choice_wins_over_telegram_language_then_default() -> None:
    assert resolve_locale("en", "zh-hans", "zh_Hans") == "en"
    assert resolve_locale(None, "en-GB", "zh_Hans") == "en"
    assert resolve_locale(None, "fr", "zh_Hans") == "zh_Hans"
    assert resolve_locale("xx", None, "zh_Hant") == "zh_Hant"
