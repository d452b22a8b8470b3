"""Objections to publicity lists: villagers raise them, the committee answers, the villager hears back."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.services.identity import Me, RoleName
from bot.services.notices import (
    ObjectionRefusal,
    answer_objection,
    count_objections,
    open_lists_for,
    raise_objection,
)
from handlers.access import HasRole, not_allowed_text
from handlers.callbacks import AnswerObjectionCallback, ObjectCallback
from handlers.notice_render import answer_renderer, objection_renderer


class ObjectionForm(StatesGroup):
    text = State()
    answer = State()


def refusal_text(refusal: ObjectionRefusal) -> str:
    match refusal:
        case ObjectionRefusal.NOT_BOUND:
            return _(
                "Only villagers on the roll can raise an objection. Send /start to link your phone number."
            )
        case ObjectionRefusal.NO_OPEN_LIST | ObjectionRefusal.NOT_FOUND:
            return _("There is no public list of your village open for objections now.")
        case ObjectionRefusal.WINDOW_CLOSED:
            return _("The time for objections to this list is over.")
        case ObjectionRefusal.EMPTY:
            return _("The message is empty. Please write it in one message.")
        case ObjectionRefusal.TOO_LONG:
            return _("That is too long (at most 2,000 characters). Please shorten it.")
        case ObjectionRefusal.NOT_ALLOWED:
            return not_allowed_text()
        case ObjectionRefusal.ALREADY_ANSWERED:
            return _("This objection has already been answered.")


async def _ask_text(message: Message, state: FSMContext, notice_id: int, title: str) -> None:
    await state.set_state(ObjectionForm.text)
    await state.update_data(notice_id=notice_id)
    await message.answer(
        _(
            "Your objection to “{title}”: write it in one message (what is wrong and why). It goes to the "
            "election committee and the supervision committee. Send /cancel to stop."
        ).format(title=title)
    )


async def start_objection(message: Message, state: FSMContext, session: AsyncSession, me: Me) -> None:
    lists = await open_lists_for(session, me, datetime.now(UTC))
    if me.person is None:
        await message.answer(refusal_text(ObjectionRefusal.NOT_BOUND))
        return
    if not lists:
        await message.answer(refusal_text(ObjectionRefusal.NO_OPEN_LIST))
        return
    if len(lists) == 1:
        assert lists[0].id is not None
        await _ask_text(message, state, lists[0].id, lists[0].title)
        return
    rows = [
        [
            InlineKeyboardButton(
                text=notice.title[:60], callback_data=ObjectCallback(notice_id=notice.id or 0).pack()
            )
        ]
        for notice in lists
    ]
    await message.answer(
        _("Which list is your objection about?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def object_pressed(
    query: CallbackQuery, callback_data: ObjectCallback, state: FSMContext, session: AsyncSession, me: Me
) -> None:
    lists = {n.id: n for n in await open_lists_for(session, me, datetime.now(UTC))}
    notice = lists.get(callback_data.notice_id)
    if notice is None:
        await query.answer(refusal_text(ObjectionRefusal.WINDOW_CLOSED), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_text(query.message, state, callback_data.notice_id, notice.title)


async def got_objection(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    data = await state.get_data()
    person = me.person.name if me.person else "?"
    outcome = await raise_objection(
        session,
        me,
        notice_id=int(data["notice_id"]),
        text=message.text or "",
        now=datetime.now(UTC),
        render=objection_renderer(i18n, person_label=person),
        default_locale=settings.default_locale,
    )
    if outcome.refusal is not None:
        if outcome.refusal not in {ObjectionRefusal.EMPTY, ObjectionRefusal.TOO_LONG}:
            await state.clear()
        await message.answer(refusal_text(outcome.refusal))
        return
    await state.clear()
    outbox.wake()
    await message.answer(
        _(
            "Your objection was sent to the election committee and the supervision committee. "
            "Their answer will come here."
        )
    )


async def answer_pressed(
    query: CallbackQuery, callback_data: AnswerObjectionCallback, state: FSMContext, me: Me
) -> None:
    await query.answer()
    await state.set_state(ObjectionForm.answer)
    await state.update_data(objection_id=callback_data.objection_id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Write the committee's answer to objection no. {number} in one message.").format(
                number=callback_data.objection_id
            )
        )


async def got_answer(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    data = await state.get_data()
    outcome = await answer_objection(
        session,
        me,
        objection_id=int(data["objection_id"]),
        text=message.text or "",
        now=datetime.now(UTC),
        render=answer_renderer(i18n),
        default_locale=settings.default_locale,
    )
    if outcome.refusal is not None:
        if outcome.refusal not in {ObjectionRefusal.EMPTY, ObjectionRefusal.TOO_LONG}:
            await state.clear()
        await message.answer(refusal_text(outcome.refusal))
        return
    await state.clear()
    outbox.wake()
    await message.answer(_("Answer recorded and sent to the villager."))


async def objection_counts(
    message: Message, session: AsyncSession, me: Me, settings: Settings, i18n: I18n
) -> None:
    lines = []
    for village in me.villages_with(RoleName.COMMITTEE, RoleName.SUPERVISOR):
        assert village.id is not None
        open_count, answered = await count_objections(session, village.id)
        lines.append(
            _("{village}: {open} open objections, {answered} answered.").format(
                village=village.name, open=open_count, answered=answered
            )
        )
    await message.answer("\n".join(lines))


async def refuse_answer(query: CallbackQuery) -> None:
    await query.answer(not_allowed_text(), show_alert=True)


async def refuse(message: Message) -> None:
    await message.answer(not_allowed_text())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(start_objection, Command("objection"))
    router.callback_query.register(object_pressed, ObjectCallback.filter())
    router.message.register(got_objection, StateFilter(ObjectionForm.text), F.text)
    router.callback_query.register(
        answer_pressed, AnswerObjectionCallback.filter(), HasRole(RoleName.COMMITTEE)
    )
    router.callback_query.register(refuse_answer, AnswerObjectionCallback.filter())
    router.message.register(got_answer, StateFilter(ObjectionForm.answer), F.text)
    router.message.register(
        objection_counts, Command("objections"), HasRole(RoleName.COMMITTEE, RoleName.SUPERVISOR)
    )
    router.message.register(refuse, Command("objections"))
    return router
