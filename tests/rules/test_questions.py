"""Questions to the candidates: the window (published list, before election day), length, the cap."""

from __future__ import annotations

from datetime import date

import pytest

from bot.rules.policy import ElectionKind, Law, Province, Source, Sourced, preset
from bot.rules.questions import (
    DEFAULT_LIMITS,
    QuestionLimits,
    QuestionRefusalReason,
    check_answer,
    check_cap,
    check_question,
    check_text,
    question_window,
)

ZJ = preset(ElectionKind.VILLAGE_COMMITTEE, Province.ZJ)
PUBLISHED = date(2026, 12, 10)
DAY = date(2026, 12, 20)
R = QuestionRefusalReason


@pytest.mark.parametrize(
    ("published", "today", "reason"),
    [
        (None, date(2026, 12, 12), R.NO_CANDIDATE_LIST),  # nothing published: nobody to ask
        (PUBLISHED, date(2026, 12, 9), R.NO_CANDIDATE_LIST),  # the day before the list
        (PUBLISHED, PUBLISHED, None),  # the day of publication
        (PUBLISHED, date(2026, 12, 19), None),  # the eve of election day
        (PUBLISHED, DAY, R.ELECTION_DAY_REACHED),  # election day itself
        (PUBLISHED, date(2026, 12, 21), R.ELECTION_DAY_REACHED),
    ],
)
def test_the_window(published: date | None, today: date, reason: QuestionRefusalReason | None) -> None:
    problem = question_window(ZJ, candidates_published_on=published, election_day=DAY, today=today)
    assert (problem.reason if problem else None) is reason
    if problem is not None:
        # The legal basis: the committee organises the candidates' meeting with the voters (ZJ 23).
        assert problem.source.cite == "ZJ 23"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", R.EMPTY),
        ("   \n\t ", R.EMPTY),
        ("修路的钱从哪里来？", None),
        ("问" * 1000, None),
        ("  " + "问" * 1000 + "  ", None),  # blanks around do not count
        ("问" * 1001, R.TOO_LONG),
    ],
)
def test_the_text(text: str, reason: QuestionRefusalReason | None) -> None:
    problem = check_text(text)
    assert (problem.reason if problem else None) is reason
    if problem is not None and problem.reason is R.TOO_LONG:
        assert problem.limit == 1000
        assert problem.source.law is Law.CUNMIN and not problem.source.confirmed


@pytest.mark.parametrize(
    ("open_questions", "reason"),
    [(0, None), (2, None), (3, R.TOO_MANY_OPEN), (7, R.TOO_MANY_OPEN)],
)
def test_the_cap_of_open_questions(open_questions: int, reason: QuestionRefusalReason | None) -> None:
    problem = check_question(
        ZJ,
        "村里的路什么时候修？",
        candidates_published_on=PUBLISHED,
        election_day=DAY,
        today=date(2026, 12, 12),
        open_questions=open_questions,
    )
    assert (problem.reason if problem else None) is reason
    alone = check_cap(open_questions)
    assert (alone.reason if alone else None) is reason
    if problem is not None:
        assert problem.limit == 3


def test_the_order_of_refusals_and_other_limits() -> None:
    # The window first (an empty question after election day is refused for the day), then the text.
    late = check_question(
        ZJ, "", candidates_published_on=PUBLISHED, election_day=DAY, today=DAY, open_questions=9
    )
    assert late is not None and late.reason is R.ELECTION_DAY_REACHED
    empty = check_question(
        ZJ, " ", candidates_published_on=PUBLISHED, election_day=DAY, today=PUBLISHED, open_questions=9
    )
    assert empty is not None and empty.reason is R.EMPTY
    local = Source(Law.COMMITTEE, "decision")
    limits = QuestionLimits(max_length=Sourced(10, local), max_open_per_person=Sourced(1, local))
    assert check_text("一二三四五六七八九十", limits) is None
    long = check_text("一二三四五六七八九十一", limits)
    assert long is not None and long.reason is R.TOO_LONG and long.source == local
    one = check_question(
        ZJ,
        "好",
        candidates_published_on=PUBLISHED,
        election_day=DAY,
        today=PUBLISHED,
        open_questions=1,
        limits=limits,
    )
    assert one is not None and one.reason is R.TOO_MANY_OPEN and one.limit == 1
    assert DEFAULT_LIMITS.max_open_per_person.value == 3


@pytest.mark.parametrize(
    ("text", "today", "reason"),
    [
        ("我会先修路。", date(2026, 12, 19), None),
        ("我会先修路。", DAY, R.ELECTION_DAY_REACHED),
        ("", date(2026, 12, 19), R.EMPTY),
        ("答" * 1001, date(2026, 12, 19), R.TOO_LONG),
    ],
)
def test_answers(text: str, today: date, reason: QuestionRefusalReason | None) -> None:
    problem = check_answer(ZJ, text, election_day=DAY, today=today)
    assert (problem.reason if problem else None) is reason
