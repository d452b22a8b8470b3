"""The words of a published candidate list and the private note to each person on it, in the
language of whoever reads them (the committee member's for the paper copy, each villager's for theirs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import election_text as words
from bot.files.publicity import PublicityLabels
from bot.rules.policy import ElectionKind, Position
from bot.rules.recommendation import CutStage
from bot.services.candidate_lists import CandidateListText
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from handlers.elections import tr
from storage.models import Election


def candidate_list_text(
    election: Election, village_name: str, stage: CutStage | None = None
) -> CandidateListText:
    """The list's words in the current (the committee member's) language, translated at once.

    A party branch's recommendations give its preliminary candidates; the trust vote of the
    two-ballot system (`stage` formal) gives its formal ones; a village's list is just the list.
    """
    if not ElectionKind(election.kind).is_party:
        title = _("Candidate list: {title}")
    elif stage is CutStage.FORMAL:
        title = _("Formal candidates: {title}")
    else:
        title = _("Preliminary candidates: {title}")
    title = title.format(title=election.title)
    intro = _("The election committee of {village} publishes the candidates for “{title}”:").format(
        village=village_name, title=election.title
    )
    per_position = _("{position}: {count}")
    closing = _(
        "The full list is in the PDF below (and as a spreadsheet). If something is wrong, press "
        "“Raise an objection” or send /objection before the deadline."
    )
    genders = {"F": _("female"), "M": _("male")}
    names = {p: words.position_name(p, tr) for p in Position}

    def summary(counts: Sequence[tuple[Position, int]]) -> str:
        lines = [intro, *(per_position.format(position=names[p], count=n) for p, n in counts)]
        return "\n".join([*lines, "", closing])

    labels = PublicityLabels(
        published_on=_("Published: {date}"),
        objection_deadline=_("Objections until: {date}"),
        no_objection_window=_("No objection window for this list"),
        page=_("Page {page} of {pages}"),
        fingerprint=_("Fingerprint (SHA-256): {fingerprint}"),
        columns={
            "seq": _("No."),
            "position": _("Position"),
            "name": _("Name"),
            "gender": _("Gender"),
            "birth_year": _("Born"),
            "group": _("Villagers' group"),
        },
        date_format=_("{year:04d}-{month:02d}-{day:02d}"),
        place=_("{township} {village}"),
        sheet=_("Candidates"),
    )
    return CandidateListText(
        title=title,
        summary=summary,
        labels=labels,
        gender=lambda g: genders.get(g or "", ""),
        position=lambda p: names[p],
    )


def candidate_notifier(
    i18n: I18n, *, village_name: str, title: str
) -> Callable[[Recipient, Sequence[Position]], MessagePayload]:
    """The private word to each person on the list, in their own language."""

    def notify(recipient: Recipient, positions: Sequence[Position]) -> MessagePayload:
        with i18n.context(), i18n.use_locale(recipient.locale):
            text = _(
                "You are on the candidate list of “{title}” for: {positions}. The election committee of "
                "{village} has published it today. If something about you on the list is wrong, please "
                "tell the committee."
            ).format(
                title=title,
                positions=_(", ").join(words.position_name(p, tr) for p in positions),
                village=village_name,
            )
        return MessagePayload(text=escape(text), parse_mode="HTML")

    return notify
