"""The words of each reminder wave, in the recipient's language: one renderer per wave kind.

A new wave kind (bot.services.reminders.WAVE_KINDS) adds one entry to `RENDERERS`, or to
`PERSONAL_RENDERERS` when each recipient is told something of their own (WaveSubject.details).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import election_text as words
from bot.rules.fingerprint import short_fingerprint
from bot.rules.policy import Relationship
from bot.rules.results import ElectionRound
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.proxies import deadline_of
from bot.services.reminders import CUSTOM_NOTICE, RESULTS_FINAL, WaveRenderer, WaveSubject
from handlers.elections import tr
from handlers.notice_render import local_date, local_datetime
from handlers.proxy_render import holder_list_text, intent_keyboard


def _title(subject: WaveSubject) -> str:
    return subject.election.title if subject.election else ""


def _when(subject: WaveSubject, moment: datetime | None, locale: str) -> str:
    return local_datetime(moment, subject.zone, locale) if moment else ""


def _footer(subject: WaveSubject) -> str:
    if subject.wave.essential:
        return ""
    return "\n\n" + _("(You can turn these reminders off: send /reminders.)")


def recommendation_opens(subject: WaveSubject, locale: str) -> str:
    assert subject.election is not None
    return _(
        "🗳 {village}: recommending candidates for “{title}” has started. "
        "You can recommend until {closes}.\nSend /recommend to take part."
    ).format(
        village=subject.village.name,
        title=_title(subject),
        closes=_when(subject, subject.election.recommendation_closes, locale),
    )


def recommendation_closing(subject: WaveSubject, locale: str) -> str:
    assert subject.election is not None
    return _(
        "⏰ {village}: you have not recommended anyone yet for “{title}”. "
        "Recommending closes at {closes}.\nSend /recommend to take part."
    ).format(
        village=subject.village.name,
        title=_title(subject),
        closes=_when(subject, subject.election.recommendation_closes, locale),
    )


def trust_vote_opens(subject: WaveSubject, locale: str) -> str:
    assert subject.election is not None
    return _(
        "🗳 {village}: the trust vote for “{title}” has started. "
        "You can vote until {closes}.\nSend /trust to vote."
    ).format(
        village=subject.village.name,
        title=_title(subject),
        closes=_when(subject, subject.election.trust_vote_closes, locale),
    )


def trust_vote_closing(subject: WaveSubject, locale: str) -> str:
    assert subject.election is not None
    return _(
        "⏰ {village}: you have not cast your trust vote yet for “{title}”. "
        "Voting closes at {closes}.\nSend /trust to vote."
    ).format(
        village=subject.village.name,
        title=_title(subject),
        closes=_when(subject, subject.election.trust_vote_closes, locale),
    )


def election_day_morning(subject: WaveSubject, locale: str) -> str:
    assert subject.election is not None
    lines = [
        _("📅 Today, {day}, is election day: “{title}”.").format(
            day=local_date(subject.election.election_day, locale), title=_title(subject)
        )
    ]
    if subject.settings.polling_place:
        lines.append(_("Where: {place}").format(place=subject.settings.polling_place))
    else:
        lines.append(_("Where: ask the village election committee."))
    lines.append(_("Bring: your ID card and your voter card (选民证) if you were given one."))
    if subject.village.committee_contact:
        lines.append(_("Questions: {contact}").format(contact=subject.village.committee_contact))
    return "\n".join(lines)


def _proxy_values(subject: WaveSubject, locale: str) -> dict[str, str]:
    """What the proxy waves' sentences name: the village, the election, its day and the proxy deadline."""
    assert subject.election is not None
    return {
        "village": subject.village.name,
        "title": _title(subject),
        "day": local_date(subject.election.election_day, locale),
        "deadline": local_date(deadline_of(subject.election), locale),
    }


def proxy_intent_closing(subject: WaveSubject, locale: str) -> str:
    return _(
        "⏰ {village}: you work away from home, and the election committee does not know yet how you will "
        "take part in “{title}” (election day {day}). If you cannot come home, you can ask a near relative "
        "to vote for you until {deadline}. Press one answer below."
    ).format(**_proxy_values(subject, locale))


def proxy_holder_closing(subject: WaveSubject, locale: str) -> str:
    return _(
        "⏰ {village}: a relative asked you to vote for them in “{title}” and is waiting for your answer. "
        "Please answer by {deadline}: send /proxy."
    ).format(**_proxy_values(subject, locale))


