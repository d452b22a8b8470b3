"""/recommend: a villager recommends candidates (民主推荐) by chat, within the quota, and can take a
recommendation back while the period is open. Nobody is ever shown who recommended whom.

Steps: the election (if several) → the villager's current choices → a position → part of a name →
a person from the matches (name · group · age), or "recommend myself" where the rules allow it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.config import Settings
from bot.rules.policy import Position
from bot.services.identity import Me
from bot.services.recommendations import (
    CandidateMatch,
    MyRecommendations,
    RecommendOutcome,
    RecommendRefusal,
    SearchRefusal,
    WithdrawRefusal,
    my_recommendations,
    open_elections_for,
    recommend,
    search_candidates,
    withdraw_recommendation,
)
from handlers.election_callbacks import RecommendAction, RecommendCallback, WithdrawCallback
from handlers.elections import day_text, tr
from storage.models import Election


class RecommendForm(StatesGroup):
    name = State()  # data: election_id, position


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def _first_and_last(election: Election, zone: ZoneInfo) -> tuple[str, str]:
    if election.recommendation_opens is None or election.recommendation_closes is None:
        return "", ""
    last = (election.recommendation_closes - timedelta(microseconds=1)).astimezone(zone).date()
    return day_text(election.recommendation_opens.astimezone(zone).date()), day_text(last)


def not_linked_text() -> str:
    return _(
        "To recommend, your Telegram must first be linked to the voter roll. Send /start and share "
        "your phone number."
    )


def choices_text(mine: MyRecommendations) -> str:
    assert mine.election is not None and mine.round is not None
    lines = [
        mine.election.title,
        _("You recommend in the {round}. Your choices so far:").format(
            round=words.round_name(mine.round, tr)
        ),
    ]
    for choices in mine.positions:
        names = _(", ").join(c.name for c in choices.chosen) or "—"
        lines.append(
            _("{position} ({used}): {names}").format(
                position=words.position_name(choices.position, tr),
                used=words.used_text(choices.used, choices.quota, tr),
                names=names,
            )
        )
    lines += ["", _("Nobody is shown whom you recommend; the committee only sees the counts.")]
    return "\n".join(lines)


def choices_keyboard(mine: MyRecommendations) -> InlineKeyboardMarkup:
    assert mine.election is not None and mine.election.id is not None
    rows = [
        [
            (
                _("Take back {name} ({position})").format(
                    name=c.name, position=words.position_name(p.position, tr)
                ),
                WithdrawCallback(recommendation_id=c.recommendation_id).pack(),
            )
        ]
        for p in mine.positions
        for c in p.chosen
    ]
    election_id = mine.election.id
    rows.append(
        [
            (
                _("➕ Recommend someone"),
                RecommendCallback(action=RecommendAction.MORE, election_id=election_id).pack(),
            ),
            (_("Done"), RecommendCallback(action=RecommendAction.DONE, election_id=election_id).pack()),
        ]
    )
    return _keyboard(rows)


async def start(
    message: Message, state: FSMContext, session: AsyncSession, me: Me, settings: Settings
) -> None:
    await state.clear()
    if me.person is None or me.village is None:
        await message.answer(not_linked_text())
        return
    elections = await open_elections_for(session, me)
    if not elections:
        await message.answer(
            _("There is no recommendation of candidates going on in {village} now.").format(
                village=me.village.name
            )
        )
        return
    if len(elections) == 1:
        await _show(message, session, me, settings, elections[0].id or 0)
        return
    rows = [
        [(e.title, RecommendCallback(action=RecommendAction.ELECTION, election_id=e.id or 0).pack())]
        for e in elections
    ]
    await message.answer(_("Which election do you recommend for?"), reply_markup=_keyboard(rows))


async def _show(
    message: Message, session: AsyncSession, me: Me, settings: Settings, election_id: int
) -> None:
    """The villager's choices with buttons to take one back; straight to the positions if none yet."""
    mine = await my_recommendations(session, me, election_id, datetime.now(UTC))
    if mine.refusal is not None or mine.election is None:
        await message.answer(not_linked_text())
        return
    first, last = _first_and_last(mine.election, settings.zone)
    if not mine.window_open:
        opened = mine.election.recommendation_opens
        when = (
            _("Recommendations for “{title}” start on {first}.")
            if opened is not None and datetime.now(UTC) < opened
            else _("Recommendations for “{title}” ended on {last}.")
        ).format(title=mine.election.title, first=first, last=last)
        await message.answer(when + "\n\n" + choices_text(mine))
        return
    if not any(p.chosen for p in mine.positions):
        await _ask_position(message, mine)
        return
    await message.answer(
        choices_text(mine) + "\n\n" + _("You can change your choices until {last}.").format(last=last),
        reply_markup=choices_keyboard(mine),
    )


