"""Villagers' questions to the candidates of an election (candidates meet voters and answer questions).

The law has the election committee organise the candidates' meeting with the voters (OL 15 ¶1,
BJ 19, ZJ 23, HN 28); Cunmin carries the questions of those who cannot come, migrant workers above
all. A question can be asked once there is a published candidate list and until the eve of election
day: the same window the candidates have to present themselves. The limits on length and on the
number of open questions are Cunmin's own defaults (no source fixes them), kept as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.rules.policy import Law, Policy, Source, Sourced

__all__ = [
    "DEFAULT_LIMITS",
    "QuestionLimits",
    "QuestionProblem",
    "QuestionRefusalReason",
    "check_answer",
    "check_cap",
    "check_question",
    "check_text",
    "question_window",
]

_CUNMIN_DEFAULT = Source(Law.CUNMIN, confirmed=False, note="no source fixes it; the committee may change it")


@dataclass(frozen=True)
class QuestionLimits:
    max_length: Sourced[int]  # characters of a question or an answer
    max_open_per_person: Sourced[int]  # questions one person may have waiting at once, per election


DEFAULT_LIMITS = QuestionLimits(
    max_length=Sourced(1000, _CUNMIN_DEFAULT),
    max_open_per_person=Sourced(3, _CUNMIN_DEFAULT),
)


class QuestionRefusalReason(StrEnum):
    NO_CANDIDATE_LIST = "no_candidate_list"  # nothing published yet: there is nobody to ask
    ELECTION_DAY_REACHED = "election_day_reached"  # on or after election day
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_MANY_OPEN = "too_many_open"


@dataclass(frozen=True)
class QuestionProblem:
    reason: QuestionRefusalReason
    source: Source
    limit: int | None = None  # the number broken, for TOO_LONG and TOO_MANY_OPEN


def question_window(
    policy: Policy, *, candidates_published_on: date | None, election_day: date, today: date
) -> QuestionProblem | None:
    """Questions are taken from the day the candidate list is published until the eve of election day."""
    source = policy.candidates_meet_voters.source
    if candidates_published_on is None or today < candidates_published_on:
        return QuestionProblem(QuestionRefusalReason.NO_CANDIDATE_LIST, source)
    if today >= election_day:
        return QuestionProblem(QuestionRefusalReason.ELECTION_DAY_REACHED, source)
    return None


def check_text(text: str, limits: QuestionLimits = DEFAULT_LIMITS) -> QuestionProblem | None:
    """Not empty, and at most `max_length` characters once the surrounding blanks are trimmed."""
    trimmed = text.strip()
    if not trimmed:
        return QuestionProblem(QuestionRefusalReason.EMPTY, limits.max_length.source)
    if len(trimmed) > limits.max_length.value:
        return QuestionProblem(
            QuestionRefusalReason.TOO_LONG, limits.max_length.source, limits.max_length.value
        )
    return None


def check_cap(open_questions: int, limits: QuestionLimits = DEFAULT_LIMITS) -> QuestionProblem | None:
    """At most `max_open_per_person` questions waiting (pending or forwarded) per person and election."""
    cap = limits.max_open_per_person
    if open_questions >= cap.value:
        return QuestionProblem(QuestionRefusalReason.TOO_MANY_OPEN, cap.source, cap.value)
    return None


def check_question(
    policy: Policy,
    text: str,
    *,
    candidates_published_on: date | None,
    election_day: date,
    today: date,
    open_questions: int,
    limits: QuestionLimits = DEFAULT_LIMITS,
) -> QuestionProblem | None:
    """Whether a person may ask this question now: the window, the text, then the cap of open questions.

    `open_questions` counts the asker's questions in this election still waiting for the committee or
    for the candidates (pending or forwarded).
    """
    window = question_window(
        policy, candidates_published_on=candidates_published_on, election_day=election_day, today=today
    )
    if window is not None:
        return window
    if (problem := check_text(text, limits)) is not None:
        return problem
    return check_cap(open_questions, limits)


def check_answer(
    policy: Policy, text: str, *, election_day: date, today: date, limits: QuestionLimits = DEFAULT_LIMITS
) -> QuestionProblem | None:
    """A candidate answers until the eve of election day, within the same length limit."""
    if today >= election_day:
        return QuestionProblem(
            QuestionRefusalReason.ELECTION_DAY_REACHED, policy.candidates_meet_voters.source
        )
    return check_text(text, limits)
