"""How the count wizard reads what a committee member types."""

from __future__ import annotations

from bot.services.results import VoteLine
from handlers.results import parse_numbers, parse_votes


def test_numbers_as_people_type_them() -> None:
    assert parse_numbers("18 16 15 1") == [18, 16, 15, 1]
    assert parse_numbers("１８，１６、15;1") == [18, 16, 15, 1]
    assert parse_numbers(" 45 ") == [45]
    for bad in ("", "十八", "18 -1", "18.5", "18 16 x"):
        assert parse_numbers(bad) is None


def test_vote_lines() -> None:
    assert parse_votes("王伟 11\n李娜：4票\n\n+赵六 2") == [
        VoteLine("王伟", 11),
        VoteLine("李娜", 4),
        VoteLine("赵六", 2, write_in=True),
    ]
    assert parse_votes("欧阳 建国 ３") == [VoteLine("欧阳 建国", 3)]
    for bad in ("", "王伟", "王伟 十一", "11"):
        assert parse_votes(bad) is None
