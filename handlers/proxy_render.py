"""What the proxy and intent features send to other people through the outbox, in their language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import proxy_text
from bot.rules.policy import Relationship
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.proxies import NoteKind, ProxyNote
from handlers.elections import day_text, tr
from handlers.proxy_callbacks import HolderCallback, IntentCallback
from storage.models import Election, IntentChoice


def _markup_json(markup: InlineKeyboardMarkup) -> dict[str, object]:
    return markup.model_dump(mode="json", exclude_none=True)


def intent_keyboard(election_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=proxy_text.intent_label(choice, tr),
                    callback_data=IntentCallback(election_id=election_id, choice=choice).pack(),
                )
            ]
            for choice in IntentChoice
        ]
    )


def intent_asker(i18n: I18n) -> Callable[[Election, Recipient], MessagePayload]:
    def ask(election: Election, recipient: Recipient) -> MessagePayload:
        assert election.id is not None
        with i18n.context(), i18n.use_locale(recipient.locale):
            text = _(
                "{name}, the election “{title}” is on {day}. You work away from home: how will you take "
                "part? Press one answer. You can change it later with /proxy."
            ).format(name=recipient.name, title=election.title, day=day_text(election.election_day))
            markup = intent_keyboard(election.id)
        return MessagePayload(text=text, reply_markup=_markup_json(markup))

    return ask


def holder_keyboard(proxy_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Yes, I will vote for them"),
                    callback_data=HolderCallback(proxy_id=proxy_id, accept=True).pack(),
                ),
                InlineKeyboardButton(
                    text=_("✖ No"), callback_data=HolderCallback(proxy_id=proxy_id, accept=False).pack()
                ),
            ]
        ]
    )


def holder_list_text(title: str, principals: Sequence[tuple[str, Relationship]]) -> str:
    """Election day, to a proxy holder: whose ballots they collect (current locale)."""
    names = "\n".join(
        _("• {name} ({relation})").format(name=name, relation=proxy_text.relation_label(rel, tr))
        for name, rel in principals
    )
    return _(
        "Today is election day of “{title}”. At the polling station you collect the ballots of, "
        "and vote for:\n{names}\nBring your ID card and the proxy papers."
    ).format(title=title, names=names)


def note_texts(note: ProxyNote) -> tuple[str, InlineKeyboardMarkup | None]:
    """The note's text (and buttons) in the current locale."""
    relation = proxy_text.relation_label(note.relationship, tr)
    values = {
        "principal": note.principal,
        "holder": note.holder,
        "relation": relation,
        "title": note.election_title,
    }
    match note.kind:
        case NoteKind.ASK_HOLDER:
            text = _(
                "{principal} asks you to vote for them in “{title}” (you are their {relation}). "
                "Will you do it?"
            ).format(**values)
            return text, holder_keyboard(note.authorization_id)
        case NoteKind.HOLDER_ACCEPTED:
            text = _(
                "{holder} agreed to vote for you in “{title}”. The election committee will now check it."
            )
        case NoteKind.HOLDER_DECLINED:
            text = _("{holder} cannot vote for you in “{title}”. Send /proxy to ask another relative.")
        case NoteKind.APPROVED:
            lines = [_("✅ The election committee approved: {holder} will vote for you in “{title}”.")]
            lines += [proxy_text.duty_sentence(duty, tr) for duty in note.duties]
            text = "\n".join(lines)
        case NoteKind.APPROVED_HOLDER:
            text = _("The election committee approved: you will vote for {principal} in “{title}”.")
        case NoteKind.REJECTED:
            text = _(
                "The election committee did not approve {holder} voting "
                "for you in “{title}”. Reason: {reason}"
            )
            values["reason"] = note.reason or ""
        case NoteKind.REVOKED:
            text = _("{principal} took back the request: you will not vote for them in “{title}”.")
        case NoteKind.ELECTION_DAY:
            return holder_list_text(note.election_title, note.principals), None
    return text.format(**values), None


def proxy_notifier(i18n: I18n) -> Callable[[ProxyNote, str], Sequence[MessagePayload]]:
    def notify(note: ProxyNote, locale: str) -> Sequence[MessagePayload]:
        with i18n.context(), i18n.use_locale(locale):
            text, markup = note_texts(note)
            caption = _("Proxy vote authorization")
        payloads = [
            MessagePayload(
                text=escape(text), parse_mode="HTML", reply_markup=_markup_json(markup) if markup else None
            )
        ]
        if note.file_path is not None:
            payloads.append(
                MessagePayload(
                    method=SendMethod.SEND_DOCUMENT, text=escape(caption), file_path=note.file_path
                )
            )
        return payloads

    return notify
