"""Callback data of the proxy and intent features (typed, within 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.rules.policy import Relationship
from storage.models import IntentChoice


class IntentCallback(CallbackData, prefix="in"):
    """A migrant worker's answer to "how will you take part?"."""

    election_id: int
    choice: IntentChoice


class ProxyAction(StrEnum):
    ELECTION = "el"
    PICK = "pick"  # a holder from the matches
    RELATION = "rel"
    CONFIRM = "ok"
    CANCEL = "no"
    REVOKE = "rv"


class ProxyCallback(CallbackData, prefix="px"):
    """The principal's steps."""

    action: ProxyAction
    election_id: int = 0
    person_id: int = 0
    proxy_id: int = 0
    relationship: Relationship | None = None


class HolderCallback(CallbackData, prefix="ph"):
    """The holder accepts or declines a request."""

    proxy_id: int
    accept: bool


class CommitteeProxyAction(StrEnum):
    LIST = "ls"
    PAPER = "pap"
    PHONE = "tel"
    APPROVE = "ap"
    REJECT = "rj"
    FORM_RECEIVED = "fr"
    PUBLISH = "pub"
    ASK = "ask"
    INTENTS = "int"
    ROSTER = "ros"


class CommitteeProxyCallback(CallbackData, prefix="pc"):
    action: CommitteeProxyAction
    election_id: int
    proxy_id: int = 0
