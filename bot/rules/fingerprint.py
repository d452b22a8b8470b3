"""The fingerprint (指纹) of a published list: SHA-256 of its canonical JSON.

The same digest is printed on the paper copy, so anyone can check that the list in chat and the
list on the wall are the same. The canonical form must therefore never change once lists carry it.

Normal form (version 1):

* JSON with keys sorted, separators ``,`` and ``:`` (no whitespace), ``ensure_ascii=False``,
  encoded as UTF-8; every string (keys too) in Unicode NFC, so a name typed two ways hashes once.
* ``None``, ``bool``, ``int`` and ``str`` are themselves; ``float`` is refused (not exact).
* ``Fraction`` -> ``"n/d"`` in lowest terms, always with the denominator (``"1/1"``).
* ``Decimal`` -> its ``str``.
* ``datetime.date`` -> ``"YYYY-MM-DD"``; ``datetime.time`` -> ``"HH:MM:SS"`` (``.ffffff`` if any).
* ``datetime.datetime`` must be aware; it is converted to UTC -> ``"YYYY-MM-DDTHH:MM:SSZ"``
  (``.ffffff`` before the ``Z`` if any). A naive datetime is refused: its instant is ambiguous.
* ``Enum`` -> its value, normalised again.
* A dataclass -> an object of its fields; a mapping -> an object (keys must be ``str`` or a
  ``str``-valued ``Enum``); a list or tuple -> an array in order; a set or frozenset -> an array
  sorted by each element's canonical JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from fractions import Fraction

__all__ = ["canonical_bytes", "canonical_json", "fingerprint", "format_fingerprint", "short_fingerprint"]

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _key(key: object) -> str:
    if isinstance(key, Enum):
        key = key.value
    if not isinstance(key, str):
        raise TypeError(f"fingerprint keys must be strings, not {type(key).__name__}")
    return _nfc(key)


def _time_suffix(microsecond: int) -> str:
    return f".{microsecond:06d}" if microsecond else ""


def _normal(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Enum):
        return _normal(value.value)
    if isinstance(value, str):
        return _nfc(value)
    if isinstance(value, float):
        raise TypeError("floats are not exact: use Fraction, Decimal or int")
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: give it a time zone")
        utc = value.astimezone(dt.UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S") + _time_suffix(utc.microsecond) + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S") + _time_suffix(value.microsecond)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_key(f.name): _normal(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        normal: dict[str, JsonValue] = {}
        for k, v in value.items():
            key = _key(k)
            if key in normal:
                raise ValueError(f"two keys normalise to {key!r}")
            normal[key] = _normal(v)
        return normal
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [_normal(v) for v in value]
        return sorted(items, key=_dump)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def _dump(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: object) -> str:
    return _dump(_normal(value))


def canonical_bytes(value: object) -> bytes:
    return canonical_json(value).encode("utf-8")


def fingerprint(value: object) -> str:
    """The SHA-256 hex digest (64 lowercase hex characters) of ``value``'s canonical form."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def format_fingerprint(digest: str) -> str:
    """The whole digest in groups of four for the paper copy: ``"1a2b 3c4d …"``."""
    return short_fingerprint(digest, groups=len(digest) // 4)


def short_fingerprint(digest: str, groups: int = 4) -> str:
    """The first ``groups`` groups of four hex characters, space-separated, for display."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a lowercase SHA-256 hex digest")
    if not 1 <= groups <= 16:
        raise ValueError("groups must be between 1 and 16")
    return " ".join(digest[i : i + 4] for i in range(0, groups * 4, 4))
