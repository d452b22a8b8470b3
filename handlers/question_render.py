"""How questions to the candidates and their answers look in chat, in each recipient's language.

Plain text (no parse mode): whatever a villager or a candidate typed is shown as typed. A question
with its answers can pass Telegram's length limit, so the text is cut at paragraph breaks into
several messages; the buttons go on the last one. No text names the asker except the committee's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.questions import QuestionRenderer, QuestionView
from bot.text import TELEGRAM_TEXT_LIMIT, split_paragraphs
from handlers.question_callbacks import QuestionAction, QuestionCallback
from storage.models import QuestionStatus


def addressed_text(view: QuestionView) -> str:
    return view.addressed if view.addressed is not None else _("all candidates")


def status_text(view: QuestionView) -> str:
    """What became of a question, for the villager who asked it."""
    match view.status:
        case QuestionStatus.PENDING:
            return _("waiting for the election committee")
        case QuestionStatus.REJECTED:
            return _("not passed on by the election committee. The reason: {reason}").format(
                reason=view.question.reject_reason or ""
            )
        case QuestionStatus.FORWARDED:
            return _("passed on to the candidates, no answer yet")
        case QuestionStatus.ANSWERED:
            return _("answered; the election committee will publish it to the village")
        case QuestionStatus.PUBLISHED:
            return _("answered and published to the whole village")


def answers_text(view: QuestionView) -> str:
    if not view.answers:
        return _("No answer yet.")
    return "\n\n".join(
        _("{name} answers:").format(name=answer.candidate_name) + "\n" + answer.text
        for answer in view.answers
    )


def buttons(*rows: tuple[str, QuestionAction, int]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=label, callback_data=QuestionCallback(action=action, question_id=question_id).pack()
                )
            ]
            for label, action, question_id in rows
        ]
    )


def moderation_buttons(view: QuestionView) -> InlineKeyboardMarkup:
    return buttons(
        (_("➡️ Pass on to the candidates"), QuestionAction.FORWARD, view.number),
        (_("✖️ Reject"), QuestionAction.REJECT, view.number),
    )


def publish_buttons(view: QuestionView) -> InlineKeyboardMarkup:
    return buttons((_("📢 Publish to the village"), QuestionAction.PUBLISH, view.number))


def committee_text(view: QuestionView, asker: str) -> str:
    """The committee sees who asked (to tell them what became of it); nobody else does."""
    head = _("❓ Question no. {number} about “{election}” from {asker}, to {to}:").format(
        number=view.number, election=view.election_title, asker=asker, to=addressed_text(view)
    )
    text = f"{head}\n\n{view.question.text}"
    if view.answers:
        text += "\n\n" + answers_text(view)
    return text


def chat_pieces(text: str) -> list[str]:
    return split_paragraphs(text, TELEGRAM_TEXT_LIMIT - 10)


def payloads(text: str, markup: InlineKeyboardMarkup | None = None) -> list[MessagePayload]:
    pieces = chat_pieces(text)
    json = markup.model_dump(mode="json", exclude_none=True) if markup else None
    return [
        MessagePayload(text=piece, reply_markup=json if index == len(pieces) - 1 else None)
        for index, piece in enumerate(pieces)
    ]


def committee_renderer(i18n: I18n, *, asker: str) -> QuestionRenderer:
    """A new question, to the committee members, with the buttons to pass it on or reject it."""

    def render(view: QuestionView, locale: str) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(locale):
            return payloads(committee_text(view, asker), moderation_buttons(view))

    return render


def answered_renderer(i18n: I18n, *, candidate: str) -> QuestionRenderer:
    """A candidate answered: the committee may now publish question and answers."""

    def render(view: QuestionView, locale: str) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(locale):
            head = _("💬 {candidate} answered question no. {number} about “{election}”.").format(
                candidate=candidate, number=view.number, election=view.election_title
            )
            text = f"{head}\n\n{view.question.text}\n\n{answers_text(view)}"
            return payloads(text, publish_buttons(view))

    return render


def candidate_text(view: QuestionView) -> str:
    if view.addressed is None:
        head = _("❓ A villager asks all the candidates of “{election}” (question no. {number}):")
    else:
        head = _("❓ A villager asks you, as a candidate of “{election}” (question no. {number}):")
    head = head.format(election=view.election_title, number=view.number)
    note = _(
        "Your answer goes to the election committee, who publish it with the question to the whole village."
    )
    return f"{head}\n\n{view.question.text}\n\n{note}"


def candidate_renderer(i18n: I18n) -> QuestionRenderer:
    """The question, privately to each addressed candidate, with an "Answer" button; never the asker."""

    def render(view: QuestionView, locale: str) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(locale):
            return payloads(
                candidate_text(view), buttons((_("✍️ Answer"), QuestionAction.ANSWER, view.number))
            )

    return render


def rejection_renderer(i18n: I18n) -> QuestionRenderer:
    """To the asker: the committee did not pass the question on, and why."""

    def render(view: QuestionView, locale: str) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(locale):
            head = _(
                "The election committee did not pass on your question no. {number} to the candidates."
            ).format(number=view.number)
            reason = _("The reason: {reason}").format(reason=view.question.reject_reason or "")
            yours = _("Your question:")
            return payloads(f"{head}\n{reason}\n\n{yours}\n{view.question.text}")

    return render


def published_text(view: QuestionView) -> str:
    head = _("🗣 Questions to the candidates of “{election}”, published by the election committee").format(
        election=view.election_title
    )
    asked = _("A villager asked {to}:").format(to=addressed_text(view))
    return f"{head}\n\n{asked}\n{view.question.text}\n\n{answers_text(view)}"


def village_renderer(i18n: I18n) -> Callable[[QuestionView, Recipient], Sequence[MessagePayload]]:
    """Question and answers, to every linked villager."""

    def render(view: QuestionView, recipient: Recipient) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(recipient.locale):
            return payloads(published_text(view))

    return render