def proxy_form_closing(subject: WaveSubject, locale: str) -> str:
    text = _(
        "📝 {village}: your proxy vote for “{title}” is approved, but the election committee does not have "
        "your signed written authorization yet. Sign the form you were sent and get it to the committee "
        "before election day ({day}); without it your relative cannot vote for you."
    ).format(**_proxy_values(subject, locale))
    if subject.village.committee_contact:
        text += "\n" + _("Questions: {contact}").format(contact=subject.village.committee_contact)
    return text


def election_day_holders(subject: WaveSubject, locale: str, account_id: int) -> str:
    principals = [(name, Relationship(code)) for name, code in subject.details.get(account_id, ())]
    return holder_list_text(_title(subject), principals)


def objection_deadline(subject: WaveSubject, locale: str) -> str:
    assert subject.notice is not None
    return _(
        "📋 {village}: the public list “{title}” can be questioned until {deadline}. "
        "If something on it is wrong, send /objection."
    ).format(
        village=subject.village.name,
        title=subject.notice.title,
        deadline=_when(subject, subject.notice.objection_deadline, locale),
    )


def custom_notice(subject: WaveSubject, locale: str) -> str:
    assert subject.scheduled is not None
    return _("📢 Notice from the election committee of {village}:\n\n{text}").format(
        village=subject.village.name, text=subject.scheduled.text
    )


def results_final(subject: WaveSubject, locale: str) -> str:
    results = subject.results
    assert results is not None
    elected = [
        "  "
        + _("{position}: {names}").format(position=words.position_name(position, tr), names="、".join(names))
        for position, names in results.elected
        if names
    ]
    if results.entry.round == ElectionRound.SECOND.value:
        head = _("✅ {village}: the results of the second round of “{title}” are now final.")
    else:
        head = _("✅ {village}: the results of “{title}” are now final.")
    return "\n".join(
        [
            head.format(village=subject.village.name, title=results.election.title)
            + " "
            + _("The time for objections is over."),
            *([_("Elected:"), *elected] if elected else [_("Elected: {names}").format(names=_("nobody"))]),
            _("Fingerprint of the count: {fingerprint}").format(
                fingerprint=short_fingerprint(results.entry.fingerprint)
            ),
            _("Send /results for the full results."),
        ]
    )


RENDERERS: dict[str, Callable[[WaveSubject, str], str]] = {
    "recommendation_opens": recommendation_opens,
    "recommendation_close_48h": recommendation_closing,
    "recommendation_close_24h": recommendation_closing,
    "trust_vote_opens": trust_vote_opens,
    "trust_vote_close_48h": trust_vote_closing,
    "trust_vote_close_24h": trust_vote_closing,
    "election_day_morning": election_day_morning,
    "objection_deadline": objection_deadline,
    CUSTOM_NOTICE: custom_notice,
    "proxy_intent_close_48h": proxy_intent_closing,
    "proxy_intent_close_24h": proxy_intent_closing,
    "proxy_holder_close_48h": proxy_holder_closing,
    "proxy_holder_close_24h": proxy_holder_closing,
    "proxy_form_close_48h": proxy_form_closing,
    "proxy_form_close_24h": proxy_form_closing,
    RESULTS_FINAL: results_final,
}
# Kinds whose words differ per recipient (WaveSubject.details).
PERSONAL_RENDERERS: dict[str, Callable[[WaveSubject, str, int], str]] = {
    "election_day_holders": election_day_holders,
}


def _buttons(subject: WaveSubject) -> InlineKeyboardMarkup | None:
    """The answer buttons a wave carries, if any: migrant workers answer the intent question at once."""
    if subject.wave.kind.startswith("proxy_intent_") and subject.election and subject.election.id:
        return intent_keyboard(subject.election.id)
    return None


def wave_renderer(i18n: I18n) -> WaveRenderer:
    """The renderer the scheduler uses: each recipient's copy in their own language."""

    def render(subject: WaveSubject, recipient: Recipient) -> MessagePayload:
        kind = subject.wave.kind
        with i18n.context(), i18n.use_locale(recipient.locale):
            if kind in PERSONAL_RENDERERS:
                text = PERSONAL_RENDERERS[kind](subject, recipient.locale, recipient.account_id)
            else:
                text = RENDERERS[kind](subject, recipient.locale)
            text += _footer(subject)
            markup = _buttons(subject)
        return MessagePayload(
            text=text, reply_markup=markup.model_dump(mode="json", exclude_none=True) if markup else None
        )

    return render
