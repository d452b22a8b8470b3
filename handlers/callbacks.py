"""Callback data factories: every inline button's payload is typed and stays within 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LocaleOption(StrEnum):
    ZH_HANS = "zh_Hans"
    ZH_HANT = "zh_Hant"
    EN = "en"


class LanguageCallback(CallbackData, prefix="lang"):
    locale: LocaleOption


class ForgetCallback(CallbackData, prefix="forget"):
    confirm: bool


class MigrantCallback(CallbackData, prefix="migrant"):
    person_id: int
    migrant: bool


class NoticeStep(StrEnum):
    SKIP_ATTACHMENT = "skip"
    RECEIPT_YES = "ack"
    RECEIPT_NO = "noack"
    SEND = "send"
    CANCEL = "cancel"


class NoticeCallback(CallbackData, prefix="nt"):
    step: NoticeStep


class AudienceChoice(StrEnum):
    ALL = "all"
    PARTY = "party"
    MIGRANTS = "migrants"
    GROUP = "group"


class AudienceCallback(CallbackData, prefix="aud"):
    audience: AudienceChoice
    group_id: int = 0


class VillageCallback(CallbackData, prefix="vil"):
    """Which village a committee member acts for, when they serve several."""

    purpose: str
    village_id: int


class ReceiptCallback(CallbackData, prefix="rd"):
    notice_id: int


class PreviewCallback(CallbackData, prefix="pv"):
    """Buttons in a preview: pressing them only says it is a preview."""


class ShowNoticeCallback(CallbackData, prefix="sn"):
    notice_id: int


class ObjectCallback(CallbackData, prefix="ob"):
    notice_id: int


class AnswerObjectionCallback(CallbackData, prefix="ans"):
    objection_id: int


class AuditPageCallback(CallbackData, prefix="au"):
    """A page of a village's audit log (0 is the newest)."""

    village_id: int
    page: int


class ResultsAction(StrEnum):
    START = "start"  # enter a count for an election
    CONFIRM = "confirm"  # a second member confirms an entry
    PUBLISH = "publish"


class ResultsCallback(CallbackData, prefix="rs"):
    action: ResultsAction
    id: int  # the election (START) or the entry
