"""Callback data of the candidate Q&A (/ask, /questions): typed, within 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class AskAction(StrEnum):
    ELECTION = "e"  # which election (when several take questions)
    CANDIDATE = "c"  # to whom: `person_id`, or 0 for all candidates
    SEND = "s"
    CANCEL = "x"


class AskCallback(CallbackData, prefix="qa"):
    action: AskAction
    election_id: int = 0
    person_id: int = 0


class QuestionAction(StrEnum):
    FORWARD = "f"  # committee: pass it on to the candidates
    REJECT = "r"  # committee: refuse it, with a reason
    PUBLISH = "p"  # committee: send question and answers to the village
    ANSWER = "a"  # candidate: answer it


class QuestionCallback(CallbackData, prefix="qm"):
    action: QuestionAction
    question_id: int
