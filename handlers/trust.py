"""/trust: a villager casts the trust vote of the two-ballot system (两票制), candidate by candidate;
/receipt CODE checks that the ballot is in the count. The marks travel in the buttons until the
ballot is cast, so nothing about a half-filled ballot is stored anywhere."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.config import Settings
from bot.services.identity import Me
from bot.services.trust_votes import (
    TrustBallotForm,
    TrustCandidate,
    TrustChoice,
    TrustRefusal,
    cast_trust_ballot,
    check_receipt,
    open_trust_votes,
    trust_ballot_form,
)
from handlers.election_callbacks import TrustAction, TrustCallback
from handlers.elections import day_text, tr
from handlers.recommend import not_linked_text

LETTERS: Mapping[str, TrustChoice] = {
    "t": TrustChoice.TRUST,
    "n": TrustChoice.NO_TRUST,
    "a": TrustChoice.ABSTAIN,
}
# Callback data holds 64 bytes: the marks of up to this many people fit in a button.
MAX_CANDIDATES = 48


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def choice_name(choice: TrustChoice) -> str:
    match choice:
        case TrustChoice.TRUST:
            return _("trust")
        case TrustChoice.NO_TRUST:
            return _("no trust")
        case TrustChoice.ABSTAIN:
            return _("abstain")


def refusal_text(form: TrustBallotForm, settings: Settings) -> str:
    match form.refusal:
        case TrustRefusal.NOT_BOUND:
            return not_linked_text()
        case TrustRefusal.UNKNOWN_ELECTION | TrustRefusal.NOT_TWO_BALLOTS:
            return _("This election has no trust vote.")
        case TrustRefusal.NO_CANDIDATES:
            return _("The preliminary candidates have not been published yet.")
        case TrustRefusal.WINDOW_NOT_OPEN:
            if form.window is None:
                return _("The trust vote has not started yet.")
            return _("The trust vote starts on {day}.").format(
                day=day_text(form.window.opens.astimezone(settings.zone).date())
            )
        case TrustRefusal.WINDOW_CLOSED:
            return _("The trust vote is over.")
        case TrustRefusal.NOT_A_VOTER:
            return _("Only registered voters take part in the trust vote.")
        case TrustRefusal.ALREADY_VOTED:
            return _("You have already voted. Each voter votes once.")
        case TrustRefusal.INCOMPLETE:
            return _("Please give a mark for every candidate.")
        case None:
            return ""


def _candidate_line(candidate: TrustCandidate) -> str:
    return _("{name} ({group}), for {positions}").format(
        name=candidate.name,
        group=candidate.group or _("(no group)"),
        positions=_(", ").join(words.position_name(p, tr) for p in candidate.positions),
    )


async def _ask(message: Message, form: TrustBallotForm, marks: str) -> None:
    """The next candidate, or the whole ballot to check and submit."""
    assert form.election is not None and form.election.id is not None
    election_id = form.election.id
    if len(marks) < len(form.candidates):
        candidate = form.candidates[len(marks)]
        rows = [
            [
                (
                    _("👍 Trust"),
                    TrustCallback(action=TrustAction.MARK, election_id=election_id, marks=marks + "t").pack(),
                ),
                (
                    _("👎 No trust"),
                    TrustCallback(action=TrustAction.MARK, election_id=election_id, marks=marks + "n").pack(),
                ),
            ],
            [
                (
                    _("Abstain"),
                    TrustCallback(action=TrustAction.MARK, election_id=election_id, marks=marks + "a").pack(),
                )
            ],
        ]
        await message.answer(
            _("Trust vote, candidate {number} of {count}:\n{candidate}\nDo you trust this candidate?").format(
                number=len(marks) + 1, count=len(form.candidates), candidate=_candidate_line(candidate)
            ),
            reply_markup=_keyboard(rows),
        )
        return
    lines = [_("Your ballot:")]
    lines += [
        f"{index}. {c.name}: {choice_name(LETTERS[mark])}"
        for index, (c, mark) in enumerate(zip(form.candidates, marks, strict=True), start=1)
    ]
    lines += ["", _("Nobody will see how you voted. Submit it? A ballot cannot be changed afterwards.")]
    rows = [
        [
            (
                _("✅ Submit my ballot"),
                TrustCallback(action=TrustAction.SUBMIT, election_id=election_id, marks=marks).pack(),
            )
        ],
        [(_("Start again"), TrustCallback(action=TrustAction.RESTART, election_id=election_id).pack())],
    ]
    await message.answer("\n".join(lines), reply_markup=_keyboard(rows))


async def _start_ballot(
    message: Message, session: AsyncSession, me: Me, settings: Settings, election_id: int
) -> None:
    form = await trust_ballot_form(session, me, election_id, datetime.now(UTC))
    if form.refusal is not None:
        await message.answer(refusal_text(form, settings))
        return
    if len(form.candidates) > MAX_CANDIDATES:
        await message.answer(_("This list is too long to vote on in chat. Please vote on paper."))
        return
    assert form.election is not None
    await message.answer(
        _(
            "Trust vote for “{title}”: for each preliminary candidate, say whether you trust them. "
            "Nobody, not even the committee, can see how you vote."
        ).format(title=form.election.title)
    )
    await _ask(message, form, "")


async def start(message: Message, session: AsyncSession, me: Me, settings: Settings) -> None:
    if me.person is None or me.village is None:
        await message.answer(not_linked_text())
        return
    elections = await open_trust_votes(session, me)
    if not elections:
        await message.answer(
            _("There is no trust vote going on in {village} now.").format(village=me.village.name)
        )
        return
    if len(elections) == 1:
        await _start_ballot(message, session, me, settings, elections[0].id or 0)
        return
    rows = [
        [(e.title, TrustCallback(action=TrustAction.ELECTION, election_id=e.id or 0).pack())]
        for e in elections
    ]
    await message.answer(_("Which election?"), reply_markup=_keyboard(rows))


async def pressed(
    query: CallbackQuery, callback_data: TrustCallback, session: AsyncSession, me: Me, settings: Settings
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.action in (TrustAction.ELECTION, TrustAction.RESTART):
        await _start_ballot(query.message, session, me, settings, callback_data.election_id)
        return
    form = await trust_ballot_form(session, me, callback_data.election_id, datetime.now(UTC))
    if form.refusal is not None:
        await query.message.answer(refusal_text(form, settings))
        return
    marks = callback_data.marks
    if len(marks) > len(form.candidates) or any(m not in LETTERS for m in marks):
        await _start_ballot(query.message, session, me, settings, callback_data.election_id)
        return
    await query.message.edit_reply_markup(reply_markup=None)  # a mark, once given, is not pressed again
    if callback_data.action is TrustAction.MARK:
        await _ask(query.message, form, marks)
        return
    choices = {c.person_id: LETTERS[m] for c, m in zip(form.candidates, marks, strict=False)}
    outcome = await cast_trust_ballot(
        session, me, callback_data.election_id, choices, now=datetime.now(UTC), zone=settings.zone
    )
    if outcome.refusal is not None or outcome.receipt is None:
        await query.message.answer(refusal_text(TrustBallotForm(refusal=outcome.refusal), settings))
        return
    await query.message.answer(
        _(
            "Your ballot is in. Receipt code: {code}\nKeep it: with /receipt {code} you can check at any "
            "time that your ballot was counted. The receipt does not show how you voted."
        ).format(code=outcome.receipt)
    )


async def receipt(message: Message, command: CommandObject, session: AsyncSession, me: Me) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(_("Send /receipt and the code you were given, for example /receipt 7K3M-Q9PX."))
        return
    for election in await open_trust_votes(session, me):
        day = await check_receipt(session, election.id or 0, code)
        if day is not None:
            await message.answer(
                _("The ballot with receipt {code} is in the count of “{title}” (cast on {day}).").format(
                    code=code.upper(), title=election.title, day=day_text(day)
                )
            )
            return
    await message.answer(_("No ballot has the receipt code {code}.").format(code=code.upper()))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("trust"))
    router.message.register(receipt, Command("receipt"))
    router.callback_query.register(pressed, TrustCallback.filter())
    return router
