"""How a notice looks in a villager's chat, in their language (used for the outbox and previews)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date, format_datetime

from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.publicity import xlsx_beside
from bot.text import TELEGRAM_CAPTION_LIMIT, split_paragraphs, utf16_len
from handlers.callbacks import AnswerObjectionCallback, ObjectCallback, PreviewCallback, ReceiptCallback
from storage.models import Notice, Objection

# Room left for the header above the first part of a long notice.
BODY_PIECE_LIMIT = 3_600


def babel_locale(locale: str) -> str:
    return locale  # zh_Hans, zh_Hant and en are Babel locale identifiers as they are


def local_date(value: date, locale: str) -> str:
    return format_date(value, format="long", locale=babel_locale(locale))


def local_datetime(value: datetime, zone: ZoneInfo, locale: str) -> str:
    return format_datetime(value.astimezone(zone), format="medium", locale=babel_locale(locale))


def receipt_keyboard(notice_id: int, *, preview: bool) -> InlineKeyboardMarkup:
    data = PreviewCallback().pack() if preview else ReceiptCallback(notice_id=notice_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("✅ I have read this"), callback_data=data)]]
    )


def objection_keyboard(notice_id: int, *, preview: bool) -> InlineKeyboardMarkup:
    data = PreviewCallback().pack() if preview else ObjectCallback(notice_id=notice_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("✋ Raise an objection"), callback_data=data)]]
    )


def _markup_json(markup: InlineKeyboardMarkup | None) -> dict[str, object] | None:
    return markup.model_dump(mode="json", exclude_none=True) if markup else None


def notice_messages(
    notice: Notice, *, village_name: str, zone: ZoneInfo, locale: str, preview: bool = False
) -> list[MessagePayload]:
    """The copies one recipient gets (text parts, then the attachment), in the current locale.

    Call inside `i18n.use_locale(locale)`. Text is HTML with everything the committee typed escaped.
    """
    assert notice.id is not None
    if notice.kind == "publicity" and notice.published_on is not None:
        header = _("📋 Public list from the election committee of {village}, published {date}").format(
            village=village_name, date=local_date(notice.published_on, locale)
        )
    else:
        header = _("📢 Notice from the election committee of {village}, {date}").format(
            village=village_name, date=local_date(notice.created_at.astimezone(zone).date(), locale)
        )
    footer_lines = []
    if notice.objection_deadline is not None:
        footer_lines.append(
            _("Objections can be raised until {deadline}.").format(
                deadline=local_datetime(notice.objection_deadline, zone, locale)
            )
        )
    if notice.fingerprint:
        footer_lines.append(
            _("Fingerprint (compare with the paper copy): {fingerprint}").format(
                fingerprint=" ".join(notice.fingerprint[i : i + 4] for i in range(0, 64, 4))
            )
        )
    footer = ("\n\n" + "\n".join(escape(line) for line in footer_lines)) if footer_lines else ""
    pieces = split_paragraphs(notice.body, BODY_PIECE_LIMIT - utf16_len(footer))
    total = len(pieces)
    texts = []
    for index, piece in enumerate(pieces, start=1):
        part = f" ({index}/{total})" if total > 1 else ""
        lines = [f"<b>{escape(notice.title)}</b>{part}", escape(header), "", escape(piece)]
        texts.append("\n".join(lines))
    texts[-1] += footer

    if notice.ask_receipt:
        last_markup: InlineKeyboardMarkup | None = receipt_keyboard(notice.id, preview=preview)
    elif notice.objection_deadline is not None:
        last_markup = objection_keyboard(notice.id, preview=preview)
    else:
        last_markup = None
    attachment = _attachment_method(notice)
    payloads = [
        MessagePayload(
            text=text,
            parse_mode="HTML",
            reply_markup=_markup_json(last_markup)
            if index == len(texts) - 1 and attachment is None
            else None,
            disable_link_preview=True,
        )
        for index, text in enumerate(texts)
    ]
    spreadsheet = (
        str(xlsx_beside(notice.attachment_path))
        if notice.kind == "publicity" and notice.attachment_path is not None
        else None
    )
    if attachment is not None:
        payloads.append(
            MessagePayload(
                method=attachment,
                text=_caption(notice.title),
                parse_mode="HTML",
                file_id=notice.attachment_file_id,
                file_path=notice.attachment_path,
                reply_markup=_markup_json(last_markup) if spreadsheet is None else None,
            )
        )
    if spreadsheet is not None:
        # The committee's format beside the PDF: anyone can recompute the fingerprint from it.
        payloads.append(
            MessagePayload(
                method=SendMethod.SEND_DOCUMENT,
                text=escape(_("The same list as a spreadsheet")),
                parse_mode="HTML",
                file_path=spreadsheet,
                reply_markup=_markup_json(last_markup),
            )
        )
    return payloads


def _caption(title: str) -> str:
    caption = title if utf16_len(title) <= TELEGRAM_CAPTION_LIMIT - 10 else title[:300] + "…"
    return f"<b>{escape(caption)}</b>"


def _attachment_method(notice: Notice) -> SendMethod | None:
    if notice.attachment_file_id is None and notice.attachment_path is None:
        return None
    return SendMethod.SEND_PHOTO if notice.attachment_kind == "photo" else SendMethod.SEND_DOCUMENT


def notice_renderer(
    i18n: I18n, *, village_name: str, zone: ZoneInfo
) -> Callable[[Notice, Recipient], Sequence[MessagePayload]]:
    """The outbox renderer: each recipient's copies in their own locale."""

    def render(notice: Notice, recipient: Recipient) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(recipient.locale):
            return notice_messages(notice, village_name=village_name, zone=zone, locale=recipient.locale)

    return render


def objection_renderer(
    i18n: I18n, *, person_label: str
) -> Callable[[Objection, Notice, str], MessagePayload]:
    """What the committee and the supervisors receive when a villager objects."""

    def render(objection: Objection, notice: Notice, locale: str) -> MessagePayload:
        assert objection.id is not None
        with i18n.context(), i18n.use_locale(locale):
            text = _("✋ Objection no. {number} to “{title}” from {person}:").format(
                number=objection.id, title=notice.title, person=person_label
            )
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Answer"),
                            callback_data=AnswerObjectionCallback(objection_id=objection.id).pack(),
                        )
                    ]
                ]
            )
        return MessagePayload(
            text=f"{escape(text)}\n\n{escape(objection.text)}",
            parse_mode="HTML",
            reply_markup=_markup_json(markup),
        )

    return render


def answer_renderer(i18n: I18n) -> Callable[[Objection, Notice, str], MessagePayload]:
    """What the villager receives when the committee answers their objection."""

    def render(objection: Objection, notice: Notice, locale: str) -> MessagePayload:
        with i18n.context(), i18n.use_locale(locale):
            text = _("The election committee answered your objection to “{title}”:").format(
                title=notice.title
            )
            yours = _("Your objection:")
        answer = escape(objection.answer or "")
        quoted = f"<i>{escape(yours)}</i> {escape(objection.text)}"
        return MessagePayload(text=f"{escape(text)}\n\n{answer}\n\n{quoted}", parse_mode="HTML")

    return render
