from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import unicodedata
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import pytest

from bot.rules.fingerprint import (
    canonical_bytes,
    canonical_json,
    fingerprint,
    format_fingerprint,
    short_fingerprint,
)

CST = dt.timezone(dt.timedelta(hours=8))


class Color(StrEnum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    votes: int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None]}, '{"a":[true,null],"b":1}'),
        ("张三", '"张三"'),
        (Fraction(6, 4), '"3/2"'),
        (Fraction(2), '"2/1"'),
        (Decimal("1.50"), '"1.50"'),
        (dt.date(2026, 6, 1), '"2026-06-01"'),
        (dt.time(8, 30), '"08:30:00"'),
        (dt.datetime(2026, 6, 1, 8, 0, tzinfo=CST), '"2026-06-01T00:00:00Z"'),
        (dt.datetime(2026, 6, 1, 8, 0, 0, 5, tzinfo=dt.UTC), '"2026-06-01T08:00:00.000005Z"'),
        (Color.RED, '"red"'),
        ({Color.RED: 1}, '{"red":1}'),
        (Row("李四", 3), '{"name":"李四","votes":3}'),
        ((1, 2), "[1,2]"),
        (frozenset({"b", "a", "c"}), '["a","b","c"]'),
    ],
)
def test_normal_form(value: object, expected: str) -> None:
    assert canonical_json(value) == expected


def test_key_order_and_spacing_do_not_matter() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})


def test_same_instant_in_two_zones_hashes_once() -> None:
    assert fingerprint(dt.datetime(2026, 6, 1, 8, tzinfo=CST)) == fingerprint(
        dt.datetime(2026, 6, 1, 0, tzinfo=dt.UTC)
    )


def test_unicode_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Lü Café")
    assert decomposed != "Lü Café"
    assert fingerprint({"name": decomposed}) == fingerprint({"name": "Lü Café"})


def test_digest_is_sha256_of_utf8_canonical_bytes() -> None:
    value = {"village": "王家村", "voters": [1, 2]}
    data = canonical_bytes(value)
    assert data == '{"village":"王家村","voters":[1,2]}'.encode()
    assert fingerprint(value) == hashlib.sha256(data).hexdigest()
    assert len(fingerprint(value)) == 64


def test_a_changed_list_changes_the_fingerprint() -> None:
    assert fingerprint([Row("a", 1), Row("b", 2)]) != fingerprint([Row("a", 1), Row("b", 3)])
    assert fingerprint([1, 2]) != fingerprint([2, 1])  # a list's order is part of it


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0.5, TypeError),
        (dt.datetime(2026, 6, 1, 8, 0), ValueError),
        ({1: "a"}, TypeError),
        (object(), TypeError),
        ({"e\u0301": 1, "é": 2}, ValueError),
    ],
)
def test_refused_values(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        canonical_json(value)


def test_short_fingerprint_groups_of_four() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    short = short_fingerprint(digest)
    assert short == " ".join([digest[0:4], digest[4:8], digest[8:12], digest[12:16]])
    assert short_fingerprint(digest, groups=2) == f"{digest[:4]} {digest[4:8]}"
    full = format_fingerprint(digest)
    assert full.replace(" ", "") == digest and len(full.split(" ")) == 16


@pytest.mark.parametrize(("digest", "groups"), [("abc", 4), ("G" * 64, 4), ("a" * 64, 0), ("a" * 64, 17)])
def test_short_fingerprint_refuses_bad_input(digest: str, groups: int) -> None:
    with pytest.raises(ValueError):
        short_fingerprint(digest, groups)
