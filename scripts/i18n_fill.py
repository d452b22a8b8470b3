"""Fill what a machine can fill after `pybabel update`, leaving real translation work visible.

- en: the msgids are English sentences, so an empty English entry takes its msgid.
- zh_Hant: an empty entry takes the zh_Hans translation converted character by character with
  OpenCC (s2tw: Taiwan standard characters, no vocabulary swaps). Review the result; the tests
  only check completeness.
zh_Hans is never filled: a missing Simplified Chinese translation stays empty and fails the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import opencc
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"


def _load(locale: str) -> Catalog:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _save(locale: str, catalog: Catalog) -> None:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, width=100)


def _empty(value: object) -> bool:
    if isinstance(value, tuple | list):
        return all(not part for part in value)
    return not value


def main() -> int:
    hans = _load("zh_Hans")
    to_hant = opencc.OpenCC("s2tw")
    for locale in ("en", "zh_Hant"):
        catalog = _load(locale)
        for message in catalog:
            if not message.id or not _empty(message.string):
                continue
            if locale == "en":
                message.string = message.id
            else:
                source = hans.get(message.id, message.context)
                if source is None or _empty(source.string):
                    continue
                if isinstance(source.string, tuple | list):
                    message.string = tuple(to_hant.convert(part) for part in source.string)
                else:
                    message.string = to_hant.convert(source.string)
            message.flags.discard("fuzzy")
        _save(locale, catalog)
    # pybabel update --omit-header drops the header (and its Plural-Forms); write it back.
    _save("zh_Hans", hans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
