from __future__ import annotations

import pytest

from bot.text import split_paragraphs, utf16_len


def test_short_text_is_one_piece() -> None:
    assert split_paragraphs("第一段\n\n第二段", 100) == ["第一段\n\n第二段"]


def test_cuts_between_paragraphs_not_inside() -> None:
    first, second = "甲" * 60, "乙" * 60
    assert split_paragraphs(f"{first}\n\n{second}", 100) == [first, second]


def test_a_paragraph_longer_than_the_limit_is_cut_at_lines_then_at_the_limit() -> None:
    lines = "\n".join(["丙" * 30] * 5)  # 154 units with the line breaks
    pieces = split_paragraphs(lines, 100)
    assert all(utf16_len(piece) <= 100 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == "丙" * 150
    one_line = "丁" * 250
    assert split_paragraphs(one_line, 100) == ["丁" * 100, "丁" * 100, "丁" * 50]


def test_astral_characters_count_two_units_and_are_never_split() -> None:
    emoji = "😀" * 60  # 120 UTF-16 units
    pieces = split_paragraphs(emoji, 101)
    assert [utf16_len(p) for p in pieces] == [100, 20]
    assert "".join(pieces) == emoji


@pytest.mark.parametrize("limit", [50, 4096])
def test_nothing_is_lost(limit: int) -> None:
    text = "\n\n".join(f"第{i}段：" + "内容" * (i * 7 % 40 + 1) for i in range(200))
    pieces = split_paragraphs(text, limit)
    assert all(0 < utf16_len(p) <= limit for p in pieces)
    assert "\n\n".join(pieces).replace("\n", "") == text.replace("\n", "")
