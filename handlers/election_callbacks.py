"""Callback data of the election, recommendation and tally features (typed, within 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.rules.policy import ElectionKind, Position


class ElectionAction(StrEnum):
    OPEN = "open"
    SHOW = "show"
    TALLY = "tally"
    PUBLISH = "pub"
    PUBLISH_FORMAL = "pubf"  # the formal list, from the trust vote (两票制)


class ElectionCallback(CallbackData, prefix="el"):
    """A committee member acts on one election."""

    action: ElectionAction
    election_id: int


class KindCallback(CallbackData, prefix="ek"):
    kind: ElectionKind


class WizardStep(StrEnum):
    USUAL_SEATS = "seats"
    CREATE = "create"
    CANCEL = "cancel"


class WizardCallback(CallbackData, prefix="ew"):
    step: WizardStep


class RecommendAction(StrEnum):
    ELECTION = "e"  # which election (when several take recommendations)
    MORE = "m"  # recommend someone (from the list of one's choices)
    POSITION = "p"  # for which position
    PICK = "k"  # this person, from the search results
    SELF = "s"  # myself
    DONE = "d"


class RecommendCallback(CallbackData, prefix="rc"):
    action: RecommendAction
    election_id: int
    position: Position | None = None
    person_id: int = 0


class WithdrawCallback(CallbackData, prefix="rw"):
    recommendation_id: int


class TrustAction(StrEnum):
    ELECTION = "e"  # which election
    MARK = "m"  # `marks` so far, one letter per candidate in list order (t, n, a)
    SUBMIT = "s"
    RESTART = "r"


class TrustCallback(CallbackData, prefix="tv"):
    """The marks travel in the button, not in the database, until the ballot is cast."""

    action: TrustAction
    election_id: int
    marks: str = ""