async def _ask_position(message: Message, mine: MyRecommendations) -> None:
    assert mine.election is not None and mine.election.id is not None
    rows = [
        [
            (
                _("{position} ({used})").format(
                    position=words.position_name(p.position, tr), used=words.used_text(p.used, p.quota, tr)
                ),
                RecommendCallback(
                    action=RecommendAction.POSITION, election_id=mine.election.id, position=p.position
                ).pack(),
            )
        ]
        for p in mine.positions
    ]
    await message.answer(
        _("{title}\nFor which position do you want to recommend someone?").format(title=mine.election.title),
        reply_markup=_keyboard(rows),
    )


async def election_chosen(
    query: CallbackQuery, callback_data: RecommendCallback, session: AsyncSession, me: Me, settings: Settings
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _show(query.message, session, me, settings, callback_data.election_id)


async def more_pressed(
    query: CallbackQuery, callback_data: RecommendCallback, session: AsyncSession, me: Me, settings: Settings
) -> None:
    await query.answer()
    mine = await my_recommendations(session, me, callback_data.election_id, datetime.now(UTC))
    if not isinstance(query.message, Message):
        return
    if mine.election is None:
        await query.message.answer(not_linked_text())
        return
    if not mine.window_open:
        _first, last = _first_and_last(mine.election, settings.zone)
        await query.message.answer(_("Recommendations ended on {last}.").format(last=last))
        return
    await _ask_position(query.message, mine)


async def position_chosen(
    query: CallbackQuery, callback_data: RecommendCallback, state: FSMContext, session: AsyncSession, me: Me
) -> None:
    await query.answer()
    position = callback_data.position
    mine = await my_recommendations(session, me, callback_data.election_id, datetime.now(UTC))
    if position is None or not isinstance(query.message, Message) or mine.election is None:
        return
    await state.set_state(RecommendForm.name)
    await state.update_data(election_id=callback_data.election_id, position=position.value)
    rows = []
    if mine.self_allowed:
        data = RecommendCallback(
            action=RecommendAction.SELF, election_id=callback_data.election_id, position=position
        ).pack()
        rows.append([(_("Recommend myself"), data)])
    await query.message.answer(
        _(
            "Whom do you recommend as {position}? Type part of the name, for example the family name, "
            "and I will show who matches."
        ).format(position=words.position_name(position, tr)),
        reply_markup=_keyboard(rows) if rows else None,
    )


def match_label(match: CandidateMatch) -> str:
    parts = [match.name, match.group or _("(no group)")]
    if match.age is not None:
        parts.append(_("{age} years old").format(age=match.age))
    return " · ".join(parts)


async def name_typed(message: Message, state: FSMContext, session: AsyncSession, me: Me) -> None:
    data = await state.get_data()
    election_id, position = int(data["election_id"]), Position(data["position"])
    query = (message.text or "").strip()
    found = await search_candidates(session, me, election_id, query, position)
    if found.refusal is SearchRefusal.EMPTY_QUERY:
        await message.answer(_("Please type part of a name."))
        return
    if found.refusal is not None:
        await state.clear()
        await message.answer(not_linked_text())
        return
    if not found.matches:
        await message.answer(
            _(
                "Nobody who can be recommended as {position} matches “{query}”. Type fewer characters, "
                "for example only the family name."
            ).format(position=words.position_name(position, tr), query=query)
        )
        return
    rows = [
        [
            (
                match_label(m),
                RecommendCallback(
                    action=RecommendAction.PICK,
                    election_id=election_id,
                    position=position,
                    person_id=m.person_id,
                ).pack(),
            )
        ]
        for m in found.matches
    ]
    text = _("Press the person you recommend as {position}:").format(
        position=words.position_name(position, tr)
    )
    if found.more:
        text += "\n" + _("More people match: type more of the name to see them.")
    await message.answer(text, reply_markup=_keyboard(rows))


def outcome_text(outcome: RecommendOutcome, settings: Settings) -> str:
    position = words.position_name(outcome.position, tr) if outcome.position else ""
    name = outcome.candidate.name if outcome.candidate else ""
    if outcome.refusal is None:
        used = _("{position}: {used}.").format(
            position=position, used=words.used_text(outcome.used, outcome.quota, tr)
        )
        if outcome.already:
            return _("You had already recommended {name} as {position}. Nothing changed.").format(
                name=name, position=position
            ) + ("\n" + used if outcome.quota else "")
        return (
            _("✅ Recorded: you recommend {name} as {position}.").format(name=name, position=position)
            + "\n"
            + used
        )
    match outcome.refusal:
        case RecommendRefusal.RULE:
            assert outcome.rule is not None
            first, last = _first_and_last(outcome.election, settings.zone) if outcome.election else ("", "")
            return words.rule_sentence(
                outcome.rule,
                outcome.source,
                tr,
                name=name,
                position=position,
                quota=outcome.quota,
                opens=first,
                closes=last,
            )
        case RecommendRefusal.NOT_BOUND:
            return not_linked_text()
        case RecommendRefusal.UNKNOWN_ELECTION | RecommendRefusal.NOT_OPEN:
            return _("This election is not taking recommendations now.")
        case RecommendRefusal.UNKNOWN_POSITION:
            return _("This election does not fill that position.")
        case RecommendRefusal.UNKNOWN_CANDIDATE:
            return _("That person is no longer on the roll.")
        case RecommendRefusal.GROUP_MET_ON_PAPER:
            return _(
                "Your villagers' group has already held its recommendation meeting on paper, so you "
                "cannot also recommend by chat: nobody takes part twice."
            )


async def pick_pressed(
    query: CallbackQuery,
    callback_data: RecommendCallback,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
) -> None:
    if callback_data.position is None:
        await query.answer()
        return
    if callback_data.action is RecommendAction.SELF:
        person_id = me.person.id if me.person is not None and me.person.id is not None else 0
    else:
        person_id = callback_data.person_id
    outcome = await recommend(
        session, me, callback_data.election_id, callback_data.position, person_id, datetime.now(UTC)
    )
    await query.answer()
    await state.clear()
    if not isinstance(query.message, Message):
        return
    rows = [
        [
            (
                _("➕ Recommend someone else"),
                RecommendCallback(action=RecommendAction.MORE, election_id=callback_data.election_id).pack(),
            ),
            (
                _("Done"),
                RecommendCallback(action=RecommendAction.DONE, election_id=callback_data.election_id).pack(),
            ),
        ]
    ]
    keyboard = _keyboard(rows) if outcome.refusal in (None, RecommendRefusal.RULE) else None
    await query.message.answer(outcome_text(outcome, settings), reply_markup=keyboard)


async def withdraw_pressed(
    query: CallbackQuery, callback_data: WithdrawCallback, session: AsyncSession, me: Me, settings: Settings
) -> None:
    outcome = await withdraw_recommendation(session, me, callback_data.recommendation_id, datetime.now(UTC))
    if outcome.refusal is not None:
        match outcome.refusal:
            case WithdrawRefusal.NOT_FOUND:
                text = _("That recommendation was already taken back.")
            case WithdrawRefusal.WINDOW_CLOSED | WithdrawRefusal.NOT_OPEN:
                text = _("Recommendations are closed; nothing can be changed now.")
            case WithdrawRefusal.NOT_BOUND:
                text = not_linked_text()
        await query.answer(text, show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message) or outcome.position is None or outcome.election is None:
        return
    position = words.position_name(outcome.position, tr)
    rows = [
        [
            (
                _("➕ Recommend someone"),
                RecommendCallback(action=RecommendAction.MORE, election_id=outcome.election.id or 0).pack(),
            )
        ]
    ]
    await query.message.answer(
        _("Taken back: {name} as {position}. {position}: {used}.").format(
            name=outcome.candidate.name if outcome.candidate else "",
            position=position,
            used=words.used_text(outcome.used, outcome.quota, tr),
        ),
        reply_markup=_keyboard(rows),
    )


async def done_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("Thank you. Send /recommend again to see or change your choices."))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("recommend"))
    router.callback_query.register(
        election_chosen, RecommendCallback.filter(F.action == RecommendAction.ELECTION)
    )
    router.callback_query.register(more_pressed, RecommendCallback.filter(F.action == RecommendAction.MORE))
    router.callback_query.register(
        position_chosen, RecommendCallback.filter(F.action == RecommendAction.POSITION)
    )
    router.callback_query.register(
        pick_pressed, RecommendCallback.filter(F.action.in_({RecommendAction.PICK, RecommendAction.SELF}))
    )
    router.callback_query.register(done_pressed, RecommendCallback.filter(F.action == RecommendAction.DONE))
    router.callback_query.register(withdraw_pressed, WithdrawCallback.filter())
    router.message.register(name_typed, StateFilter(RecommendForm.name), F.text)
    return router
